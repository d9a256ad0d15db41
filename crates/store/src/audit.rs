//! Append-only, hash-chained audit trail.
//!
//! Entry `n` stores `hash = sha256(prev_hash || canonical(n))`, with `prev_hash` the hash of entry
//! `n - 1` (64 zeros for the first) and `canonical` the JSON array
//! `[seq, at_ms, actor, action, target, details]`. Triggers refuse UPDATE and DELETE, and a head
//! record (last seq and hash) is updated in the same transaction as each append, so that removing
//! the newest entries is detected too. Someone with write access to the file can still rebuild a
//! consistent chain; publishing the head hash that `vigie audit verify` prints (e.g. daily, on
//! paper or to another system) anchors it.

use crate::{Db, Result, Store, StoreError};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigie_core::{AuditAction, AuditError, UnixMs};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: UnixMs,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON text.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditSummary {
    pub entries: i64,
    /// Hash of the newest entry: record it elsewhere to anchor the trail.
    pub head_hash: String,
}

/// The first entry that fails verification, and why.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("audit trail broken at entry {seq}: {reason}")]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: UnixMs,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> String {
    let canonical = serde_json::to_string(&(seq, at_ms, actor, action, target, details)).expect("strings serialise");
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Appends within an open transaction, so an alert action and its audit entry commit together.
pub(crate) fn append(
    tx: &Transaction<'_>,
    at_ms: UnixMs,
    actor: &str,
    action: AuditAction,
    target: &str,
    details: &str,
) -> Result<AuditEntry> {
    let action = action.as_str();
    let head: Option<(i64, String)> = tx
        .query_row("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .db()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS_HASH.to_string()));
    let seq = prev_seq + 1;
    let hash = entry_hash(&prev_hash, seq, at_ms, actor, action, target, details);
    tx.execute(
        "INSERT INTO audit (seq, at_ms, actor, action, target, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![seq, at_ms, actor, action, target, details, prev_hash, hash],
    )
    .db()?;
    tx.execute(
        "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, ?1, ?2) \
         ON CONFLICT(id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
        params![seq, hash],
    )
    .db()?;
    Ok(AuditEntry {
        seq,
        at_ms,
        actor: actor.into(),
        action: action.into(),
        target: target.into(),
        details: details.into(),
        prev_hash,
        hash,
    })
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at_ms: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        details: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

const COLS: &str = "seq, at_ms, actor, action, target, details, prev_hash, hash";

/// Most entries one read returns (an export of more is made in several reads).
pub const MAX_AUDIT_READ: u32 = 10_000;

/// Filter for reading the trail; all conditions are ANDed.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries with a smaller seq (paging backwards from the newest).
    pub before_seq: Option<i64>,
    pub actor: Option<String>,
    /// Prefix match: `"alert."` gives every alert action.
    pub action_prefix: Option<String>,
    /// Substring match anywhere in the action (`"view"`: every kind of view).
    pub action_contains: Option<String>,
    /// Exactly this action.
    pub action: Option<String>,
    pub target: Option<String>,
    /// Substring match anywhere in the target.
    pub target_contains: Option<String>,
    /// Entries at or after this instant.
    pub from_ms: Option<UnixMs>,
    /// Entries before this instant.
    pub to_ms: Option<UnixMs>,
    pub limit: u32,
}

impl Store {
    /// Appends one entry. `details` is stored as compact JSON.
    pub fn record(
        &self,
        actor: &str,
        action: AuditAction,
        target: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry> {
        let details = serde_json::to_string(details).expect("JSON values serialise");
        self.record_text(actor, action, target, &details)
    }

    fn record_text(&self, actor: &str, action: AuditAction, target: &str, details: &str) -> Result<AuditEntry> {
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let e = append(&tx, now, actor, action, target, details)?;
        tx.commit().db()?;
        Ok(e)
    }

    /// Newest first.
    pub fn audit_entries(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let conn = self.conn.lock();
        // instr(), not LIKE: a `%` or `_` typed in a filter is matched as itself.
        let mut st = conn
            .prepare_cached(&format!(
                "SELECT {COLS} FROM audit WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR actor = ?2) \
                 AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3) AND (?4 IS NULL OR target = ?4) \
                 AND (?6 IS NULL OR instr(action, ?6) > 0) AND (?7 IS NULL OR action = ?7) \
                 AND (?8 IS NULL OR instr(target, ?8) > 0) AND (?9 IS NULL OR at_ms >= ?9) \
                 AND (?10 IS NULL OR at_ms < ?10) \
                 ORDER BY seq DESC LIMIT ?5"
            ))
            .db()?;
        let limit = if q.limit == 0 { 100 } else { q.limit.min(MAX_AUDIT_READ) };
        let rows = st
            .query_map(
                params![
                    q.before_seq,
                    q.actor,
                    q.action_prefix,
                    q.target,
                    limit,
                    q.action_contains,
                    q.action,
                    q.target_contains,
                    q.from_ms,
                    q.to_ms
                ],
                row_entry,
            )
            .db()?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db()
    }

    /// Walks the whole chain. `Ok` when every entry is present, in order, unedited and linked;
    /// otherwise the first entry that fails and why.
    pub fn verify_audit(&self) -> Result<Result<AuditSummary, AuditBreak>> {
        self.verify_audit_after(0, GENESIS_HASH)
    }

    /// As [`Store::verify_audit`] for the entries after `seq`, given the hash of entry `seq` as
    /// verified before (e.g. by the last checkpoint): entry `seq` must still have that hash. The
    /// node's periodic checkpoints walk only what was added since the previous one instead of the
    /// whole trail, which holds the catalogue's lock meanwhile.
    pub fn verify_audit_after(&self, seq: i64, hash: &str) -> Result<Result<AuditSummary, AuditBreak>> {
        let conn = self.conn.lock();
        if seq > 0 {
            let found: Option<String> =
                conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0)).optional().db()?;
            if found.as_deref() != Some(hash) {
                return Ok(Err(AuditBreak {
                    seq,
                    reason: format!(
                        "no longer holds the entry verified before (hash {hash}): it was deleted or rewritten"
                    ),
                }));
            }
        }
        let mut st = conn.prepare(&format!("SELECT {COLS} FROM audit WHERE seq > ?1 ORDER BY seq")).db()?;
        let mut rows = st.query([seq]).db()?;
        let mut expected = seq + 1;
        let mut prev_hash = hash.to_string();
        while let Some(row) = rows.next().db()? {
            let e = row_entry(row).db()?;
            if e.seq != expected {
                let reason = if e.seq > expected {
                    if e.seq == expected + 1 {
                        format!(
                            "entry {expected} is missing (deleted): the trail jumps from {} to {}",
                            expected - 1,
                            e.seq
                        )
                    } else {
                        format!(
                            "entries {expected} to {} are missing (deleted): the trail jumps from {} to {}",
                            e.seq - 1,
                            expected - 1,
                            e.seq
                        )
                    }
                } else {
                    format!("entry numbered {} found where {expected} was expected", e.seq)
                };
                return Ok(Err(AuditBreak { seq: expected, reason }));
            }
            let recomputed = entry_hash(&e.prev_hash, e.seq, e.at_ms, &e.actor, &e.action, &e.target, &e.details);
            if recomputed != e.hash {
                return Ok(Err(AuditBreak {
                    seq: e.seq,
                    reason: "edited: its content no longer matches its hash".into(),
                }));
            }
            if e.prev_hash != prev_hash {
                return Ok(Err(AuditBreak {
                    seq: e.seq,
                    reason: format!(
                        "chain broken: its prev_hash is not the hash of entry {} (entry {} was rewritten, or entries \
                         were replaced or reordered)",
                        e.seq - 1,
                        e.seq - 1
                    ),
                }));
            }
            prev_hash = e.hash;
            expected += 1;
        }
        let last = expected - 1;
        let head: Option<(i64, String)> = conn
            .query_row("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .db()?;
        match head {
            Some((head_seq, _)) if head_seq > last => {
                return Ok(Err(AuditBreak {
                    seq: last + 1,
                    reason: format!(
                        "entries {} to {head_seq} were deleted from the end of the trail (the head records {head_seq} \
                         entries, {last} remain)",
                        last + 1
                    ),
                }))
            }
            Some((head_seq, head_hash)) if head_seq == last && head_hash != prev_hash => {
                return Ok(Err(AuditBreak {
                    seq: last,
                    reason: "the newest entry does not match the recorded head hash (it was replaced)".into(),
                }))
            }
            Some((head_seq, _)) if head_seq < last => {
                return Ok(Err(AuditBreak {
                    seq: head_seq + 1,
                    reason: format!(
                        "entries after {head_seq} were added without going through the trail's head record"
                    ),
                }))
            }
            None if last > 0 => {
                return Ok(Err(AuditBreak { seq: last, reason: "the head record of the trail was deleted".into() }))
            }
            _ => {}
        }
        Ok(Ok(AuditSummary { entries: last, head_hash: prev_hash }))
    }
}

impl vigie_core::AuditSink for Store {
    fn record(
        &self,
        actor: &str,
        action: AuditAction,
        target: &str,
        details: &str,
    ) -> std::result::Result<(), AuditError> {
        // Callers pass JSON; anything else is kept, quoted, rather than lost.
        let details = if serde_json::from_str::<serde_json::Value>(details).is_ok() {
            details.to_string()
        } else {
            serde_json::to_string(details).expect("strings serialise")
        };
        self.record_text(actor, action, target, &details).map(|_| ()).map_err(|e| match e {
            StoreError::Invalid(m) => AuditError::Rejected(m),
            other => AuditError::Unavailable(other.to_string()),
        })
    }
}
