//! `vigie bench capacity`: how many cameras one node analyses at their `detect_fps` in real
//! time. N looping file cameras (the four bundled clips in turn, each paced at its own frame
//! rate) run through the live pipeline with the real detector, N growing step by step; each
//! step measures, per camera, the frames received against the clip's rate and the detections
//! achieved, and for the whole process the CPU cores used and the resident memory. The run stops
//! at the first step where a camera falls short or ingest falls behind.
//!
//! What it leaves out: recording, rules, evidence and the console (the stages after the
//! tracker). `vigie bench latency` measures those with a whole node.

use anyhow::Context;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::{Detection, Frame, SystemClock, TrackedObject};
use vigie_detect::DetectorConfig;
use vigie_motion::MotionConfig;
use vigie_pipeline::{CameraCounters, CameraHooks, CameraSpec, LiveOptions, LivePipeline};
use vigie_source::{Health, Mp4FileSource, Mp4Options, VideoSource};
use vigie_track::TrackerConfig;

/// The clips the cameras play, in turn.
pub const CLIPS: [&str; 4] =
    ["pets09-s2l1.mp4", "highway-cctv.mp4", "indoor-people-one-by-one.mp4", "parking-lot-top-down.mp4"];

#[derive(Debug, Clone)]
pub struct CapacityOptions {
    /// The repository (clips, model).
    pub root: PathBuf,
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    pub motion: MotionConfig,
    /// Detector sessions (one thread each).
    pub detector_workers: usize,
    /// Cameras per step, in the order tried.
    pub cameras: Vec<usize>,
    /// Measured seconds per step (after the warm-up).
    pub seconds: u64,
    /// Seconds per step before measuring: models loaded, motion backgrounds learnt.
    pub warmup_s: u64,
    pub detect_fps: f64,
    /// A camera below this many detections a second falls short (unless the motion gate asked
    /// for fewer).
    pub min_detections_per_s: f64,
    /// Run every step, even after one falls short.
    pub all_steps: bool,
}

/// One camera over one step.
#[derive(Debug, Clone)]
pub struct CameraRow {
    pub camera: String,
    pub clip: &'static str,
    pub source_fps: f64,
    pub received_fps: f64,
    pub detections_per_s: f64,
    /// Offered frames no session took (overload), per second.
    pub busy_per_s: f64,
    /// Frames the motion gate kept from the detector, per second.
    pub still_per_s: f64,
}

impl CameraRow {
    /// Received at under 95 % of the clip's rate.
    pub fn behind(&self) -> bool {
        self.received_fps < 0.95 * self.source_fps
    }

    /// Short of `min` detections a second while the pool turned frames away: the motion gate
    /// asking for fewer is no shortfall (every frame it offered was detected, or nearly).
    pub fn short(&self, min: f64) -> bool {
        let offered = self.detections_per_s + self.busy_per_s;
        self.detections_per_s < min && self.busy_per_s > 0.05 * offered
    }
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub cameras: usize,
    pub rows: Vec<CameraRow>,
    pub seconds: f64,
    /// CPU time of the whole process over the step, in cores.
    pub cores_used: f64,
    pub rss_mb: f64,
    pub min_detections: f64,
    pub median_detections: f64,
    pub total_detections: f64,
    pub short: usize,
    pub behind: usize,
}

impl StepReport {
    pub fn ok(&self) -> bool {
        self.short == 0 && self.behind == 0
    }
}

struct Nothing;

impl CameraHooks for Nothing {
    fn on_frame(&mut self, _: &Arc<Frame>, _: &[TrackedObject], _: Option<&[Detection]>) {}
}

/// CPU seconds this process has used (all threads).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills a plain-data struct about this process.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(u.ru_utime) + s(u.ru_stime)
}

/// Resident memory of this process now, MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        0.0
    } else {
        s[s.len() / 2]
    }
}

struct Snap {
    frames: u64,
    runs: u64,
    busy: u64,
    still: u64,
}

fn snap(c: &CameraCounters) -> Snap {
    Snap {
        frames: c.frames.load(Relaxed),
        runs: c.detector_runs.load(Relaxed),
        busy: c.detector_skipped_busy.load(Relaxed),
        still: c.motion_skipped.load(Relaxed),
    }
}

/// Runs one step of `n` cameras.
pub fn step(o: &CapacityOptions, n: usize, clip_fps: &[f64]) -> anyhow::Result<StepReport> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let specs = (0..n)
        .map(|i| {
            let clip = CLIPS[i % CLIPS.len()];
            let id = format!("cam{i:02}");
            CameraSpec {
                id: id.clone(),
                url: o.root.join("assets/video").join(clip).display().to_string(),
                looping: true,
                realtime: true,
                rtsp: Default::default(),
                hooks: Box::new(Nothing),
                health: Health::new(&id),
                privacy_masks: Default::default(),
                detect_fps: o.detect_fps,
            }
        })
        .collect();
    let opts = LiveOptions {
        detector: o.detector.clone(),
        tracker: o.tracker.clone(),
        motion: o.motion.clone(),
        detector_workers: o.detector_workers,
        ..Default::default()
    };
    let p = LivePipeline::start(&opts, specs, rt.handle().clone(), Arc::new(SystemClock::default()))
        .context("start the pipeline")?;
    std::thread::sleep(Duration::from_secs(o.warmup_s));
    let before: Vec<Snap> = p.cameras.iter().map(|c| snap(&c.counters)).collect();
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    std::thread::sleep(Duration::from_secs(o.seconds));
    let after: Vec<Snap> = p.cameras.iter().map(|c| snap(&c.counters)).collect();
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let rss = rss_mb();
    let failed: Vec<String> = p
        .health()
        .into_iter()
        .filter_map(|h| h.last_error.filter(|_| h.frames == 0).map(|e| format!("{}: {e}", h.camera)))
        .collect();
    p.shutdown();
    anyhow::ensure!(failed.is_empty(), "cameras without a frame: {}", failed.join("; "));
    let rows: Vec<CameraRow> = before
        .iter()
        .zip(&after)
        .enumerate()
        .map(|(i, (b, a))| {
            let per_s = |x: u64, y: u64| (y - x) as f64 / secs;
            CameraRow {
                camera: format!("cam{i:02}"),
                clip: CLIPS[i % CLIPS.len()],
                source_fps: clip_fps[i % CLIPS.len()],
                received_fps: per_s(b.frames, a.frames),
                detections_per_s: per_s(b.runs, a.runs),
                busy_per_s: per_s(b.busy, a.busy),
                still_per_s: per_s(b.still, a.still),
            }
        })
        .collect();
    let dets: Vec<f64> = rows.iter().map(|r| r.detections_per_s).collect();
    Ok(StepReport {
        cameras: n,
        seconds: secs,
        cores_used: cpu / secs,
        rss_mb: rss,
        min_detections: dets.iter().copied().fold(f64::INFINITY, f64::min),
        median_detections: median(&dets),
        total_detections: dets.iter().sum(),
        short: rows.iter().filter(|r| r.short(o.min_detections_per_s)).count(),
        behind: rows.iter().filter(|r| r.behind()).count(),
        rows,
    })
}

