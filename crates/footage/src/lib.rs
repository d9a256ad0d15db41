//! Footage: fragmented-MP4 segments as received from the cameras, their catalogue, export, and
//! retention with proof of deletion.
//!
//! - [`Recorder`] writes each camera's H.264, as received, into one-minute fragmented-MP4
//!   segments catalogued in `<data>/archive.db`, crash-safe (write, fsync, rename, then
//!   catalogue; [`Archive::reconcile`] at startup fixes both directions), with storage limits
//!   that evict the oldest footage first and say so.
//! - [`Archive::export`] turns any time range into one MP4, blurred unless a supervisor gives
//!   a reason; every export is audited with its SHA-256.
//! - [`Archive::retention_pass`] deletes what is past the retention limit (30 days at most)
//!   and audits the list of segment hashes; [`run_retention`] is `vigie retention`. Tracks past
//!   their own limit go through a [`vigie_core::TrackPurge`], the search index's seam.
//!
//! Segment bytes sit behind [`SegmentStore`] (the `object_store` crate's local filesystem here)
//! and the catalogue behind [`FootageCatalog`] (SQLite here), so a city-scale deployment can
//! swap in object storage and PostgreSQL without touching the pipeline.

mod archive;
mod catalog;
mod config;
mod db;
mod export;
pub mod fmp4;
mod reconcile;
mod recorder;
mod retention;
mod status;
mod store;

pub use archive::{
    parse_segment_key, segment_key, Archive, ArchiveError, DeletedSegment, EvictionReport, StorageStatus,
};
pub use catalog::{CameraUsage, DeletionRow, FootageCatalog, NewSegment, SegmentRow, SegmentState, SqliteCatalog};
pub use config::{parse_bytes, ArchiveConfig, MAX_RETENTION_DAYS};
pub use db::DbError;
pub use export::{ExportRequest, ExportResult, Gap, Mp4Writer, PeopleBoxes, RangeReader, Reencoder, Seen};
pub use reconcile::ReconcileReport;
pub use recorder::{Recorder, TIMESCALE};
pub use retention::{
    run_retention, CameraRetention, DeletedFile, RetentionReport, RetentionRequest, RetentionStatus, RetentionTask,
    RunBy,
};
pub use status::{RecorderState, RecorderStatus};
pub use store::{LocalDiskStore, SegmentStore, SegmentWriter, StoredObject, PARTIAL_SUFFIX};
