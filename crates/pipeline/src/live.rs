//! The live service: many cameras, one shared detector.
//!
//! Each camera has its own thread (source → decoder → motion gate → tracker → hooks); the
//! detector is a pool of sessions behind a bounded queue, as in Frigate. A camera never waits in
//! line: when the queue is full it skips detection for that frame and its tracker holds the
//! current tracks, so an overloaded node degrades to a lower detection rate instead of building
//! latency. One camera failing (bad URL, corrupt stream) shows in its health and nowhere else.

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use vigie_core::{shutdown, BBox, Clock, Detection, Frame, Packet, Polygon, StreamInfo, TrackedObject};
use vigie_decode::H264Decoder;
use vigie_detect::{DetectError, Detector, DetectorConfig, ModelInfo};
use vigie_motion::{MotionConfig, MotionGate};
use vigie_source::{
    Backoff, CameraFeed, Health, HealthSnapshot, Mp4FileSource, Mp4Options, Pacing, RtspOptions, RtspSource,
    SourceError, VideoSource,
};
use vigie_track::{ByteTracker, TrackerConfig};

/// What the rest of the system does with a camera's data; called on the camera's thread, in
/// order. Implementations must be quick (hand heavy work to another thread).
pub trait CameraHooks: Send {
    /// Every packet as received, before decoding (recording needs no decode).
    fn on_packet(&mut self, _packet: &Packet, _info: &StreamInfo) {}
    /// Every decoded frame with the tracker's view of it and the raw detections, which are `None`
    /// when the motion gate or an overloaded detector skipped detection and the tracks were held.
    /// (Raw detections include people not yet confirmed as tracks, whom pictures must blur too.)
    fn on_frame(&mut self, frame: &Arc<Frame>, tracks: &[TrackedObject], detections: Option<&[Detection]>);
    /// Called just before [`CameraHooks::on_frame`] with what else is known of the frame, for
    /// deciding what its pictures hide (`vigie_imaging::privacy`).
    fn on_sight(&mut self, _sight: &Sight) {}
}

/// What the pipeline knows of a frame beyond its tracks: the motion model's moving regions, and
/// whether anything about the frame's people can be trusted at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sight {
    /// Moving regions, full-frame pixels (privacy masks excluded).
    pub motion: Vec<BBox>,
    /// Why this frame's people cannot be known (the detector failed on it, the motion model has
    /// no background yet); pictures of it are then pixelated whole.
    pub undecidable: Option<String>,
}

/// Drops detections whose box centre lies in a privacy mask: nothing inside a mask is tracked
/// nor raises an event.
pub fn outside_masks(dets: Vec<Detection>, masks: &[Polygon]) -> Vec<Detection> {
    if masks.is_empty() {
        return dets;
    }
    dets.into_iter()
        .filter(|d| {
            let (x, y) = d.bbox.center();
            !masks.iter().any(|m| m.contains(x, y))
        })
        .collect()
}

pub struct CameraSpec {
    pub id: String,
    /// `rtsp://[user:pass@]host[:port]/path`, or a path to an MP4 file standing in for a camera.
    pub url: String,
    /// Files only: start again at the end.
    pub looping: bool,
    /// Files only: play at the file's frame rate rather than as fast as possible.
    pub realtime: bool,
    pub rtsp: RtspOptions,
    pub hooks: Box<dyn CameraHooks>,
    /// Where the camera's state is reported (shared with whoever displays it).
    pub health: Health,
    /// Privacy masks (full-frame pixels): excluded from motion, detection and tracking. Read
    /// at every frame: a change applies from the next one.
    pub privacy_masks: vigie_core::LiveMasks,
}

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    pub motion: MotionConfig,
    /// Detector sessions (one thread each).
    pub detector_workers: usize,
    /// Frames waiting for the detector before cameras start skipping detection.
    pub queue_depth: usize,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            detector: DetectorConfig::default(),
            tracker: TrackerConfig::default(),
            motion: MotionConfig::default(),
            detector_workers: 2,
            queue_depth: 4,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

type Reply = Sender<Result<Vec<Detection>, String>>;

/// One detector session as the pool sees it: the ONNX detector, or a stand-in (tests inject slow
/// or failing ones).
pub trait FrameDetector: Send + 'static {
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, String>;
}

impl FrameDetector for Detector {
    fn detect_frame(&mut self, frame: &Frame) -> Result<Vec<Detection>, String> {
        self.detect(frame).map_err(|e| e.to_string())
    }
}

/// Detector sessions shared by all cameras of a node.
pub struct DetectorPool {
    jobs: Option<Sender<(Arc<Frame>, Reply)>>,
    workers: Vec<JoinHandle<()>>,
    info: ModelInfo,
    stats: Arc<DetectorStats>,
}

