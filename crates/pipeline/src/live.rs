//! The live service: many cameras, one shared detector.
//!
//! Each camera has its own thread (source → decoder → motion gate → tracker → hooks); the
//! detector is a pool of sessions shared by all cameras. A camera offers a frame when its
//! analysis rate (`detect_fps`) calls for one, and the tracker predicts tracks on the frames in
//! between. The pool serves the most overdue camera first and holds one frame per camera at
//! most (a newer frame replaces a waiting one): an overloaded node degrades every camera's
//! detection rate evenly instead of building latency, and ingest never waits on the detector
//! for more than one inference. One camera failing (bad URL, corrupt stream) shows in its
//! health and nowhere else.

use crate::rate::{effective_detect_fps, Cadence, RateMeter};
use parking_lot::{Condvar, Mutex};
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
    /// Frames analysed per second at most (see [`crate::rate`]); must pass
    /// [`crate::rate::check_detect_fps`]. Above the stream's rate: every frame.
    pub detect_fps: f64,
}

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    pub motion: MotionConfig,
    /// Detector sessions (one thread each).
    pub detector_workers: usize,
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
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

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

type DetectResult = Result<Vec<Detection>, String>;

/// A camera's place at the pool: at most one frame, never a queue of stale ones.
enum Slot {
    Empty,
    /// Waiting for a session; `due` orders the cameras (earliest first).
    Waiting {
        frame: Arc<Frame>,
        due: Duration,
    },
    /// In a session now.
    Running,
    Done(DetectResult),
    /// The camera is gone.
    Closed,
}

struct PoolState {
    slots: Vec<Slot>,
    closed: bool,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// Sessions wait here for a frame.
    work: Condvar,
    /// Cameras wait here for a frame in a session.
    done: Condvar,
}

impl PoolShared {
    fn waiting(&self) -> usize {
        self.state.lock().slots.iter().filter(|s| matches!(s, Slot::Waiting { .. })).count()
    }

    fn cameras(&self) -> usize {
        self.state.lock().slots.iter().filter(|s| !matches!(s, Slot::Closed)).count()
    }

    /// The most overdue waiting frame, taken (its slot becomes `Running`); `None` once closed.
    fn next_job(&self) -> Option<(usize, Arc<Frame>)> {
        let mut st = self.state.lock();
        loop {
            if st.closed {
                return None;
            }
            let best = st
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match s {
                    Slot::Waiting { due, .. } => Some((*due, i)),
                    _ => None,
                })
                .min();
            if let Some((_, i)) = best {
                let Slot::Waiting { frame, .. } = std::mem::replace(&mut st.slots[i], Slot::Running) else {
                    unreachable!("chosen among waiting slots")
                };
                return Some((i, frame));
            }
            self.work.wait(&mut st);
        }
    }

    fn finish(&self, slot: usize, res: DetectResult) {
        let mut st = self.state.lock();
        if matches!(st.slots[slot], Slot::Running) {
            st.slots[slot] = Slot::Done(res);
        }
        drop(st);
        self.done.notify_all();
    }
}

/// Detector sessions shared by all cameras of a node, served fairly: each camera offers at most
/// one frame at a time (a newer one replaces it while it waits), and a free session takes the
/// frame of the camera whose detection has been due the longest. Under overload every camera's
/// detection rate falls by the same share, whatever its frame rate, instead of fast cameras
/// crowding slow ones out as first-come-first-served did.
pub struct DetectorPool {
    shared: Arc<PoolShared>,
    workers: Vec<JoinHandle<()>>,
    info: ModelInfo,
    stats: Arc<DetectorStats>,
}

/// What the pool reports for metrics, readable after the pool has stopped.
pub struct DetectorStats {
    /// Time of each detector run (preprocessing, inference and box decoding together).
    pub inference: vigie_core::Histogram,
    pub sessions: usize,
    shared: Arc<PoolShared>,
}

