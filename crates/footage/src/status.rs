//! What each camera's recorder reports. Kept apart from the recorder so the archive, which
//! collects these for the status page, does not depend on the recorder that depends on it.

use serde::Serialize;
use vigie_core::UnixMs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecorderState {
    /// Started, or after a gap: waiting for a key frame to begin a segment.
    WaitingForKeyFrame,
    Recording,
    /// A write failed (disk full...); retried after `recording_retry_s`.
    Stopped,
}

/// What operators see for each camera's recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecorderStatus {
    pub camera: String,
    pub recording: bool,
    pub state: RecorderState,
    pub last_error: Option<String>,
    /// When the current error state began.
    pub error_since_ms: Option<UnixMs>,
    pub segments_written: u64,
    pub bytes_written: u64,
    pub last_segment_end_ms: Option<UnixMs>,
    /// Packets not recorded (before the first key frame, or while stopped).
    pub packets_dropped: u64,
    pub write_errors: u64,
}
