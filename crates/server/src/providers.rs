//! What the server needs from the rest of Vigie, as small traits the binary implements from the
//! pipeline, the archive and the configuration. All are called from blocking threads
//! (`spawn_blocking`), so implementations may take locks or read files.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneInfo {
    pub name: String,
    /// Pixel coordinates in the camera's full frame.
    pub polygon: Vec<(f32, f32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraStatus {
    pub id: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub health: CameraHealth,
    pub zones: Vec<ZoneInfo>,
}

/// A camera's health as the wall shows it: the three fields the console reads, and whatever else
/// the pipeline reports (state, counters, stage figures) next to them in the same object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraHealth {
    pub connected: bool,
    /// Frames per second lately.
    pub fps: f64,
    pub last_error: Option<String>,
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl CameraHealth {
    /// Takes the console's fields out of a free-form report; the rest stays in `details`, so the
    /// JSON is the report's own.
    pub fn from_report(mut report: serde_json::Map<String, serde_json::Value>) -> CameraHealth {
        let connected = report.remove("connected").and_then(|v| v.as_bool()).unwrap_or(false);
        let fps = report.remove("fps").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let last_error = report.remove("last_error").and_then(|v| v.as_str().map(str::to_string));
        CameraHealth { connected, fps, last_error, details: report }
    }
}

/// The camera wall.
pub trait LiveView: Send + Sync {
    fn cameras(&self) -> Vec<CameraStatus>;
    /// The latest low-rate picture of a camera as JPEG, people already blurred and zones and
    /// current tracks drawn. There is deliberately no unblurred variant: unmasking applies to one
    /// alert's evidence, never to live video. `None` for an unknown camera or before a first frame.
    fn jpeg(&self, camera: &str) -> Option<Vec<u8>>;
}

/// Footage around an event.
#[derive(Debug, Clone)]
pub enum Clip {
    /// A playable file (`video/mp4` from the archive's export).
    Video { content_type: String, bytes: Vec<u8> },
    /// Pictures from a rolling pre-event buffer, served as MJPEG paced at `fps`.
    Frames { fps: f32, jpegs: Vec<Vec<u8>> },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClipError {
    /// Nothing recorded for that camera and time (retention, camera down, archive disabled).
    #[error("{0}")]
    NotAvailable(String),
    #[error("{0}")]
    Failed(String),
    /// The export was stopped ([`ClipRequest::stop`]): client gone or time budget spent.
    #[error("{0}")]
    Stopped(vigie_core::Stopped),
}

/// What footage is asked for, by whom and, when unblurred, why.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRequest<'a> {
    pub camera: &'a str,
    pub from_ms: vigie_core::UnixMs,
    pub to_ms: vigie_core::UnixMs,
    /// False only for a supervisor: under an alert's unmask grant, or with a stated reason.
    pub blurred: bool,
    /// The user, for the export's audit entry.
    pub actor: &'a str,
    /// Why the footage is unblurred (the grant's or the export's reason).
    pub reason: Option<&'a str>,
    /// Cancelled when the client goes away; carries the export's time budget. Long work polls it.
    pub stop: &'a vigie_core::StopToken,
    /// The camera's own resolution wanted (evidence review, export): the archive first, the
    /// reduced rolling buffer only for what the archive does not hold yet.
    pub full_resolution: bool,
}

pub trait ClipProvider: Send + Sync {
    /// Footage of a camera between two Unix-millisecond instants.
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError>;
}

/// Query of the track index (`GET /api/search`): the search crate's own parameters, so the
/// server and the index cannot drift apart. `from`/`to` reach the provider as RFC 3339 (the API
/// also accepts dates and Unix ms and converts them).
pub use vigie_search::SearchParams;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchFailure {
    /// The query is at fault (400): unknown camera, unparsable time or text...
    #[error("{0}")]
    BadQuery(String),
    /// The index is at fault (500).
    #[error("{0}")]
    Failed(String),
}

pub trait SearchProvider: Send + Sync {
    /// The track index's answer. The server audits the search itself (who, query, result
    /// count): call the index's search without its own audit, or the trail gets two entries
    /// per search.
    fn search(&self, actor: &str, params: &SearchParams) -> Result<vigie_search::SearchResult, SearchFailure>;
    /// A blurred JPEG thumbnail by the `id` of a search hit.
    fn thumbnail(&self, id: &str) -> Option<Vec<u8>>;
}

/// Cameras, zones and rules as the admin page edits them.
pub trait ConfigAdmin: Send + Sync {
    fn current(&self) -> serde_json::Value;
    /// Validates and applies a new configuration; returns it as now in force, or every error
    /// naming its key.
    fn apply(&self, actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<vigie_core::ConfigError>>;

    /// As [`ConfigAdmin::apply`], with each zone's points also checked against its camera's
    /// picture (`pictures`: camera id, width × height of the running stream, where known), so
    /// a zone the camera cannot hold is refused rather than reported applied and left unused.
    fn apply_checked(
        &self,
        actor: &str,
        new: serde_json::Value,
        pictures: &[(String, (u32, u32))],
    ) -> Result<serde_json::Value, Vec<vigie_core::ConfigError>> {
        let _ = pictures;
        self.apply(actor, new)
    }

    /// A camera's privacy masks in force and their version.
    fn privacy_masks(&self, camera: &str) -> Result<vigie_store::MaskSet, MaskEditError> {
        Err(MaskEditError::NotEditable(format!("privacy masks of camera '{camera}' are not editable on this node")))
    }

    /// Checks `masks` against the camera's picture (`width` × `height`), applies them to the
    /// running camera (every picture and the analysis use them from the next frame), writes them
    /// into the config file and records the new version with its audit entry. Nothing changes
    /// when any mask is refused; each error names its key (`privacy_masks[1].polygon[3]`).
    /// `base_version`: the version the edit started from; refused as stale if it moved since.
    fn set_privacy_masks(
        &self,
        actor: &str,
        camera: &str,
        masks: Vec<vigie_store::PrivacyMask>,
        picture: (u32, u32),
        base_version: Option<u64>,
    ) -> Result<vigie_store::MaskSet, MaskEditError> {
        let _ = (actor, masks, picture, base_version);
        Err(MaskEditError::NotEditable(format!("privacy masks of camera '{camera}' are not editable on this node")))
    }
}

/// Why privacy masks were not changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MaskEditError {
    #[error("{0}")]
    UnknownCamera(String),
    /// Every mistake, each under its key.
    #[error("privacy masks refused: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<vigie_core::ConfigError>),
    #[error("{0}")]
    NotEditable(String),
    /// Changed by someone else since the edit started.
    #[error("{0}")]
    Stale(String),
    /// Valid, but could not be saved or recorded.
    #[error("{0}")]
    Failed(String),
}

/// For a node without a camera wall.
pub struct NoLive;

impl LiveView for NoLive {
    fn cameras(&self) -> Vec<CameraStatus> {
        Vec::new()
    }
    fn jpeg(&self, _camera: &str) -> Option<Vec<u8>> {
        None
    }
}

/// For a node without archive or pre-event buffer.
pub struct NoClips;

impl ClipProvider for NoClips {
    fn clip(&self, _req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        Err(ClipError::NotAvailable("no footage is kept on this node".into()))
    }
}