impl DetectorStats {
    /// Frames waiting for a free session now (at most one per camera).
    pub fn queued(&self) -> usize {
        self.shared.waiting()
    }

    /// Frames that can wait at once: one per camera.
    pub fn queue_capacity(&self) -> usize {
        self.shared.cameras()
    }
}

impl DetectorPool {
    pub fn new(cfg: &DetectorConfig, workers: usize) -> Result<Self, DetectError> {
        let cfg = DetectorConfig { threads: 1, ..cfg.clone() };
        let detectors = (0..workers.max(1)).map(|_| Detector::new(&cfg)).collect::<Result<Vec<_>, _>>()?;
        let info = detectors[0].info().clone();
        let detectors = detectors.into_iter().map(|d| Box::new(d) as Box<dyn FrameDetector>).collect();
        Ok(Self::with_detectors(detectors, info))
    }

    /// A pool over the given sessions (one thread each; at least one).
    pub fn with_detectors(detectors: Vec<Box<dyn FrameDetector>>, info: ModelInfo) -> Self {
        assert!(!detectors.is_empty(), "a detector pool needs at least one session");
        let shared = Arc::new(PoolShared {
            state: Mutex::new(PoolState { slots: Vec::new(), closed: false }),
            work: Condvar::new(),
            done: Condvar::new(),
        });
        let stats = Arc::new(DetectorStats {
            inference: vigie_core::Histogram::new(vigie_core::metrics::INFERENCE_BUCKETS),
            sessions: detectors.len(),
            shared: shared.clone(),
        });
        let workers = detectors
            .into_iter()
            .enumerate()
            .map(|(i, mut det)| {
                let shared = shared.clone();
                let stats = stats.clone();
                std::thread::Builder::new()
                    .name(format!("detector-{i}"))
                    .spawn(move || {
                        while let Some((slot, frame)) = shared.next_job() {
                            let t = std::time::Instant::now();
                            let res = det.detect_frame(&frame);
                            stats.inference.observe(t.elapsed());
                            shared.finish(slot, res);
                        }
                    })
                    .expect("spawn detector thread")
            })
            .collect();
        Self { shared, workers, info, stats }
    }

    pub fn stats(&self) -> &Arc<DetectorStats> {
        &self.stats
    }

    pub fn model(&self) -> &ModelInfo {
        &self.info
    }

    /// Frames waiting for a free session.
    pub fn queued(&self) -> usize {
        self.shared.waiting()
    }

    /// A camera's place at the pool.
    pub fn client(&self) -> DetectorClient {
        // Slots are never reused: a session may still be finishing a closed one's frame.
        let mut st = self.shared.state.lock();
        st.slots.push(Slot::Empty);
        let slot = st.slots.len() - 1;
        drop(st);
        DetectorClient { shared: self.shared.clone(), slot }
    }
}

impl Drop for DetectorPool {
    fn drop(&mut self) {
        self.shared.state.lock().closed = true;
        self.shared.work.notify_all();
        self.shared.done.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// What became of a frame offered to the pool.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Detected(Vec<Detection>),
    Failed(String),
    /// No session took it before it was settled: the pool was busy with more overdue cameras.
    NotServed,
}

/// One camera's side of the [`DetectorPool`].
pub struct DetectorClient {
    shared: Arc<PoolShared>,
    slot: usize,
}

impl DetectorClient {
    /// Offers `frame` to the pool, due since `due` (on the clock all cameras share: the
    /// earliest goes first); a frame of this camera still waiting is replaced, not queued.
    pub fn offer(&self, frame: Arc<Frame>, due: Duration) {
        let mut st = self.shared.state.lock();
        if st.closed {
            st.slots[self.slot] = Slot::Done(Err("the detector pool has stopped".into()));
            return;
        }
        st.slots[self.slot] = Slot::Waiting { frame, due };
        drop(st);
        self.shared.work.notify_one();
    }

