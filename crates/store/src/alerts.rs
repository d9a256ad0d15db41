//! Alerts (one per rules-engine event id) and the operators' decisions on them.
//!
//! State machine (anything else is refused with a message saying why):
//!
//! ```text
//!   new ──confirm──▶ confirmed ──dispatch──▶ dispatched ──resolve──▶ resolved
//!    │                  │  ▲ │                 │   ▲
//!    │                  │  └─┘ resolve        └───┘ dispatch (another unit)
//!    └──dismiss──▶ dismissed ◀──dismiss── confirmed
//! ```
//!
//! A confirmed alert may still be dismissed (a closer look shows authorised activity); once a
//! patrol is on its way the alert can only be resolved, with a note, so that the dispatch is never
//! erased from the statistics. Dismissed and resolved are final.
//!
//! Shared work: an operator *holds* the alert they work on ([`Store::take`]); the others see who
//! and since when, and their actions on it are refused (409 naming the holder) until they take it
//! over explicitly (audited with the previous holder). Acting on an unheld alert takes it, in the
//! same conditional update as the state change, so of two operators acting at once exactly one
//! wins. A closed alert (dismissed, resolved) is held by nobody. These decisions run in
//! immediate transactions: the write lock is taken before reading, so a second process writing
//! the same catalogue waits and then decides on what the first wrote.

use crate::audit::append;
use crate::{write_atomic, Db, FreeText, Result, Store, StoreError, CLEAR_DIR, SNAPSHOT_DIR};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use vigie_core::{AuditAction, BBox, Event, EventPhase, EventType, PeakMeasure, RuleMode, UnixMs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    New,
    Confirmed,
    Dispatched,
    Resolved,
    Dismissed,
}

impl AlertState {
    pub const ALL: [AlertState; 5] =
        [AlertState::New, AlertState::Confirmed, AlertState::Dispatched, AlertState::Resolved, AlertState::Dismissed];

