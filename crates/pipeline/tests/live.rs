//! The live runtime keeps every good camera going whatever happens to the others.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::{Detection, Frame, SystemClock, TrackedObject};
use vigie_pipeline::{CameraHooks, CameraSpec, DetectorPool, FrameDetector, LiveOptions, LivePipeline, Sight};
use vigie_source::{CameraState, Health, RtspOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Counts frames, and (in [`UNDECIDED`]) frames whose detection failed as the pictures'
/// decision sees them.
struct Count(Arc<AtomicU64>);

impl CameraHooks for Count {
    fn on_frame(&mut self, _frame: &Arc<Frame>, _tracks: &[TrackedObject], _dets: Option<&[Detection]>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn on_sight(&mut self, sight: &Sight) {
        if sight.undecidable.as_deref().is_some_and(|u| u.starts_with("detector: ")) {
            UNDECIDED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Only the failing-detector test fails detections.
static UNDECIDED: AtomicU64 = AtomicU64::new(0);

fn spec(id: &str, url: String, frames: &Arc<AtomicU64>) -> CameraSpec {
    CameraSpec {
        id: id.into(),
        url,
        looping: false,
        realtime: false,
        rtsp: RtspOptions { connect_timeout: Duration::from_secs(2), ..Default::default() },
        hooks: Box::new(Count(frames.clone())),
        health: Health::new(id),
        privacy_masks: Default::default(),
    }
}

#[test]
fn bad_cameras_do_not_stop_the_good_one() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut opts = LiveOptions {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        ..Default::default()
    };
    opts.detector.resolve_paths(&root());
    let good = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let missing = Arc::new(AtomicU64::new(0));
    let hevc = Arc::new(AtomicU64::new(0));
    let clip = root().join("assets/video/highway-cctv.mp4").display().to_string();
    let cameras = vec![
        spec("good", clip, &good),
        // Nothing listens on port 1: connection refused, retried with backoff.
        spec("refused", "rtsp://127.0.0.1:1/stream".into(), &refused),
        spec("missing", root().join("no/such/file.mp4").display().to_string(), &missing),
        spec("hevc", root().join("testdata/bad/hevc.mp4").display().to_string(), &hevc),
    ];
    let p = LivePipeline::start(&opts, cameras, rt.handle().clone(), Arc::new(SystemClock::default())).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let h = p.health();
        let good_state = h.iter().find(|s| s.camera == "good").unwrap().state.clone();
        let refused_tried = h.iter().find(|s| s.camera == "refused").unwrap().last_error.is_some();
        if good_state == CameraState::Ended && refused_tried {
            break;
        }
        assert!(Instant::now() < deadline, "good camera did not finish: {h:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let h = p.health();
    let get = |id: &str| h.iter().find(|s| s.camera == id).unwrap().clone();
    assert_eq!(good.load(Ordering::Relaxed), 748, "every frame of the good camera was analysed");
    assert_eq!(get("good").frames, 748);

    let r = get("refused");
    assert!(matches!(r.state, CameraState::Retrying { .. }), "{r:?}");
    let err = r.last_error.unwrap();
    assert!(err.contains("refused") && err.contains("127.0.0.1:1"), "{err}");

    let m = get("missing");
    assert!(m.last_error.as_deref().unwrap_or("").contains("file.mp4"), "{m:?}");

    let v = get("hevc");
    assert_eq!(v.state, CameraState::Failed, "a stream that cannot be decoded is not retried: {v:?}");
    assert!(v.last_error.unwrap().contains("H.264"));
    assert_eq!(refused.load(Ordering::Relaxed) + missing.load(Ordering::Relaxed) + hevc.load(Ordering::Relaxed), 0);
    p.shutdown();
}

/// A stand-in for the detector's model information (the pool only hands it out).
fn fake_model() -> vigie_detect::ModelInfo {
    vigie_detect::ModelInfo {
        path: "injected".into(),
        sha256: "injected".into(),
        input_w: 416,
        input_h: 416,
        num_classes: 1,
        classes: vigie_core::ClassMap::parse("person\n"),
    }
}

/// Holds each detection until the test releases it, and says when one has started.
struct Gated {
    started: crossbeam_channel::Sender<()>,
    release: crossbeam_channel::Receiver<()>,
}

impl FrameDetector for Gated {
    fn detect_frame(&mut self, _frame: &Frame) -> Result<Vec<Detection>, String> {
        self.started.send(()).unwrap();
        self.release.recv().map_err(|_| "test ended".to_string())?;
        Ok(Vec::new())
    }
}

#[test]
fn a_full_detector_queue_skips_the_frame_at_once() {
    let (started_tx, started) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded();
    let gated = Gated { started: started_tx, release: release_rx };
    let pool = Arc::new(DetectorPool::with_detectors(vec![Box::new(gated)], fake_model(), 1));
    let frame = Arc::new(Frame::solid(64, 48, [16, 128, 128]));
    let ask = |pool: &Arc<DetectorPool>| {
        let (pool, frame) = (pool.clone(), frame.clone());
        std::thread::spawn(move || pool.try_detect(&frame))
    };
    // One frame in the only session, one waiting in the queue (depth 1)...
    let in_session = ask(&pool);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let queued = ask(&pool);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.queued() < 1 {
        assert!(Instant::now() < deadline, "the second frame never reached the queue");
        std::thread::sleep(Duration::from_millis(2));
    }
    // ...so a third is skipped without waiting.
    let t = Instant::now();
    assert!(pool.try_detect(&frame).is_none(), "a full queue must skip, not wait");
    assert!(t.elapsed() < Duration::from_millis(500));
    release.send(()).unwrap();
    release.send(()).unwrap();
    assert_eq!(in_session.join().unwrap(), Some(Ok(Vec::new())));
    assert_eq!(queued.join().unwrap(), Some(Ok(Vec::new())));
}

/// Takes `delay` per frame and fails every `fail_every`-th call (0: never).
struct Injected {
    delay: Duration,
    fail_every: u64,
    calls: u64,
}

impl FrameDetector for Injected {
    fn detect_frame(&mut self, _frame: &Frame) -> Result<Vec<Detection>, String> {
        self.calls += 1;
        std::thread::sleep(self.delay);
        if self.fail_every > 0 && self.calls.is_multiple_of(self.fail_every) {
            return Err(format!("inference failed on call {} (injected)", self.calls));
        }
        Ok(Vec::new())
    }
}

fn injected_pipeline(
    det: Injected,
    cameras: &[&str],
    frames: &[Arc<AtomicU64>],
) -> (LivePipeline, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let pool = DetectorPool::with_detectors(vec![Box::new(det)], fake_model(), 1);
    let clip = root().join("assets/video/highway-cctv.mp4").display().to_string();
    let specs = cameras.iter().zip(frames).map(|(id, n)| spec(id, clip.clone(), n)).collect();
    let p = LivePipeline::start_with_pool(
        &LiveOptions::default(),
        pool,
        specs,
        rt.handle().clone(),
        Arc::new(SystemClock::default()),
    );
    (p, rt)
}

fn accounted(c: &vigie_pipeline::CameraCounters) -> (u64, u64, u64, u64, u64) {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    (l(&c.frames), l(&c.detector_runs), l(&c.detector_skipped_busy), l(&c.motion_skipped), l(&c.detector_errors))
}

#[test]
fn a_busy_detector_makes_cameras_skip_frames_and_counts_them() {
    // Three cameras as fast as they decode, one slow session, a queue of one: two cameras can
    // hold the session and the queue, the third must skip.
    let ids = ["a", "b", "c"];
    let frames: Vec<_> = ids.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
    let det = Injected { delay: Duration::from_millis(15), fail_every: 0, calls: 0 };
    let (p, _rt) = injected_pipeline(det, &ids, &frames);
    let deadline = Instant::now() + Duration::from_secs(60);
    while p.cameras.iter().map(|c| c.counters.detector_skipped_busy.load(Ordering::Relaxed)).sum::<u64>() < 20 {
        assert!(Instant::now() < deadline, "no camera skipped a busy detector: {:?}", p.health());
        std::thread::sleep(Duration::from_millis(20));
    }
    let counters: Vec<_> = p.cameras.iter().map(|c| c.counters.clone()).collect();
    p.shutdown();
    for (c, seen) in counters.iter().zip(&frames) {
        let (n, runs, busy, still, errors) = accounted(c);
        // Every frame reached the hooks, and each was detected, skipped (busy or still) or failed.
        assert_eq!(seen.load(Ordering::Relaxed), n);
        assert_eq!(runs + busy + still + errors, n, "{:?}", accounted(c));
        assert_eq!(errors, 0);
    }
    let busy: u64 = counters.iter().map(|c| accounted(c).2).sum();
    let runs: u64 = counters.iter().map(|c| accounted(c).1).sum();
    assert!(busy >= 20 && runs > 0, "busy {busy} runs {runs}");
}

#[test]
fn a_failing_detector_shows_in_health_and_the_camera_keeps_going() {
    let frames = [Arc::new(AtomicU64::new(0))];
    let det = Injected { delay: Duration::ZERO, fail_every: 3, calls: 0 };
    let (p, _rt) = injected_pipeline(det, &["cam"], &frames);
    let deadline = Instant::now() + Duration::from_secs(120);
    while p.health()[0].state != CameraState::Ended {
        assert!(Instant::now() < deadline, "camera did not finish: {:?}", p.health());
        std::thread::sleep(Duration::from_millis(50));
    }
    let h = p.health()[0].clone();
    let counters = p.cameras[0].counters.clone();
    p.shutdown();
    let (n, runs, busy, still, errors) = accounted(&counters);
    assert_eq!((n, h.frames, frames[0].load(Ordering::Relaxed)), (748, 748, 748), "every frame went on");
    assert_eq!(runs + busy + still + errors, n);
    assert!(errors > 0 && runs >= errors, "runs {runs} errors {errors}");
    // Each failed frame reached the pictures as undecidable: pixelated whole, never in clear.
    assert_eq!(UNDECIDED.load(Ordering::Relaxed), errors);
    let err = h.last_error.unwrap_or_default();
    assert!(err.starts_with("detector: inference failed on call") && err.ends_with("(injected)"), "{err}");
}