    /// Waits up to `limit` for the offered frame to be detected; `false` if it is not yet (it
    /// stays offered). A frame no session takes at once is not waited for: the pool is busy
    /// with more overdue cameras, and the camera's next frame must not be late for it.
    pub fn wait_done(&self, limit: Duration) -> bool {
        let start = std::time::Instant::now();
        let (deadline, take_by) = (start + limit, start + limit.min(Duration::from_millis(2)));
        let mut st = self.shared.state.lock();
        loop {
            let until = match st.slots[self.slot] {
                Slot::Done(_) => return true,
                _ if st.closed => return false,
                Slot::Running => deadline,
                Slot::Waiting { .. } => take_by,
                _ => return false,
            };
            if std::time::Instant::now() >= until {
                return false;
            }
            let _ = self.shared.done.wait_until(&mut st, until);
        }
    }

    /// The offered frame's fate: withdrawn if still waiting, awaited if in a session now (one
    /// inference at most), or the result. `NotServed` when nothing was offered.
    pub fn settle(&self) -> Settled {
        let mut st = self.shared.state.lock();
        loop {
            match std::mem::replace(&mut st.slots[self.slot], Slot::Empty) {
                Slot::Running if !st.closed => {
                    st.slots[self.slot] = Slot::Running;
                    self.shared.done.wait(&mut st);
                }
                Slot::Done(Ok(d)) => return Settled::Detected(d),
                Slot::Done(Err(e)) => return Settled::Failed(e),
                Slot::Running => return Settled::Failed("the detector pool has stopped".into()),
                Slot::Empty | Slot::Waiting { .. } | Slot::Closed => return Settled::NotServed,
            }
        }
    }
}

impl Drop for DetectorClient {
    fn drop(&mut self) {
        self.shared.state.lock().slots[self.slot] = Slot::Closed;
    }
}

/// Counters beyond [`Health`] that the benchmark and the console show.
#[derive(Debug, Default)]
pub struct CameraCounters {
    pub frames: AtomicU64,
    pub detector_runs: AtomicU64,
    /// Frames offered to the detector that no session took before the camera's next frame (the
    /// pool was busy with more overdue cameras); their tracks are predicted.
    pub detector_skipped_busy: AtomicU64,
    /// Frames whose detection failed (the error is in the camera's health); their tracks are held.
    pub detector_errors: AtomicU64,
    pub motion_skipped: AtomicU64,
    /// Frames not offered because the camera's analysis rate (`detect_fps`) did not call for
    /// them; their tracks are predicted.
    pub rate_skipped: AtomicU64,
    /// Detector runs per second over the last [`RATE_WINDOW`] (`f64` bits): the rate achieved
    /// after rate, motion and overload skips.
    pub detection_rate_bits: AtomicU64,
    /// The rate asked for (`detect_fps`, clamped to the stream's rate once known; `f64` bits).
    pub detect_fps_target_bits: AtomicU64,
}

/// Window of the achieved detection rate shown in health and metrics.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

impl CameraCounters {
    pub fn detection_rate(&self) -> f64 {
        f64::from_bits(self.detection_rate_bits.load(Ordering::Relaxed))
    }

    pub fn detect_fps_target(&self) -> f64 {
        f64::from_bits(self.detect_fps_target_bits.load(Ordering::Relaxed))
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
        let pool = DetectorPool::new(&opts.detector, opts.detector_workers)?;
        Ok(Self::start_with_pool(opts, pool, cameras, runtime, clock))
    }