    pub fn as_str(&self) -> &'static str {
        match self {
            AlertState::New => "new",
            AlertState::Confirmed => "confirmed",
            AlertState::Dispatched => "dispatched",
            AlertState::Resolved => "resolved",
            AlertState::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Result<AlertState> {
        AlertState::ALL.iter().copied().find(|x| x.as_str() == s).ok_or_else(|| {
            StoreError::Invalid(format!(
                "unknown alert state '{s}': expected new, confirmed, dispatched, resolved or dismissed"
            ))
        })
    }

    /// Still needs an operator.
    pub fn is_open(&self) -> bool {
        matches!(self, AlertState::New | AlertState::Confirmed | AlertState::Dispatched)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    FalseDetection,
    AuthorisedActivity,
    Duplicate,
    /// Requires a free-text explanation.
    Other,
}

impl DismissReason {
    pub const ALL: [DismissReason; 4] = [
        DismissReason::FalseDetection,
        DismissReason::AuthorisedActivity,
        DismissReason::Duplicate,
        DismissReason::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DismissReason::FalseDetection => "false_detection",
            DismissReason::AuthorisedActivity => "authorised_activity",
            DismissReason::Duplicate => "duplicate",
            DismissReason::Other => "other",
        }
    }

    /// Accepts the list's names as written by people too: any case, spaces or hyphens for
    /// underscores, "authorized", "false alarm"/"false positive".
    pub fn parse(s: &str) -> Result<DismissReason> {
        let norm: String =
            s.trim().to_lowercase().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c }).collect();
        let norm = match norm.as_str() {
            "authorized_activity" => "authorised_activity",
            "false_alarm" | "false_positive" => "false_detection",
            n => n,
        };
        DismissReason::ALL.iter().copied().find(|x| x.as_str() == norm).ok_or_else(|| {
            StoreError::Invalid(format!(
                "unknown dismissal reason '{s}': expected false_detection, authorised_activity, duplicate or other"
            ))
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertAction {
    Confirm,
    Dismiss { reason: DismissReason, text: Option<String> },
    Dispatch { unit: String },
    Resolve { note: String },
}

impl AlertAction {
    pub fn name(&self) -> &'static str {
        match self {
            AlertAction::Confirm => "confirm",
            AlertAction::Dismiss { .. } => "dismiss",
            AlertAction::Dispatch { .. } => "dispatch",
            AlertAction::Resolve { .. } => "resolve",
        }
    }

    /// The action's reason and text as recorded, or why they are refused (an `other` dismissal
    /// without text, free text the trail cannot hold). Checked before anything is touched, also
    /// by callers that apply one action to many alerts.
    pub fn checked_texts(&self) -> Result<(Option<String>, Option<String>)> {
        Ok(match self {
            AlertAction::Confirm => (None, None),
            AlertAction::Dismiss { reason, text } => {
                let text = match (reason, text.as_deref().map(str::trim)) {
                    (DismissReason::Other, None | Some("")) => {
                        return Err(StoreError::Invalid("dismissal reason 'other' needs a text".into()))
                    }
                    (_, None | Some("")) => None,
                    (_, Some(t)) => Some(FreeText::parse("dismissal text", "text", t)?.into_string()),
                };
                (Some(reason.as_str().to_string()), text)
            }
            AlertAction::Dispatch { unit } => (None, Some(FreeText::parse("unit", "unit", unit)?.into_string())),
            AlertAction::Resolve { note } => {
                (None, Some(FreeText::parse("resolution note", "note", note)?.into_string()))
            }
        })
    }

    /// The trail's entry for this action (`alert.<name>`).
    pub fn audit_action(&self) -> AuditAction {
        match self {
            AlertAction::Confirm => AuditAction::AlertConfirm,
            AlertAction::Dismiss { .. } => AuditAction::AlertDismiss,
            AlertAction::Dispatch { .. } => AuditAction::AlertDispatch,
            AlertAction::Resolve { .. } => AuditAction::AlertResolve,
        }
    }
}

/// Order of the queue among open alerts: a person on the ground before a tag on a wall.
pub fn urgency(t: EventType) -> u8 {
    match t {
        EventType::PersonDown => 7,
        EventType::Intrusion => 6,
        EventType::VehicleInPedestrianZone => 5,
        EventType::Crowd => 4,
        EventType::WrongWay => 3,
        EventType::AbandonedObject => 2,
        EventType::Graffiti => 1,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub id: String,
    pub event_type: EventType,
    pub camera: String,
    pub zone: String,
    pub rule: String,
    pub rule_version: u32,
    /// Calibration alerts are reviewed by supervisors, never worked by operators.
    pub mode: RuleMode,
    /// A supervisor's mark on a calibration alert.
    pub review: Option<crate::calibration::Review>,
    pub legal_basis: String,
    pub started_at_ms: UnixMs,
    pub ended_at_ms: Option<UnixMs>,
    pub frame_seq: u64,
    pub track_ids: Vec<u64>,
    pub peak: PeakMeasure,
    pub region: Option<BBox>,
    pub model_sha256: String,
    pub state: AlertState,
    pub urgency: u8,
    pub has_snapshot: bool,
    pub has_clear_snapshot: bool,
    /// When the catalogue received the first event (the console's clock for time-to-decision).
    pub received_at_ms: UnixMs,
    pub updated_at_ms: UnixMs,
    /// The operator working on it (see [`Store::take`]); `None`: nobody.
    pub held_by: Option<String>,
    /// Since when `held_by` holds it.
    pub held_at_ms: Option<UnixMs>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub action: String,
    pub from_state: AlertState,
    pub to_state: AlertState,
    pub actor: String,
    pub at_ms: UnixMs,
    /// Dismissal reason.
    pub reason: Option<String>,
    /// Unit dispatched, resolution note, or the text of an "other" dismissal.
    pub text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IngestOutcome {
    pub alert: Alert,
    /// True for a new alert (what the console rings for), false for an update of a known one.
    pub created: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub state: Option<AlertState>,
    /// New, confirmed or dispatched only.
    pub open_only: bool,
    pub camera: Option<String>,
    pub since_ms: Option<UnixMs>,
    pub until_ms: Option<UnixMs>,
    /// 0 means the default (200).
    pub limit: u32,
    /// `false` (the default): live alerts only, the operators' queue; `true`: the calibration
    /// alerts only, the supervisors' review queue. The two never mix.
    pub calibration: bool,
    /// Only alerts of these cameras (what a caller's sectors cover); `None`: any camera.
    pub cameras: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmaskGrant {
    pub alert_id: String,
    pub username: String,
    pub reason: String,
    pub granted_at_ms: UnixMs,
    pub expires_at_ms: UnixMs,
}

/// File name for an alert id: the id itself when harmless, else its hash (ids come from config
/// names and must never steer a path).
fn file_stem(id: &str) -> String {
    let plain = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        id.to_string()
    } else {
        hex::encode(Sha256::digest(id.as_bytes()))
    }
}

pub(crate) const ALERT_COLS: &str =
    "id, event_type, camera, zone, rule, rule_version, legal_basis, started_at_ms, ended_at_ms, \
    frame_seq, track_ids, peak_kind, peak_value, region, model_sha256, state, urgency, snapshot_path, \
    clear_snapshot_path, received_at_ms, updated_at_ms, mode, review, reviewed_by, reviewed_at_ms, review_note, \
    held_by, held_at_ms";

pub(crate) fn row_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let t: String = r.get(1)?;
    let tracks: String = r.get(10)?;
    let region: Option<String> = r.get(13)?;
    let state: String = r.get(15)?;
    Ok(Alert {
        id: r.get(0)?,
        event_type: EventType::parse(&t).unwrap_or(EventType::Intrusion),
        camera: r.get(2)?,
        zone: r.get(3)?,
        rule: r.get(4)?,
        rule_version: r.get(5)?,
        mode: RuleMode::parse(&r.get::<_, String>(21)?).unwrap_or(RuleMode::Live),
        review: crate::calibration::row_review(r, 22)?,
        legal_basis: r.get(6)?,
        started_at_ms: r.get(7)?,
        ended_at_ms: r.get(8)?,
        frame_seq: r.get::<_, i64>(9)? as u64,
        track_ids: serde_json::from_str(&tracks).unwrap_or_default(),
        peak: PeakMeasure { kind: r.get(11)?, value: r.get(12)? },
        region: region.and_then(|s| serde_json::from_str(&s).ok()),
        model_sha256: r.get(14)?,
        state: AlertState::parse(&state).unwrap_or(AlertState::New),
        urgency: r.get::<_, i64>(16)? as u8,
        has_snapshot: r.get::<_, Option<String>>(17)?.is_some(),
        has_clear_snapshot: r.get::<_, Option<String>>(18)?.is_some(),
        received_at_ms: r.get(19)?,
        updated_at_ms: r.get(20)?,
        held_by: r.get(26)?,
        held_at_ms: r.get(27)?,
    })
}

fn refuse(id: &str, action: &AlertAction, state: AlertState) -> StoreError {
    let why = match (action, state) {
        (AlertAction::Confirm, AlertState::Confirmed | AlertState::Dispatched) => "it is already confirmed".into(),
        (AlertAction::Dismiss { .. }, AlertState::Dispatched) => {
            "a patrol has been dispatched: resolve it with a note instead".into()
        }
        (AlertAction::Dispatch { .. }, AlertState::New) => "confirm it before dispatching a patrol".into(),
        (AlertAction::Resolve { .. }, AlertState::New) => "confirm or dismiss it first".into(),
        (_, AlertState::Dismissed | AlertState::Resolved) => format!("it is already {} (final)", state.as_str()),
        _ => format!("not allowed from state {}", state.as_str()),
    };
    StoreError::Conflict(format!("cannot {} alert {id}: {why}", action.name()))
}

fn select_alert(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Alert> {
    tx.query_row(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = ?1"), [id], row_alert).db()
}

fn next_state(action: &AlertAction, from: AlertState) -> Option<AlertState> {
    use AlertState::*;
    match (action, from) {
        (AlertAction::Confirm, New) => Some(Confirmed),
        (AlertAction::Dismiss { .. }, New | Confirmed) => Some(Dismissed),
        (AlertAction::Dispatch { .. }, Confirmed | Dispatched) => Some(Dispatched),
        (AlertAction::Resolve { .. }, Confirmed | Dispatched) => Some(Resolved),
        _ => None,
    }
}

/// Who holds an alert and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    by: String,
    since: UnixMs,
}

impl Holder {
    /// Why someone else may not act: names the holder, so the operator knows whom to ask.
    fn refusal(&self) -> String {
        // Whole seconds: the milliseconds would only make the message harder to read.
        let since = UnixMs(self.since.0 - self.since.0.rem_euclid(1000)).rfc3339();
        format!("it is held by {} since {since}; take it over explicitly", self.by)
    }
}

/// What a hold decision reads of an alert, in the deciding transaction.
struct HoldRow {
    state: AlertState,
    calibration: bool,
    holder: Option<Holder>,
}

fn read_hold(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<HoldRow> {
    let row: Option<(String, String, Option<String>, Option<UnixMs>)> = tx
        .query_row("SELECT state, mode, held_by, held_at_ms FROM alerts WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .db()?;
    let (state, mode, by, since) = row.ok_or_else(|| StoreError::NotFound(format!("no alert '{id}'")))?;
    Ok(HoldRow {
        state: AlertState::parse(&state)?,
        calibration: mode == RuleMode::Calibration.as_str(),
        holder: by.map(|by| Holder { by, since: since.unwrap_or(UnixMs(0)) }),
    })
}

fn changed_meanwhile(id: &str, what: &str) -> StoreError {
    StoreError::Conflict(format!("cannot {what} alert {id}: it changed meanwhile; look at it again"))
}

/// The result of a take or release: the alert as it now is, and whether anything changed (taking
/// an alert one already holds, or releasing one nobody holds, changes nothing and is not audited).
#[derive(Debug, Clone, PartialEq)]
pub struct HoldChange {
    pub alert: Alert,
    pub changed: bool,
    /// On a takeover, who held it before.
    pub previous: Option<String>,
}

impl Store {
    fn evidence_path(&self, dir: &str, id: &str) -> (std::path::PathBuf, String) {
        let rel = format!("{dir}/{}.jpg", file_stem(id));
        (self.dir.join(&rel), rel)
    }

    fn write_evidence(&self, dir: &str, id: &str, jpeg: &[u8], private: bool) -> Result<String> {
        let full_dir = self.dir.join(dir);
        if !full_dir.exists() {
            std::fs::create_dir_all(&full_dir)?;
            #[cfg(unix)]
            if private {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&full_dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let (path, rel) = self.evidence_path(dir, id);
        write_atomic(&path, jpeg, private)?;
        Ok(rel)
    }

    /// Records an event from the rules engine: `Opened` creates the alert, `Updated` refreshes
    /// its measures, `Closed` sets its end. An update for an unknown id (e.g. after a restart)
    /// creates it. `clear_jpeg` is the unblurred evidence, kept apart for unmasking.
    pub fn ingest_event(&self, ev: &Event, clear_jpeg: Option<&[u8]>) -> Result<IngestOutcome> {
        if ev.id.is_empty() {
            return Err(StoreError::Invalid("event without id".into()));
        }
        // Pictures go with their row: written first, removed again if the row cannot be
        // (a full disk), unless an earlier row already names them. So no file is ever left
        // that no alert points to, and a retry writes both again.
        let before: Option<(Option<String>, Option<String>)> = self
            .conn
            .lock()
            .query_row("SELECT snapshot_path, clear_snapshot_path FROM alerts WHERE id = ?1", [&ev.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .db()?;
        let (had_snap, had_clear) = before.map_or((false, false), |(a, b)| (a.is_some(), b.is_some()));
        let mut written: Vec<String> = Vec::new();
        let res = self.write_files_and_row(ev, clear_jpeg, &mut written, had_snap, had_clear);
        if res.is_err() {
            for rel in &written {
                let _ = std::fs::remove_file(self.dir.join(rel));
            }
        }
        res
    }

    fn write_files_and_row(
        &self,
        ev: &Event,
        clear_jpeg: Option<&[u8]>,
        written: &mut Vec<String>,
        had_snap: bool,
        had_clear: bool,
    ) -> Result<IngestOutcome> {
        let snap =
            ev.snapshot_jpeg.as_ref().map(|j| self.write_evidence(SNAPSHOT_DIR, &ev.id, j, false)).transpose()?;
        if let Some(rel) = snap.as_ref().filter(|_| !had_snap) {
            written.push(rel.clone());
        }
        let clear = clear_jpeg.map(|j| self.write_evidence(CLEAR_DIR, &ev.id, j, true)).transpose()?;
        if let Some(rel) = clear.as_ref().filter(|_| !had_clear) {
            written.push(rel.clone());
        }
        let now = self.now_ms();
        let tracks = serde_json::to_string(&ev.track_ids).expect("ints serialise");
        let region = ev.region.map(|b| serde_json::to_string(&b).expect("boxes serialise"));
        let ended = match ev.phase {
            EventPhase::Closed => Some(ev.ended_at_ms.unwrap_or(now)),
            _ => ev.ended_at_ms,
        };
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let exists =
            tx.query_row("SELECT 1 FROM alerts WHERE id = ?1", [&ev.id], |_| Ok(())).optional().db()?.is_some();
        if exists {
            tx.execute(
                "UPDATE alerts SET frame_seq = ?2, track_ids = ?3, peak_kind = ?4, peak_value = ?5, \
                 region = COALESCE(?6, region), ended_at_ms = COALESCE(?7, ended_at_ms), \
                 snapshot_path = COALESCE(?8, snapshot_path), clear_snapshot_path = COALESCE(?9, clear_snapshot_path), \
                 updated_at_ms = ?10 WHERE id = ?1",
                params![
                    ev.id,
                    ev.frame_seq as i64,
                    tracks,
                    ev.peak.kind,
                    ev.peak.value,
                    region,
                    ended,
                    snap,
                    clear,
                    now
                ],
            )
            .db()?;
        } else {
            tx.execute(
                &format!(
                    "INSERT INTO alerts ({ALERT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
                     ?14, ?15, 'new', ?16, ?17, ?18, ?19, ?19, ?20, NULL, NULL, NULL, NULL, NULL, NULL)"
                ),
                params![
                    ev.id,
                    ev.event_type.as_str(),
                    ev.camera,
                    ev.zone,
                    ev.rule,
                    ev.rule_version,
                    ev.legal_basis,
                    ev.started_at_ms,
                    ended,
                    ev.frame_seq as i64,
                    tracks,
                    ev.peak.kind,
                    ev.peak.value,
                    region,
                    ev.model_sha256,
                    urgency(ev.event_type),
                    snap,
                    clear,
                    now,
                    ev.mode.as_str()
                ],
            )
            .db()?;
        }
        let alert =
            tx.query_row(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = ?1"), [&ev.id], row_alert).db()?;
        tx.commit().db()?;
        Ok(IngestOutcome { alert, created: !exists })
    }

    pub fn alert(&self, id: &str) -> Result<Alert> {
        let conn = self.conn.lock();
        conn.query_row(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = ?1"), [id], row_alert)
            .optional()
            .db()?
            .ok_or_else(|| StoreError::NotFound(format!("no alert '{id}'")))
    }

    /// The queue: open before closed, then most urgent, then newest.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>> {
        let conn = self.conn.lock();
        let mut st = conn
            .prepare(&format!(
                "SELECT {ALERT_COLS} FROM alerts WHERE (?1 IS NULL OR state = ?1) \
                 AND (?2 = 0 OR state IN ('new', 'confirmed', 'dispatched')) AND (?3 IS NULL OR camera = ?3) \
                 AND (?4 IS NULL OR started_at_ms >= ?4) AND (?5 IS NULL OR started_at_ms < ?5) \
                 AND (?7 IS NULL OR camera IN (SELECT value FROM json_each(?7))) AND mode = ?8 \
                 ORDER BY state IN ('new', 'confirmed', 'dispatched') DESC, state = 'new' DESC, urgency DESC, \
                 started_at_ms DESC LIMIT ?6"
            ))
            .db()?;
        let limit = if q.limit == 0 { 200 } else { q.limit.min(5000) };
        let cameras = q.cameras.as_ref().map(|c| serde_json::to_string(c).expect("strings serialise"));
        let rows = st
            .query_map(
                params![
                    q.state.map(|s| s.as_str()),
                    q.open_only as i64,
                    q.camera,
                    q.since_ms,
                    q.until_ms,
                    limit,
                    cameras,
                    if q.calibration { RuleMode::Calibration } else { RuleMode::Live }.as_str()
                ],
                row_alert,
            )
            .db()?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db()
    }

    pub fn decisions(&self, id: &str) -> Result<Vec<Decision>> {
        let conn = self.conn.lock();
        let mut st = conn
            .prepare(
                "SELECT action, from_state, to_state, actor, at_ms, reason, text FROM decisions WHERE alert_id = ?1 \
                 ORDER BY id",
            )
            .db()?;
        let rows = st
            .query_map([id], |r| {
                Ok(Decision {
                    action: r.get(0)?,
                    from_state: AlertState::parse(&r.get::<_, String>(1)?).unwrap_or(AlertState::New),
                    to_state: AlertState::parse(&r.get::<_, String>(2)?).unwrap_or(AlertState::New),
                    actor: r.get(3)?,
                    at_ms: r.get(4)?,
                    reason: r.get(5)?,
                    text: r.get(6)?,
                })
            })
            .db()?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db()
    }

    /// Applies an operator's action. The state change, the decision record and the audit entry
    /// commit together, or nothing changes.
    ///
    /// Refused (409) when another operator holds the alert; an unheld alert is taken by `actor`
    /// with the action, and a closing action (dismiss, resolve) drops the hold.
    pub fn act(&self, id: &str, actor: &str, action: &AlertAction) -> Result<Alert> {
        let (reason, text) = action.checked_texts()?;
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
        let cur = read_hold(&tx, id)?;
        if cur.calibration {
            return Err(StoreError::Conflict(format!(
                "cannot {} alert {id}: it comes from a rule in calibration; mark it right or wrong in the review queue",
                action.name()
            )));
        }
        if let Some(h) = cur.holder.as_ref().filter(|h| h.by != actor) {
            return Err(StoreError::Conflict(format!("cannot {} alert {id}: {}", action.name(), h.refusal())));
        }
        let from = cur.state;
        let to = next_state(action, from).ok_or_else(|| refuse(id, action, from))?;
        let (held_by, held_at) =
            if to.is_open() { (Some(actor), Some(cur.holder.as_ref().map_or(now, |h| h.since))) } else { (None, None) };
        // Conditional on what was read: under another writer of the same catalogue (a second
        // process), the loser changes nothing and is told so.
        let changed = tx
            .execute(
                "UPDATE alerts SET state = ?2, updated_at_ms = ?3, held_by = ?4, held_at_ms = ?5 \
                 WHERE id = ?1 AND state = ?6 AND (held_by IS NULL OR held_by = ?7)",
                params![id, to.as_str(), now, held_by, held_at, from.as_str(), actor],
            )
            .db()?;
        if changed == 0 {
            return Err(changed_meanwhile(id, action.name()));
        }
        tx.execute(
            "INSERT INTO decisions (alert_id, action, from_state, to_state, actor, at_ms, reason, text) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, action.name(), from.as_str(), to.as_str(), actor, now, reason, text],
        )
        .db()?;
        let mut details = serde_json::json!({"from": from, "to": to, "reason": reason, "text": text});
        if cur.holder.is_none() && to.is_open() {
            // The implicit take: the trail says from when this operator held it.
            details["took_hold"] = true.into();
        }
        append(&tx, now, actor, action.audit_action(), id, &details.to_string())?;
        let alert = tx.query_row(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = ?1"), [id], row_alert).db()?;
        tx.commit().db()?;
        Ok(alert)
    }

    /// `actor` takes (acknowledges) an open alert: from now on the others see who works on it and
    /// their actions on it are refused. An alert another operator holds is refused (409 naming
    /// them) unless `takeover`, which is audited with the previous holder. Taking an alert one
    /// already holds changes nothing.
    pub fn take(&self, id: &str, actor: &str, takeover: bool) -> Result<HoldChange> {
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
        let cur = read_hold(&tx, id)?;
        if cur.calibration {
            return Err(StoreError::Conflict(format!(
                "cannot take alert {id}: it comes from a rule in calibration; supervisors review it, nobody holds it"
            )));
        }
        if !cur.state.is_open() {
            return Err(StoreError::Conflict(format!(
                "cannot take alert {id}: it is already {} (final)",
                cur.state.as_str()
            )));
        }
        let previous = match &cur.holder {
            Some(h) if h.by == actor => {
                let alert = select_alert(&tx, id)?;
                return Ok(HoldChange { alert, changed: false, previous: None });
            }
            Some(h) if !takeover => {
                return Err(StoreError::Conflict(format!("cannot take alert {id}: {}", h.refusal())));
            }
            other => other.clone(),
        };
        let changed = tx
            .execute(
                "UPDATE alerts SET held_by = ?2, held_at_ms = ?3, updated_at_ms = ?3 \
                 WHERE id = ?1 AND state = ?4 AND held_by IS ?5",
                params![id, actor, now, cur.state.as_str(), previous.as_ref().map(|h| h.by.as_str())],
            )
            .db()?;
        if changed == 0 {
            return Err(changed_meanwhile(id, "take"));
        }
        match &previous {
            Some(p) => {
                let d = serde_json::json!({"previous": p.by, "previous_since_ms": p.since, "state": cur.state});
                append(&tx, now, actor, AuditAction::AlertTakeover, id, &d.to_string())?;
            }
            None => {
                let d = serde_json::json!({"state": cur.state});
                append(&tx, now, actor, AuditAction::AlertTake, id, &d.to_string())?;
            }
        }
        let alert = select_alert(&tx, id)?;
        tx.commit().db()?;
        Ok(HoldChange { alert, changed: true, previous: previous.map(|p| p.by) })
    }

    /// The holder lets an alert go (back to nobody's). Releasing an alert nobody holds changes
    /// nothing; one held by someone else is refused, naming them.
    pub fn release(&self, id: &str, actor: &str) -> Result<HoldChange> {
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
        let cur = read_hold(&tx, id)?;
        let held = match &cur.holder {
            None => {
                let alert = select_alert(&tx, id)?;
                return Ok(HoldChange { alert, changed: false, previous: None });
            }
            Some(h) if h.by != actor => {
                let why = format!("it is held by {}; only they can release it, or take it over first", h.by);
                return Err(StoreError::Conflict(format!("cannot release alert {id}: {why}")));
            }
            Some(h) => h.clone(),
        };
        let changed = tx
            .execute(
                "UPDATE alerts SET held_by = NULL, held_at_ms = NULL, updated_at_ms = ?3 WHERE id = ?1 AND held_by = ?2",
                params![id, actor, now],
            )
            .db()?;
        if changed == 0 {
            return Err(changed_meanwhile(id, "release"));
        }
        let d = serde_json::json!({"held_since_ms": held.since, "state": cur.state});
        append(&tx, now, actor, AuditAction::AlertRelease, id, &d.to_string())?;
        let alert = select_alert(&tx, id)?;
        tx.commit().db()?;
        Ok(HoldChange { alert, changed: true, previous: None })
    }

    /// Ends alerts still ongoing when a node starts: nothing runs yet, so they were left open by
    /// a node that stopped without closing them (a crash, `kill -9`, power loss). Each ends at its
    /// last update, the last time the node saw the situation, and is audited as
    /// `alert.interrupted` so that nobody reads its end as the situation's. Returns their ids.
    pub fn close_interrupted_alerts(&self) -> Result<Vec<String>> {
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let open: Vec<(String, UnixMs)> = {
            let mut st =
                tx.prepare("SELECT id, updated_at_ms FROM alerts WHERE ended_at_ms IS NULL ORDER BY id").db()?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()?
        };
        for (id, last_seen) in &open {
            tx.execute(
                "UPDATE alerts SET ended_at_ms = ?2, updated_at_ms = ?3 WHERE id = ?1",
                params![id, last_seen, now],
            )
            .db()?;
            let details = serde_json::json!({
                "ended_at_ms": last_seen,
                "why": "the node stopped without closing this alert; it ends at its last update",
            });
            append(&tx, now, "system", AuditAction::AlertInterrupted, id, &details.to_string())?;
        }
        tx.commit().db()?;
        Ok(open.into_iter().map(|(id, _)| id).collect())
    }

    /// The evidence picture: blurred, or the clear one (callers check the unmask grant first).
    pub fn snapshot(&self, id: &str, clear: bool) -> Result<Vec<u8>> {
        let col = if clear { "clear_snapshot_path" } else { "snapshot_path" };
        let rel: Option<String> = {
            let conn = self.conn.lock();
            conn.query_row(&format!("SELECT {col} FROM alerts WHERE id = ?1"), [id], |r| r.get(0))
                .optional()
                .db()?
                .ok_or_else(|| StoreError::NotFound(format!("no alert '{id}'")))?
        };
        let kind = if clear { "unblurred snapshot" } else { "snapshot" };
        let rel = rel.ok_or_else(|| StoreError::NotFound(format!("alert {id} has no {kind}")))?;
        std::fs::read(self.dir.join(&rel)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                StoreError::NotFound(format!("the {kind} of alert {id} is no longer kept (retention)"))
            }
            _ => StoreError::Internal(format!("cannot read {rel}: {e}")),
        })
    }

    /// Lets `username` see the unblurred evidence of one alert for `ttl`. Audited with the reason.
    pub fn grant_unmask(&self, alert_id: &str, username: &str, reason: &str, ttl: Duration) -> Result<UnmaskGrant> {
        let reason = FreeText::parse("unmask reason", "reason", reason)?.into_string();
        let now = self.now_ms();
        let expires = now.saturating_add(ttl);
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let exists = tx.query_row("SELECT 1 FROM alerts WHERE id = ?1", [alert_id], |_| Ok(())).optional().db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("no alert '{alert_id}'")));
        }
        tx.execute(
            "INSERT INTO unmask_grants (alert_id, username, reason, granted_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![alert_id, username, reason, now, expires],
        )
        .db()?;
        let details = serde_json::json!({"reason": reason, "expires_at_ms": expires});
        append(&tx, now, username, AuditAction::AlertUnmask, alert_id, &details.to_string())?;
        tx.commit().db()?;
        Ok(UnmaskGrant {
            alert_id: alert_id.into(),
            username: username.into(),
            reason,
            granted_at_ms: now,
            expires_at_ms: expires,
        })
    }

    /// The grant in force for this user and alert, if any.
    pub fn active_unmask(&self, alert_id: &str, username: &str) -> Result<Option<UnmaskGrant>> {
        let now = self.now_ms();
        let conn = self.conn.lock();
        conn.query_row(
            "SELECT alert_id, username, reason, granted_at_ms, expires_at_ms FROM unmask_grants \
             WHERE alert_id = ?1 AND username = ?2 AND expires_at_ms > ?3 ORDER BY expires_at_ms DESC LIMIT 1",
            params![alert_id, username, now],
            |r| {
                Ok(UnmaskGrant {
                    alert_id: r.get(0)?,
                    username: r.get(1)?,
                    reason: r.get(2)?,
                    granted_at_ms: r.get(3)?,
                    expires_at_ms: r.get(4)?,
                })
            },
        )
        .optional()
        .db()
    }
}

#[cfg(test)]
mod dismiss_reason_tests {
    use super::DismissReason;

    #[test]
    fn reasons_are_read_as_people_write_them() {
        assert_eq!(DismissReason::parse("false_detection").unwrap(), DismissReason::parse("False detection").unwrap());
        assert_eq!(DismissReason::parse("authorized-activity").unwrap().as_str(), "authorised_activity");
        assert_eq!(DismissReason::parse(" false alarm ").unwrap().as_str(), "false_detection");
        let e = DismissReason::parse("because").unwrap_err().to_string();
        assert!(e.contains("because") && e.contains("false_detection"), "{e}");
    }
}
