//! What the audit trail records, as one closed list, and the errors of the two sinks every stage
//! writes to ([`crate::AuditSink`], [`crate::EventSink`]).
//!
//! The text of each action ([`AuditAction::as_str`]) is what the hash-chained trail stores and
//! what auditors filter on by prefix (`alert.`, `login.`...): changing one would break every
//! trail already written, so the strings are fixed here once.

use serde::{Serialize, Serializer};

/// Every kind of access or change that is written to the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditAction {
    // Sessions.
    Login,
    LoginFailed,
    /// Refused before the password was checked (user name too long).
    LoginRefused,
    LoginRateLimited,
    Logout,
    PasswordChanged,
    // Refused requests.
    AccessUnauthenticated,
    AccessCsrfRefused,
    AccessDenied,
    /// Counts of refusals of anonymous callers after the first of a minute (see
    /// [`AuditAction::repeated`]).
    LoginRefusedRepeated,
    LoginRateLimitedRepeated,
    AccessUnauthenticatedRepeated,
    // Alerts.
    AlertsList,
    AlertsStream,
    AlertView,
    AlertSnapshotView,
    AlertClipView,
    AlertConfirm,
    AlertDismiss,
    AlertDispatch,
    AlertResolve,
    /// Closed by the node at start-up: it was open when the node last stopped.
    AlertInterrupted,
    AlertUnmask,
    /// An operator takes an unheld alert: the others see who works it and cannot act on it.
    AlertTake,
    /// An operator takes an alert another holds, explicitly (the previous holder recorded).
    AlertTakeover,
    /// The holder lets an alert go.
    AlertRelease,
    // Footage and search.
    LiveView,
    FootageView,
    /// Footage downloaded as a file from the console (the archive's own `export` entry, with the
    /// file's SHA-256, comes with it when the footage is the archive's).
    FootageExport,
    Export,
    Search,
    SearchSimilar,
    SearchThumbnailView,
    SearchThumbnailRefused,
    // Reports and the trail itself.
    ReportView,
    ReportExport,
    AuditView,
    /// The trail's entries matching a filter, downloaded as CSV.
    AuditExport,
    AuditVerify,
    // Accounts.
    UserAdd,
    UserDisable,
    UserPasswd,
    // Configuration.
    ConfigView,
    ConfigChange,
    ConfigReload,
    ConfigReloadFailed,
    // Archive housekeeping.
    RetentionDelete,
    ArchiveEvict,
    ArchiveReconcile,
    /// A user's sectors set (which cameras they see).
    UserSectors,
    /// A direct access to a camera outside the caller's sectors (answered as not found).
    AccessOutOfSector,
    // Rule calibration.
    CalibrationList,
    CalibrationReview,
    /// A rule leaves calibration: its calibration figures are recorded with the change.
    RuleGoLive,
    // Anonymous statistics (viewing them is not audited: they hold nobody).
    StatsExport,
    // Legal holds: footage kept past retention for a judicial or police procedure.
    HoldPlace,
    HoldRelease,
    /// The hold's end date passed: its footage is back under retention.
    HoldExpire,
    /// Unblurred footage exported under a hold, its SHA-256 recorded with the hold.
    HoldExport,
    /// Holds listed or one hold viewed.
    HoldView,
    // Privacy masks.
    /// A camera's mask set changed: its new version, with every mask's name and outline.
    PrivacyMasksChange,
}