/// What the pool reports for metrics, readable after the pool has stopped.
pub struct DetectorStats {
    /// Time of each detector run (preprocessing, inference and box decoding together).
    pub inference: vigie_core::Histogram,
    /// Frames the queue holds at most before cameras skip detection.
    pub queue_capacity: usize,
    pub sessions: usize,
    // A receiver does not keep the workers alive (they stop when every sender is gone), so
    // holding one only to read the queue's length is safe.
    queue: Receiver<(Arc<Frame>, Reply)>,
}

impl DetectorStats {
    /// Frames waiting for a free session now.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

impl DetectorPool {
    pub fn new(cfg: &DetectorConfig, workers: usize, queue_depth: usize) -> Result<Self, DetectError> {
        let cfg = DetectorConfig { threads: 1, ..cfg.clone() };
        let detectors = (0..workers.max(1)).map(|_| Detector::new(&cfg)).collect::<Result<Vec<_>, _>>()?;
        let info = detectors[0].info().clone();
        let detectors = detectors.into_iter().map(|d| Box::new(d) as Box<dyn FrameDetector>).collect();
        Ok(Self::with_detectors(detectors, info, queue_depth))
    }

    /// A pool over the given sessions (one thread each; at least one).
    pub fn with_detectors(detectors: Vec<Box<dyn FrameDetector>>, info: ModelInfo, queue_depth: usize) -> Self {
        assert!(!detectors.is_empty(), "a detector pool needs at least one session");
        let (tx, rx): (Sender<(Arc<Frame>, Reply)>, Receiver<_>) = bounded(queue_depth.max(1));
        let stats = Arc::new(DetectorStats {
            inference: vigie_core::Histogram::new(vigie_core::metrics::INFERENCE_BUCKETS),
            queue_capacity: queue_depth.max(1),
            sessions: detectors.len(),
            queue: rx.clone(),
        });
        let workers = detectors
            .into_iter()
            .enumerate()
            .map(|(i, mut det)| {
                let rx = rx.clone();
                let stats = stats.clone();
                std::thread::Builder::new()
                    .name(format!("detector-{i}"))
                    .spawn(move || {
                        for (frame, reply) in rx {
                            let t = std::time::Instant::now();
                            let res = det.detect_frame(&frame);
                            stats.inference.observe(t.elapsed());
                            let _ = reply.send(res);
                        }
                    })
                    .expect("spawn detector thread")
            })
            .collect();
        Self { jobs: Some(tx), workers, info, stats }
    }

    pub fn stats(&self) -> &Arc<DetectorStats> {
        &self.stats
    }

    pub fn model(&self) -> &ModelInfo {
        &self.info
    }

    /// Frames waiting for a free session.
    pub fn queued(&self) -> usize {
        self.jobs.as_ref().map_or(0, |j| j.len())
    }

