//! What the server, the node and the command line use of the catalogue, as three traits: alerts
//! and their evidence, the audit trail, accounts and sessions. [`Store`] (SQLite and the data
//! folder) implements all three with the methods of the same names; a catalogue shared by
//! several nodes (PostgreSQL) implements them again. No SQLite or file-system type crosses them:
//! evidence pictures go in with the alert and come out as bytes.

use crate::Session;
use crate::{
    Alert, AlertAction, AlertQuery, AuditBreak, AuditEntry, AuditQuery, AuditSummary, CalibrationFigures, Checkpoint,
    CheckpointError, Decision, HoldChange, IngestOutcome, LoginOutcome, MaskSet, MaskSource, NodeKey, PrivacyMask,
    Result, Role, SessionLookup, Store, TransparencyReport, UnmaskGrant, User, Verdict,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{AuditAction, AuditSink, Clock, Event, UnixMs};

/// Alerts, the decisions taken on them, their evidence pictures and who may see them unblurred.
pub trait AlertStore: Send + Sync {
    /// The clock that stamps alerts and decisions; whoever shows an alert not stored yet stamps it
    /// with the same one.
    fn clock(&self) -> &Arc<dyn Clock>;
    /// Creates or updates the alert of an event, with its blurred snapshot (in the event) and its
    /// unblurred one (`clear_jpeg`).
    fn ingest_event(&self, ev: &Event, clear_jpeg: Option<&[u8]>) -> Result<IngestOutcome>;
    fn alert(&self, id: &str) -> Result<Alert>;
    fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>>;
    fn decisions(&self, id: &str) -> Result<Vec<Decision>>;
    /// An operator's action: state change, decision and audit entry, all or nothing. Refused
    /// when another operator holds the alert; takes an unheld one; a closing action drops the hold.
    fn act(&self, id: &str, actor: &str, action: &AlertAction) -> Result<Alert>;
    /// Takes an open alert (or, with `takeover`, one another operator holds), audited.
    fn take(&self, id: &str, actor: &str, takeover: bool) -> Result<HoldChange>;
    /// The holder lets the alert go (audited); nobody's alert: no change; another's: refused.
    fn release(&self, id: &str, actor: &str) -> Result<HoldChange>;
    /// Closes the alerts left open by a node that stopped; returns their ids.
    fn close_interrupted_alerts(&self) -> Result<Vec<String>>;
    /// The evidence picture (JPEG): blurred, or the clear one (callers check the grant first).
    fn snapshot(&self, id: &str, clear: bool) -> Result<Vec<u8>>;
    fn grant_unmask(&self, alert_id: &str, username: &str, reason: &str, ttl: Duration) -> Result<UnmaskGrant>;
    fn active_unmask(&self, alert_id: &str, username: &str) -> Result<Option<UnmaskGrant>>;
    /// Counts per camera, rule and outcome over `[from_ms, to_ms)`, with the trail's head.
    fn transparency(&self, from_ms: UnixMs, to_ms: UnixMs) -> Result<TransparencyReport>;
    /// A supervisor marks a calibration alert right or wrong (audited with the mark).
    fn review(&self, id: &str, actor: &str, verdict: Verdict, note: Option<&str>) -> Result<Alert>;
    /// One rule's calibration figures over its alerts started in `[from, until)`.
    fn calibration_figures(
        &self,
        camera: &str,
        rule: &str,
        from: Option<UnixMs>,
        until: UnixMs,
    ) -> Result<CalibrationFigures>;
}

/// The hash-chained, append-only audit trail and its signed checkpoints. Stages that only write
/// to it take it as an [`AuditSink`].
pub trait AuditTrail: AuditSink {
    /// Appends one entry; `details` is stored as compact JSON.
    fn append(&self, actor: &str, action: AuditAction, target: &str, details: &serde_json::Value)
        -> Result<AuditEntry>;
    /// Newest first.
    fn entries(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>>;
    /// Walks the whole chain: `Ok` when intact, else the first entry that fails.
    fn verify(&self) -> Result<Result<AuditSummary, AuditBreak>>;
    /// Signs the head, verifying only what follows `previous` (a checkpoint this node made).
    fn checkpoint_after(&self, key: &NodeKey, previous: Option<&Checkpoint>) -> Result<Result<Checkpoint, AuditBreak>>;
    /// As [`AuditTrail::checkpoint_after`], and keeps the checkpoint where auditors collect
    /// them; returns where.
    fn write_checkpoint(
        &self,
        key: &NodeKey,
        previous: Option<&Checkpoint>,
    ) -> Result<Result<(Checkpoint, PathBuf), AuditBreak>>;
    /// Whether the trail still holds the checkpoint's entry with its hash.
    fn verify_against(&self, cp: &Checkpoint) -> Result<Result<AuditSummary, CheckpointError>>;
}

/// Every version of each camera's privacy masks ([`crate::masks`]).
pub trait MaskVersions: Send + Sync {
    /// The camera's latest recorded set (version 0 when none was).
    fn privacy_masks(&self, camera: &str) -> Result<MaskSet>;
    /// Records the set in force; a new version (audited) only when it differs from the latest.
    fn record_privacy_masks(
        &self,
        camera: &str,
        masks: &[PrivacyMask],
        actor: &str,
        source: MaskSource,
        picture: Option<(u32, u32)>,
    ) -> Result<(MaskSet, bool)>;
}

impl MaskVersions for Store {
    fn privacy_masks(&self, camera: &str) -> Result<MaskSet> {
        Store::privacy_masks(self, camera)
    }
    fn record_privacy_masks(
        &self,
        camera: &str,
        masks: &[PrivacyMask],
        actor: &str,
        source: MaskSource,
        picture: Option<(u32, u32)>,
    ) -> Result<(MaskSet, bool)> {
        Store::record_privacy_masks(self, camera, masks, actor, source, picture)
    }
}

/// Users, their passwords and their sessions.
pub trait Accounts: Send + Sync {
    fn add_user(&self, username: &str, password: &str, role: Role) -> Result<User>;
    fn set_must_change_password(&self, username: &str, must: bool) -> Result<()>;
    /// Sets a password; `temporary` makes the user choose their own at next login.
    fn set_password_as(&self, username: &str, password: &str, temporary: bool) -> Result<()>;
    /// A user's own change: checks `old`, closes every other session than `keep_session`.
    fn change_own_password(&self, username: &str, old: &str, new: &str, keep_session: &str) -> Result<()>;
    fn disable_user(&self, username: &str) -> Result<()>;
    fn user(&self, username: &str) -> Result<User>;
    fn users(&self) -> Result<Vec<User>>;
    fn authenticate(&self, username: &str, password: &str) -> Result<LoginOutcome>;
    fn create_session(&self, user: &User, ttl: Duration) -> Result<Session>;
    fn session(&self, token: &str) -> Result<SessionLookup>;
    fn delete_session(&self, token: &str) -> Result<()>;
    /// Creates `username` as the first administrator when there is no user at all; returns the
    /// generated password then.
    fn bootstrap_admin(&self, username: &str) -> Result<Option<String>>;
    /// Assigns a user to sectors (replacing theirs); none: city-wide.
    fn set_sectors(&self, username: &str, sectors: &[String]) -> Result<User>;
}

impl AlertStore for Store {
    fn clock(&self) -> &Arc<dyn Clock> {
        Store::clock(self)
    }
    fn ingest_event(&self, ev: &Event, clear_jpeg: Option<&[u8]>) -> Result<IngestOutcome> {
        Store::ingest_event(self, ev, clear_jpeg)
    }
    fn alert(&self, id: &str) -> Result<Alert> {
        Store::alert(self, id)
    }
    fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>> {
        Store::alerts(self, q)
    }
    fn decisions(&self, id: &str) -> Result<Vec<Decision>> {
        Store::decisions(self, id)
    }
    fn act(&self, id: &str, actor: &str, action: &AlertAction) -> Result<Alert> {
        Store::act(self, id, actor, action)
    }
    fn take(&self, id: &str, actor: &str, takeover: bool) -> Result<HoldChange> {
        Store::take(self, id, actor, takeover)
    }
    fn release(&self, id: &str, actor: &str) -> Result<HoldChange> {
        Store::release(self, id, actor)
    }
    fn close_interrupted_alerts(&self) -> Result<Vec<String>> {
        Store::close_interrupted_alerts(self)
    }
    fn snapshot(&self, id: &str, clear: bool) -> Result<Vec<u8>> {
        Store::snapshot(self, id, clear)
    }
    fn grant_unmask(&self, alert_id: &str, username: &str, reason: &str, ttl: Duration) -> Result<UnmaskGrant> {
        Store::grant_unmask(self, alert_id, username, reason, ttl)
    }
    fn active_unmask(&self, alert_id: &str, username: &str) -> Result<Option<UnmaskGrant>> {
        Store::active_unmask(self, alert_id, username)
    }
    fn transparency(&self, from_ms: UnixMs, to_ms: UnixMs) -> Result<TransparencyReport> {
        Store::transparency(self, from_ms, to_ms)
    }
    fn review(&self, id: &str, actor: &str, verdict: Verdict, note: Option<&str>) -> Result<Alert> {
        Store::review(self, id, actor, verdict, note)
    }
    fn calibration_figures(
        &self,
        camera: &str,
        rule: &str,
        from: Option<UnixMs>,
        until: UnixMs,
    ) -> Result<CalibrationFigures> {
        Store::calibration_figures(self, camera, rule, from, until)
    }
}

impl AuditTrail for Store {
    fn append(
        &self,
        actor: &str,
        action: AuditAction,
        target: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry> {
        Store::record(self, actor, action, target, details)
    }
    fn entries(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        Store::audit_entries(self, q)
    }
    fn verify(&self) -> Result<Result<AuditSummary, AuditBreak>> {
        Store::verify_audit(self)
    }
    fn checkpoint_after(&self, key: &NodeKey, previous: Option<&Checkpoint>) -> Result<Result<Checkpoint, AuditBreak>> {
        Store::checkpoint_after(self, key, previous)
    }
    fn write_checkpoint(
        &self,
        key: &NodeKey,
        previous: Option<&Checkpoint>,
    ) -> Result<Result<(Checkpoint, PathBuf), AuditBreak>> {
        Store::write_checkpoint(self, key, previous)
    }
    fn verify_against(&self, cp: &Checkpoint) -> Result<Result<AuditSummary, CheckpointError>> {
        Store::verify_against(self, cp)
    }
}

impl Accounts for Store {
    fn add_user(&self, username: &str, password: &str, role: Role) -> Result<User> {
        Store::add_user(self, username, password, role)
    }
    fn set_must_change_password(&self, username: &str, must: bool) -> Result<()> {
        Store::set_must_change_password(self, username, must)
    }
    fn set_password_as(&self, username: &str, password: &str, temporary: bool) -> Result<()> {
        Store::set_password_as(self, username, password, temporary)
    }
    fn change_own_password(&self, username: &str, old: &str, new: &str, keep_session: &str) -> Result<()> {
        Store::change_own_password(self, username, old, new, keep_session)
    }
    fn disable_user(&self, username: &str) -> Result<()> {
        Store::disable_user(self, username)
    }
    fn user(&self, username: &str) -> Result<User> {
        Store::user(self, username)
    }
    fn users(&self) -> Result<Vec<User>> {
        Store::users(self)
    }
    fn authenticate(&self, username: &str, password: &str) -> Result<LoginOutcome> {
        Store::authenticate(self, username, password)
    }
    fn create_session(&self, user: &User, ttl: Duration) -> Result<Session> {
        Store::create_session(self, user, ttl)
    }
    fn session(&self, token: &str) -> Result<SessionLookup> {
        Store::session(self, token)
    }
    fn delete_session(&self, token: &str) -> Result<()> {
        Store::delete_session(self, token)
    }
    fn bootstrap_admin(&self, username: &str) -> Result<Option<String>> {
        Store::bootstrap_admin(self, username)
    }
    fn set_sectors(&self, username: &str, sectors: &[String]) -> Result<User> {
        Store::set_sectors(self, username, sectors)
    }
}
