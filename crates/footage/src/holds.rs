//! Legal holds: footage requisitioned by the police or a court is kept for the procedure,
//! beyond the retention limit, until the hold is released or its end date (`until`) passes.
//!
//! A hold names cameras and a time range; every segment of those cameras overlapping the range
//! is *held*: retention skips it (and lists it, with the hold, in its audited proof) and the
//! storage limits and free-space reserve never evict it. Held footage may be exported unblurred
//! for that hold only; each such export's SHA-256 is recorded with the hold, so the copy handed
//! to the court can be matched to what the node produced. Every step is audited.
//!
//! Holds live in `archive.db` next to the segments they protect, so a retention pass decides
//! from one catalogue.

use crate::archive::{Archive, ArchiveError};
use crate::catalog::SegmentRow;
use crate::export::{ExportRequest, ExportResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Serialize, Serializer};
use vigie_core::{AuditAction, StopToken, UnixMs};

/// Longest requisition reference accepted.
pub const MAX_REFERENCE_CHARS: usize = 200;
/// Longest reason (placing or releasing) accepted.
pub const MAX_HOLD_REASON_CHARS: usize = 2000;
/// Most cameras one hold may name.
pub const MAX_HOLD_CAMERAS: usize = 256;

fn rfc<S: Serializer>(t: &UnixMs, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

fn rfc_opt<S: Serializer>(t: &Option<UnixMs>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.rfc3339()),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    /// Its footage is exempt from retention (unless `until` has passed and no pass noticed yet).
    Active,
    /// Ended by a person, with a reason.
    Released,
    /// Its end date passed.
    Expired,
}

impl HoldState {
    fn as_str(self) -> &'static str {
        match self {
            HoldState::Active => "active",
            HoldState::Released => "released",
            HoldState::Expired => "expired",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "released" => HoldState::Released,
            "expired" => HoldState::Expired,
            _ => HoldState::Active,
        }
    }
}

/// What a supervisor asks to hold.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHold {
    pub cameras: Vec<String>,
    pub from_ms: UnixMs,
    pub to_ms: UnixMs,
    /// The requisition's reference (procedure number, court order...).
    pub reference: String,
    pub reason: String,
    /// When the hold ends by itself; `None`: until released.
    pub until_ms: Option<UnixMs>,
}

/// An unblurred export made under a hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldExport {
    pub camera: String,
    #[serde(serialize_with = "rfc")]
    pub from: UnixMs,
    #[serde(serialize_with = "rfc")]
    pub to: UnixMs,
    pub sha256: String,
    pub bytes: u64,
    pub frames: u64,
    pub actor: String,
    #[serde(serialize_with = "rfc")]
    pub at: UnixMs,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hold {
    pub id: i64,
    pub cameras: Vec<String>,
    #[serde(serialize_with = "rfc")]
    pub from: UnixMs,
    #[serde(serialize_with = "rfc")]
    pub to: UnixMs,
    pub reference: String,
    pub reason: String,
    #[serde(serialize_with = "rfc_opt")]
    pub until: Option<UnixMs>,
    pub placed_by: String,
    #[serde(serialize_with = "rfc")]
    pub placed_at: UnixMs,
    pub state: HoldState,
    /// When it was released, or when it expired (its `until`).
    #[serde(serialize_with = "rfc_opt")]
    pub ended_at: Option<UnixMs>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
    /// Unblurred exports made for it, oldest first.
    pub exports: Vec<HoldExport>,
}

impl Hold {
    /// Whether its footage is protected at `now`.
    pub fn in_force(&self, now: UnixMs) -> bool {
        self.state == HoldState::Active && self.until.is_none_or(|u| u > now)
    }

    /// Whether it covers a segment: one of its cameras, overlapping its range.
    pub fn covers(&self, seg: &SegmentRow) -> bool {
        seg.start_ms <= self.to && seg.end_ms >= self.from && self.cameras.contains(&seg.camera)
    }

    /// `#id (reference)`, as logs and proofs name it.
    pub fn label(&self) -> String {
        format!("#{} ({})", self.id, self.reference)
    }
}

