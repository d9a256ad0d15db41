//! Retention: footage, snapshots, exports and track rows older than their limits are deleted
//! (an export with the footage it holds),
//! and each pass writes one audit entry listing what went (segments with their SHA-256), so a
//! data-protection officer can prove what was deleted and when.
//!
//! A segment is deleted as soon as its *start* is older than the limit, so footage may go up
//! to one segment (about a minute) early, never late.

use crate::archive::{Archive, ArchiveError, DeletedSegment};
use crate::catalog::{CameraUsage, DeletionRow};
use crate::config::ArchiveConfig;
use crate::holds::{covering, HeldSegment, Hold};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{AuditSink, Clock, SimClock, SystemClock, TrackPurge, UnixMs};

/// A file deleted by retention, with the hash that proves which one it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub modified: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    pub at: String,
    /// Footage that started before this instant was deleted.
    pub cutoff: String,
    pub retention_days: u32,
    pub segments: Vec<DeletedSegment>,
    pub segment_bytes: u64,
    pub snapshots: Vec<DeletedFile>,
    pub exports: Vec<DeletedFile>,
    pub tracks_deleted: u64,
    pub thumbnails_deleted: u64,
    /// Segments past the limit kept because a legal hold covers them, with the holds.
    pub held: Vec<HeldSegment>,
    pub held_bytes: u64,
    /// What could not be deleted (retried at the next pass).
    pub errors: Vec<String>,
    /// Who asked for this pass, when a person did (`vigie retention run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_by: Option<RunBy>,
}

/// The person behind a retention pass run by hand: the operating-system account, and the name
/// they gave with `--actor` (a shared service account says little about who typed the command).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunBy {
    pub os_user: String,
    pub actor: Option<String>,
}

impl RunBy {
    /// `SUDO_USER` (the person behind `sudo`), else `USER`, else the numeric uid.
    pub fn from_env(actor: Option<&str>) -> Result<RunBy, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let os_user = var("SUDO_USER").or_else(|| var("USER")).unwrap_or_else(current_uid);
        if let Some(a) = actor {
            let ok = !a.trim().is_empty() && a.chars().count() <= 64 && !a.chars().any(char::is_control);
            if !ok {
                return Err(format!("--actor: '{a}' is not a name (1 to 64 printable characters)"));
            }
        }
        Ok(RunBy { os_user, actor: actor.map(|a| a.trim().to_string()) })
    }

    /// The audit trail's actor: the name given, else the operating-system account.
    pub fn audit_actor(&self) -> &str {
        self.actor.as_deref().unwrap_or(&self.os_user)
    }
}

#[cfg(unix)]
fn current_uid() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

#[cfg(not(unix))]
fn current_uid() -> String {
    "unknown".into()
}

impl RetentionReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "retention pass at {} (limit {} days, cutoff {}): {} segment(s) ({} bytes), {} snapshot(s), {} export(s), {} track(s), {} thumbnail(s) deleted",
            self.at,
            self.retention_days,
            self.cutoff,
            self.segments.len(),
            self.segment_bytes,
            self.snapshots.len(),
            self.exports.len(),
            self.tracks_deleted,
            self.thumbnails_deleted
        );
        if !self.held.is_empty() {
            let mut holds: Vec<String> =
                self.held.iter().flat_map(|h| h.holds.iter().map(|r| format!("#{} ({})", r.id, r.reference))).collect();
            holds.sort();
            holds.dedup();
            s.push_str(&format!(
                "; {} segment(s) ({} bytes) past the limit kept under legal hold {}",
                self.held.len(),
                self.held_bytes,
                holds.join(", ")
            ));
        }
        for e in &self.errors {
            s.push_str(&format!("\n  error: {e}"));
        }
        s
    }
}

