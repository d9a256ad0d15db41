//! Startup check: makes the segment index and the segment files agree, both ways.
//!
//! - A partial file (the segment being written when the process died) has its complete
//!   fragments salvaged into a normal segment and indexed; with nothing usable it is deleted.
//! - A complete file without an index row (crash between rename and insert) is indexed: it was
//!   fsynced before the rename, so it is whole. A file that does not parse as a segment is
//!   moved to `<data>/quarantine/` rather than deleted, for someone to look at.
//! - An index row whose file is gone is marked `missing` (and reported), never silently
//!   dropped: the gap in the footage stays explained. A row whose file came back is restored.

use crate::archive::{parse_segment_key, Archive, ArchiveError};
use crate::catalog::{NewSegment, SegmentState};
use crate::fmp4::parse_segment;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

#[derive(Debug, Default, Clone, Serialize)]
pub struct ReconcileReport {
    /// Partial segments whose complete fragments were kept and indexed.
    pub salvaged: Vec<String>,
    /// Partial segments with nothing usable, deleted.
    pub partial_deleted: Vec<String>,
    /// Complete files that had no index row, now indexed.
    pub indexed: Vec<String>,
    /// Files that are not readable segments, moved aside (`from -> to`).
    pub quarantined: Vec<String>,
    /// Index rows whose file is gone, now marked missing.
    pub missing: Vec<String>,
    /// Rows marked missing whose file is back.
    pub restored: Vec<String>,
    /// Files whose content no longer matches the indexed SHA-256 (only with hash verification).
    pub corrupt: Vec<String>,
    pub errors: Vec<String>,
}

impl ReconcileReport {
    pub fn is_clean(&self) -> bool {
        self.salvaged.is_empty()
            && self.partial_deleted.is_empty()
            && self.indexed.is_empty()
            && self.quarantined.is_empty()
            && self.missing.is_empty()
            && self.restored.is_empty()
            && self.corrupt.is_empty()
            && self.errors.is_empty()
    }

    pub fn summary(&self) -> String {
        if self.is_clean() {
            return "archive index and segment files agree".into();
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (self.salvaged.len(), "interrupted segment(s) salvaged"),
            (self.partial_deleted.len(), "empty interrupted segment(s) deleted"),
            (self.indexed.len(), "unindexed segment(s) indexed"),
            (self.quarantined.len(), "unreadable file(s) quarantined"),
            (self.missing.len(), "segment file(s) missing"),
            (self.restored.len(), "missing segment file(s) back"),
            (self.corrupt.len(), "segment file(s) with a wrong hash"),
            (self.errors.len(), "error(s)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

fn describe(bytes: &[u8], key: &str) -> Result<(NewSegment, usize), String> {
    let (camera, start_ms) = parse_segment_key(key).ok_or("name is not <camera>/<day>/<start_ms>.mp4")?;
    let p = parse_segment(bytes)?;
    if p.samples.is_empty() {
        return Err("no complete fragment".into());
    }
    if !p.samples[0].key {
        return Err("does not start with a key frame".into());
    }
    let len = p.complete_len;
    let seg = NewSegment {
        camera,
        start_ms,
        end_ms: start_ms.saturating_add(p.duration()),
        frames: p.samples.len() as u64,
        bytes: len as u64,
        sha256: hex::encode(Sha256::digest(&bytes[..len])),
        path: key.to_string(),
        width: p.width,
        height: p.height,
    };
    Ok((seg, len))
}

impl Archive {
    /// Runs the startup check (see the module documentation). With `verify_hashes`, every
    /// indexed file is also read and hashed (slow: reads the whole archive).
    pub fn reconcile(&self, verify_hashes: bool) -> Result<ReconcileReport, ArchiveError> {
        let mut rep = ReconcileReport::default();
        let store = self.store().clone();
        let objects = store.list().map_err(ArchiveError::io(format!("listing {}", store.describe())))?;
        let mut committed: HashSet<String> = objects.iter().filter(|o| !o.partial).map(|o| o.key.clone()).collect();

        for o in objects.iter().filter(|o| o.partial) {
            if committed.contains(&o.key) || self.catalog().by_path(&o.key)?.is_some() {
                // Already published under this name; the partial is a stale duplicate.
                match store.delete_partial(&o.key) {
                    Ok(()) => rep.partial_deleted.push(o.key.clone()),
                    Err(e) => rep.errors.push(format!("{}: {e}", o.key)),
                }
                continue;
            }
            let bytes = match store.read_partial(&o.key) {
                Ok(b) => b,
                Err(e) => {
                    rep.errors.push(format!("{}: {e}", o.key));
                    continue;
                }
            };
            match describe(&bytes, &o.key) {
                Ok((seg, len)) => {
                    if let Err(e) = store.salvage_partial(&o.key, len as u64) {
                        rep.errors.push(format!("{}: {e}", o.key));
                        continue;
                    }
                    self.catalog().insert(&seg)?;
                    committed.insert(o.key.clone());
                    rep.salvaged.push(format!("{} ({} frames)", o.key, seg.frames));
                }
                Err(why) => {
                    tracing::info!("deleting interrupted segment {}: {why}", o.key);
                    match store.delete_partial(&o.key) {
                        Ok(()) => rep.partial_deleted.push(o.key.clone()),
                        Err(e) => rep.errors.push(format!("{}: {e}", o.key)),
                    }
                }
            }
        }

        let rows = self.catalog().all()?;
        let indexed: HashSet<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        let mut orphans: Vec<&String> = committed.iter().filter(|k| !indexed.contains(k.as_str())).collect();
        orphans.sort();
        for key in orphans {
            let outcome = store.read(key).map_err(|e| e.to_string()).and_then(|b| describe(&b, key));
            match outcome {
                Ok((seg, len)) if len as u64 == seg.bytes && seg.bytes > 0 => {
                    self.catalog().insert(&seg)?;
                    rep.indexed.push(key.to_string());
                }
                Ok(_) | Err(_) => match store.quarantine(key) {
                    Ok(to) => rep.quarantined.push(format!("{key} -> {to}")),
                    Err(e) => rep.errors.push(format!("{key}: {e}")),
                },
            }
        }

        for r in &rows {
            let present = committed.contains(&r.path);
            match (r.state, present) {
                (SegmentState::Ok, false) => {
                    self.catalog().set_state(r.id, SegmentState::Missing)?;
                    rep.missing.push(r.path.clone());
                }
                (SegmentState::Missing, true) => {
                    self.catalog().set_state(r.id, SegmentState::Ok)?;
                    rep.restored.push(r.path.clone());
                }
                (SegmentState::Ok, true) if verify_hashes => match store.read(&r.path) {
                    Ok(b) if hex::encode(Sha256::digest(&b)) == r.sha256 => {}
                    Ok(_) => rep.corrupt.push(r.path.clone()),
                    Err(e) => rep.errors.push(format!("{}: {e}", r.path)),
                },
                _ => {}
            }
        }

        if !rep.is_clean() {
            tracing::warn!("archive startup check: {}", rep.summary());
            let details = serde_json::to_string(&rep).expect("report serialises");
            self.audit()
                .record("system", vigie_core::AuditAction::ArchiveReconcile, "archive", &details)
                .map_err(|e| ArchiveError::Audit(e.to_string()))?;
        }
        Ok(rep)
    }
}
