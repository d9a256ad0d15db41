//! The footage archive of one data directory: segment store, segment index, storage limits.

use crate::catalog::{CameraUsage, DeletionRow, FootageCatalog, SegmentRow, SqliteCatalog};
use crate::config::ArchiveConfig;
use crate::db::DbError;
use crate::status::RecorderStatus;
use crate::store::{LocalDiskStore, SegmentStore};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{AuditAction, AuditSink, Clock, ConfigError, TrackPurge, UnixMs};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The request itself is wrong (reversed range, unknown camera...): HTTP 400.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing to return for a well-formed request: HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// Footage that cannot be read, decoded or encoded.
    #[error("{0}")]
    Media(String),
    /// The audit trail refused the entry; the action that needed it is not confirmed.
    #[error("audit trail: {0}")]
    Audit(String),
    /// A long job (an export) was stopped: its requester went away or its time budget ran out.
    #[error("export {0}")]
    Stopped(vigie_core::Stopped),
}

impl ArchiveError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
        let context = context.into();
        move |source| ArchiveError::Io { context, source }
    }

    /// Whether this is the disk (or the store's quota) being full.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, ArchiveError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull)
    }
}

/// Store key of the segment of `camera` starting at `start_ms`: `<camera>/<UTC day>/<start_ms>.mp4`.
/// The camera id is percent-escaped so that any id makes one safe directory name.
pub fn segment_key(camera: &str, start_ms: UnixMs) -> String {
    let day = start_ms
        .to_timestamp()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_else(|| "invalid-date".into());
    format!("{}/{day}/{start_ms}.mp4", escape_camera(camera))
}

/// Camera and start time encoded in a segment key, if it is one.
pub fn parse_segment_key(key: &str) -> Option<(String, UnixMs)> {
    let mut parts = key.split('/');
    let (cam, _day, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let start = UnixMs(file.strip_suffix(".mp4")?.parse().ok()?);
    Some((unescape_camera(cam)?, start))
}

pub(crate) fn escape_camera(c: &str) -> String {
    let mut out = String::new();
    for (i, b) in c.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

fn unescape_camera(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out == [0] {
        return Some(String::new());
    }
    String::from_utf8(out).ok()
}

/// One segment listed in a deletion audit entry: enough to prove what was deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedSegment {
    pub camera: String,
    pub start: String,
    pub end: String,
    pub sha256: String,
    pub path: String,
    pub bytes: u64,
    /// The file was already gone when deletion came (the index row is removed).
    pub file_was_missing: bool,
}

impl DeletedSegment {
    pub(crate) fn from_row(r: &SegmentRow, file_was_missing: bool) -> Self {
        Self {
            camera: r.camera.clone(),
            start: r.start_ms.rfc3339(),
            end: r.end_ms.rfc3339(),
            sha256: r.sha256.clone(),
            path: r.path.clone(),
            bytes: r.bytes,
            file_was_missing,
        }
    }
}

/// What the storage limits evicted in one go.
#[derive(Debug, Clone, Serialize)]
pub struct EvictionReport {
    pub at: String,
    pub reason: String,
    pub segments: Vec<DeletedSegment>,
    pub bytes: u64,
    pub errors: Vec<String>,
}

/// Storage use against the limits, for the operators' status page.
#[derive(Debug, Clone, Serialize)]
pub struct StorageStatus {
    pub store: String,
    pub cameras: Vec<CameraUsage>,
    pub total_bytes: u64,
    pub max_bytes_per_camera: Option<u64>,
    pub max_total_bytes: Option<u64>,
    pub recorders: Vec<RecorderStatus>,
    /// Recent deletions (retention and storage limit), newest first.
    pub recent_deletions: Vec<DeletionRow>,
    /// One line per situation an operator should act on (recording stopped, limit evicting).
    pub alerts: Vec<String>,
}

pub struct Archive {
    data_dir: PathBuf,
    config: ArchiveConfig,
    store: Arc<dyn SegmentStore>,
    catalog: Arc<dyn FootageCatalog>,
    clock: Arc<dyn Clock>,
    audit: Arc<dyn AuditSink>,
    recorders: Mutex<BTreeMap<String, RecorderStatus>>,
    evicting: Mutex<()>,
    /// The track index, purged with the footage by each retention pass (none: no index).
    track_purge: Mutex<Option<Arc<dyn TrackPurge>>>,
    /// Set while the limits or the reserve want room that only held footage could give.
    held_full: Mutex<Option<String>>,
    /// Each camera's privacy masks (full-frame pixels), filled opaque in every export.
    privacy_masks: Mutex<BTreeMap<String, vigie_core::LiveMasks>>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").field("data_dir", &self.data_dir).field("store", &self.store).finish()
    }
}

