//! The track index as its callers hold it: the node writes finished tracks, the server
//! searches, retention purges. [`TrackIndex`] (SQLite) is the implementation on one node; the
//! traits are the seam for a shared database when several nodes index.

use crate::db::DbError;
use crate::index::TrackIndex;
use crate::query::{SearchError, SearchParams, SearchResult};
use crate::summarize::TrackRecord;
use std::time::SystemTime;
use vigie_core::{AuditSink, ClassMap, PurgeError, TrackPurge, UnixMs};

/// What the node and the server ask of the track index.
pub trait TrackStore: Send + Sync {
    /// Declares a configured camera and its zones (valid search filters before any track).
    fn register_camera(&self, camera: &str, zones: &[String]) -> Result<(), DbError>;
    /// Declares the detector's class names (valid `class` filters).
    fn register_classes(&self, classes: &ClassMap) -> Result<(), DbError>;
    /// Indexes finished tracks together; returns their ids.
    fn insert_batch(&self, records: &[TrackRecord]) -> Result<Vec<i64>, DbError>;
    /// `GET /api/search`: parses, searches, and audits through `audit`.
    fn search_params(
        &self,
        p: &SearchParams,
        actor: &str,
        now: SystemTime,
        tz: &jiff::tz::TimeZone,
        audit: &dyn AuditSink,
    ) -> Result<SearchResult, SearchError>;
    /// The pixelated thumbnail of a search hit, by its id.
    fn thumbnail(&self, id: i64) -> Result<Option<Vec<u8>>, DbError>;
}

impl TrackStore for TrackIndex {
    fn register_camera(&self, camera: &str, zones: &[String]) -> Result<(), DbError> {
        TrackIndex::register_camera(self, camera, zones)
    }

    fn register_classes(&self, classes: &ClassMap) -> Result<(), DbError> {
        TrackIndex::register_classes(self, classes)
    }

    fn insert_batch(&self, records: &[TrackRecord]) -> Result<Vec<i64>, DbError> {
        TrackIndex::insert_batch(self, records)
    }

    fn search_params(
        &self,
        p: &SearchParams,
        actor: &str,
        now: SystemTime,
        tz: &jiff::tz::TimeZone,
        audit: &dyn AuditSink,
    ) -> Result<SearchResult, SearchError> {
        TrackIndex::search_params(self, p, actor, now, tz, audit)
    }

    fn thumbnail(&self, id: i64) -> Result<Option<Vec<u8>>, DbError> {
        TrackIndex::thumbnail(self, id)
    }
}

impl TrackPurge for TrackIndex {
    fn purge_thumbnails_before(&self, cutoff_ms: UnixMs) -> Result<u64, PurgeError> {
        Ok(self.delete_thumbnails_before(cutoff_ms)?)
    }

    fn purge_tracks_before(&self, cutoff_ms: UnixMs) -> Result<u64, PurgeError> {
        Ok(self.delete_before(cutoff_ms)?)
    }
}
