//! `vigie bench`: the speed and memory figures, measured side by side in one run so that ratios
//! survive a noisy machine. Whole-pipeline runs are separate processes (the binary's
//! `analyze`, and the Python reference when available) so each gets its own peak memory.

use anyhow::{anyhow, bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use vigie_core::Detection;
use vigie_decode::H264Decoder;
use vigie_detect::{Detector, DetectorConfig};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};
use vigie_track::{ByteTracker, TrackerConfig};

/// What `vigie bench` measures with, and where.
#[derive(Debug, Clone)]
pub struct FiguresOptions {
    /// The repository (assets, Python reference).
    pub root: PathBuf,
    /// The `vigie` binary whose `analyze` is timed as a separate process.
    pub vigie_exe: PathBuf,
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    /// Python of the reference pipeline's environment; default
    /// `$TMPDIR/vigie-python-reference/bin/python`.
    pub python: Option<PathBuf>,
    /// Create the Python reference environment first if it is missing.
    pub setup_python: bool,
    /// Vigie and Python runs per thread count (each one's best is kept).
    pub rounds: usize,
    /// Frames for the detector and tracker micro-measurements.
    pub frames: usize,
}

struct Row {
    what: String,
    value: String,
    note: String,
}

fn row(what: impl Into<String>, value: impl Into<String>, note: impl Into<String>) -> Row {
    Row { what: what.into(), value: value.into(), note: note.into() }
}

fn decode_all(path: &Path) -> anyhow::Result<(u64, Duration, (u32, u32))> {
    let mut src = Mp4FileSource::open(path, Mp4Options::default())?;
    let size = (src.info().width, src.info().height);
    let mut dec = H264Decoder::new("bench")?;
    let mut pkts = Vec::new();
    while let Some(p) = src.next_packet()? {
        pkts.push(p);
    }
    let t0 = Instant::now();
    let mut n = 0;
    for p in &pkts {
        if dec.decode(p)?.is_some() {
            n += 1;
        }
    }
    Ok((n, t0.elapsed(), size))
}

/// What a measured child process used.
struct Usage {
    /// Peak resident memory, kB.
    peak_kb: u64,
    /// CPU time (user + system) over wall time: the cores it really kept busy.
    cores: f64,
}