impl Archive {
    /// Opens (creating if needed) the archive under `data_dir` with segments on the local disk
    /// at `<data_dir>/segments` and the index in `<data_dir>/archive.db`.
    pub fn open(
        data_dir: impl AsRef<Path>,
        config: ArchiveConfig,
        clock: Arc<dyn Clock>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Arc<Self>, ArchiveError> {
        Self::open_with_quota(data_dir, config, None, clock, audit)
    }

    /// As [`Archive::open`], with the local store refusing writes beyond `quota` bytes.
    pub fn open_with_quota(
        data_dir: impl AsRef<Path>,
        config: ArchiveConfig,
        quota: Option<u64>,
        clock: Arc<dyn Clock>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Arc<Self>, ArchiveError> {
        let d = data_dir.as_ref();
        let store = LocalDiskStore::open(d.join("segments"), d.join("quarantine"), quota)
            .map_err(ArchiveError::io(format!("segment directory {}", d.join("segments").display())))?;
        Self::with_store(d, config, Arc::new(store), clock, audit)
    }

    /// Opens the archive with any segment store (the index stays in `<data_dir>/archive.db`).
    pub fn with_store(
        data_dir: impl AsRef<Path>,
        config: ArchiveConfig,
        store: Arc<dyn SegmentStore>,
        clock: Arc<dyn Clock>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Arc<Self>, ArchiveError> {
        config.validate()?;
        let data_dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&data_dir)
            .map_err(ArchiveError::io(format!("data directory {}", data_dir.display())))?;
        let catalog = Arc::new(SqliteCatalog::open(&data_dir.join("archive.db"))?);
        Self::with_parts(data_dir, config, store, catalog, clock, audit)
    }

    /// Opens the archive with any segment store and any catalogue; `data_dir` still holds
    /// snapshots, exports and the track index.
    pub fn with_parts(
        data_dir: impl AsRef<Path>,
        config: ArchiveConfig,
        store: Arc<dyn SegmentStore>,
        catalog: Arc<dyn FootageCatalog>,
        clock: Arc<dyn Clock>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Arc<Self>, ArchiveError> {
        config.validate()?;
        let data_dir = data_dir.as_ref().to_path_buf();
        // Remembered so that `vigie retention` run without the configuration file applies the
        // same limits as the running service.
        catalog.set_meta("config", &serde_json::to_string(&config).expect("config serialises"))?;
        Ok(Arc::new(Self {
            data_dir,
            config,
            store,
            catalog,
            clock,
            audit,
            recorders: Mutex::new(BTreeMap::new()),
            evicting: Mutex::new(()),
            track_purge: Mutex::new(None),
            held_full: Mutex::new(None),
            privacy_masks: Mutex::new(BTreeMap::new()),
        }))
    }

    /// The settings last stored by a running archive in `<data_dir>/archive.db`, if any.
    pub fn stored_config(data_dir: impl AsRef<Path>) -> Result<Option<ArchiveConfig>, ArchiveError> {
        let path = data_dir.as_ref().join("archive.db");
        if !path.exists() {
            return Ok(None);
        }
        let cat = SqliteCatalog::open(&path)?;
        Ok(cat.meta("config")?.and_then(|s| serde_json::from_str(&s).ok()))
    }

    pub fn config(&self) -> &ArchiveConfig {
        &self.config
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Arc<dyn SegmentStore> {
        &self.store
    }

    pub fn catalog(&self) -> &dyn FootageCatalog {
        self.catalog.as_ref()
    }

    /// Hands retention the track index, so each pass also deletes tracks and thumbnails past
    /// their limits. Set it before spawning the [`crate::RetentionTask`].
    pub fn set_track_purge(&self, tracks: Arc<dyn TrackPurge>) {
        *self.track_purge.lock() = Some(tracks);
    }

    pub(crate) fn track_purge(&self) -> Option<Arc<dyn TrackPurge>> {
        self.track_purge.lock().clone()
    }

    /// Sets a camera's privacy masks: every export of it fills them opaque, unmasked ones
    /// included (which are then re-encoded instead of copied).
    pub fn set_privacy_masks(&self, camera: &str, masks: Vec<vigie_core::Polygon>) {
        self.privacy_masks.lock().entry(camera.to_string()).or_default().set(masks);
    }

    /// Follows the running camera's masks: an edit applies to the next export.
    pub fn share_privacy_masks(&self, camera: &str, masks: vigie_core::LiveMasks) {
        self.privacy_masks.lock().insert(camera.to_string(), masks);
    }

    pub fn privacy_masks(&self, camera: &str) -> Vec<vigie_core::Polygon> {
        self.privacy_masks.lock().get(camera).map(|m| m.get().to_vec()).unwrap_or_default()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn audit(&self) -> &Arc<dyn AuditSink> {
        &self.audit
    }

    pub fn snapshots_dir(&self) -> PathBuf {
        self.data_dir.join("snapshots")
    }

    /// Where the store keeps unblurred evidence next to the blurred snapshots.
    pub fn clear_evidence_dir(&self) -> PathBuf {
        self.data_dir.join("evidence-clear")
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.data_dir.join("exports")
    }

    pub fn tracks_db_path(&self) -> PathBuf {
        self.data_dir.join("tracks.db")
    }

    /// Indexed segments of `camera` overlapping `[from_ms, to_ms]`, oldest first.
    pub fn segments(&self, camera: &str, from_ms: UnixMs, to_ms: UnixMs) -> Result<Vec<SegmentRow>, ArchiveError> {
        Ok(self.catalog.range(camera, from_ms, to_ms)?)
    }

    /// Cameras with footage in the index.
    pub fn cameras(&self) -> Result<Vec<String>, ArchiveError> {
        Ok(self.catalog.usage()?.into_iter().map(|u| u.camera).collect())
    }

    pub(crate) fn set_recorder_status(&self, s: &RecorderStatus) {
        self.recorders.lock().insert(s.camera.clone(), s.clone());
    }

    pub fn recorder_statuses(&self) -> Vec<RecorderStatus> {
        self.recorders.lock().values().cloned().collect()
    }

    pub fn storage_status(&self) -> Result<StorageStatus, ArchiveError> {
        let cameras = self.catalog.usage()?;
        let total_bytes = cameras.iter().map(|c| c.bytes).sum();
        let recorders = self.recorder_statuses();
        let recent_deletions = self.catalog.deletions(20)?;
        let mut alerts = Vec::new();
        for r in &recorders {
            if !r.recording {
                if let Some(e) = &r.last_error {
                    alerts.push(format!("camera {}: recording stopped: {e}", r.camera));
                }
            }
        }
        for c in &cameras {
            if c.missing_segments > 0 {
                alerts.push(format!(
                    "camera {}: {} segment file(s) missing from {}",
                    c.camera,
                    c.missing_segments,
                    self.store.describe()
                ));
            }
        }
        let day_ago = self.clock.now_ms().saturating_sub(Duration::from_secs(86_400));
        for reason in [EVICT_LIMIT, EVICT_RESERVE] {
            let evictions: Vec<_> =
                recent_deletions.iter().filter(|d| d.reason == reason && d.at_ms >= day_ago).collect();
            if !evictions.is_empty() {
                let n: u64 = evictions.iter().map(|d| d.segments).sum();
                alerts.push(format!(
                    "{reason} reached: {n} oldest segment(s) deleted in the last 24 h before their retention date"
                ));
            }
        }
        if let Some(m) = self.held_full.lock().clone() {
            alerts.push(m);
        }
        if self.under_reserve() {
            alerts.push(format!(
                "free space on the data volume is under the {} MiB reserve: recording waits for room",
                self.config.reserve_mb
            ));
        }
        Ok(StorageStatus {
            store: self.store.describe(),
            cameras,
            total_bytes,
            max_bytes_per_camera: self.config.max_bytes_per_camera,
            max_total_bytes: self.config.max_total_bytes,
            recorders,
            recent_deletions,
            alerts,
        })
    }

    /// Deletes committed segments and their index rows. Returns what was deleted and the errors
    /// for segments that could not be (they stay indexed, to be retried).
    pub(crate) fn delete_segments(&self, rows: &[SegmentRow]) -> (Vec<DeletedSegment>, Vec<String>) {
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        let mut ids = Vec::new();
        for r in rows {
            match self.store.delete(&r.path) {
                Ok(()) => {
                    deleted.push(DeletedSegment::from_row(r, false));
                    ids.push(r.id);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    deleted.push(DeletedSegment::from_row(r, true));
                    ids.push(r.id);
                }
                Err(e) => errors.push(format!("{}: {e}", r.path)),
            }
        }
        if let Err(e) = self.catalog.delete(&ids) {
            errors.push(format!("index: {e}"));
        }
        (deleted, errors)
    }

    /// Bytes available to this process on the data volume, when the platform says.
    pub fn free_bytes(&self) -> Option<u64> {
        free_bytes(&self.data_dir)
    }

    /// Whether free space on the data volume is under the reserve kept for the catalogue.
    pub fn under_reserve(&self) -> bool {
        let reserve = self.config.reserve_bytes();
        reserve > 0 && self.free_bytes().is_some_and(|f| f < reserve)
    }

    /// Evicts the oldest footage while a storage limit is exceeded, or while free space on the
    /// data volume is under the reserve (footage must never crowd out alerts and the audit
    /// trail). The newest segment of each camera, `protect` (the one just written) and footage
    /// under a legal hold are never evicted; when only held footage could free the room, that
    /// is logged as an error and shown in [`Archive::storage_status`]. One audit entry per call
    /// that deleted something.
    pub fn enforce_limits(&self, protect: Option<i64>) -> Result<Option<EvictionReport>, ArchiveError> {
        let reserve = self.config.reserve_bytes();
        if self.config.max_bytes_per_camera.is_none() && self.config.max_total_bytes.is_none() && reserve == 0 {
            return Ok(None);
        }
        let _one_at_a_time = self.evicting.lock();
        let usage = self.catalog.usage()?;
        let mut victims: Vec<SegmentRow> = Vec::new();
        let mut chosen: HashSet<i64> = HashSet::new();
        let mut newest: HashSet<i64> = HashSet::new();
        for u in &usage {
            if let Some(r) = self.catalog.range(&u.camera, u.newest_end_ms, u.newest_end_ms)?.last() {
                newest.insert(r.id);
            }
        }
        let holds = self.active_holds(self.clock.now_ms())?;
        // Held segments passed over, by id (both loops may meet the same one).
        let held_skipped = std::cell::RefCell::new(BTreeMap::<i64, u64>::new());
        let spare = |r: &SegmentRow, chosen: &HashSet<i64>| {
            if Some(r.id) == protect || newest.contains(&r.id) || chosen.contains(&r.id) {
                return true;
            }
            let held = holds.iter().any(|h| h.covers(r));
            if held {
                held_skipped.borrow_mut().insert(r.id, r.bytes);
            }
            held
        };
        let mut short = false;
        let mut freed_total = 0u64;
        if let Some(max) = self.config.max_bytes_per_camera {
            for u in usage.iter().filter(|u| u.bytes > max) {
                let mut excess = u.bytes - max;
                for r in self.catalog.oldest(Some(&u.camera), 100_000)? {
                    if excess == 0 {
                        break;
                    }
                    if spare(&r, &chosen) {
                        continue;
                    }
                    excess = excess.saturating_sub(r.bytes);
                    freed_total += r.bytes;
                    chosen.insert(r.id);
                    victims.push(r);
                }
                short |= excess > 0;
            }
        }
        let total: u64 = usage.iter().map(|u| u.bytes).sum::<u64>() - freed_total;
        let over_total = self.config.max_total_bytes.map_or(0, |max| total.saturating_sub(max));
        let free = if reserve > 0 { self.free_bytes() } else { None };
        let under_reserve = free.map_or(0, |f| reserve.saturating_sub(f).saturating_sub(freed_total));
        let limit_hit = !victims.is_empty() || over_total > 0;
        let mut excess = over_total.max(under_reserve);
        if excess > 0 {
            let mut page = 1000;
            'outer: loop {
                let rows = self.catalog.oldest(None, page)?;
                let exhausted = rows.len() < page;
                for r in rows {
                    if excess == 0 {
                        break 'outer;
                    }
                    if spare(&r, &chosen) {
                        continue;
                    }
                    excess = excess.saturating_sub(r.bytes);
                    chosen.insert(r.id);
                    victims.push(r);
                }
                if exhausted || excess == 0 {
                    break;
                }
                page *= 4;
            }
            short |= excess > 0;
        }
        let skipped = held_skipped.into_inner();
        self.note_held_full(short, (skipped.len() as u64, skipped.values().sum()), &holds);
        if victims.is_empty() {
            return Ok(None);
        }
        // The storage limits are the operator's choice; the reserve is the disk running out.
        let reason = if limit_hit { EVICT_LIMIT } else { EVICT_RESERVE };
        victims.sort_by_key(|r| r.start_ms);
        let (deleted, errors) = self.delete_segments(&victims);
        let now = self.clock.now_ms();
        let bytes = deleted.iter().map(|d| d.bytes).sum();
        let report = EvictionReport { at: now.rfc3339(), reason: reason.into(), segments: deleted, bytes, errors };
        tracing::warn!(
            segments = report.segments.len(),
            bytes,
            free_bytes = free,
            "{reason} reached: oldest footage deleted before its retention date"
        );
        let details = serde_json::json!({
            "reason": reason,
            "max_bytes_per_camera": self.config.max_bytes_per_camera,
            "max_total_bytes": self.config.max_total_bytes,
            "reserve_mb": self.config.reserve_mb,
            "free_bytes": free,
            "segments": report.segments,
            "bytes": bytes,
            "errors": report.errors,
        });
        self.catalog.record_deletion(&DeletionRow {
            at_ms: now,
            reason: reason.into(),
            camera: None,
            segments: report.segments.len() as u64,
            bytes,
            oldest_start_ms: victims.first().map(|r| r.start_ms),
            newest_end_ms: victims.iter().map(|r| r.end_ms).max(),
        })?;
        self.audit
            .record("system", AuditAction::ArchiveEvict, "archive", &details.to_string())
            .map_err(|e| ArchiveError::Audit(e.to_string()))?;
        Ok(Some(report))
    }
}

impl Archive {
    /// Says loudly, once per change, that room is wanted and only held footage is left to give
    /// it: held footage is kept whatever the disk says.
    fn note_held_full(&self, short: bool, (segments, bytes): (u64, u64), holds: &[crate::holds::Hold]) {
        let mut cur = self.held_full.lock();
        if !short || segments == 0 {
            *cur = None;
            return;
        }
        let labels: Vec<String> = holds.iter().map(crate::holds::Hold::label).collect();
        let msg = format!(
            "storage full of held footage: {segments} segment(s) ({bytes} bytes) under legal hold {} are kept \
             although the storage limits or the free-space reserve need room; add storage or release a hold",
            labels.join(", ")
        );
        if cur.as_deref() != Some(msg.as_str()) {
            tracing::error!("{msg}");
        }
        *cur = Some(msg);
    }
}

/// Reasons of evictions before the retention date, as recorded and shown.
pub const EVICT_LIMIT: &str = "storage limit";
pub const EVICT_RESERVE: &str = "free space reserve";

#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // The field types differ between platforms (u32 on some, u64 on Linux x86-64).
    #[allow(clippy::unnecessary_cast)]
    let (blocks, size) = (st.f_bavail as u64, st.f_frsize as u64);
    Some(blocks.saturating_mul(size))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_keys_round_trip_any_camera_id() {
        for cam in ["cam-1", "Rue Piétonne/Nord", ".hidden", "a%b", ""] {
            let k = segment_key(cam, UnixMs(1_764_338_400_123));
            assert_eq!(k.split('/').count(), 3, "{k}");
            assert!(!k.starts_with('.'), "{k}");
            assert_eq!(parse_segment_key(&k), Some((cam.to_string(), UnixMs(1_764_338_400_123))), "{k}");
        }
        assert_eq!(segment_key("c", UnixMs(1_764_338_400_123)), "c/2025-11-28/1764338400123.mp4");
        assert_eq!(parse_segment_key("c/d/notanumber.mp4"), None);
    }
}
