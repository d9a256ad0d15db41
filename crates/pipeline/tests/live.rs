//! The live runtime keeps every good camera going whatever happens to the others.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::{Detection, Frame, SystemClock, TrackedObject};
use vigie_pipeline::{CameraHooks, CameraSpec, LiveOptions, LivePipeline};
use vigie_source::{CameraState, Health, RtspOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Count(Arc<AtomicU64>);

impl CameraHooks for Count {
    fn on_frame(&mut self, _frame: &Arc<Frame>, _tracks: &[TrackedObject], _dets: Option<&[Detection]>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn spec(id: &str, url: String, frames: &Arc<AtomicU64>) -> CameraSpec {
    CameraSpec {
        id: id.into(),
        url,
        looping: false,
        realtime: false,
        rtsp: RtspOptions { connect_timeout: Duration::from_secs(2), ..Default::default() },
        hooks: Box::new(Count(frames.clone())),
        health: Health::new(id),
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