/// Runs a command, returning its stdout and what it used.
///
/// The peak is the child's own `VmHWM`, polled while it runs: `wait4`'s `ru_maxrss` would report
/// at least this process's size, because Linux carries the high-water mark across `fork` +
/// `exec`. CPU times come from `wait4`, which has no such carry-over.
fn run_measured(cmd: &mut Command) -> anyhow::Result<(String, Usage)> {
    use std::io::Read;
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let mut peak_kb = 0u64;
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut raw_status = 0;
    // SAFETY: plain syscall on our own child; the struct is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        // SAFETY: reaps only our own child, which nothing else waits for.
        let r = unsafe { libc::wait4(pid, &mut raw_status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if r < 0 {
            bail!("wait4: {}", std::io::Error::last_os_error());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed().as_secs_f64();
    // The child is reaped: keep std from waiting on it again.
    std::mem::forget(child);
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::ExitStatus::from_raw(raw_status);
    if !status.success() {
        bail!("{:?} failed ({status}): {}", cmd.get_program(), err.trim());
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cores = (secs(usage.ru_utime) + secs(usage.ru_stime)) / wall.max(1e-9);
    Ok((out, Usage { peak_kb, cores }))
}

fn field(out: &str, key: &str) -> Option<f64> {
    out.split_whitespace().find_map(|w| w.strip_prefix(key).and_then(|v| v.parse().ok()))
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("vigie-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn default_python() -> PathBuf {
    std::env::temp_dir().join("vigie-python-reference/bin/python")
}

/// Measures every figure and prints the table to stdout.
pub fn run(a: &FiguresOptions) -> anyhow::Result<()> {
    let root = a.root.clone();
    let pets = root.join("assets/video/pets09-s2l1.mp4");
    let mut rows = Vec::new();
    let ncpu = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    // Decode.
    let mut clips: Vec<PathBuf> = std::fs::read_dir(root.join("assets/video"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    clips.sort();
    for c in &clips {
        let (n, t, (w, h)) = decode_all(c)?;
        rows.push(row(
            format!("decode {} ({w}x{h})", c.file_name().unwrap().to_string_lossy()),
            format!("{:.0} fps", n as f64 / t.as_secs_f64()),
            "OpenH264, 1 thread",
        ));
    }

    // Detector steps and tracker, on the first frames of the plaza clip.
    let mut det_cfg = a.detector.clone();
    det_cfg.threads = 1;
    det_cfg.classes = vec!["person".into()];
    let mut det = Detector::new(&det_cfg)?;
    let mut src = Mp4FileSource::open(&pets, Mp4Options::default())?;
    let mut dec = H264Decoder::new("bench")?;
    let mut frames = Vec::new();
    while frames.len() < a.frames {
        let Some(p) = src.next_packet()? else { break };
        if let Some(f) = dec.decode(&p)? {
            frames.push(f);
        }
    }
    for f in frames.iter().take(3) {
        det.detect(f)?; // warm-up
    }
    let (mut pre, mut inf, mut post) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut all_dets: Vec<(Duration, Vec<Detection>)> = Vec::new();
    for f in &frames {
        let d = det.detect(f)?;
        pre += det.last.pre;
        inf += det.last.infer;
        post += det.last.post;
        all_dets.push((f.pts, d));
    }
    let n = frames.len().max(1) as f64;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n;
    rows.push(row("detector pre-processing (768x576 → 416x416)", format!("{:.2} ms/frame", ms(pre)), ""));
    rows.push(row("detector inference (ONNX Runtime, 1 thread)", format!("{:.2} ms/frame", ms(inf)), ""));
    rows.push(row("detector post-processing (decode + NMS)", format!("{:.2} ms/frame", ms(post)), ""));
    rows.push(row(
        "detector pre + post",
        format!("{:.2} ms/frame", ms(pre) + ms(post)),
        if ms(pre) + ms(post) < 2.0 { "target < 2 ms: met" } else { "target < 2 ms: NOT met" },
    ));
    let passes = 20;
    let t0 = Instant::now();
    let mut updates = 0usize;
    for _ in 0..passes {
        let mut trk = ByteTracker::new(a.tracker.clone(), src.info().fps).map_err(|e| anyhow!("tracker: {e}"))?;
        for (t, d) in &all_dets {
            std::hint::black_box(trk.update(d, *t));
            updates += 1;
        }
    }
    let per = t0.elapsed().as_secs_f64() * 1e6 / updates as f64;
    let objs = all_dets.iter().map(|(_, d)| d.len()).sum::<usize>() as f64 / all_dets.len().max(1) as f64;
    rows.push(row("tracker update", format!("{per:.1} µs/frame"), format!("{objs:.1} detections/frame")));

    // Hiding people: the one decision (people and motion) against the previous per-box path.
    let labels = std::fs::read_to_string(&a.detector.labels)
        .with_context(|| format!("cannot read class list {}", a.detector.labels.display()))?;
    let dets: Vec<Vec<Detection>> = all_dets.iter().map(|(_, d)| d.clone()).collect();
    let px = super::pixelation::pixelation_cost(&frames, &dets, &vigie_core::ClassMap::parse(&labels), 5);
    rows.push(row(
        format!("pixelation, decide + apply ({}x{})", px.width, px.height),
        format!("{:.2} ms/frame", px.decide_apply_ms),
        format!(
            "people and motion, {:.1} areas/frame; previous path (people boxes only) {:.2} ms/frame",
            px.hidden_per_frame, px.previous_ms
        ),
    ));
    drop(frames);

    // Rules and scene models, 20 zones on one 768x576 camera.
    let rb = super::rules::run(&root, 200)?;
    rows.push(row(
        format!("rules engine, {} zones, all 7 types ({}x{})", rb.zones, rb.width, rb.height),
        format!("{:.0} µs/frame", rb.engine_us),
        format!("{} tracks/frame, background models included", rb.tracks_per_frame),
    ));
    rows.push(row("rules engine, track-based rules only", format!("{:.0} µs/frame", rb.track_rules_us), ""));
    rows.push(row("background models (long/short-term, chroma)", format!("{:.0} µs/frame", rb.scene_us), ""));

    // Recording: packets to fMP4 segments, no decode.
    let tmp = tempfile_dir()?;
    let rc = super::recording::recording_cost(&pets, 3, &tmp).map_err(|e| anyhow!("{e}"))?;
    let _ = std::fs::remove_dir_all(&tmp);
    rows.push(row(
        format!("recording {}x{} @ {:.0} fps", rc.width, rc.height, rc.fps),
        format!("{:.3} % of a core", rc.percent_of_core),
        format!("{:.0} s of footage, {} segments (target < 2 %)", rc.video_s, rc.segments),
    ));

    // Whole pipeline, Vigie vs the Python reference, alternating.
    let exe = &a.vigie_exe;
    let model = root.join("assets/models/yolox_nano_416_coco.onnx");
    let mut python = a.python.clone().unwrap_or_else(default_python);
    if a.setup_python && !python.exists() {
        let out = Command::new("bash")
            .arg(root.join("bench/python-reference/setup.sh"))
            .output()
            .context("cannot run bench/python-reference/setup.sh")?;
        if !out.status.success() {
            bail!("python reference set-up failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    let py_ok = python.exists();
    let refdir = root.join("bench/python-reference");
    for threads in [1usize, 2] {
        let (mut best_r, mut best_p) = (0f64, 0f64);
        let (mut mem_r, mut mem_p) = (0u64, 0u64);
        let (mut cores_r, mut cores_p) = (0f64, 0f64);
        for _ in 0..a.rounds.max(1) {
            let (out, use_r) = run_measured(
                Command::new(exe)
                    .args(["analyze", "--classes", "person", "--threads", &threads.to_string(), "--mot", "/dev/null"])
                    .arg(&pets),
            )?;
            best_r = best_r.max(field(&out, "fps=").ok_or_else(|| anyhow!("no fps in: {out}"))?);
            mem_r = mem_r.max(use_r.peak_kb);
            cores_r = cores_r.max(use_r.cores);
            if py_ok {
                let (out, use_p) = run_measured(
                    Command::new(&python)
                        .current_dir(&refdir)
                        .arg("pipeline.py")
                        .arg(&pets)
                        .arg(&model)
                        .arg(threads.to_string())
                        .args(["--mot", "/dev/null"]),
                )?;
                best_p = best_p.max(field(&out, "fps=").ok_or_else(|| anyhow!("no fps in python output: {out}"))?);
                mem_p = mem_p.max(use_p.peak_kb);
                cores_p = cores_p.max(use_p.cores);
            }
        }
        let label = format!("pipeline pets09-s2l1, {threads} thread{}", if threads > 1 { "s" } else { "" });
        if py_ok {
            rows.push(row(
                &label,
                format!("{best_r:.1} fps"),
                format!(
                    "python reference {best_p:.1} fps, ratio {:.2}x (target ≥ 1.3x); cores busy {cores_r:.2} vs {cores_p:.2}",
                    best_r / best_p
                ),
            ));
            rows.push(row(
                format!("peak memory, {threads} thread{}", if threads > 1 { "s" } else { "" }),
                format!("{:.0} MB", mem_r as f64 / 1024.0),
                format!("python reference {:.0} MB", mem_p as f64 / 1024.0),
            ));
        } else {
            rows.push(row(
                &label,
                format!("{best_r:.1} fps"),
                format!("cores busy {cores_r:.2}; python reference not available (use --setup-python)"),
            ));
            rows.push(row(format!("peak memory, {threads} threads"), format!("{:.0} MB", mem_r as f64 / 1024.0), ""));
        }
    }

    println!("Vigie benchmark: {ncpu} CPUs, model sha256 {}", det.model_sha256());
    let w = rows.iter().map(|r| r.what.chars().count()).max().unwrap_or(10);
    let v = rows.iter().map(|r| r.value.chars().count()).max().unwrap_or(10);
    println!("{:<w$}  {:>v$}  note", "measure", "value");
    for r in &rows {
        println!("{:<w$}  {:>v$}  {}", r.what, r.value, r.note);
    }
    Ok(())
}
