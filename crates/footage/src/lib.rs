//! Footage archive: fragmented-MP4 segments, retention with proof of deletion, track index and search.
//!
//! The after-the-fact side of Vigie:
//! - [`Recorder`] writes each camera's H.264, as received, into one-minute fragmented-MP4
//!   segments indexed in `<data>/archive.db`, crash-safe (write, fsync, rename, then index;
//!   [`Archive::reconcile`] at startup fixes both directions), with storage limits that evict
//!   the oldest footage first and say so.
//! - [`Archive::export`] turns any time range into one MP4, blurred unless a supervisor gives
//!   a reason; every export is audited with its SHA-256.
//! - [`Archive::retention_pass`] deletes what is past the retention limit (30 days at most)
//!   and audits the list of segment hashes; [`run_retention`] is `vigie retention`.
//! - [`TrackSummarizer`] turns tracker output into one [`TrackRecord`] per finished track
//!   (never anything biometric), [`TrackIndex`] stores them in `<data>/tracks.db` and searches
//!   them by time, camera, zone, class, colour, direction, dwell and events, from typed filters
//!   or a text query ([`parse_text_query`]). Every search is audited.
//!
//! Storage sits behind [`SegmentStore`] (local disk here) and SQLite files, so a city-scale
//! deployment can swap in object storage and PostgreSQL without touching the pipeline.

mod archive;
pub mod bench;
mod catalog;
pub mod colour;
mod config;
mod db;
mod export;
pub mod fmp4;
mod index;
mod query;
mod reconcile;
mod recorder;
mod retention;
mod store;
mod summarize;
mod text;

pub use archive::{
    parse_segment_key, rfc3339, segment_key, Archive, ArchiveError, DeletedSegment, EvictionReport, StorageStatus,
};
pub use catalog::{CameraUsage, DeletionRow, SegmentRow, SegmentState};
pub use colour::{ColorVotes, NamedColor};
pub use config::{parse_bytes, ArchiveConfig, MAX_RETENTION_DAYS};
pub use db::DbError;
pub use export::{anonymise_frame, ExportRequest, ExportResult, Gap, PeopleBoxes, RangeReader};
pub use index::TrackIndex;
pub use query::{
    AppliedFilters, SearchError, SearchParams, SearchQuery, SearchResult, TrackHit, ZoneDwell, COUNT_CAP,
    DEFAULT_LIMIT, MAX_LIMIT, MAX_SPAN_MS,
};
pub use reconcile::ReconcileReport;
pub use recorder::{Recorder, RecorderState, RecorderStatus, TIMESCALE};
pub use retention::{
    parse_instant, run_retention, CameraRetention, DeletedFile, RetentionArgs, RetentionCommand, RetentionReport,
    RetentionStatus, RetentionTask, RunBy,
};
pub use store::{LocalDiskStore, SegmentStore, SegmentWriter, StoredObject, PARTIAL_SUFFIX};
pub use summarize::{
    is_person_class, Descriptor, Direction, SummarizerConfig, TrackRecord, TrackSummarizer, ZoneVisit,
};
pub use text::{class_word, fold, parse_text_query, ParsedQuery, Vocabulary};