impl AuditAction {
    pub const ALL: [AuditAction; 61] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::LoginRefused,
        AuditAction::LoginRateLimited,
        AuditAction::Logout,
        AuditAction::PasswordChanged,
        AuditAction::AccessUnauthenticated,
        AuditAction::AccessCsrfRefused,
        AuditAction::AccessDenied,
        AuditAction::LoginRefusedRepeated,
        AuditAction::LoginRateLimitedRepeated,
        AuditAction::AccessUnauthenticatedRepeated,
        AuditAction::AlertsList,
        AuditAction::AlertsStream,
        AuditAction::AlertView,
        AuditAction::AlertSnapshotView,
        AuditAction::AlertClipView,
        AuditAction::AlertConfirm,
        AuditAction::AlertDismiss,
        AuditAction::AlertDispatch,
        AuditAction::AlertResolve,
        AuditAction::AlertInterrupted,
        AuditAction::AlertUnmask,
        AuditAction::AlertTake,
        AuditAction::AlertTakeover,
        AuditAction::AlertRelease,
        AuditAction::LiveView,
        AuditAction::FootageView,
        AuditAction::FootageExport,
        AuditAction::Export,
        AuditAction::Search,
        AuditAction::SearchSimilar,
        AuditAction::SearchThumbnailView,
        AuditAction::SearchThumbnailRefused,
        AuditAction::ReportView,
        AuditAction::ReportExport,
        AuditAction::AuditView,
        AuditAction::AuditExport,
        AuditAction::AuditVerify,
        AuditAction::UserAdd,
        AuditAction::UserDisable,
        AuditAction::UserPasswd,
        AuditAction::ConfigView,
        AuditAction::ConfigChange,
        AuditAction::ConfigReload,
        AuditAction::ConfigReloadFailed,
        AuditAction::RetentionDelete,
        AuditAction::ArchiveEvict,
        AuditAction::ArchiveReconcile,
        AuditAction::UserSectors,
        AuditAction::AccessOutOfSector,
        AuditAction::CalibrationList,
        AuditAction::CalibrationReview,
        AuditAction::RuleGoLive,
        AuditAction::StatsExport,
        AuditAction::HoldPlace,
        AuditAction::HoldRelease,
        AuditAction::HoldExpire,
        AuditAction::HoldExport,
        AuditAction::HoldView,
        AuditAction::PrivacyMasksChange,
    ];

    /// The action as the trail stores it.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::LoginRefused => "login.refused",
            AuditAction::LoginRateLimited => "login.rate_limited",
            AuditAction::Logout => "logout",
            AuditAction::PasswordChanged => "user.password_changed",
            AuditAction::AccessUnauthenticated => "access.unauthenticated",
            AuditAction::AccessCsrfRefused => "access.csrf_refused",
            AuditAction::AccessDenied => "access.denied",
            AuditAction::LoginRefusedRepeated => "login.refused.repeated",
            AuditAction::LoginRateLimitedRepeated => "login.rate_limited.repeated",
            AuditAction::AccessUnauthenticatedRepeated => "access.unauthenticated.repeated",
            AuditAction::AlertsList => "alerts.list",
            AuditAction::AlertsStream => "alerts.stream",
            AuditAction::AlertView => "alert.view",
            AuditAction::AlertSnapshotView => "alert.snapshot.view",
            AuditAction::AlertClipView => "alert.clip.view",
            AuditAction::AlertConfirm => "alert.confirm",
            AuditAction::AlertDismiss => "alert.dismiss",
            AuditAction::AlertDispatch => "alert.dispatch",
            AuditAction::AlertResolve => "alert.resolve",
            AuditAction::AlertInterrupted => "alert.interrupted",
            AuditAction::AlertUnmask => "alert.unmask",
            AuditAction::AlertTake => "alert.take",
            AuditAction::AlertTakeover => "alert.takeover",
            AuditAction::AlertRelease => "alert.release",
            AuditAction::LiveView => "live.view",
            AuditAction::FootageView => "footage.view",
            AuditAction::FootageExport => "footage.export",
            AuditAction::Export => "export",
            AuditAction::Search => "search",
            AuditAction::SearchSimilar => "search.similar",
            AuditAction::SearchThumbnailView => "search.thumbnail.view",
            AuditAction::SearchThumbnailRefused => "search.thumbnail.refused",
            AuditAction::ReportView => "report.view",
            AuditAction::ReportExport => "report.export",
            AuditAction::AuditView => "audit.view",
            AuditAction::AuditExport => "audit.export",
            AuditAction::AuditVerify => "audit.verify",
            AuditAction::UserAdd => "user.add",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserPasswd => "user.passwd",
            AuditAction::ConfigView => "config.view",
            AuditAction::ConfigChange => "config.change",
            AuditAction::ConfigReload => "config.reload",
            AuditAction::ConfigReloadFailed => "config.reload_failed",
            AuditAction::RetentionDelete => "retention.delete",
            AuditAction::ArchiveEvict => "archive.evict",
            AuditAction::ArchiveReconcile => "archive.reconcile",
            AuditAction::UserSectors => "user.sectors",
            AuditAction::AccessOutOfSector => "access.out_of_sector",
            AuditAction::CalibrationList => "calibration.list",
            AuditAction::CalibrationReview => "calibration.review",
            AuditAction::RuleGoLive => "rule.go_live",
            AuditAction::StatsExport => "stats.export",
            AuditAction::HoldPlace => "hold.place",
            AuditAction::HoldRelease => "hold.release",
            AuditAction::HoldExpire => "hold.expire",
            AuditAction::HoldExport => "hold.export",
            AuditAction::HoldView => "hold.view",
            AuditAction::PrivacyMasksChange => "privacy_masks.change",
        }
    }

    /// The action of a stored entry; `None` for text no current version writes.
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The entry counting further refusals of this kind within a minute, for the refusals
    /// anonymous callers can repeat at will; `None` for every other action.
    pub fn repeated(&self) -> Option<AuditAction> {
        match self {
            AuditAction::LoginRefused => Some(AuditAction::LoginRefusedRepeated),
            AuditAction::LoginRateLimited => Some(AuditAction::LoginRateLimitedRepeated),
            AuditAction::AccessUnauthenticated => Some(AuditAction::AccessUnauthenticatedRepeated),
            _ => None,
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why an entry could not be written to the audit trail. Whatever was being audited must not go
/// ahead without its entry, so callers refuse the action on any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The entry itself is refused (a field the trail cannot hold).
    #[error("{0}")]
    Rejected(String),
    /// The trail could not be written (database locked, disk full...).
    #[error("{0}")]
    Unavailable(String),
}

/// Why an event could not be handed on by an [`crate::EventSink`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Neither stored nor queued: the queue of events waiting to be stored is full.
    #[error("alert {alert} not stored ({cause}) and {max} alerts already wait to be stored")]
    QueueFull { alert: String, cause: String, max: usize },
    /// The destination refused or could not take the event.
    #[error("{0}")]
    Unavailable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_text_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.as_str()), "{} listed or named twice", a.as_str());
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("note"), None);
    }

    #[test]
    fn repeats_keep_the_stored_naming() {
        for a in AuditAction::ALL {
            if let Some(r) = a.repeated() {
                assert_eq!(r.as_str(), format!("{}.repeated", a.as_str()));
            }
        }
        assert_eq!(AuditAction::AlertView.repeated(), None);
        assert_eq!(serde_json::to_string(&AuditAction::LoginFailed).unwrap(), "\"login.failed\"");
    }
}