/// Footage held for one camera and when its oldest part is due for deletion.
#[derive(Debug, Clone, Serialize)]
pub struct CameraRetention {
    pub camera: String,
    pub oldest_footage: String,
    pub newest_footage: String,
    pub segments: u64,
    pub bytes: u64,
    pub missing_segments: u64,
    /// When the oldest segment reaches the retention limit.
    pub next_deletion: String,
    /// The oldest footage is already past the limit (no pass ran since).
    pub overdue: bool,
    /// The oldest footage is kept by a legal hold (so it may be past the limit).
    pub oldest_under_hold: bool,
    /// Days of footage actually held, shorter than the retention when a storage limit evicts.
    pub days_held: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionStatus {
    pub now: String,
    pub retention_days: u32,
    pub snapshot_retention_days: u32,
    pub track_retention_days: u32,
    pub cameras: Vec<CameraRetention>,
    pub oldest_snapshot: Option<String>,
    pub next_snapshot_deletion: Option<String>,
    /// The earliest next deletion over cameras and snapshots.
    pub next_deletion: Option<String>,
    pub last_pass: Option<String>,
    pub next_pass: Option<String>,
    pub recent_deletions: Vec<DeletionRow>,
    /// Legal holds in force: their footage is kept past the limit.
    pub holds: Vec<Hold>,
}

impl RetentionStatus {
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "retention: footage {} days, snapshots {} days, track index {} days (now {})\n",
            self.retention_days, self.snapshot_retention_days, self.track_retention_days, self.now
        );
        if self.cameras.is_empty() {
            s.push_str("no footage recorded\n");
        }
        for c in &self.cameras {
            s.push_str(&format!(
                "camera {}: oldest footage {}, {} segment(s), {} bytes, {:.1} days held, next deletion {}{}{}\n",
                c.camera,
                c.oldest_footage,
                c.segments,
                c.bytes,
                c.days_held,
                c.next_deletion,
                if c.overdue {
                    " (overdue: run a pass)"
                } else if c.oldest_under_hold {
                    " (oldest footage under legal hold)"
                } else {
                    ""
                },
                if c.missing_segments > 0 {
                    format!(", {} segment file(s) missing", c.missing_segments)
                } else {
                    String::new()
                }
            ));
        }
        if let Some(o) = &self.oldest_snapshot {
            s.push_str(&format!(
                "snapshots: oldest {o}, next deletion {}\n",
                self.next_snapshot_deletion.as_deref().unwrap_or("-")
            ));
        }
        s.push_str(&format!("next deletion: {}\n", self.next_deletion.as_deref().unwrap_or("none pending")));
        if self.holds.is_empty() {
            s.push_str("legal holds: none active\n");
        }
        for h in &self.holds {
            s.push_str(&format!(
                "legal hold #{} reference {}: cameras {}, footage {} to {}, until {}\n",
                h.id,
                h.reference,
                h.cameras.join(", "),
                h.from.rfc3339(),
                h.to.rfc3339(),
                h.until.map_or_else(|| "released".to_string(), UnixMs::rfc3339)
            ));
        }
        s.push_str(&format!(
            "last pass: {}, next pass: {}\n",
            self.last_pass.as_deref().unwrap_or("never"),
            self.next_pass.as_deref().unwrap_or("when the service runs")
        ));
        for d in &self.recent_deletions {
            if d.segments > 0 {
                s.push_str(&format!(
                    "  {} {}: {} segment(s), {} bytes\n",
                    d.at_ms.rfc3339(),
                    d.reason,
                    d.segments,
                    d.bytes
                ));
            }
        }
        s
    }
}

