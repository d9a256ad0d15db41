//! Every route, once, with what it needs. The router is checked against this table at request
//! time (a route missing here answers 500) and `openapi.yaml` is checked against it by a test.

use vigie_store::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Perm {
    /// See the alert queue and details (no pictures).
    AlertsRead,
    /// Confirm, dismiss, dispatch, resolve.
    AlertsAct,
    /// Alert snapshots and clips (blurred).
    Evidence,
    /// Camera list and live pictures (blurred).
    Live,
    /// Grant oneself a time-limited view of one alert's unblurred evidence.
    Unmask,
    /// Transparency report (JSON and CSV export).
    Reports,
    /// Read and verify the audit trail.
    Audit,
    /// Archive search and its thumbnails.
    Search,
    Users,
    ConfigRead,
    ConfigEdit,
    /// Notification delivery status.
    NotifyStatus,
    /// Rules in calibration and their figures (no pictures).
    CalibrationRead,
    /// The review queue of calibration alerts: see them (blurred) and mark them right or wrong.
    CalibrationReview,
    /// Anonymous statistics: counts per zone, class and time, never a picture or a track.
    Stats,
    /// List and view legal holds (not their footage).
    HoldsRead,
    /// Place and release legal holds, and export held footage unblurred for its hold.
    HoldsManage,
    /// Download recorded footage as a file (blurred unless unmasked with a reason): a copy leaves
    /// the system, so a supervisor decides, as for a requisition.
    FootageExport,
}

impl Perm {
    pub const ALL: [Perm; 18] = [
        Perm::AlertsRead,
        Perm::AlertsAct,
        Perm::Evidence,
        Perm::Live,
        Perm::Unmask,
        Perm::Reports,
        Perm::Audit,
        Perm::Search,
        Perm::Users,
        Perm::ConfigRead,
        Perm::ConfigEdit,
        Perm::NotifyStatus,
        Perm::Stats,
        Perm::CalibrationRead,
        Perm::CalibrationReview,
        Perm::HoldsRead,
        Perm::HoldsManage,
        Perm::FootageExport,
    ];