/// Runs the steps, prints a table per step and the closing `capacity …` line; returns the steps.
pub fn run(o: &CapacityOptions) -> anyhow::Result<Vec<StepReport>> {
    anyhow::ensure!(!o.cameras.is_empty(), "--cameras: give at least one number of cameras");
    anyhow::ensure!(o.cameras.iter().all(|&n| n > 0), "--cameras: every step needs at least one camera");
    anyhow::ensure!(o.seconds > 0, "--seconds must be at least 1");
    vigie_pipeline::check_detect_fps(o.detect_fps).map_err(|e| anyhow::anyhow!("--detect-fps: {e}"))?;
    let clip_fps = CLIPS
        .iter()
        .map(|c| {
            let path = o.root.join("assets/video").join(c);
            let src = Mp4FileSource::open(&path, Mp4Options::default())
                .with_context(|| format!("cannot open {}", path.display()))?;
            Ok(src.info().fps.unwrap_or(25.0))
        })
        .collect::<anyhow::Result<Vec<f64>>>()?;
    let machine_cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "capacity bench: detect_fps {} per camera, {} detector session(s), {} s per step after {} s warm-up, \
         {machine_cores} cores; a camera falls short below {} detections/s while the detector turns its frames \
         away, or when received under 95 % of its clip's rate",
        o.detect_fps, o.detector_workers, o.seconds, o.warmup_s, o.min_detections_per_s
    );
    let mut steps = Vec::new();
    for &n in &o.cameras {
        let s = step(o, n, &clip_fps)?;
        println!("\n{n} cameras:");
        println!(
            "{:<6} {:<30} {:>8} {:>9} {:>7} {:>7} {:>7}",
            "camera", "clip", "src_fps", "recv_fps", "det/s", "busy/s", "still/s"
        );
        for r in &s.rows {
            let flag = match (r.behind(), r.short(o.min_detections_per_s)) {
                (true, _) => "  BEHIND",
                (_, true) => "  SHORT",
                _ => "",
            };
            println!(
                "{:<6} {:<30} {:>8.2} {:>9.2} {:>7.2} {:>7.2} {:>7.2}{flag}",
                r.camera, r.clip, r.source_fps, r.received_fps, r.detections_per_s, r.busy_per_s, r.still_per_s
            );
        }
        println!(
            "step cameras={n} detections_min={:.2} detections_median={:.2} detections_per_s={:.1} cores_used={:.2} \
             rss_mb={:.0} rss_per_camera_mb={:.1} short={} behind={} {}",
            s.min_detections,
            s.median_detections,
            s.total_detections,
            s.cores_used,
            s.rss_mb,
            s.rss_mb / n as f64,
            s.short,
            s.behind,
            if s.ok() { "ok" } else { "FALLS SHORT" }
        );
        let ok = s.ok();
        steps.push(s);
        if !ok && !o.all_steps {
            break;
        }
    }
    let best = steps.iter().filter(|s| s.ok()).max_by_key(|s| s.cameras);
    match best {
        Some(s) => println!(
            "capacity cameras={} cores={machine_cores} cameras_per_core={:.1} detections_per_s={:.1} \
             rss_per_camera_mb={:.1}",
            s.cameras,
            s.cameras as f64 / machine_cores as f64,
            s.total_detections,
            s.rss_mb / s.cameras as f64
        ),
        None => println!(
            "capacity cameras=0 cores={machine_cores} cameras_per_core=0.0 detections_per_s=0.0 rss_per_camera_mb=0.0"
        ),
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(received: f64, dets: f64, busy: f64) -> CameraRow {
        CameraRow {
            camera: "c".into(),
            clip: CLIPS[0],
            source_fps: 25.0,
            received_fps: received,
            detections_per_s: dets,
            busy_per_s: busy,
            still_per_s: 0.0,
        }
    }

    #[test]
    fn a_camera_falls_short_only_when_the_detector_turned_it_away() {
        assert!(!row(25.0, 5.0, 0.0).short(4.5));
        assert!(row(25.0, 3.0, 2.0).short(4.5), "overloaded: short");
        assert!(!row(25.0, 2.0, 0.0).short(4.5), "the motion gate asked for fewer: not short");
        assert!(row(23.0, 5.0, 0.0).behind());
        assert!(!row(24.0, 5.0, 0.0).behind());
    }
}
