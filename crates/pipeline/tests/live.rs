//! The live runtime keeps every good camera going whatever happens to the others.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::{Detection, Frame, SystemClock, TrackedObject};
use vigie_pipeline::{CameraHooks, CameraSpec, DetectorPool, FrameDetector, LiveOptions, LivePipeline, Settled, Sight};
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
        detect_fps: 5.0,
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
        // The last frame reaches the hooks just after the end of the file is seen (it waited
        // for its detection while the source looked for a next one).
        let analysed = good.load(Ordering::Relaxed);
        if good_state == CameraState::Ended && refused_tried && analysed >= 748 {
            break;
        }
        assert!(Instant::now() < deadline, "good camera did not finish ({analysed} frames analysed): {h:?}");
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

/// Holds each detection until the test releases it, says when one has started, and records
/// which frames (by `seq`) were detected, in order.
struct Recorded {
    gated: Gated,
    order: Arc<parking_lot::Mutex<Vec<u64>>>,
}

impl FrameDetector for Recorded {
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, String> {
        self.order.lock().push(frame.seq);
        self.gated.detect_frame(frame)
    }
}

fn frame(seq: u64) -> Arc<Frame> {
    let mut f = Frame::solid(64, 48, [16, 128, 128]);
    f.seq = seq;
    Arc::new(f)
}

#[test]
fn the_pool_serves_the_most_overdue_camera_first_and_keeps_one_frame_per_camera() {
    let (started_tx, started) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded();
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let det = Recorded { gated: Gated { started: started_tx, release: release_rx }, order: order.clone() };
    let pool = DetectorPool::with_detectors(vec![Box::new(det)], fake_model());
    let (a, b, c) = (pool.client(), pool.client(), pool.client());
    let ms = Duration::from_millis;
    // Camera a's frame takes the only session; b and c wait.
    a.offer(frame(1), ms(100));
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    b.offer(frame(2), ms(300));
    c.offer(frame(3), ms(200));
    // b's newer frame replaces its waiting one (never a queue of stale frames).
    b.offer(frame(4), ms(300));
    assert_eq!(pool.queued(), 2);
    assert_eq!(pool.stats().queue_capacity(), 3, "one frame per camera");
    // A camera settling a frame in a session waits for it; one whose frame still waits withdraws it.
    let settled_a = std::thread::spawn(move || (a.settle(), a));
    std::thread::sleep(ms(20));
    assert!(!settled_a.is_finished(), "a frame in a session is waited for");
    release.send(()).unwrap();
    let (res, _a) = settled_a.join().unwrap();
    assert_eq!(res, Settled::Detected(Vec::new()));
    // c (due at 200) goes before b (due at 300), whatever the order they offered in.
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(*order.lock(), vec![1, 3]);
    assert_eq!(b.settle(), Settled::NotServed, "b's frame was still waiting: withdrawn, not awaited");
    assert_eq!(pool.queued(), 0);
    release.send(()).unwrap();
    assert_eq!(c.settle(), Settled::Detected(Vec::new()));
    // b offers again: served, and never its stale frame 2.
    b.offer(frame(5), ms(300));
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    release.send(()).unwrap();
    assert_eq!(b.settle(), Settled::Detected(Vec::new()));
    assert_eq!(*order.lock(), vec![1, 3, 5]);
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
    let pool = DetectorPool::with_detectors(vec![Box::new(det)], fake_model());
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

/// Frames, detector runs, busy skips, motion and rate skips together, errors.
fn accounted(c: &vigie_pipeline::CameraCounters) -> (u64, u64, u64, u64, u64) {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let still = l(&c.motion_skipped) + l(&c.rate_skipped);
    (l(&c.frames), l(&c.detector_runs), l(&c.detector_skipped_busy), still, l(&c.detector_errors))
}

#[test]
fn a_busy_detector_makes_cameras_skip_frames_and_counts_them() {
    // Three cameras as fast as they decode (5 detections per second of stream time, so one
    // frame in five of the 25 fps clip is offered), one slow session: frames wait, and a camera
    // whose offered frame no session took by its next frame predicts its tracks and offers anew.
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
    // The last frame reaches the hooks just after the end of the file is seen.
    while p.health()[0].state != CameraState::Ended || frames[0].load(Ordering::Relaxed) < 748 {
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

#[test]
fn under_overload_cameras_of_different_frame_rates_get_the_same_detection_rate() {
    // One session at 60 ms a frame (about 16 a second) for three real-time cameras asking 8
    // detections a second each: the 7 fps one is clamped to 7, the total (23) is beyond the
    // session, so each should get a third of it, whatever its frame rate.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let det = Injected { delay: Duration::from_millis(60), fail_every: 0, calls: 0 };
    let pool = DetectorPool::with_detectors(vec![Box::new(det)], fake_model());
    let clips = ["highway-cctv.mp4", "indoor-people-one-by-one.mp4", "pets09-s2l1.mp4"];
    let frames: Vec<_> = clips.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
    let specs = clips
        .iter()
        .zip(&frames)
        .map(|(clip, n)| {
            let url = root().join("assets/video").join(clip).display().to_string();
            CameraSpec { looping: true, realtime: true, detect_fps: 8.0, ..spec(clip, url, n) }
        })
        .collect();
    let mut opts = LiveOptions::default();
    opts.motion.enabled = false;
    let p = LivePipeline::start_with_pool(&opts, pool, specs, rt.handle().clone(), Arc::new(SystemClock::default()));
    let runs = |p: &LivePipeline| -> Vec<u64> {
        p.cameras.iter().map(|c| c.counters.detector_runs.load(Ordering::Relaxed)).collect()
    };
    std::thread::sleep(Duration::from_millis(1500));
    let (t0, r0) = (Instant::now(), runs(&p));
    std::thread::sleep(Duration::from_secs(3));
    let (dt, r1) = (t0.elapsed().as_secs_f64(), runs(&p));
    let rates: Vec<f64> = r0.iter().zip(&r1).map(|(a, b)| (b - a) as f64 / dt).collect();
    let h = p.health();
    let targets: Vec<f64> = p.cameras.iter().map(|c| c.counters.detect_fps_target()).collect();
    let stream_fps: Vec<f64> = h.iter().map(|s| s.fps).collect();
    let busy: u64 = p.cameras.iter().map(|c| c.counters.detector_skipped_busy.load(Ordering::Relaxed)).sum();
    p.shutdown();
    println!("detections/s {rates:.2?} targets {targets:?} received fps {stream_fps:.1?} busy skips {busy}");
    assert_eq!(targets[2], 7.0, "detect_fps above the 7 fps stream is clamped to it");
    assert_eq!(targets[0], 8.0);
    assert!(busy > 0, "the session was not overloaded");
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    for (clip, r) in clips.iter().zip(&rates) {
        assert!((r - mean).abs() <= 0.15 * mean, "{clip}: {r:.2} detections/s, mean {mean:.2}: {rates:.2?}");
    }
    assert!(mean * 3.0 > 12.0, "the session idled: {rates:.2?}");
}
