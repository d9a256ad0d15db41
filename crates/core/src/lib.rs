//! Types every stage of the pipeline shares.
//!
//! Data flow: camera → [`Packet`] → decoder → [`Frame`] → motion gate → detector → [`Detection`]
//! → tracker → [`TrackedObject`] → rules → events. Each stage lives in its own crate and only
//! talks to its neighbours through these types.

pub mod audit;
pub mod classes;
pub mod clock;
pub mod config;
pub mod event;
pub mod frame;
pub mod geom;
pub mod masks;
pub mod metrics;
pub mod purge;
pub mod rng;
pub mod shutdown;
pub mod stop;
pub mod time;

pub use audit::{AuditAction, AuditError, PublishError};
pub use classes::ClassMap;
pub use clock::{Clock, SimClock, SystemClock};
pub use config::{ConfigError, ConfigErrors};
pub use event::{Event, EventPhase, EventType, PeakMeasure, RuleMode};
pub use frame::{Frame, Packet, StreamInfo, VideoCodec};
pub use geom::{BBox, Polygon};
pub use masks::LiveMasks;
pub use metrics::{Histogram, HistogramSnapshot};
pub use purge::{PurgeError, TrackPurge};
pub use stop::{CancelOnDrop, StopToken, Stopped};
pub use time::{InstantParseError, UnixMs};

use serde::{Deserialize, Serialize};

/// A camera's stable identifier, as named in the configuration.
pub type CameraId = std::sync::Arc<str>;

/// One object found by the detector in one frame, in full-frame pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    pub class_id: u16,
}

/// One tracked object as the tracker reports it for a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackedObject {
    /// Track id, unique per camera for the lifetime of the process.
    pub track_id: u64,
    pub bbox: BBox,
    /// Score of the detection that last updated the track.
    pub score: f32,
    pub class_id: u16,
    /// Frames since the track was born (1 on its first frame).
    pub age: u32,
    /// Frames since the track was last matched to a detection (0 when matched in this frame).
    pub frames_since_update: u32,
    /// Velocity of the box centre in pixels per second, from the motion model.
    pub velocity: (f32, f32),
}

/// Where every view, search, export, unmask, config change and alert action is written.
/// Implemented by the store (hash-chained, append-only); stages that must account for access
/// take an `Arc<dyn AuditSink>` so they never depend on the store itself.
pub trait AuditSink: Send + Sync {
    /// `actor`: user name or `"system"`; `target`: what was touched (camera, alert id, file);
    /// `details`: JSON text.
    fn record(&self, actor: &str, action: AuditAction, target: &str, details: &str) -> Result<(), AuditError>;
}

/// An audit sink that writes nothing: for a caller whose access is audited one layer up (the
/// server audits every search itself) and for benchmarks.
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _: &str, _: AuditAction, _: &str, _: &str) -> Result<(), AuditError> {
        Ok(())
    }
}

/// Where events leave an analysis node: in-process to the console today, a message broker
/// (NATS JetStream) at city scale. The pipeline only ever sees this trait.
pub trait EventSink: Send + Sync {
    fn publish(&self, event: &Event) -> Result<(), PublishError>;
}
