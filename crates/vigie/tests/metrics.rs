//! Operations endpoints of a real `vigie run` over TCP: a scrape of a node analysing a clip,
//! checked by Prometheus's `promtool`; readiness that follows the camera and the catalogue (held
//! locked by another connection, as a second process would); plain logs without colour codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running node, killed when dropped.
struct Node {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Node {
    fn start(config: &Path, data: &Path) -> Node {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["run", "--config", config.to_str().unwrap(), "--data", data.to_str().unwrap()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vigie run");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let node = Node { child, port, stderr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(l) if l.starts_with("console on") => break,
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("node exited: {}", node.stderr()),
            }
            assert!(Instant::now() < deadline, "node did not start: {}", node.stderr());
        }
        std::thread::spawn(move || while rx.recv().is_ok() {});
        node
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn stop(&mut self) {
        // SAFETY: a signal to the child this test started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "node exit {status}: {}", self.stderr());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `GET path` over a fresh connection: (status, content type, body, time taken).
fn get(port: u16, path: &str) -> (u16, String, String, Duration) {
    let t = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let ctype = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_string() };
    (status, ctype, body, t.elapsed())
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn wait_until<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `promtool check metrics` (Debian package `prometheus`, installed by scripts/setup.sh).
fn promtool_check(metrics: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}): install Debian's prometheus package (scripts/setup.sh does)")
        });
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n---\n{metrics}");
}

#[test]
fn a_running_node_is_scraped_checked_and_reports_readiness() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("vigie.toml");
    std::fs::write(
        &cfg,
        "[archive]\nsegment_s = 10\nmax_total_bytes = \"1 GB\"\n\n[pipeline]\ndetector_workers = 1\n\n\
         [[cameras]]\nid = \"rocade\"\nurl = \"assets/video/highway-cctv.mp4\"\nloop = true\nrealtime = true\n",
    )
    .unwrap();
    let mut node = Node::start(&cfg, &data);
    let port = node.port;

    let (status, _, body, _) = get(port, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let ready = wait_until("the node to be ready", 60, || {
        let (status, _, body, _) = get(port, "/readyz");
        (status == 200).then_some(body)
    });
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    let names: Vec<&str> = ready["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database", "cameras", "storage"], "{ready}");
    assert!(!ready.to_string().contains("highway-cctv"), "the body names a camera's source: {ready}");

    // Wait until the detector has run, so every family has values.
    let m = wait_until("detector runs in the metrics", 60, || {
        let (status, ctype, m, _) = get(port, "/metrics");
        assert_eq!(status, 200, "{m}");
        assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
        (sample(&m, "vigie_detector_inference_seconds_count").unwrap_or(0.0) > 0.0
            && sample(&m, "vigie_archive_used_bytes").is_some())
        .then_some(m)
    });
    promtool_check(&m);
    let cam = |name: &str| sample(&m, &format!("{name}{{camera=\"rocade\"}}"));
    assert_eq!(cam("vigie_camera_up"), Some(1.0), "{m}");
    assert!(cam("vigie_camera_frames_total").unwrap() > 0.0, "{m}");
    assert!(cam("vigie_camera_detector_runs_total").unwrap() > 0.0, "{m}");
    for name in [
        "vigie_camera_frames_per_second",
        "vigie_camera_detector_runs_per_second",
        "vigie_camera_motion_skips_total",
        "vigie_camera_overload_skips_total",
        "vigie_camera_reconnects_total",
        "vigie_camera_recording",
    ] {
        assert!(cam(name).is_some(), "{name}: {m}");
    }
    for series in [
        "vigie_detector_queue_depth",
        "vigie_detector_queue_capacity",
        "vigie_alert_latency_seconds_count",
        "vigie_audit_entries_total",
        "vigie_data_volume_free_bytes",
        "vigie_data_volume_size_bytes",
        "vigie_archive_limit_bytes",
        "vigie_archive_reserve_bytes",
        "vigie_stored_metrics_up",
        "vigie_alerts{type=\"crowd\",state=\"new\"}",
    ] {
        assert!(sample(&m, series).is_some(), "{series}: {m}");
    }
    assert_eq!(sample(&m, "vigie_archive_limit_bytes"), Some(1e9));
    assert!(sample(&m, "vigie_audit_entries_total").unwrap() > 0.0, "{m}");

    // Another connection holds the catalogue's write lock: not ready at once, naming the
    // database; scrapes still answer quickly; the camera keeps going.
    let lock = rusqlite::Connection::open(data.join("vigie.db")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let frames_at_lock = cam("vigie_camera_frames_total").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let (status, _, body, took) = get(port, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(took < Duration::from_millis(1500), "readyz took {took:?}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let db = &v["checks"][0];
    assert_eq!((db["name"].as_str(), db["ok"].as_bool()), (Some("database"), Some(false)), "{v}");
    assert!(db["detail"].as_str().unwrap().contains("locked"), "{v}");
    assert!(!body.contains(data.to_str().unwrap()), "the body names the data folder: {body}");
    let (status, _, m2, took) = get(port, "/metrics");
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(1500), "a scrape took {took:?} on a locked catalogue");
    promtool_check(&m2);
    std::thread::sleep(Duration::from_secs(1));
    let (_, _, m3, _) = get(port, "/metrics");
    let frames = sample(&m3, "vigie_camera_frames_total{camera=\"rocade\"}").unwrap();
    assert!(frames > frames_at_lock, "the camera stalled while the catalogue was locked: {frames_at_lock} -> {frames}");
    drop(lock);
    wait_until("ready again after the lock", 10, || (get(port, "/readyz").0 == 200).then_some(()));

    node.stop();
    // Logs to a pipe are plain text: no colour codes.
    let err = node.stderr();
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in logs that are not on a terminal: {err}");
}

/// `metrics_access = "token"` with the variable unset stops the node at start, naming the key.
#[test]
fn a_metrics_token_that_is_not_set_stops_the_node_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("vigie.toml");
    std::fs::write(
        &cfg,
        "[server]\nmetrics_access = \"token\"\nmetrics_token_env = \"VIGIE_TEST_NO_SUCH_TOKEN\"\n\n\
         [[cameras]]\nid = \"rocade\"\nurl = \"assets/video/highway-cctv.mp4\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["run", "--config", cfg.to_str().unwrap(), "--data", tmp.path().join("data").to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env_remove("VIGIE_TEST_NO_SUCH_TOKEN")
        .current_dir(root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("server.metrics_token_env") && err.contains("VIGIE_TEST_NO_SUCH_TOKEN is not set"), "{err}");
}