    /// Name used in `GET /api/me` and the OpenAPI file.
    pub fn as_str(self) -> &'static str {
        match self {
            Perm::AlertsRead => "alerts_read",
            Perm::AlertsAct => "alerts_act",
            Perm::Evidence => "evidence",
            Perm::Live => "live",
            Perm::Unmask => "unmask",
            Perm::Reports => "reports",
            Perm::Audit => "audit",
            Perm::Search => "search",
            Perm::Users => "users",
            Perm::ConfigRead => "config_read",
            Perm::ConfigEdit => "config_edit",
            Perm::NotifyStatus => "notify_status",
            Perm::CalibrationRead => "calibration_read",
            Perm::CalibrationReview => "calibration_review",
            Perm::Stats => "stats",
            Perm::HoldsRead => "holds_read",
            Perm::HoldsManage => "holds_manage",
            Perm::FootageExport => "footage_export",
        }
    }

    pub fn allowed(self, role: Role) -> bool {
        use Perm::*;
        // Legal holds: supervisors and admins act on a requisition; the auditor (oversight)
        // reads what is held and why, and never sees footage.
        match (self, role) {
            (HoldsRead, Role::Supervisor | Role::Admin | Role::Auditor) => return true,
            (HoldsManage, Role::Supervisor | Role::Admin) => return true,
            (HoldsRead | HoldsManage, _) => return false,
            _ => {}
        }
        match role {
            Role::Operator => matches!(self, AlertsRead | AlertsAct | Evidence | Live | Search),
            Role::Supervisor => matches!(
                self,
                AlertsRead
                    | AlertsAct
                    | Evidence
                    | Live
                    | Search
                    | Unmask
                    | FootageExport
                    | Reports
                    | Stats
                    | CalibrationRead
                    | CalibrationReview
            ),
            // Admins place zones on the (blurred) live picture but do not work alerts; they see
            // the statistics to check the counting lines they draw, and set a calibrated rule
            // live, seeing its figures.
            Role::Admin => {
                matches!(self, Users | ConfigRead | ConfigEdit | Live | NotifyStatus | Stats | CalibrationRead)
            }
            // Read-only and never any image. Statistics are anonymous aggregates, and checking
            // what the system keeps is the auditor's job.
            Role::Auditor => matches!(self, Audit | Reports | Stats | CalibrationRead),
            // Statistics only: the lawful use that needs no access to people.
            Role::Analyst => matches!(self, Stats),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any logged-in user.
    Session,
    Perm(Perm),
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// axum path syntax, identical to the OpenAPI path.
    pub path: &'static str,
    pub access: Access,
    /// Says what is refused when the role lacks the right ("role auditor may not <summary>").
    pub summary: &'static str,
}

const fn r(method: &'static str, path: &'static str, access: Access, summary: &'static str) -> RouteSpec {
    RouteSpec { method, path, access, summary }
}

use Access::{Public, Session};
use Perm::*;

pub const ROUTES: &[RouteSpec] = &[
    r("GET", "/", Public, "load the console"),
    r("GET", "/assets/{file}", Public, "load console files"),
    r("GET", "/api/openapi.yaml", Public, "read the API description"),
    r("POST", "/api/login", Public, "log in"),
    r("POST", "/api/logout", Session, "log out"),
    r("GET", "/api/me", Session, "read their own session"),
    r("POST", "/api/me/password", Session, "change their own password"),
    r("GET", "/api/alerts", Access::Perm(AlertsRead), "list alerts"),
    r("GET", "/api/alerts/stream", Access::Perm(AlertsRead), "follow the live alert feed"),
    r("GET", "/api/alerts/{id}", Access::Perm(AlertsRead), "view an alert"),
    r("GET", "/api/alerts/{id}/snapshot", Access::Perm(Evidence), "view alert snapshots"),
    r("GET", "/api/alerts/{id}/clip", Access::Perm(Evidence), "view alert clips"),
    r("POST", "/api/alerts/{id}/confirm", Access::Perm(AlertsAct), "confirm alerts"),
    r("POST", "/api/alerts/{id}/dismiss", Access::Perm(AlertsAct), "dismiss alerts"),
    r("POST", "/api/alerts/{id}/dispatch", Access::Perm(AlertsAct), "dispatch patrols"),
    r("POST", "/api/alerts/{id}/resolve", Access::Perm(AlertsAct), "resolve alerts"),
    r("POST", "/api/alerts/{id}/unmask", Access::Perm(Unmask), "unmask evidence"),
    r("POST", "/api/alerts/{id}/take", Access::Perm(AlertsAct), "take alerts"),
    r("POST", "/api/alerts/{id}/release", Access::Perm(AlertsAct), "release alerts"),
    r("POST", "/api/alerts/dismiss", Access::Perm(AlertsAct), "dismiss alerts"),
    r("GET", "/api/cameras", Access::Perm(Live), "list cameras"),
    r("GET", "/api/cameras/{id}/live", Access::Perm(Live), "view live cameras"),
    r("GET", "/api/cameras/{id}/clip", Access::Perm(Evidence), "view recorded footage"),
    r("GET", "/api/cameras/{id}/export", Access::Perm(FootageExport), "export footage"),
    r("GET", "/api/search", Access::Perm(Search), "search the archive"),
    r("GET", "/api/search/thumbnails/{id}", Access::Perm(Search), "view search thumbnails"),
    r("GET", "/api/reports/transparency", Access::Perm(Reports), "read transparency reports"),
    r("GET", "/api/audit", Access::Perm(Audit), "read the audit trail"),
    r("GET", "/api/audit/verify", Access::Perm(Audit), "verify the audit trail"),
    r("GET", "/api/audit/export", Access::Perm(Audit), "export the audit trail"),
    r("GET", "/api/users", Access::Perm(Users), "list users"),
    r("POST", "/api/users", Access::Perm(Users), "create users"),
    r("POST", "/api/users/{name}/disable", Access::Perm(Users), "disable users"),
    r("POST", "/api/users/{name}/password", Access::Perm(Users), "set passwords"),
    r("GET", "/api/config", Access::Perm(ConfigRead), "read the configuration"),
    r("PUT", "/api/config", Access::Perm(ConfigEdit), "change the configuration"),
    r("GET", "/api/notifications", Access::Perm(NotifyStatus), "read notification status"),
    r("GET", "/api/calibration/alerts", Access::Perm(CalibrationReview), "review calibration alerts"),
    r("POST", "/api/calibration/alerts/{id}/review", Access::Perm(CalibrationReview), "review calibration alerts"),
    r("GET", "/api/calibration/rules", Access::Perm(CalibrationRead), "read calibration figures"),
    r("POST", "/api/calibration/rules/{camera}/{rule}/live", Access::Perm(ConfigEdit), "set rules live"),
    r("POST", "/api/users/{name}/sectors", Access::Perm(Users), "assign users to sectors"),
    r("GET", "/api/stats", Access::Perm(Stats), "read statistics"),
    r("GET", "/api/stats/zones", Access::Perm(Stats), "list counting zones"),
    r("GET", "/api/holds", Access::Perm(HoldsRead), "list legal holds"),
    r("POST", "/api/holds", Access::Perm(HoldsManage), "place legal holds"),
    r("GET", "/api/holds/{id}", Access::Perm(HoldsRead), "view legal holds"),
    r("POST", "/api/holds/{id}/release", Access::Perm(HoldsManage), "release legal holds"),
    r("GET", "/api/holds/{id}/export", Access::Perm(HoldsManage), "export held footage"),
    // Scrapers, load balancers and supervisors have no session: /metrics checks its own access
    // (`server.metrics_access`); the other two say nothing personal.
    r("GET", "/metrics", Public, "read metrics"),
    r("GET", "/healthz", Public, "check that the node is alive"),
    r("GET", "/readyz", Public, "check that the node is ready"),
    r("GET", "/api/cameras/{id}/privacy_masks", Access::Perm(ConfigRead), "read privacy masks"),
    r("PUT", "/api/cameras/{id}/privacy_masks", Access::Perm(ConfigEdit), "change privacy masks"),
];

/// What a user whose password someone else chose (first start, administrator's reset) may do
/// before setting their own: see who they are, set it, or leave.
pub const BEFORE_PASSWORD_CHANGE: &[(&str, &str)] =
    &[("GET", "/api/me"), ("POST", "/api/logout"), ("POST", "/api/me/password")];

pub fn find(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