/// A hold as named in a retention proof.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldRef {
    pub id: i64,
    pub reference: String,
}

/// A segment past its retention date that a pass kept because a hold covers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldSegment {
    pub camera: String,
    pub start: String,
    pub end: String,
    pub sha256: String,
    pub path: String,
    pub bytes: u64,
    pub holds: Vec<HoldRef>,
}

/// Holds in a transparency report's period `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HoldCounts {
    /// In force at the end of the period.
    pub active: u64,
    pub placed: u64,
    pub released: u64,
    pub expired: u64,
}

pub(crate) const HOLDS_MIGRATION: &str = "CREATE TABLE holds (
        id INTEGER PRIMARY KEY,
        cameras TEXT NOT NULL,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER NOT NULL,
        reference TEXT NOT NULL,
        reason TEXT NOT NULL,
        until_ms INTEGER,
        placed_by TEXT NOT NULL,
        placed_at_ms INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'active',
        ended_at_ms INTEGER,
        released_by TEXT,
        release_reason TEXT
    );
    CREATE TABLE hold_exports (
        id INTEGER PRIMARY KEY,
        hold_id INTEGER NOT NULL REFERENCES holds(id),
        camera TEXT NOT NULL,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        actor TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE INDEX hold_exports_hold ON hold_exports(hold_id);";

// SQL on the catalogue's connection, called by `SqliteCatalog`.

pub(crate) fn insert(c: &Connection, h: &NewHold, by: &str, at: UnixMs) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO holds (cameras, from_ms, to_ms, reference, reason, until_ms, placed_by, placed_at_ms, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active')",
        params![
            serde_json::to_string(&h.cameras).expect("strings serialise"),
            h.from_ms,
            h.to_ms,
            h.reference,
            h.reason,
            h.until_ms,
            by,
            at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

const HOLD_COLS: &str = "id, cameras, from_ms, to_ms, reference, reason, until_ms, placed_by, placed_at_ms, state, \
                         ended_at_ms, released_by, release_reason";

fn hold_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Hold> {
    let cameras: String = r.get(1)?;
    Ok(Hold {
        id: r.get(0)?,
        cameras: serde_json::from_str(&cameras).unwrap_or_default(),
        from: r.get(2)?,
        to: r.get(3)?,
        reference: r.get(4)?,
        reason: r.get(5)?,
        until: r.get(6)?,
        placed_by: r.get(7)?,
        placed_at: r.get(8)?,
        state: HoldState::parse(&r.get::<_, String>(9)?),
        ended_at: r.get(10)?,
        released_by: r.get(11)?,
        release_reason: r.get(12)?,
        exports: Vec::new(),
    })
}

fn with_exports(c: &Connection, mut h: Hold) -> rusqlite::Result<Hold> {
    let mut st = c.prepare_cached(
        "SELECT camera, from_ms, to_ms, sha256, bytes, frames, actor, at_ms FROM hold_exports
         WHERE hold_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([h.id], |r| {
        Ok(HoldExport {
            camera: r.get(0)?,
            from: r.get(1)?,
            to: r.get(2)?,
            sha256: r.get(3)?,
            bytes: r.get::<_, i64>(4)? as u64,
            frames: r.get::<_, i64>(5)? as u64,
            actor: r.get(6)?,
            at: r.get(7)?,
        })
    })?;
    h.exports = rows.collect::<Result<_, _>>()?;
    Ok(h)
}

/// Every hold, newest first, with its exports.
pub(crate) fn all(c: &Connection) -> rusqlite::Result<Vec<Hold>> {
    let mut st = c.prepare_cached(&format!("SELECT {HOLD_COLS} FROM holds ORDER BY id DESC"))?;
    let holds = st.query_map([], hold_row)?.collect::<Result<Vec<_>, _>>()?;
    holds.into_iter().map(|h| with_exports(c, h)).collect()
}

pub(crate) fn one(c: &Connection, id: i64) -> rusqlite::Result<Option<Hold>> {
    let h = c.query_row(&format!("SELECT {HOLD_COLS} FROM holds WHERE id = ?1"), [id], hold_row).optional()?;
    h.map(|h| with_exports(c, h)).transpose()
}

/// Ends an active hold; false when it was no longer active (nothing changed).
pub(crate) fn end(
    c: &Connection,
    id: i64,
    state: HoldState,
    at: UnixMs,
    by: Option<&str>,
    reason: Option<&str>,
) -> rusqlite::Result<bool> {
    let n = c.execute(
        "UPDATE holds SET state = ?2, ended_at_ms = ?3, released_by = ?4, release_reason = ?5
         WHERE id = ?1 AND state = 'active'",
        params![id, state.as_str(), at, by, reason],
    )?;
    Ok(n == 1)
}

pub(crate) fn add_export(c: &Connection, hold: i64, e: &HoldExport) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO hold_exports (hold_id, camera, from_ms, to_ms, sha256, bytes, frames, actor, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![hold, e.camera, e.from, e.to, e.sha256, e.bytes as i64, e.frames as i64, e.actor, e.at],
    )?;
    Ok(())
}

/// A free-text field of a hold: trimmed, required, bounded, printable.
fn text(field: &str, what: &str, s: &str, max: usize) -> Result<String, ArchiveError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ArchiveError::BadRequest(format!("{field}: required ({what})")));
    }
    let n = t.chars().count();
    if n > max {
        return Err(ArchiveError::BadRequest(format!("{field}: too long, {n} characters (at most {max})")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ArchiveError::BadRequest(format!("{field}: control characters are not allowed")));
    }
    Ok(t.to_string())
}

fn audit_err(e: vigie_core::AuditError) -> ArchiveError {
    ArchiveError::Audit(e.to_string())
}

impl Archive {
    /// Places a hold after checking every field; audited as `hold.place`. `known_cameras` are
    /// the configured cameras; a camera with footage in the catalogue counts too (one taken
    /// down since can still be requisitioned). Nothing is stored when a field is wrong.
    pub fn place_hold(&self, actor: &str, new: &NewHold, known_cameras: &[String]) -> Result<Hold, ArchiveError> {
        let now = self.clock().now_ms();
        let reference = text("reference", "the requisition's reference", &new.reference, MAX_REFERENCE_CHARS)?;
        let reason = text("reason", "why the footage must be kept", &new.reason, MAX_HOLD_REASON_CHARS)?;
        if new.cameras.is_empty() {
            return Err(ArchiveError::BadRequest("cameras: name at least one camera".into()));
        }
        if new.cameras.len() > MAX_HOLD_CAMERAS {
            return Err(ArchiveError::BadRequest(format!("cameras: at most {MAX_HOLD_CAMERAS} per hold")));
        }
        let recorded = self.cameras()?;
        let mut cameras: Vec<String> = Vec::new();
        for c in &new.cameras {
            if !known_cameras.contains(c) && !recorded.contains(c) {
                return Err(ArchiveError::BadRequest(format!(
                    "cameras: unknown camera '{c}' (neither configured nor recorded)"
                )));
            }
            if cameras.contains(c) {
                return Err(ArchiveError::BadRequest(format!("cameras: '{c}' is named twice")));
            }
            cameras.push(c.clone());
        }
        if new.to_ms <= new.from_ms {
            return Err(ArchiveError::BadRequest(format!(
                "to: must be after from ({} is not after {})",
                new.to_ms.rfc3339(),
                new.from_ms.rfc3339()
            )));
        }
        if let Some(u) = new.until_ms {
            if u <= now {
                return Err(ArchiveError::BadRequest(format!(
                    "until: {} is in the past (now {}); leave it out to hold until released",
                    u.rfc3339(),
                    now.rfc3339()
                )));
            }
        }
        let clean = NewHold { cameras, reference, reason, ..new.clone() };
        let id = self.catalog().insert_hold(&clean, actor, now)?;
        let hold = self.catalog().hold(id)?.ok_or_else(|| ArchiveError::NotFound(format!("hold {id} vanished")))?;
        let details = serde_json::json!({
            "id": id,
            "reference": hold.reference,
            "reason": hold.reason,
            "cameras": hold.cameras,
            "from": hold.from.rfc3339(),
            "to": hold.to.rfc3339(),
            "until": hold.until.map(UnixMs::rfc3339),
        });
        if let Err(e) = self.audit().record(actor, AuditAction::HoldPlace, &format!("hold/{id}"), &details.to_string())
        {
            // A hold nobody can account for is not placed.
            let _ = self.catalog().delete_hold(id);
            return Err(audit_err(e));
        }
        tracing::info!(hold = id, reference = %hold.reference, "legal hold placed");
        Ok(hold)
    }

    /// Releases an active hold with a reason; audited as `hold.release`. Its footage is back
    /// under retention (the next pass deletes what is past the limit).
    pub fn release_hold(&self, id: i64, actor: &str, reason: &str) -> Result<Hold, ArchiveError> {
        let reason = text("reason", "why the hold is released", reason, MAX_HOLD_REASON_CHARS)?;
        let now = self.clock().now_ms();
        self.expire_holds(now)?;
        let hold = self.catalog().hold(id)?.ok_or_else(|| ArchiveError::NotFound(format!("no hold {id}")))?;
        if hold.state != HoldState::Active {
            return Err(ArchiveError::BadRequest(format!("hold {id} is already {}", hold.state.as_str())));
        }
        self.catalog().end_hold(id, HoldState::Released, now, Some(actor), Some(&reason))?;
        let details = serde_json::json!({"id": id, "reference": hold.reference, "reason": reason});
        self.audit()
            .record(actor, AuditAction::HoldRelease, &format!("hold/{id}"), &details.to_string())
            .map_err(audit_err)?;
        tracing::info!(hold = id, reference = %hold.reference, "legal hold released");
        self.catalog().hold(id)?.ok_or_else(|| ArchiveError::NotFound(format!("no hold {id}")))
    }

    /// Marks holds whose end date has passed as expired, each audited once as `hold.expire`.
    pub fn expire_holds(&self, now: UnixMs) -> Result<Vec<Hold>, ArchiveError> {
        let mut expired = Vec::new();
        for h in self.catalog().holds()? {
            let Some(until) = h.until else { continue };
            if h.state != HoldState::Active || until > now {
                continue;
            }
            if !self.catalog().end_hold(h.id, HoldState::Expired, until, None, None)? {
                continue; // another caller got there first
            }
            let details = serde_json::json!({
                "id": h.id, "reference": h.reference, "until": until.rfc3339(), "noticed_at": now.rfc3339(),
            });
            self.audit()
                .record("system", AuditAction::HoldExpire, &format!("hold/{}", h.id), &details.to_string())
                .map_err(audit_err)?;
            tracing::info!(hold = h.id, reference = %h.reference, "legal hold expired");
            expired.push(h);
        }
        Ok(expired)
    }

    /// Every hold, newest first (expired ones marked first).
    pub fn holds(&self) -> Result<Vec<Hold>, ArchiveError> {
        self.expire_holds(self.clock().now_ms())?;
        Ok(self.catalog().holds()?)
    }

    pub fn hold(&self, id: i64) -> Result<Hold, ArchiveError> {
        self.expire_holds(self.clock().now_ms())?;
        self.catalog().hold(id)?.ok_or_else(|| ArchiveError::NotFound(format!("no hold {id}")))
    }

    /// Holds protecting footage at `now` (expired ones marked and audited first).
    pub fn active_holds(&self, now: UnixMs) -> Result<Vec<Hold>, ArchiveError> {
        self.expire_holds(now)?;
        Ok(self.catalog().holds()?.into_iter().filter(|h| h.in_force(now)).collect())
    }

    /// Holds placed, released and expired in `[from, to)`, and in force at `to`.
    pub fn hold_counts(&self, from: UnixMs, to: UnixMs) -> Result<HoldCounts, ArchiveError> {
        self.expire_holds(self.clock().now_ms())?;
        let mut c = HoldCounts::default();
        let within = |t: UnixMs| from <= t && t < to;
        for h in self.catalog().holds()? {
            if within(h.placed_at) {
                c.placed += 1;
            }
            match (h.state, h.ended_at) {
                (HoldState::Released, Some(t)) if within(t) => c.released += 1,
                (HoldState::Expired, Some(t)) if within(t) => c.expired += 1,
                _ => {}
            }
            let ended_by_then = h.ended_at.is_some_and(|t| t <= to) || h.until.is_some_and(|u| u <= to);
            if h.placed_at < to && !ended_by_then {
                c.active += 1;
            }
        }
        Ok(c)
    }

    /// Exports footage of a hold, unblurred, for that hold only: `camera` must be one of its
    /// cameras and `[from, to]` within its range, and the hold in force. The footage goes
    /// through the one export path (privacy masks stay opaque there); the export's SHA-256 is
    /// recorded with the hold and audited as `hold.export` (the export itself as `export`).
    pub fn export_for_hold(
        &self,
        id: i64,
        camera: &str,
        from: UnixMs,
        to: UnixMs,
        actor: &str,
        stop: &StopToken,
    ) -> Result<(HoldExport, ExportResult, Vec<u8>), ArchiveError> {
        let now = self.clock().now_ms();
        let hold = self.hold(id)?;
        if !hold.in_force(now) {
            return Err(ArchiveError::BadRequest(format!(
                "hold {id} is {}: its footage is no longer exported unblurred",
                hold.state.as_str()
            )));
        }
        if !hold.cameras.iter().any(|c| c == camera) {
            return Err(ArchiveError::BadRequest(format!(
                "camera: '{camera}' is not under hold {id} (cameras: {})",
                hold.cameras.join(", ")
            )));
        }
        if from < hold.from || to > hold.to {
            return Err(ArchiveError::BadRequest(format!(
                "from/to: {} to {} is not within hold {id}'s range {} to {}",
                from.rfc3339(),
                to.rfc3339(),
                hold.from.rfc3339(),
                hold.to.rfc3339()
            )));
        }
        let req = ExportRequest {
            camera: camera.to_string(),
            from_ms: from,
            to_ms: to,
            blur_people: false,
            unmask_reason: Some(format!("legal hold #{id}, requisition {}", hold.reference)),
            actor: actor.to_string(),
        };
        let (res, mp4) = self.export_to_memory(&req, None, stop)?;
        let exp = HoldExport {
            camera: camera.to_string(),
            from,
            to,
            sha256: res.sha256.clone(),
            bytes: res.bytes,
            frames: res.frames,
            actor: actor.to_string(),
            at: now,
        };
        self.catalog().add_hold_export(id, &exp)?;
        let details = serde_json::json!({
            "id": id, "reference": hold.reference, "camera": camera, "from": from.rfc3339(), "to": to.rfc3339(),
            "sha256": exp.sha256, "bytes": exp.bytes, "frames": exp.frames,
        });
        self.audit()
            .record(actor, AuditAction::HoldExport, &format!("hold/{id}"), &details.to_string())
            .map_err(audit_err)?;
        Ok((exp, res, mp4))
    }
}

/// The holds among `holds` that cover `seg`.
pub(crate) fn covering<'a>(holds: &'a [Hold], seg: &SegmentRow) -> Vec<&'a Hold> {
    holds.iter().filter(|h| h.covers(seg)).collect()
}

impl HeldSegment {
    pub(crate) fn new(seg: &SegmentRow, holds: &[&Hold]) -> Self {
        Self {
            camera: seg.camera.clone(),
            start: seg.start_ms.rfc3339(),
            end: seg.end_ms.rfc3339(),
            sha256: seg.sha256.clone(),
            path: seg.path.clone(),
            bytes: seg.bytes,
            holds: holds.iter().map(|h| HoldRef { id: h.id, reference: h.reference.clone() }).collect(),
        }
    }
}
