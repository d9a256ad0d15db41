//! The seam between footage retention and the track index.
//!
//! Retention owns the schedule and the audit entry of every deletion, but the tracks live in
//! the search index, which knows nothing of footage. Footage holds the index only as this
//! trait, and the search crate implements it, so neither crate depends on the other.

/// Why the index could not delete; retention lists it in its report and goes on.
pub type PurgeError = Box<dyn std::error::Error + Send + Sync>;

/// Deletes what is past its retention limit from wherever tracks are indexed.
pub trait TrackPurge: Send + Sync {
    /// Drops the thumbnails of tracks that started before `cutoff_ms` (Unix ms), keeping the
    /// tracks; returns how many were dropped. Thumbnails follow the snapshot limit.
    fn purge_thumbnails_before(&self, cutoff_ms: crate::UnixMs) -> Result<u64, PurgeError>;
    /// Deletes the tracks that started before `cutoff_ms`; returns how many.
    fn purge_tracks_before(&self, cutoff_ms: crate::UnixMs) -> Result<u64, PurgeError>;
}
