//! Where a frame becomes a track.
//!
//! ```text
//! VideoSource ──Packet──▶ H264Decoder ──Frame──▶ MotionGate ──▶ Detector ──Detection──▶ ByteTracker ──TrackedObject──▶ sink
//! ```
//!
//! [`clip`] runs that chain over one stream as fast as the CPU allows (analysis, evaluation,
//! benchmarks), with a fixed thread budget shared by decoding and inference.

pub mod clip;
pub mod live;
pub mod rate;

pub use clip::{analyze, ClipOptions, ClipStats, FrameResult, PipelineError};
pub use live::{
    outside_masks, CameraCounters, CameraHooks, CameraSpec, DetectorClient, DetectorPool, DetectorStats, FrameDetector,
    LiveOptions, LivePipeline, Settled, Sight, RATE_WINDOW,
};
pub use rate::{check_detect_fps, effective_detect_fps, Cadence, RateMeter, DEFAULT_DETECT_FPS};