fn hash_file(p: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(p)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Regular files under `dir` (recursively) with their modification time.
fn files_under(dir: &Path) -> Vec<(PathBuf, SystemTime, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                if let Ok(m) = e.metadata() {
                    out.push((e.path(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
                }
            }
        }
    }
    out
}

fn delete_files_before(dir: &Path, cutoff: SystemTime, errors: &mut Vec<String>) -> Vec<DeletedFile> {
    delete_files_dated_before(dir, cutoff, errors, |_, modified| modified)
}

/// A kept export goes with the footage it holds: its name starts with that footage's start
/// (see `export.rs`), which counts even if the file's date was changed since (a copy put back).
/// Other files there (leftovers, copies from older versions) go by their date.
fn delete_exports_before(dir: &Path, cutoff: SystemTime, errors: &mut Vec<String>) -> Vec<DeletedFile> {
    delete_files_dated_before(dir, cutoff, errors, |p, modified| {
        let footage = p.file_name().and_then(|n| n.to_str()).and_then(crate::export::kept_export_footage_start);
        footage.map_or(modified, |f| f.min(modified))
    })
}

fn delete_files_dated_before(
    dir: &Path,
    cutoff: SystemTime,
    errors: &mut Vec<String>,
    date: impl Fn(&Path, SystemTime) -> SystemTime,
) -> Vec<DeletedFile> {
    let mut out = Vec::new();
    for (p, modified, bytes) in files_under(dir) {
        if date(&p, modified) >= cutoff {
            continue;
        }
        let sha256 = match hash_file(&p) {
            Ok(h) => h,
            Err(e) => {
                errors.push(format!("{}: {e}", p.display()));
                continue;
            }
        };
        match std::fs::remove_file(&p) {
            Ok(()) => out.push(DeletedFile {
                path: p.display().to_string(),
                sha256,
                bytes,
                modified: UnixMs::from(modified).rfc3339(),
            }),
            Err(e) => errors.push(format!("{}: {e}", p.display())),
        }
    }
    out
}

impl Archive {
    /// Deletes everything older than its retention limit at `now`; writes one audit entry.
    pub fn retention_pass(&self, now: SystemTime) -> Result<RetentionReport, ArchiveError> {
        self.retention_pass_by(now, None)
    }

    /// As [`Archive::retention_pass`], audited under the person who asked for it, if any
    /// (else `system`, the scheduled pass).
    pub fn retention_pass_by(&self, now: SystemTime, run_by: Option<RunBy>) -> Result<RetentionReport, ArchiveError> {
        let cfg = self.config().clone();
        let now_ms = UnixMs::from(now);
        let cutoff = now_ms.saturating_sub(cfg.retention());
        let snap_cutoff = now_ms.saturating_sub(cfg.snapshot_retention());
        let track_cutoff = now_ms.saturating_sub(cfg.track_retention());

        // Expired holds are marked (and audited) first: their footage goes in this same pass.
        let holds = self.active_holds(now_ms)?;
        let (held_rows, rows): (Vec<_>, Vec<_>) =
            self.catalog().started_before(cutoff)?.into_iter().partition(|r| !covering(&holds, r).is_empty());
        let held: Vec<HeldSegment> = held_rows.iter().map(|r| HeldSegment::new(r, &covering(&holds, r))).collect();
        let held_bytes = held.iter().map(|h| h.bytes).sum();
        let (segments, mut errors) = self.delete_segments(&rows);
        let mut snapshots = delete_files_before(&self.snapshots_dir(), snap_cutoff.to_system_time(), &mut errors);
        // Unblurred evidence (served only under a supervisor's unmask) goes with its snapshot.
        snapshots.extend(delete_files_before(&self.clear_evidence_dir(), snap_cutoff.to_system_time(), &mut errors));
        let exports = delete_exports_before(&self.exports_dir(), cutoff.to_system_time(), &mut errors);
        let (mut tracks_deleted, mut thumbnails_deleted) = (0, 0);
        if let Some(tracks) = self.track_purge() {
            match tracks.purge_thumbnails_before(snap_cutoff) {
                Ok(n) => thumbnails_deleted = n,
                Err(e) => errors.push(format!("track thumbnails: {e}")),
            }
            match tracks.purge_tracks_before(track_cutoff) {
                Ok(n) => tracks_deleted = n,
                Err(e) => errors.push(format!("track index: {e}")),
            }
        }
        let segment_bytes = segments.iter().map(|s| s.bytes).sum();
        let report = RetentionReport {
            at: now_ms.rfc3339(),
            cutoff: cutoff.rfc3339(),
            retention_days: cfg.retention_days,
            segments,
            segment_bytes,
            snapshots,
            exports,
            tracks_deleted,
            thumbnails_deleted,
            held,
            held_bytes,
            errors,
            run_by,
        };
        let deleted_rows: Vec<_> = rows.iter().filter(|r| report.segments.iter().any(|d| d.path == r.path)).collect();
        self.catalog().record_deletion(&DeletionRow {
            at_ms: now_ms,
            reason: "retention".into(),
            camera: None,
            segments: report.segments.len() as u64,
            bytes: segment_bytes,
            oldest_start_ms: deleted_rows.iter().map(|r| r.start_ms).min(),
            newest_end_ms: deleted_rows.iter().map(|r| r.end_ms).max(),
        })?;
        let details = serde_json::to_string(&report).expect("report serialises");
        let actor = report.run_by.as_ref().map_or("system", RunBy::audit_actor);
        self.audit()
            .record(actor, vigie_core::AuditAction::RetentionDelete, "archive", &details)
            .map_err(|e| ArchiveError::Audit(e.to_string()))?;
        if !report.segments.is_empty() || !report.errors.is_empty() || !report.held.is_empty() {
            tracing::info!("{}", report.summary());
        }
        Ok(report)
    }

    /// Oldest footage per camera and when the next deletions are due.
    pub fn retention_status(&self, now: SystemTime) -> Result<RetentionStatus, ArchiveError> {
        let cfg = self.config();
        let now_ms = UnixMs::from(now);
        let usage: Vec<CameraUsage> = self.catalog().usage()?;
        // Read-only: a hold past its end date is not listed, and is marked expired by the
        // next pass (which audits it).
        let holds: Vec<Hold> = self.catalog().holds()?.into_iter().filter(|h| h.in_force(now_ms)).collect();
        let mut oldest_held = std::collections::HashSet::new();
        for u in &usage {
            let oldest = self.catalog().oldest(Some(&u.camera), 1)?;
            if oldest.first().is_some_and(|r| !covering(&holds, r).is_empty()) {
                oldest_held.insert(u.camera.clone());
            }
        }
        let cameras: Vec<CameraRetention> = usage
            .iter()
            .map(|u| {
                let due = u.oldest_start_ms.saturating_add(cfg.retention());
                let held = oldest_held.contains(&u.camera);
                CameraRetention {
                    camera: u.camera.clone(),
                    oldest_footage: u.oldest_start_ms.rfc3339(),
                    newest_footage: u.newest_end_ms.rfc3339(),
                    segments: u.segments,
                    bytes: u.bytes,
                    missing_segments: u.missing_segments,
                    next_deletion: due.rfc3339(),
                    overdue: due <= now_ms && !held,
                    oldest_under_hold: held,
                    days_held: u.newest_end_ms.ms_since(u.oldest_start_ms).max(0) as f64 / 86_400_000.0,
                }
            })
            .collect();
        let oldest_snap = files_under(&self.snapshots_dir()).iter().map(|f| UnixMs::from(f.1)).min();
        let snap_due = oldest_snap.map(|o| o.saturating_add(cfg.snapshot_retention()));
        let next = usage.iter().map(|u| u.oldest_start_ms.saturating_add(cfg.retention())).chain(snap_due).min();
        let deletions = self.catalog().deletions(20)?;
        let last_pass = deletions.iter().find(|d| d.reason == "retention").map(|d| d.at_ms);
        Ok(RetentionStatus {
            now: now_ms.rfc3339(),
            retention_days: cfg.retention_days,
            snapshot_retention_days: cfg.snapshot_retention_days,
            track_retention_days: cfg.track_retention_days,
            cameras,
            oldest_snapshot: oldest_snap.map(UnixMs::rfc3339),
            next_snapshot_deletion: snap_due.map(UnixMs::rfc3339),
            next_deletion: next.map(UnixMs::rfc3339),
            last_pass: last_pass.map(UnixMs::rfc3339),
            next_pass: last_pass.map(|l| l.saturating_add(Duration::from_secs(cfg.retention_interval_s)).rfc3339()),
            recent_deletions: deletions,
            holds,
        })
    }
}

/// The background retention task; stops when dropped.
pub struct RetentionTask {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RetentionTask {
    /// Runs a pass now and then every `retention_interval_s`, on a thread of its own.
    pub fn spawn(archive: Arc<Archive>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("retention".into())
            .spawn(move || {
                let interval = Duration::from_secs(archive.config().retention_interval_s);
                while !flag.load(Ordering::Relaxed) {
                    if let Err(e) = archive.retention_pass(archive.clock().now()) {
                        tracing::error!("retention pass failed: {e}");
                    }
                    let mut slept = Duration::ZERO;
                    while slept < interval && !flag.load(Ordering::Relaxed) {
                        let step = Duration::from_millis(500).min(interval - slept);
                        std::thread::sleep(step);
                        slept += step;
                        // Whatever fills the disk (not only recording), footage gives way to
                        // the catalogue's reserve within a second.
                        if archive.under_reserve() {
                            if let Err(e) = archive.enforce_limits(None) {
                                tracing::error!("freeing space for the reserve failed: {e}");
                            }
                        }
                    }
                }
            })
            .expect("spawning the retention thread");
        Self { stop, handle: Some(handle) }
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for RetentionTask {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What `vigie retention` asks for; the command line lives in the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionRequest {
    /// The oldest footage per camera and when the next deletion is due.
    Status { data: PathBuf, json: bool },
    /// A retention pass now: deletes what is past its limit and audits it. `now` (RFC 3339)
    /// pretends it is that instant, for tests and drills; `actor` is the person's name for
    /// the audit trail (recorded with their operating-system account).
    Run { data: PathBuf, now: Option<String>, json: bool, actor: Option<String> },
}

impl RetentionRequest {
    /// The data directory the request works on.
    pub fn data(&self) -> &PathBuf {
        match self {
            RetentionRequest::Status { data, .. } | RetentionRequest::Run { data, .. } => data,
        }
    }
}

/// Runs `vigie retention status|run` and returns what to print. `config` is the `[archive]`
/// section of the configuration file when the caller has it; otherwise the settings stored by
/// the running service in `archive.db` apply, and failing those the defaults. `tracks` is the
/// track index of the data directory, when it has one: its tracks and thumbnails past their
/// limits go in the same pass.
pub fn run_retention(
    request: &RetentionRequest,
    config: Option<ArchiveConfig>,
    tracks: Option<Arc<dyn TrackPurge>>,
    audit: Arc<dyn AuditSink>,
) -> anyhow::Result<String> {
    let (data, json) = match request {
        RetentionRequest::Status { data, json } | RetentionRequest::Run { data, json, .. } => (data, *json),
    };
    if !data.join("archive.db").exists() {
        anyhow::bail!("--data {}: no archive there (archive.db not found)", data.display());
    }
    let config = match config {
        Some(c) => c,
        None => Archive::stored_config(data)?.unwrap_or_default(),
    };
    let (now, clock): (SystemTime, Arc<dyn Clock>) = match request {
        RetentionRequest::Run { now: Some(n), .. } => {
            let t = UnixMs::parse_rfc3339("--now", n)?.to_system_time();
            (t, Arc::new(SimClock::new(t)))
        }
        _ => (SystemTime::now(), Arc::new(SystemClock::default())),
    };
    let archive = Archive::open(data, config, clock, audit)?;
    if let Some(t) = tracks {
        archive.set_track_purge(t);
    }
    Ok(match request {
        RetentionRequest::Status { .. } => {
            let st = archive.retention_status(now)?;
            if json {
                serde_json::to_string_pretty(&st)?
            } else {
                st.to_text()
            }
        }
        RetentionRequest::Run { actor, .. } => {
            let run_by = RunBy::from_env(actor.as_deref()).map_err(anyhow::Error::msg)?;
            let rep = archive.retention_pass_by(now, Some(run_by))?;
            if json {
                serde_json::to_string_pretty(&rep)?
            } else {
                rep.summary()
            }
        }
    })
}
