//! The camera boundary. Everything upstream of the decoder is a [`VideoSource`]: a file standing
//! in for a camera ([`Mp4FileSource`]) or a live RTSP camera. Reconnection policy ([`Backoff`])
//! and the per-camera [`Health`] record live here too, so a runner can treat every camera alike.

mod backoff;
mod health;
mod mp4file;
mod rtsp;
mod runner;

pub use backoff::Backoff;
pub use health::{CameraState, Health, HealthSnapshot, LinkStats, LinkTransport};
pub use mp4file::{Mp4FileSource, Mp4Options, Pacing};
pub use rtsp::{check_camera_url, RtspCredentials, RtspOptions, RtspSource, RtspTransport, TransportMemory};
pub use runner::{CameraFeed, SourceFactory};

use vigie_core::{Packet, StreamInfo};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not be opened at all (missing file, refused connection, bad URL...).
    #[error("{source_name}: cannot open: {reason}")]
    Open { source_name: String, reason: String },
    /// The stream is not something the decoder can take.
    #[error("{source_name}: unsupported stream: {reason}")]
    Unsupported { source_name: String, reason: String },
    /// Damaged data at a known position; the next packet may still be good.
    #[error("{source_name}: corrupt data at {position}: {reason}")]
    Corrupt { source_name: String, position: String, reason: String },
    /// A live connection dropped or timed out; the runner reconnects.
    #[error("{source_name}: connection lost: {reason}")]
    Disconnected { source_name: String, reason: String },
}

impl SourceError {
    /// Whether reopening the source later can help (network trouble) or not (bad file, codec).
    pub fn is_retryable(&self) -> bool {
        matches!(self, SourceError::Disconnected { .. } | SourceError::Open { .. })
    }
}

/// A stream of encoded video packets from one camera.
pub trait VideoSource: Send {
    /// Stream parameters known after opening.
    fn info(&self) -> &StreamInfo;

    /// The next access unit, in decode order. `Ok(None)` means the stream ended normally
    /// (a file without looping). Blocks while a live camera has nothing new.
    fn next_packet(&mut self) -> Result<Option<Packet>, SourceError>;

    /// A printable name of where the stream comes from, never containing credentials.
    fn describe(&self) -> String;

    /// How a network source receives its packets, and what it lost on the way; `None` for
    /// files.
    fn link(&self) -> Option<LinkStats> {
        None
    }
}

impl VideoSource for Box<dyn VideoSource> {
    fn info(&self) -> &StreamInfo {
        (**self).info()
    }
    fn next_packet(&mut self) -> Result<Option<Packet>, SourceError> {
        (**self).next_packet()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn link(&self) -> Option<LinkStats> {
        (**self).link()
    }
}

/// Converts AVCC (length-prefixed) NAL units to Annex B (start codes), prepending parameter
/// sets when asked. Returns an error message if a length runs past the end of the sample.
pub fn avcc_to_annexb(sample: &[u8], length_size: usize, prefix: &[&[u8]], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    for ps in prefix {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(ps);
    }
    let mut i = 0;
    while i < sample.len() {
        if i + length_size > sample.len() {
            return Err(format!("NAL length field cut at offset {i}"));
        }
        let mut n = 0usize;
        for b in &sample[i..i + length_size] {
            n = (n << 8) | *b as usize;
        }
        i += length_size;
        if n == 0 || i + n > sample.len() {
            return Err(format!("NAL unit of {n} bytes at offset {i} overruns the {}-byte sample", sample.len()));
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&sample[i..i + n]);
        i += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb_conversion() {
        let sample = [0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 1, 0x41];
        let mut out = Vec::new();
        avcc_to_annexb(&sample, 4, &[&[0x67, 1]], &mut out).unwrap();
        assert_eq!(out, vec![0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x65, 0xAA, 0, 0, 0, 1, 0x41]);
        let bad = [0, 0, 0, 9, 0x65];
        assert!(avcc_to_annexb(&bad, 4, &[], &mut out).unwrap_err().contains("overruns"));
    }
}