    /// As [`LivePipeline::start`], over a pool built by the caller (`opts.detector` and
    /// `detector_workers` are then the pool's business).
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
            counters.detect_fps_target_bits.store(spec.detect_fps.to_bits(), Ordering::Relaxed);
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
                detector: pool.client(),
                detect_fps: spec.detect_fps,
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
    detector: DetectorClient,
    detect_fps: f64,
    masks: vigie_core::LiveMasks,
    /// The set the motion gate ignores now.
    gate_masks: Arc<Vec<Polygon>>,
    gate: MotionGate,
    tracker_cfg: TrackerConfig,
    health: Health,
    counters: Arc<CameraCounters>,
    clock: Arc<dyn Clock>,
}

/// A frame offered to the detector, kept back from the tracker until the camera's next frame
/// arrives (or the stream ends): by then a session has detected it, is detecting it, or has not
/// taken it, and the newer frame is offered in its place. Frames thus reach the tracker in
/// order, each with its own detections, and a camera never blocks on the pool for longer than
/// one inference already started.
struct Offered {
    frame: Arc<Frame>,
    /// When it arrived (shared monotonic clock).
    arrived: Duration,
    masks: Arc<Vec<Polygon>>,
    motion: Vec<BBox>,
    undecidable: Option<String>,
}

/// What the tracker does with a frame.
enum Outcome {
    Detected(Vec<Detection>),
    /// The detector failed: tracks held, pictures pixelated whole.
    Failed(String),
    /// Not detected because of the analysis rate or a busy pool: tracks predicted.
    Predicted,
    /// Nothing moved: tracks held as they are.
    Still,
}

/// A camera's per-session state: decoder, tracker, analysis rate and the frame at the pool.
struct Session {
    decoder: Option<H264Decoder>,
    tracker: Option<ByteTracker>,
    cadence: Cadence,
    offered: Option<Offered>,
    /// When this camera's detection fell due (shared monotonic clock): its place at the pool.
    due_since: Option<Duration>,
    /// When the next detection should happen by the last one (a period after it): a camera
    /// whose frames come rarely is as overdue as a fast one, not only from its next frame on.
    next_due: Option<Duration>,
    moving: bool,
    /// Stream rate the target was last worked out for.
    stream_fps: Option<f64>,
}

impl CameraWorker {
    fn new_session(&self) -> Session {
        Session {
            decoder: None,
            tracker: None,
            cadence: Cadence::new(self.detect_fps),
            offered: None,
            due_since: None,
            next_due: None,
            moving: false,
            stream_fps: None,
        }
    }

