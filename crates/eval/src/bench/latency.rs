//! `vigie bench latency`: a real node (`vigie run`, as a child process) analysing N fake RTSP
//! cameras fed from the bundled clips; a console client follows the live feed and measures, for
//! each alert, the time from the arrival of the frame in which the rule fired to the alert's
//! arrival at the console, while another client loads the API.

use crate::probe::{api_load, summarize, watch_alerts, ApiClient};
use anyhow::{anyhow, bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What `vigie bench latency` runs.
#[derive(Debug, Clone)]
pub struct LatencyOptions {
    /// The repository (clips, the fake camera script); the node runs from there.
    pub root: PathBuf,
    /// The `vigie` binary started as the node (`vigie run`) and to add the benchmark user.
    pub vigie_exe: PathBuf,
    /// Fake RTSP cameras (the four bundled clips, in turn).
    pub cameras: usize,
    /// Measurement time after the node is up, seconds.
    pub seconds: u64,
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Clip, classes the rules look for, and small zones that objects cross now and then, so each
/// crossing is one alert.
const CLIPS: [(&str, &str, &[&str]); 4] = [
    (
        "pets09-s2l1.mp4",
        "\"person\"",
        &["[[0.0, 0.3], [0.3, 0.3], [0.3, 0.55], [0.0, 0.55]]", "[[0.6, 0.35], [1.0, 0.35], [1.0, 0.6], [0.6, 0.6]]"],
    ),
    (
        "highway-cctv.mp4",
        "\"car\", \"truck\", \"bus\"",
        &[
            "[[0.3, 0.75], [0.5, 0.75], [0.5, 0.95], [0.3, 0.95]]",
            "[[0.55, 0.55], [0.75, 0.55], [0.75, 0.7], [0.55, 0.7]]",
        ],
    ),
    ("indoor-people-one-by-one.mp4", "\"person\"", &["[[0.44, 0.78], [0.78, 0.78], [0.8, 0.97], [0.42, 0.97]]"]),
    ("parking-lot-top-down.mp4", "\"car\", \"truck\"", &["[[0.0, 0.4], [1.0, 0.4], [1.0, 0.6], [0.0, 0.6]]"]),
];

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn config(cameras: usize, rtsp_port: u16, listen: u16) -> String {
    let mut s = format!("[server]\nlisten = \"127.0.0.1:{listen}\"\n\n[archive]\nmax_total_bytes = \"1 GB\"\n\n");
    for i in 0..cameras {
        let (_, classes, zones) = CLIPS[i % CLIPS.len()];
        s += &format!("[[cameras]]\nid = \"cam{i}\"\nurl = \"rtsp://127.0.0.1:{rtsp_port}/cam{i}\"\n\n");
        for (z, poly) in zones.iter().enumerate() {
            s += &format!("[[cameras.zones]]\nname = \"area{z}\"\nkind = \"forbidden\"\npolygon = {poly}\n\n");
        }
        for z in 0..zones.len() {
            s += &format!(
                "[[cameras.rules]]\nid = \"entry{z}\"\ntype = \"intrusion\"\nzone = \"area{z}\"\nclasses = [{classes}]\n\
                 legal_basis = \"benchmark\"\nmin_duration_s = 0.3\ncooldown_s = 1.0\nhysteresis_s = 0.5\n\n"
            );
        }
    }
    s
}

/// Starts the cameras and the node, measures, prints the figures to stdout.
pub fn run(a: &LatencyOptions) -> anyhow::Result<()> {
    let root = &a.root;
    let exe = &a.vigie_exe;
    let dir = std::env::temp_dir().join(format!("vigie-bench-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let mut cam = Command::new("/usr/bin/python3");
    cam.arg(root.join("scripts/fake-camera.py")).args(["--port", "0"]);
    for i in 0..a.cameras {
        cam.args([
            "--mount",
            &format!("/cam{i}={}", root.join("assets/video").join(CLIPS[i % CLIPS.len()].0).display()),
        ]);
    }
    let mut cam = Kill(
        cam.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().context("cannot start scripts/fake-camera.py")?,
    );
    let mut line = String::new();
    BufReader::new(cam.0.stdout.take().unwrap()).read_line(&mut line)?;
    let rtsp_port: u16 = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| anyhow!("fake camera did not start: {line:?}"))?;

    let listen = free_port()?;
    let cfg = dir.join("vigie.toml");
    std::fs::write(&cfg, config(a.cameras, rtsp_port, listen))?;
    let data = dir.join("data");
    let password = "bench-password-1";
    let mut add = Command::new(exe)
        .args(["user", "add", "--data"])
        .arg(&data)
        .args(["--role", "operator", "bench"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    writeln!(add.stdin.take().unwrap(), "{password}")?;
    if !add.wait()?.success() {
        bail!("cannot create the benchmark user");
    }
    let log = std::fs::File::create(dir.join("node.log"))?;
    let _node = Kill(
        Command::new(exe)
            .arg("run")
            .arg("--config")
            .arg(&cfg)
            .arg("--data")
            .arg(&data)
            .current_dir(root)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{listen}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = rt.block_on(async {
        let t0 = Instant::now();
        let client = loop {
            match ApiClient::login(&base, "bench", password).await {
                Ok(c) => break c,
                Err(_) if t0.elapsed() < Duration::from_secs(60) => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Err(e) => bail!("node did not come up (see {}): {e}", dir.join("node.log").display()),
            }
        };
        // Let every camera connect and the detector warm up before measuring.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let watch = watch_alerts(&client, usize::MAX, Duration::from_secs(a.seconds), || {});
        let load = async {
            let mut reports = Vec::new();
            let end = Instant::now() + Duration::from_secs(a.seconds.saturating_sub(5));
            while Instant::now() < end {
                reports.push(api_load(&client, "/api/alerts?limit=50", 50, 2).await?);
                reports.push(api_load(&client, "/api/cameras", 20, 1).await?);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok::<_, String>(reports)
        };
        let (samples, loads) = tokio::join!(watch, load);
        let samples = samples.map_err(|e| anyhow!(e))?;
        let loads = loads.map_err(|e| anyhow!(e))?;
        let mut conn = client.connect().await.map_err(|e| anyhow!(e))?;
        let cams = client.get(&mut conn, "/api/cameras").await.map_err(|e| anyhow!(e))?;
        Ok::<_, anyhow::Error>((samples, loads, cams.body))
    })?;
    let (samples, loads, cams) = report;
    let mut lat: Vec<f64> = samples.iter().filter_map(|s| s.latency_ms()).map(|v| v as f64).collect();
    let alert = summarize(&mut lat);
    let mut api: Vec<f64> = Vec::new();
    let mut api_errors = 0;
    for l in &loads {
        api_errors += l.errors;
        // Per-request latencies are summarised per batch; the batch p99 is the conservative view.
        api.push(l.latency_ms.p99);
    }
    let api_p50 = summarize(&mut loads.iter().map(|l| l.latency_ms.p50).collect::<Vec<_>>());
    let api_p99 = summarize(&mut api);
    println!(
        "alert latency, {} RTSP cameras, {} s: frame arrival at the node → alert at a connected console",
        a.cameras, a.seconds
    );
    println!(
        "  alerts {}  p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms  (target p99 < 1000 ms: {})",
        alert.n,
        alert.p50,
        alert.p99,
        alert.max,
        if alert.n > 0 && alert.p99 < 1000.0 { "met" } else { "NOT met" }
    );
    println!("API while analysing: {} batches, median batch p50 {:.1} ms, worst batch p99 {:.1} ms, errors {api_errors} (target p99 < 100 ms: {})",
        loads.len(), api_p50.p50, api_p99.max, if api_p99.max < 100.0 { "met" } else { "NOT met" });
    let cams: serde_json::Value = serde_json::from_slice(&cams).unwrap_or_default();
    for c in cams["cameras"].as_array().into_iter().flatten() {
        let h = &c["health"];
        println!(
            "  {}: {} fps={:.1} frames={} detector_runs={} skipped(motion)={} skipped(detector busy)={}",
            c["id"].as_str().unwrap_or("?"),
            h["state"].as_str().unwrap_or("?"),
            h["fps"].as_f64().unwrap_or(0.0),
            h["frames"],
            h["detector_runs"],
            h["motion_skipped"],
            h["detector_busy_skipped"]
        );
    }
    drop(cam);
    let _ = std::fs::remove_dir_all(&dir);
    if alert.n == 0 {
        bail!("no alert reached the console");
    }
    Ok(())
}
