//! Offline analysis of one stream with a fixed CPU thread budget.
//!
//! `threads` workers each own a single-threaded ONNX Runtime session. A worker takes the
//! decoder lock, decodes the next frame and runs the motion gate (both strictly in order), lets
//! go of the lock, runs the detector, then hands the result to the in-order stage (tracker and
//! the caller's sink), which whichever worker holds the next frame in sequence drains. So
//! decoding overlaps inference without an extra thread, two 1-thread sessions give more frames
//! per second than one 2-thread session on this kind of model, and the tracker still sees
//! frames strictly in order.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vigie_core::{BBox, Detection, Frame, TrackedObject};
use vigie_decode::H264Decoder;
use vigie_detect::{Detector, DetectorConfig, ModelInfo};
use vigie_motion::{MotionConfig, MotionGate};
use vigie_source::VideoSource;
use vigie_track::{ByteTracker, TrackerConfig};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] vigie_source::SourceError),
    #[error(transparent)]
    Decode(#[from] vigie_decode::DecodeError),
    #[error(transparent)]
    Detect(#[from] vigie_detect::DetectError),
    #[error("{0}")]
    Config(String),
}

#[derive(Debug, Clone)]
pub struct ClipOptions {
    /// CPU threads for the whole pipeline (decode and inference included).
    pub threads: usize,
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    pub motion: MotionConfig,
    /// Frames analysed per second of stream time (as a live camera's `detect_fps`; tracks are
    /// predicted between); `None`: every frame the motion gate lets through.
    pub detect_fps: Option<f64>,
}

/// What the in-order stage hands to the caller for each decoded frame.
pub struct FrameResult<'a> {
    pub frame: &'a Frame,
    /// Raw detections, when the detector ran on this frame.
    pub detections: Option<&'a [Detection]>,
    pub tracks: &'a [TrackedObject],
    /// Moving regions of the motion model (computed even when it does not gate the detector).
    pub motion: &'a [BBox],
    /// Whether the motion model had a background to compare with (not on the first frame nor
    /// a lighting change): without it, pictures of the frame are pixelated whole.
    pub motion_ready: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ClipStats {
    pub frames: u64,
    pub detector_runs: u64,
    pub decode_errors: u64,
    pub source_errors: u64,
    pub wall: Duration,
    pub pre: Duration,
    pub infer: Duration,
    pub post: Duration,
    pub decode: Duration,
    pub track: Duration,
    pub model: Option<ModelInfo>,
    /// Error messages met along the way (corrupt data), in order.
    pub warnings: Vec<String>,
}

impl ClipStats {
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

struct DecodeStage<S> {
    source: S,
    decoder: H264Decoder,
    gate: MotionGate,
    cadence: Option<crate::rate::Cadence>,
    next_index: u64,
    done: bool,
}

struct Job {
    index: u64,
    frame: Frame,
    run_detector: bool,
    /// Skipped for the analysis rate: tracks are predicted rather than held.
    rate_skip: bool,
    motion: (Vec<BBox>, bool),
}

type Pending = (Frame, Option<Vec<Detection>>, bool, (Vec<BBox>, bool));

struct OrderStage<F> {
    pending: BTreeMap<u64, Pending>,
    next: u64,
    tracker: ByteTracker,
    sink: F,
}

/// Runs the pipeline over `source` until it ends, calling `sink` once per decoded frame, in
/// decode order.
pub fn analyze<S, F>(source: S, opts: &ClipOptions, sink: F) -> Result<ClipStats, PipelineError>
where
    S: VideoSource,
    F: FnMut(FrameResult<'_>) + Send,
{
    let threads = opts.threads.max(1);
    opts.tracker.validate().map_err(|e| PipelineError::Config(e.within("tracker").to_string()))?;
    opts.motion.validate().map_err(|e| PipelineError::Config(e.within("motion").to_string()))?;
    let det_cfg = DetectorConfig { threads: 1, ..opts.detector.clone() };
    // Sessions are built before the clock starts: loading the model is not analysis time.
    let detectors = (0..threads).map(|_| Detector::new(&det_cfg)).collect::<Result<Vec<_>, _>>()?;
    let model = detectors[0].info().clone();
    let fps = source.info().fps;
    let camera = source.describe();
    let cadence = match opts.detect_fps {
        Some(v) => {
            crate::rate::check_detect_fps(v).map_err(|e| PipelineError::Config(format!("detect_fps: {e}")))?;
            let (target, clamped) = crate::rate::effective_detect_fps(v, fps);
            if clamped {
                tracing::warn!(
                    "{camera}: detect_fps {v} is above the stream's {target:.2} fps: every frame is analysed"
                );
            }
            Some(crate::rate::Cadence::new(target))
        }
        None => None,
    };
    let tracker = ByteTracker::new(opts.tracker.clone(), fps)
        .map_err(|e| PipelineError::Config(e.within("tracker").to_string()))?;

    let decode = Mutex::new(DecodeStage {
        source,
        decoder: H264Decoder::new(&camera)?,
        gate: MotionGate::new(opts.motion.clone()),
        cadence,
        next_index: 0,
        done: false,
    });
    let order = Mutex::new(OrderStage { pending: BTreeMap::new(), next: 0, tracker, sink });
    let stats = Mutex::new(ClipStats { model: Some(model), ..Default::default() });
    let tracks_moving = AtomicBool::new(false);
    let failed: Mutex<Option<PipelineError>> = Mutex::new(None);

    let start = Instant::now();
    std::thread::scope(|s| {
        for mut det in detectors {
            let (decode, order, stats, tracks_moving, failed) = (&decode, &order, &stats, &tracks_moving, &failed);
            s.spawn(move || loop {
                if failed.lock().is_some() {
                    return;
                }
                let job = match next_job(decode, stats, tracks_moving) {
                    Ok(Some(j)) => j,
                    Ok(None) => return,
                    Err(e) => {
                        failed.lock().get_or_insert(e);
                        return;
                    }
                };
                let dets = if job.run_detector {
                    match det.detect(&job.frame) {
                        Ok(d) => {
                            let mut st = stats.lock();
                            st.pre += det.last.pre;
                            st.infer += det.last.infer;
                            st.post += det.last.post;
                            st.detector_runs += 1;
                            Some(d)
                        }
                        Err(e) => {
                            failed.lock().get_or_insert(e.into());
                            return;
                        }
                    }
                } else {
                    None
                };
                drain_in_order(order, stats, tracks_moving, job.index, (job.frame, dets, job.rate_skip, job.motion));
            });
        }
    });
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    let mut stats = stats.into_inner();
    stats.wall = start.elapsed();
    Ok(stats)
}

fn next_job<S: VideoSource>(
    decode: &Mutex<DecodeStage<S>>,
    stats: &Mutex<ClipStats>,
    tracks_moving: &AtomicBool,
) -> Result<Option<Job>, PipelineError> {
    let mut d = decode.lock();
    loop {
        if d.done {
            return Ok(None);
        }
        let pkt = match d.source.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => {
                d.done = true;
                return Ok(None);
            }
            Err(e) if matches!(e, vigie_source::SourceError::Corrupt { .. }) => {
                let mut st = stats.lock();
                st.source_errors += 1;
                st.warnings.push(e.to_string());
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let t0 = Instant::now();
        let res = d.decoder.decode(&pkt);
        stats.lock().decode += t0.elapsed();
        match res {
            Ok(Some(frame)) => {
                let gate = d.gate.update(&frame, tracks_moving.load(Ordering::Relaxed));
                let index = d.next_index;
                d.next_index += 1;
                let motion = (gate.cells, gate.ready);
                let mut run_detector = gate.run_detector;
                let mut rate_skip = false;
                if let (true, Some(c)) = (run_detector, d.cadence.as_mut()) {
                    if c.is_due(frame.pts) {
                        // Offline, every frame offered is detected: the grid moves on at once.
                        c.ran(frame.pts);
                    } else {
                        run_detector = false;
                        rate_skip = true;
                    }
                }
                return Ok(Some(Job { index, frame, run_detector, rate_skip, motion }));
            }
            Ok(None) => continue,
            Err(e) => {
                let mut st = stats.lock();
                st.decode_errors += 1;
                st.warnings.push(e.to_string());
            }
        }
    }
}

fn drain_in_order<F: FnMut(FrameResult<'_>)>(
    order: &Mutex<OrderStage<F>>,
    stats: &Mutex<ClipStats>,
    tracks_moving: &AtomicBool,
    index: u64,
    job: Pending,
) {
    let mut o = order.lock();
    o.pending.insert(index, job);
    loop {
        let next = o.next;
        let Some((frame, dets, rate_skip, (motion, motion_ready))) = o.pending.remove(&next) else { break };
        o.next += 1;
        let t0 = Instant::now();
        let tracks = match &dets {
            Some(d) => o.tracker.update(d, frame.pts),
            None if rate_skip => o.tracker.predict(frame.pts),
            None => o.tracker.hold(frame.pts),
        };
        let dt = t0.elapsed();
        tracks_moving.store(any_moving(&tracks), Ordering::Relaxed);
        (o.sink)(FrameResult {
            frame: &frame,
            detections: dets.as_deref(),
            tracks: &tracks,
            motion: &motion,
            motion_ready,
        });
        let mut st = stats.lock();
        st.frames += 1;
        st.track += dt;
    }
}

/// Whether any track moves faster than ~half its box width per second: walking people and
/// driving cars, not the jitter of a parked one.
pub fn any_moving(tracks: &[TrackedObject]) -> bool {
    tracks.iter().any(|t| {
        let speed = (t.velocity.0 * t.velocity.0 + t.velocity.1 * t.velocity.1).sqrt();
        speed > 0.5 * t.bbox.width().max(4.0)
    })
}