    fn run(mut self) {
        let mut session = 0;
        let mut s = self.new_session();
        let mut meter = RateMeter::new(RATE_WINDOW);
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
                self.settle_offered(&mut s, &mut meter);
                s = self.new_session();
            }
            let Some(info) = self.feed.info().cloned() else { continue };
            self.hooks.on_packet(&pkt, &info);
            if s.stream_fps != info.fps {
                s.stream_fps = info.fps;
                let (target, clamped) = effective_detect_fps(self.detect_fps, info.fps);
                if clamped {
                    tracing::warn!(
                        camera = %self.id,
                        "cameras.{}.detect_fps = {} is above the stream's {:.2} fps: every frame is analysed",
                        self.id,
                        self.detect_fps,
                        target
                    );
                }
                s.cadence = Cadence::new(target);
                self.counters.detect_fps_target_bits.store(target.to_bits(), Ordering::Relaxed);
            }
            let dec = match &mut s.decoder {
                Some(d) => d,
                None => match H264Decoder::new(&self.id) {
                    Ok(d) => s.decoder.insert(d),
                    Err(e) => {
                        self.health.error(e.to_string(), self.clock.now());
                        break;
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
            if s.tracker.is_none() {
                match ByteTracker::new(self.tracker_cfg.clone(), info.fps) {
                    Ok(t) => s.tracker = Some(t),
                    Err(e) => {
                        self.health.error(format!("tracker: {e}"), self.clock.now());
                        break;
                    }
                }
            }
            // The previous frame first: the gate needs to know whether its tracks move.
            self.settle_offered(&mut s, &mut meter);
            let masks = self.masks.get();
            if !Arc::ptr_eq(&masks, &self.gate_masks) {
                self.gate.set_ignore(&masks);
                self.gate_masks = masks.clone();
            }
            let gate = self.gate.update(&frame, s.moving);
            let undecidable = (!gate.ready).then(|| "the motion model has no background yet".to_string());
            let now = self.clock.monotonic();
            if !gate.run_detector {
                self.counters.motion_skipped.fetch_add(1, Ordering::Relaxed);
                meter.tick(now, false);
                self.finish(&mut s, &frame, gate.cells, undecidable, Outcome::Still);
            } else if !s.cadence.is_due(frame.pts) {
                self.counters.rate_skipped.fetch_add(1, Ordering::Relaxed);
                meter.tick(now, false);
                self.finish(&mut s, &frame, gate.cells, undecidable, Outcome::Predicted);
            } else {
                let due = *s.due_since.get_or_insert(s.next_due.map_or(now, |d| d.min(now)));
                self.detector.offer(frame.clone(), due);
                s.offered = Some(Offered { frame, arrived: now, masks, motion: gate.cells, undecidable });
                // The next frame is not due for a while: a detection done by half-way through is
                // used at once rather than a frame later (alerts come sooner).
                let interval = info.fps.filter(|f| *f > 0.0).map_or(0.04, |f| 1.0 / f);
                if self.detector.wait_done(Duration::from_secs_f64((interval / 2.0).min(0.05))) {
                    self.settle_offered(&mut s, &mut meter);
                }
            }
            self.counters.detection_rate_bits.store(meter.rate(now).to_bits(), Ordering::Relaxed);
        }
        self.settle_offered(&mut s, &mut meter);
    }

    /// Hands the frame at the pool, if any, to the tracker with what became of it.
    fn settle_offered(&mut self, s: &mut Session, meter: &mut RateMeter) {
        let Some(o) = s.offered.take() else { return };
        let now = self.clock.monotonic();
        let outcome = match self.detector.settle() {
            Settled::Detected(d) => {
                self.counters.detector_runs.fetch_add(1, Ordering::Relaxed);
                s.cadence.ran(o.frame.pts);
                s.due_since = None;
                s.next_due = Some(o.arrived + s.cadence.period());
                meter.tick(now, true);
                Outcome::Detected(outside_masks(d, &o.masks))
            }
            Settled::Failed(e) => {
                self.counters.detector_errors.fetch_add(1, Ordering::Relaxed);
                self.health.error(format!("detector: {e}"), self.clock.now());
                // A failing detector is not retried on every frame: the next try is a period on.
                s.cadence.ran(o.frame.pts);
                s.due_since = None;
                meter.tick(now, false);
                Outcome::Failed(format!("detector: {e}"))
            }
            Settled::NotServed => {
                // Still due: the next frame goes to the pool in its place, as overdue as before.
                self.counters.detector_skipped_busy.fetch_add(1, Ordering::Relaxed);
                meter.tick(now, false);
                Outcome::Predicted
            }
        };
        self.finish(s, &o.frame, o.motion, o.undecidable, outcome);
    }

    fn finish(
        &mut self,
        s: &mut Session,
        frame: &Arc<Frame>,
        motion: Vec<BBox>,
        mut undecidable: Option<String>,
        outcome: Outcome,
    ) {
        let Some(trk) = s.tracker.as_mut() else { return };
        let (tracks, dets) = match outcome {
            Outcome::Detected(d) => (trk.update(&d, frame.pts), Some(d)),
            Outcome::Failed(e) => {
                undecidable = Some(e);
                (trk.hold(frame.pts), None)
            }
            Outcome::Predicted => (trk.predict(frame.pts), None),
            Outcome::Still => (trk.hold(frame.pts), None),
        };
        s.moving = crate::clip::any_moving(&tracks);
        self.hooks.on_sight(&Sight { motion, undecidable });
        self.hooks.on_frame(frame, &tracks, dets.as_deref());
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