    /// Detects in `frame` unless the queue is full (`None`: skip this frame).
    pub fn try_detect(&self, frame: &Arc<Frame>) -> Option<Result<Vec<Detection>, String>> {
        let (tx, rx) = bounded(1);
        match self.jobs.as_ref()?.try_send((frame.clone(), tx)) {
            Ok(()) => rx.recv().ok(),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => None,
        }
    }
}

impl Drop for DetectorPool {
    fn drop(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Counters beyond [`Health`] that the benchmark and the console show.
#[derive(Debug, Default)]
pub struct CameraCounters {
    pub frames: AtomicU64,
    pub detector_runs: AtomicU64,
    pub detector_skipped_busy: AtomicU64,
    /// Frames whose detection failed (the error is in the camera's health); their tracks are held.
    pub detector_errors: AtomicU64,
    pub motion_skipped: AtomicU64,
    /// Detector runs per second over the last few seconds of frames (`f64` bits): the rate
    /// achieved after motion and overload skips.
    pub detection_rate_bits: AtomicU64,
}

impl CameraCounters {
    pub fn detection_rate(&self) -> f64 {
        f64::from_bits(self.detection_rate_bits.load(Ordering::Relaxed))
    }
}

/// Detector runs per second, over windows of about two seconds of the camera's own clock.
#[derive(Default)]
struct RateWindow {
    start: Option<Duration>,
    runs: u64,
}

impl RateWindow {
    /// Counts a frame (and whether the detector ran on it); returns a new rate when a window closes.
    fn frame(&mut self, mono: Duration, ran: bool) -> Option<f64> {
        let start = *self.start.get_or_insert(mono);
        self.runs += ran as u64;
        let span = mono.saturating_sub(start);
        if span < Duration::from_secs(2) {
            return None;
        }
        let rate = self.runs as f64 / span.as_secs_f64();
        *self = RateWindow { start: Some(mono), runs: 0 };
        Some(rate)
    }
}

pub struct CameraHandle {
    pub id: String,
    pub health: Health,
    pub counters: Arc<CameraCounters>,
    thread: Option<JoinHandle<()>>,
}

pub struct LivePipeline {
    pub cameras: Vec<CameraHandle>,
    /// Dropped or signalled: every camera's feed ends at its next packet or backoff slice.
    shutdown: shutdown::Sender,
    pool: Arc<DetectorPool>,
}

fn open_source(
    spec: &SpecParts,
    runtime: &tokio::runtime::Handle,
    clock: &Arc<dyn Clock>,
) -> Result<Box<dyn VideoSource>, SourceError> {
    if spec.url.starts_with("rtsp://") || spec.url.starts_with("rtsps://") {
        let opts = RtspOptions { name: Some(spec.id.clone()), ..spec.rtsp.clone() };
        return Ok(Box::new(RtspSource::open(&spec.url, opts, runtime.clone(), clock.clone())?));
    }
    let path = spec.url.strip_prefix("file://").unwrap_or(&spec.url);
    let opts = Mp4Options {
        pacing: if spec.realtime { Pacing::RealTime } else { Pacing::AsFastAsPossible },
        looping: spec.looping,
        name: Some(spec.id.clone()),
    };
    Ok(Box::new(Mp4FileSource::open_with_clock(path, opts, clock.clone())?))
}

#[derive(Clone)]
struct SpecParts {
    id: String,
    url: String,
    looping: bool,
    realtime: bool,
    rtsp: RtspOptions,
}

impl LivePipeline {
    pub fn start(
        opts: &LiveOptions,
        cameras: Vec<CameraSpec>,
        runtime: tokio::runtime::Handle,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DetectError> {
        let pool = DetectorPool::new(&opts.detector, opts.detector_workers, opts.queue_depth)?;
        Ok(Self::start_with_pool(opts, pool, cameras, runtime, clock))
    }

    /// As [`LivePipeline::start`], over a pool built by the caller (`opts.detector`,
    /// `detector_workers` and `queue_depth` are then the pool's business).
    pub fn start_with_pool(
        opts: &LiveOptions,
        pool: DetectorPool,
        cameras: Vec<CameraSpec>,
        runtime: tokio::runtime::Handle,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let pool = Arc::new(pool);
        let (shutdown, stop) = shutdown::channel();
        let mut handles = Vec::new();
        for spec in cameras {
            let parts = SpecParts {
                id: spec.id.clone(),
                url: spec.url,
                looping: spec.looping,
                realtime: spec.realtime,
                rtsp: spec.rtsp,
            };
            let health = spec.health.clone();
            let counters = Arc::new(CameraCounters::default());
            let (rt, ck) = (runtime.clone(), clock.clone());
            let factory_parts = parts.clone();
            let feed = CameraFeed::new(
                Box::new(move || open_source(&factory_parts, &rt, &ck)),
                Backoff::new(opts.backoff_initial, opts.backoff_max),
                health.clone(),
                clock.clone(),
                stop.clone(),
            );
            let mut gate = MotionGate::new(opts.motion.clone());
            let gate_masks = spec.privacy_masks.get();
            gate.set_ignore(&gate_masks);
            let worker = CameraWorker {
                id: spec.id.clone(),
                feed,
                hooks: spec.hooks,
                pool: pool.clone(),
                masks: spec.privacy_masks,
                gate_masks,
                gate,
                tracker_cfg: opts.tracker.clone(),
                health: health.clone(),
                counters: counters.clone(),
                clock: clock.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("camera-{}", spec.id))
                .spawn(move || worker.run())
                .expect("spawn camera thread");
            handles.push(CameraHandle { id: spec.id, health, counters, thread: Some(thread) });
        }
        Self { cameras: handles, shutdown, pool }
    }

    pub fn model(&self) -> &ModelInfo {
        self.pool.model()
    }

    /// The shared detector's queue and run times.
    pub fn detector_stats(&self) -> Arc<DetectorStats> {
        self.pool.stats().clone()
    }

    pub fn health(&self) -> Vec<HealthSnapshot> {
        self.cameras.iter().map(|c| c.health.snapshot()).collect()
    }

    /// Learns when the cameras are told to stop (for threads that should stop with them).
    pub fn shutdown_receiver(&self) -> shutdown::Receiver {
        self.shutdown.receiver()
    }

    /// Asks every camera to stop and waits for their threads.
    pub fn shutdown(mut self) {
        self.shutdown.signal();
        for c in &mut self.cameras {
            if let Some(t) = c.thread.take() {
                let _ = t.join();
            }
        }
    }
}

struct CameraWorker {
    id: String,
    feed: CameraFeed,
    hooks: Box<dyn CameraHooks>,
    pool: Arc<DetectorPool>,
    masks: vigie_core::LiveMasks,
    /// The set the motion gate ignores now.
    gate_masks: Arc<Vec<Polygon>>,
    gate: MotionGate,
    tracker_cfg: TrackerConfig,
    health: Health,
    counters: Arc<CameraCounters>,
    clock: Arc<dyn Clock>,
}

impl CameraWorker {
    fn run(mut self) {
        let mut decoder: Option<H264Decoder> = None;
        let mut tracker: Option<ByteTracker> = None;
        let mut session = 0;
        let mut moving = false;
        let mut rate = RateWindow::default();
        while let Some(res) = self.feed.next_packet() {
            let pkt = match res {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(camera = %self.id, error = %e, "packet lost");
                    continue;
                }
            };
            if self.feed.sessions() != session {
                // A new connection restarts timestamps: start decoder and tracker afresh.
                session = self.feed.sessions();
                decoder = None;
                tracker = None;
            }
            let Some(info) = self.feed.info().cloned() else { continue };
            self.hooks.on_packet(&pkt, &info);
            let dec = match &mut decoder {
                Some(d) => d,
                None => match H264Decoder::new(&self.id) {
                    Ok(d) => decoder.insert(d),
                    Err(e) => {
                        self.health.error(e.to_string(), self.clock.now());
                        return;
                    }
                },
            };
            let frame = match dec.decode(&pkt) {
                Ok(Some(f)) => Arc::new(f),
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(camera = %self.id, error = %e, "decode error");
                    self.health.decode_error(e.to_string(), self.clock.now());
                    continue;
                }
            };
            self.health.frame(self.clock.now(), self.clock.monotonic());
            self.counters.frames.fetch_add(1, Ordering::Relaxed);
            let trk = match &mut tracker {
                Some(t) => t,
                None => match ByteTracker::new(self.tracker_cfg.clone(), info.fps) {
                    Ok(t) => tracker.insert(t),
                    Err(e) => {
                        self.health.error(format!("tracker: {e}"), self.clock.now());
                        return;
                    }
                },
            };
            let masks = self.masks.get();
            if !Arc::ptr_eq(&masks, &self.gate_masks) {
                self.gate.set_ignore(&masks);
                self.gate_masks = masks.clone();
            }
            let gate = self.gate.update(&frame, moving);
            let mut undecidable = (!gate.ready).then(|| "the motion model has no background yet".to_string());
            let dets = if gate.run_detector {
                match self.pool.try_detect(&frame) {
                    Some(Ok(d)) => {
                        self.counters.detector_runs.fetch_add(1, Ordering::Relaxed);
                        Some(outside_masks(d, &masks))
                    }
                    Some(Err(e)) => {
                        self.counters.detector_errors.fetch_add(1, Ordering::Relaxed);
                        self.health.error(format!("detector: {e}"), self.clock.now());
                        undecidable = Some(format!("detector: {e}"));
                        None
                    }
                    None => {
                        self.counters.detector_skipped_busy.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                }
            } else {
                self.counters.motion_skipped.fetch_add(1, Ordering::Relaxed);
                None
            };
            if let Some(r) = rate.frame(self.clock.monotonic(), dets.is_some()) {
                self.counters.detection_rate_bits.store(r.to_bits(), Ordering::Relaxed);
            }
            let tracks = match &dets {
                Some(d) => trk.update(d, frame.pts),
                None => trk.hold(frame.pts),
            };
            moving = crate::clip::any_moving(&tracks);
            self.hooks.on_sight(&Sight { motion: gate.cells, undecidable });
            self.hooks.on_frame(&frame, &tracks, dets.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_centred_in_a_privacy_mask_are_dropped_before_tracking() {
        let det = |x: f32| Detection { bbox: BBox::new(x, 100.0, x + 40.0, 200.0), score: 0.9, class_id: 0 };
        let window = Polygon::new(vec![(0.0, 0.0), (100.0, 0.0), (100.0, 300.0), (0.0, 300.0)]);
        let kept = outside_masks(vec![det(10.0), det(70.0), det(300.0)], std::slice::from_ref(&window));
        // Centres at x = 30 (inside), 90 (inside), 320 (outside).
        assert_eq!(kept, vec![det(300.0)]);
        assert_eq!(outside_masks(vec![det(10.0)], &[]).len(), 1, "no mask, nothing dropped");
    }
}
