//! Sectors over every route: each role, city-wide or assigned to sectors, sees exactly the cameras
//! of its sectors, and an object of another sector answers as one that does not exist. Real
//! catalogue, real router, real track index; pictures and footage come from small providers.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{event, jpeg, password, Resp, T0_MS};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use vigie_core::{EventType, SimClock, UnixMs};
use vigie_search::{TrackIndex, TrackRecord};
use vigie_server::*;
use vigie_store::{Role, Store};

/// c1 is in the centre, g1 at the station, `loose` in no sector; `port` is a sector without
/// cameras.
const CAMERAS: [&str; 3] = ["c1", "g1", "loose"];

fn sectors() -> SectorMap {
    SectorMap::new(
        vec![
            SectorInfo { id: "centre".into(), name: "Centre-ville".into() },
            SectorInfo { id: "gare".into(), name: "Gare".into() },
            SectorInfo { id: "port".into(), name: "Port".into() },
        ],
        [("c1".to_string(), "centre".to_string()), ("g1".to_string(), "gare".to_string())],
    )
}

/// (user, role, sectors).
const USERS: &[(&str, Role, &[&str])] = &[
    ("op", Role::Operator, &[]),
    ("sup", Role::Supervisor, &[]),
    ("adm", Role::Admin, &[]),
    ("aud", Role::Auditor, &[]),
    ("op_c", Role::Operator, &["centre"]),
    ("sup_c", Role::Supervisor, &["centre"]),
    ("adm_c", Role::Admin, &["centre"]),
    ("aud_c", Role::Auditor, &["centre"]),
    ("op_g", Role::Operator, &["gare"]),
    ("sup_cg", Role::Supervisor, &["centre", "gare"]),
    ("op_p", Role::Operator, &["port"]),
];

/// What each user must see: the rule of `vigie_server::scope`, written out by hand.
fn sees(user: &str) -> BTreeSet<&'static str> {
    let s: &[&str] = match user {
        "op" | "sup" | "adm" | "aud" => &CAMERAS,
        "op_c" | "sup_c" | "adm_c" | "aud_c" => &["c1"],
        "op_g" => &["g1"],
        "sup_cg" => &["c1", "g1"],
        "op_p" => &[],
        other => panic!("no such user {other}"),
    };
    s.iter().copied().collect()
}

struct Live;

impl LiveView for Live {
    fn cameras(&self) -> Vec<CameraStatus> {
        CAMERAS
            .iter()
            .map(|id| CameraStatus {
                id: id.to_string(),
                name: format!("Camera {id}"),
                width: 64,
                height: 48,
                health: CameraHealth { connected: true, fps: 7.0, last_error: None, details: Default::default() },
                zones: vec![],
            })
            .collect()
    }
    fn jpeg(&self, camera: &str) -> Option<Vec<u8>> {
        CAMERAS.contains(&camera).then(|| jpeg(90))
    }
}

struct Footage;

impl ClipProvider for Footage {
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        if !CAMERAS.contains(&req.camera) {
            return Err(ClipError::NotAvailable(format!("no footage of camera {} is kept for that time", req.camera)));
        }
        Ok(Clip::Frames { fps: 25.0, jpegs: vec![jpeg(10); 2] })
    }
}

/// The node's search provider over a real track index (as `vigie run` builds it).
struct Index(TrackIndex);

impl SearchProvider for Index {
    fn search(&self, actor: &str, p: &SearchParams) -> Result<vigie_search::SearchResult, SearchFailure> {
        let now = UnixMs(T0_MS + 60_000).into();
        match self.0.search_params(p, actor, now, &jiff::tz::TimeZone::UTC, &vigie_core::NoAudit) {
            Ok(r) => Ok(r),
            Err(e) if e.is_client_error() => Err(SearchFailure::BadQuery(e.to_string())),
            Err(e) => Err(SearchFailure::Failed(e.to_string())),
        }
    }
    fn thumbnail(&self, id: &str) -> Option<Vec<u8>> {
        self.0.thumbnail(id.parse().ok()?).ok().flatten()
    }
}

/// Scenes by camera, refusing cameras the node lacks with the node's own words.
struct Scenes(Mutex<serde_json::Value>);

impl ConfigAdmin for Scenes {
    fn current(&self) -> serde_json::Value {
        self.0.lock().clone()
    }
    fn apply(&self, _actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<vigie_core::ConfigError>> {
        let mut cur = self.0.lock();
        for c in new["cameras"].as_array().cloned().unwrap_or_default() {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            let Some(slot) = cur["cameras"].as_array_mut().unwrap().iter_mut().find(|x| x["id"] == id.as_str()) else {
                return Err(vec![vigie_core::ConfigError::new(
                    format!("cameras.{id}"),
                    "is not a camera of this node (cameras are added in vigie.toml, then restart)",
                )]);
            };
            *slot = c;
        }
        Ok(cur.clone())
    }
}

struct S {
    archive: Arc<vigie_footage::Archive>,
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    hub: Arc<AlertHub>,
    router: axum::Router,
}

struct Sess {
    cookie: String,
    csrf: String,
}

fn harness() -> S {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(Store::open(dir.path(), Arc::new(clock)).unwrap());
    for (name, role, secs) in USERS {
        store.add_user(name, &password(name), *role).unwrap();
        store.set_sectors(name, &secs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    }
    let ix = TrackIndex::open(dir.path().join("tracks.db")).unwrap();
    ix.register_classes(&vigie_core::ClassMap::new(vec!["person".into(), "car".into()])).unwrap();
    for (i, cam) in CAMERAS.iter().enumerate() {
        ix.register_camera(cam, &[]).unwrap();
        ix.insert(&TrackRecord {
            camera: cam.to_string(),
            track_id: i as u64 + 1,
            class: "car".into(),
            start_ms: UnixMs(T0_MS),
            end_ms: UnixMs(T0_MS + 5000),
            zones: vec![],
            direction: None,
            displacement_px: 10.0,
            color: None,
            mean_width: 40.0,
            mean_height: 30.0,
            observations: 10,
            event_ids: vec![],
            descriptor: None,
            thumbnail_jpeg: Some(jpeg(50)),
        })
        .unwrap();
    }
    let hub = AlertHub::new(store.clone(), None);
    let archive =
        vigie_footage::Archive::open(dir.path(), Default::default(), Arc::new(clock_for_archive()), store.clone())
            .unwrap();
    // Every camera has a rule in calibration, for the calibration routes.
    let calibrating = serde_json::json!([{"id": "r", "type": "crowd", "mode": "calibration", "version": 1}]);
    let scenes = serde_json::json!({"events": {}, "cameras": CAMERAS.iter().map(|c| serde_json::json!({"id": c, "rules": calibrating})).collect::<Vec<_>>()});
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(Live),
        clips: Arc::new(Footage),
        search: Some(Arc::new(Index(ix))),
        config_admin: Some(Arc::new(Scenes(Mutex::new(scenes)))),
        notify_status: None,
        config: ServerConfig::default(),
    })
    .with_sectors(sectors())
    .with_holds(archive.clone());
    // One legal hold per camera: ids 1, 2, 3 in the order of CAMERAS.
    let known: Vec<String> = CAMERAS.iter().map(|c| c.to_string()).collect();
    for cam in CAMERAS {
        let new = vigie_footage::NewHold {
            cameras: vec![cam.into()],
            from_ms: UnixMs(T0_MS),
            to_ms: UnixMs(T0_MS + 10_000),
            reference: format!("PV {cam}"),
            reason: "requisition".into(),
            until_ms: None,
        };
        archive.place_hold("setup", &new, &known).unwrap();
    }
    let s = S { router: server.router(), _dir: dir, store, hub, archive };
    for cam in CAMERAS {
        s.publish(&alert_of(cam), cam);
        let mut cal = event(&format!("cal-{cam}"), EventType::Crowd, cam);
        cal.mode = vigie_core::RuleMode::Calibration;
        s.hub.publish_with(&cal, PublishExtras::default()).unwrap();
    }
    s
}

fn alert_of(cam: &str) -> String {
    format!("alert-{cam}")
}

impl S {
    fn publish(&self, id: &str, cam: &str) {
        self.hub
            .publish_with(
                &event(id, EventType::Crowd, cam),
                PublishExtras { clear_jpeg: Some(&jpeg(200)), fired_at_ms: None },
            )
            .unwrap();
    }

    fn session(&self, name: &str) -> Sess {
        let user = self.store.user(name).unwrap();
        let s = self.store.create_session(&user, Duration::from_secs(3600)).unwrap();
        Sess { cookie: format!("vigie_session={}", s.token), csrf: s.csrf_token }
    }

    async fn call(&self, method: &str, path: &str, sess: &Sess, body: Option<&str>) -> Resp {
        let mut b = Request::builder().method(method).uri(path).header("cookie", &sess.cookie);
        if method != "GET" {
            b = b.header("x-csrf-token", &sess.csrf);
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let req = b.body(body.map(|s| Body::from(s.to_string())).unwrap_or_else(Body::empty)).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp { status, headers, body }
    }

    /// The newest audit entry: (actor, action, target).
    fn last_audit(&self) -> (String, String, String) {
        let e = self.store.audit_entries(&vigie_store::AuditQuery { limit: 1, ..Default::default() }).unwrap();
        (e[0].actor.clone(), e[0].action.clone(), e[0].target.clone())
    }

    fn states(&self) -> Vec<(String, String)> {
        let q = vigie_store::AlertQuery { limit: 100, ..Default::default() };
        self.store.alerts(&q).unwrap().into_iter().map(|a| (a.id, a.state.as_str().to_string())).collect()
    }
}

/// How sectors apply to a route.
enum Rule {
    /// Nothing of a camera passes through it.
    NoCamera,
    /// One camera's object in the path (or body): built from the camera id; an unknown object
    /// is built from `nosuch`.
    Object(fn(&str) -> (String, Option<String>)),
    /// A list naming cameras: the path, and the cameras of an answer.
    List(&'static str, fn(&serde_json::Value) -> Vec<String>),
    /// Checked by its own test below (named).
    Own(&'static str),
}

fn cameras_in(v: &serde_json::Value, list: &str, key: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no '{list}' in {v}"))
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

fn alert_path(suffix: &'static str) -> fn(&str) -> (String, Option<String>) {
    // One function per suffix (fn pointers cannot capture).
    match suffix {
        "" => |c| (format!("/api/alerts/{}", alert_of(c)), None),
        "/snapshot" => |c| (format!("/api/alerts/{}/snapshot", alert_of(c)), None),
        "/clip" => |c| (format!("/api/alerts/{}/clip", alert_of(c)), None),
        "/confirm" => |c| (format!("/api/alerts/{}/confirm", alert_of(c)), None),
        "/dismiss" => |c| (format!("/api/alerts/{}/dismiss", alert_of(c)), Some(r#"{"reason":"duplicate"}"#.into())),
        "/dispatch" => |c| (format!("/api/alerts/{}/dispatch", alert_of(c)), Some(r#"{"unit":"P-12"}"#.into())),
        "/resolve" => |c| (format!("/api/alerts/{}/resolve", alert_of(c)), Some(r#"{"note":"done"}"#.into())),
        "/unmask" => |c| (format!("/api/alerts/{}/unmask", alert_of(c)), Some(r#"{"reason":"case 12"}"#.into())),
        "/take" => |c| (format!("/api/alerts/{}/take", alert_of(c)), None),
        "/release" => |c| (format!("/api/alerts/{}/release", alert_of(c)), None),
        other => panic!("{other}"),
    }
}

/// Every route of the table says how sectors apply to it: a new route that carries a camera
/// must be added here, or this test fails.
fn rule(method: &str, path: &str) -> Rule {
    match (method, path) {
        ("GET", "/" | "/assets/{file}" | "/api/openapi.yaml")
        | ("POST", "/api/login" | "/api/logout" | "/api/me/password")
        | (
            "GET",
            "/api/me" | "/api/audit" | "/api/audit/verify" | "/api/audit/export" | "/api/users" | "/api/notifications",
        )
        | ("POST", "/api/users" | "/api/users/{name}/disable" | "/api/users/{name}/password")
        | ("POST", "/api/users/{name}/sectors") => Rule::NoCamera,
        // Anonymous per-minute counts: no picture, alert or track of anyone, so not kept to
        // sectors (an analyst of the city plans with every camera's counts).
        ("GET", "/api/stats" | "/api/stats/zones") => Rule::NoCamera,
        // For scrapers and load balancers, outside sessions (`/metrics` has its own access rule).
        ("GET", "/metrics" | "/healthz" | "/readyz") => Rule::NoCamera,
        ("GET" | "PUT", "/api/cameras/{id}/privacy_masks") => Rule::Own("masks_keep_to_sectors"),
        ("GET", "/api/holds" | "/api/holds/{id}" | "/api/holds/{id}/export")
        | ("POST", "/api/holds" | "/api/holds/{id}/release") => Rule::Own("holds_keep_to_sectors"),
        ("GET", "/api/alerts") => Rule::List("/api/alerts", |v| cameras_in(v, "alerts", "camera")),
        ("GET", "/api/alerts/stream") => Rule::Own("the_feed_carries_only_the_users_sectors"),
        ("GET", "/api/alerts/{id}") => Rule::Object(alert_path("")),
        ("GET", "/api/alerts/{id}/snapshot") => Rule::Object(alert_path("/snapshot")),
        ("GET", "/api/alerts/{id}/clip") => Rule::Object(alert_path("/clip")),
        ("POST", "/api/alerts/{id}/confirm") => Rule::Object(alert_path("/confirm")),
        ("POST", "/api/alerts/{id}/dismiss") => Rule::Object(alert_path("/dismiss")),
        ("POST", "/api/alerts/{id}/dispatch") => Rule::Object(alert_path("/dispatch")),
        ("POST", "/api/alerts/{id}/resolve") => Rule::Object(alert_path("/resolve")),
        ("POST", "/api/alerts/{id}/unmask") => Rule::Object(alert_path("/unmask")),
        ("POST", "/api/alerts/{id}/take") => Rule::Object(alert_path("/take")),
        ("POST", "/api/alerts/{id}/release") => Rule::Object(alert_path("/release")),
        // Unknown and other sectors' ids are refused one by one inside a 200 answer.
        ("POST", "/api/alerts/dismiss") => Rule::Own("bulk_dismissal_keeps_to_sectors"),
        ("GET", "/api/cameras") => Rule::List("/api/cameras", |v| cameras_in(v, "cameras", "id")),
        ("GET", "/api/cameras/{id}/live") => Rule::Object(|c| (format!("/api/cameras/{c}/live"), None)),
        ("GET", "/api/cameras/{id}/clip") => {
            Rule::Object(|c| (format!("/api/cameras/{c}/clip?from={}&to={}", T0_MS, T0_MS + 10_000), None))
        }
        ("GET", "/api/cameras/{id}/export") => {
            Rule::Object(|c| (format!("/api/cameras/{c}/export?from={}&to={}", T0_MS, T0_MS + 10_000), None))
        }
        ("GET", "/api/search") => Rule::List("/api/search?q=cars", |v| cameras_in(v, "tracks", "camera")),
        ("GET", "/api/search/thumbnails/{id}") => Rule::Own("search_and_thumbnails_keep_to_sectors"),
        ("GET", "/api/reports/transparency") => {
            Rule::List("/api/reports/transparency?from=2025-01-01&to=2026-01-01", |v| cameras_in(v, "rows", "camera"))
        }
        ("GET", "/api/config") => Rule::List("/api/config", |v| cameras_in(v, "cameras", "id")),
        ("PUT", "/api/config") => {
            Rule::Object(|c| ("/api/config".into(), Some(format!(r#"{{"events":{{}},"cameras":[{{"id":"{c}"}}]}}"#))))
        }
        ("GET", "/api/calibration/alerts") => {
            Rule::List("/api/calibration/alerts", |v| cameras_in(v, "alerts", "camera"))
        }
        ("POST", "/api/calibration/alerts/{id}/review") => {
            Rule::Object(|c| (format!("/api/calibration/alerts/cal-{c}/review"), Some(r#"{"verdict":"right"}"#.into())))
        }
        ("GET", "/api/calibration/rules") => Rule::List("/api/calibration/rules", |v| cameras_in(v, "rules", "camera")),
        ("POST", "/api/calibration/rules/{camera}/{rule}/live") => {
            Rule::Object(|c| (format!("/api/calibration/rules/{c}/r/live"), Some(r#"{"reason":"calibrated"}"#.into())))
        }
        (m, p) => panic!("{m} {p}: say in tests/sectors.rs how sectors apply to this route"),
    }
}

fn allowed(spec: &RouteSpec, role: Role) -> bool {
    match spec.access {
        Access::Public | Access::Session => true,
        Access::Perm(p) => p.allowed(role),
    }
}

/// Role × sector over every route of the table.
#[tokio::test]
async fn every_route_shows_only_the_callers_sectors() {
    let mut checked = 0;
    for spec in ROUTES {
        match rule(spec.method, spec.path) {
            Rule::NoCamera => {}
            Rule::Own(test) => assert!(
                [
                    "the_feed_carries_only_the_users_sectors",
                    "search_and_thumbnails_keep_to_sectors",
                    "holds_keep_to_sectors",
                    "masks_keep_to_sectors",
                    "bulk_dismissal_keeps_to_sectors"
                ]
                .contains(&test),
                "{test}"
            ),
            Rule::List(path, cams) => {
                let s = harness();
                for (name, role, _) in USERS {
                    if !allowed(spec, *role) {
                        continue;
                    }
                    let r = s.call(spec.method, path, &s.session(name), None).await;
                    assert_eq!(r.status, 200, "{name} {} {path}: {}", spec.method, String::from_utf8_lossy(&r.body));
                    let got: BTreeSet<String> = cams(&r.json()).into_iter().collect();
                    let want: BTreeSet<String> = sees(name).into_iter().map(String::from).collect();
                    assert_eq!(got, want, "{name} ({role}) {} {path}", spec.method);
                    checked += 1;
                }
            }
            Rule::Object(build) => {
                let s = harness();
                for (name, role, _) in USERS {
                    if !allowed(spec, *role) {
                        continue;
                    }
                    let sess = s.session(name);
                    let (path, body) = build("nosuch");
                    let unknown = s.call(spec.method, &path, &sess, body.as_deref()).await;
                    assert!(matches!(unknown.status.as_u16(), 400 | 404), "{} {path}: {}", spec.method, unknown.status);
                    for cam in CAMERAS {
                        let (path, body) = build(cam);
                        let before = s.states();
                        let r = s.call(spec.method, &path, &sess, body.as_deref()).await;
                        let what = format!("{name} ({role}) {} {path}", spec.method);
                        if sees(name).contains(&cam) {
                            // Past the sector check: done, or refused by the alert's state
                            // (dispatching a new alert), never "not found".
                            assert!(
                                r.status.is_success() || r.status == 409,
                                "{what}: {} {}",
                                r.status,
                                String::from_utf8_lossy(&r.body)
                            );
                        } else {
                            // Exactly what an unknown object gets, with the unknown id in place.
                            assert_eq!(r.status, unknown.status, "{what}");
                            assert_eq!(
                                r.error().replace(&alert_of(cam), "alert-nosuch").replace(cam, "nosuch"),
                                unknown.error(),
                                "{what}"
                            );
                            assert_eq!(s.states(), before, "{what} changed something");
                            let (actor, action, _) = s.last_audit();
                            assert_eq!((actor.as_str(), action.as_str()), (*name, "access.out_of_sector"), "{what}");
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 150, "only {checked} checks");
}

/// Counts are of the caller's cameras only: the alert list's limit applies after the filter,
/// the search's total counts nothing else, and a user whose sectors hold no camera gets nothing.
#[tokio::test]
async fn counts_leave_other_sectors_out() {
    let s = harness();
    for i in 0..5 {
        s.publish(&format!("more-g1-{i}"), "g1");
    }
    let op_c = s.session("op_c");
    let r = s.call("GET", "/api/alerts?limit=1", &op_c, None).await.json();
    assert_eq!(cameras_in(&r, "alerts", "camera"), ["c1"], "the newest alerts are g1's, yet c1's is listed");
    let r = s.call("GET", "/api/search?q=cars", &op_c, None).await.json();
    assert_eq!(r["total"], 1);
    let op_p = s.session("op_p");
    let r = s.call("GET", "/api/search?q=cars", &op_p, None).await.json();
    assert_eq!((r["total"].as_u64(), r["tracks"].as_array().map(Vec::len)), (Some(0), Some(0)));
    assert!(s.call("GET", "/api/alerts", &op_p, None).await.json()["alerts"].as_array().unwrap().is_empty());
    // Naming another sector's camera is answered as for a camera that does not exist.
    let other = s.call("GET", "/api/search?q=cars&camera=g1", &op_c, None).await;
    let none = s.call("GET", "/api/search?q=cars&camera=nosuch", &op_c, None).await;
    assert_eq!((other.status.as_u16(), other.error().replace("g1", "nosuch")), (400, none.error()));
    // The report: rows, and the models and rules listed, are the centre's only.
    let r = s.call("GET", "/api/reports/transparency?from=2025-01-01&to=2026-01-01", &s.session("aud_c"), None).await;
    let r = r.json();
    assert_eq!(cameras_in(&r, "rows", "camera"), ["c1"]);
    let csv = s
        .call("GET", "/api/reports/transparency?from=2025-01-01&to=2026-01-01&format=csv", &s.session("aud_c"), None)
        .await;
    let text = String::from_utf8_lossy(&csv.body).to_string();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("c1,"), "{text}");
}

/// The live feed passes on only the alerts of the user's sectors; a city-wide user gets all.
#[tokio::test]
async fn the_feed_carries_only_the_users_sectors() {
    let s = harness();
    async fn open(s: &S, sess: &Sess) -> Body {
        let req =
            Request::builder().uri("/api/alerts/stream").header("cookie", &sess.cookie).body(Body::empty()).unwrap();
        let resp = s.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let first = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.unwrap().unwrap().unwrap();
        assert!(String::from_utf8_lossy(first.data_ref().unwrap()).contains("event: ready"));
        body
    }
    /// What arrives until `last` does.
    async fn until(body: &mut Body, last: &str) -> String {
        let mut got = String::new();
        while !got.contains(last) {
            let f = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .unwrap_or_else(|_| panic!("'{last}' never came; got {got}"))
                .unwrap()
                .unwrap();
            if let Some(d) = f.data_ref() {
                got.push_str(&String::from_utf8_lossy(d));
            }
        }
        got
    }
    let (mut centre, mut all, mut port) =
        (open(&s, &s.session("op_c")).await, open(&s, &s.session("op")).await, open(&s, &s.session("op_p")).await);
    s.publish("new-g1", "g1");
    s.publish("new-loose", "loose");
    s.publish("new-c1", "c1");
    // Updates too: an operator's action on another sector's alert is not announced to the centre.
    let op = s.session("op");
    assert_eq!(s.call("POST", "/api/alerts/new-g1/confirm", &op, None).await.status, 200);
    s.publish("last-c1", "c1");
    let got = until(&mut centre, "last-c1").await;
    assert!(got.contains("new-c1"), "{got}");
    assert!(!got.contains("g1") && !got.contains("loose"), "another sector's alert reached the centre: {got}");
    let got = until(&mut all, "last-c1").await;
    assert!(got.contains("new-g1") && got.contains("new-loose") && got.contains("new-c1"), "{got}");
    // The port has no camera: nothing arrives at all.
    let nothing = tokio::time::timeout(Duration::from_millis(300), port.frame()).await;
    assert!(nothing.is_err(), "the port's feed got {:?}", nothing.map(|f| f.map(|f| f.map(|f| f.into_data().ok()))));
}

/// A console that reconnects with its last id gets the alerts it missed: its sectors' only, as
/// on the live feed.
#[tokio::test]
async fn replayed_events_keep_to_the_users_sectors() {
    let s = harness();
    async fn open(s: &S, sess: &Sess, last: Option<&str>) -> String {
        let mut b = Request::builder().uri("/api/alerts/stream").header("cookie", &sess.cookie);
        if let Some(id) = last {
            b = b.header("last-event-id", id);
        }
        let resp = s.router.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut got = String::new();
        while !(got.contains("event: ready") && got.ends_with("\n\n")) {
            let f = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.unwrap().unwrap().unwrap();
            got.push_str(&String::from_utf8_lossy(f.data_ref().unwrap()));
        }
        got
    }
    let ready = open(&s, &s.session("op_c"), None).await;
    let id = ready.lines().find_map(|l| l.strip_prefix("id:")).unwrap().trim().to_string();
    s.publish("away-g1", "g1");
    s.publish("away-loose", "loose");
    s.publish("away-c1", "c1");
    let centre = open(&s, &s.session("op_c"), Some(&id)).await;
    assert!(centre.contains("away-c1"), "{centre}");
    assert!(!centre.contains("g1") && !centre.contains("loose"), "another sector's alert was replayed: {centre}");
    assert!(centre.contains("\"replayed\":1"), "{centre}");
    let all = open(&s, &s.session("op"), Some(&id)).await;
    assert!(all.contains("away-g1") && all.contains("away-loose") && all.contains("away-c1"), "{all}");
    let port = open(&s, &s.session("op_p"), Some(&id)).await;
    assert!(!port.contains("event: alert"), "{port}");
}

/// Search answers hold the caller's cameras only; a thumbnail URL is bound to its camera and
/// refused (404, audited) once the user's sectors no longer cover it.
#[tokio::test]
async fn search_and_thumbnails_keep_to_sectors() {
    let s = harness();
    let sup_cg = s.session("sup_cg");
    let r = s.call("GET", "/api/search?q=cars", &sup_cg, None).await.json();
    let urls: Vec<(String, String)> = r["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["camera"].as_str().unwrap().to_string(), t["thumbnail_url"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(urls.iter().map(|u| u.0.as_str()).collect::<BTreeSet<_>>(), ["c1", "g1"].into());
    for (_, url) in &urls {
        let r = s.call("GET", url, &sup_cg, None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["content-type"], "image/jpeg");
    }
    // Narrowed to the centre while the session is open: the station's thumbnail is gone.
    s.store.set_sectors("sup_cg", &["centre".to_string()]).unwrap();
    let g1 = &urls.iter().find(|u| u.0 == "g1").unwrap().1;
    let c1 = &urls.iter().find(|u| u.0 == "c1").unwrap().1;
    let refused = s.call("GET", g1, &sup_cg, None).await;
    assert_eq!(refused.status, 404);
    assert!(refused.error().starts_with("no thumbnail '"), "{}", refused.error());
    assert_eq!(s.last_audit().1, "access.out_of_sector");
    assert_eq!(s.call("GET", c1, &sup_cg, None).await.status, 200);
    // And the thumbnail of a search hit of another user's session is still refused.
    let other = s.call("GET", c1, &s.session("sup"), None).await;
    assert_eq!(other.status, 404);
}

/// `/api/me` says which sectors the user has; the camera list says each camera's sector.
#[tokio::test]
async fn the_session_and_the_wall_carry_sectors() {
    let s = harness();
    let me = s.call("GET", "/api/me", &s.session("sup_cg"), None).await.json();
    assert_eq!(me["city_wide"], false);
    assert_eq!(
        me["sectors"],
        serde_json::json!([{"id": "centre", "name": "Centre-ville"}, {"id": "gare", "name": "Gare"}])
    );
    let me = s.call("GET", "/api/me", &s.session("op"), None).await.json();
    assert_eq!((me["city_wide"].as_bool(), me["sectors"].as_array().map(Vec::len)), (Some(true), Some(3)));
    let cams = s.call("GET", "/api/cameras", &s.session("op"), None).await.json();
    let by_id: Vec<(String, Option<String>)> = cams["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().into(), c["sector"].as_str().map(String::from)))
        .collect();
    let want: Vec<(String, Option<String>)> = [("c1", Some("centre")), ("g1", Some("gare")), ("loose", None)]
        .into_iter()
        .map(|(c, s)| (c.to_string(), s.map(String::from)))
        .collect();
    assert_eq!(by_id, want);
    let cams = s.call("GET", "/api/cameras", &s.session("op_c"), None).await.json();
    assert_eq!(cams["sectors"], serde_json::json!([{"id": "centre", "name": "Centre-ville"}]));
}

/// Administrators assign sectors through the API: known sectors only, named when not, nothing
/// changed on a refusal, every change audited.
#[tokio::test]
async fn admins_assign_sectors_and_unknown_ones_are_refused() {
    let s = harness();
    let adm = s.session("adm");
    let r = s.call("POST", "/api/users/op/sectors", &adm, Some(r#"{"sectors":["gare","centre","gare"]}"#)).await;
    assert_eq!(r.status, 200, "{}", r.error());
    assert_eq!(r.json()["sectors"], serde_json::json!(["centre", "gare"]));
    assert_eq!(s.last_audit(), ("adm".into(), "user.sectors".into(), "op".into()));
    for (body, names) in [
        (r#"{"sectors":["centre","plage"]}"#, "unknown sector 'plage'"),
        (r#"{"sectors":["no spaces"]}"#, "invalid id 'no spaces'"),
    ] {
        let r = s.call("POST", "/api/users/op/sectors", &adm, Some(body)).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.error().contains(names), "{}", r.error());
        assert_eq!(s.store.user("op").unwrap().sectors, ["centre", "gare"], "a refusal changed the user");
    }
    let r = s.call("POST", "/api/users/op/sectors", &adm, Some(r#"{"sectors":[]}"#)).await;
    assert_eq!(r.json()["sectors"], serde_json::json!([]));
    let body = r#"{"username":"newop","password":"a long password","role":"operator","sectors":["plage"]}"#;
    let r = s.call("POST", "/api/users", &adm, Some(body)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unknown sector 'plage'"), "{}", r.error());
    assert!(s.store.user("newop").is_err(), "a refused user was created");
    let body = r#"{"username":"newop","password":"a long password","role":"operator","sectors":["port"]}"#;
    let r = s.call("POST", "/api/users", &adm, Some(body)).await;
    assert_eq!((r.status.as_u16(), r.json()["sectors"].clone()), (201, serde_json::json!(["port"])));
    assert_eq!(
        s.call("POST", "/api/users/op/sectors", &s.session("op_c"), Some(r#"{"sectors":[]}"#)).await.status,
        403
    );
}

fn clock_for_archive() -> SimClock {
    SimClock::new(UnixMs(T0_MS).into())
}

/// Legal holds: listed only when all their cameras are the caller's; another sector's hold is
/// answered (read, release, export) as an unknown one and the attempt audited; a hold cannot be
/// placed on another sector's camera.
#[tokio::test]
async fn holds_keep_to_sectors() {
    let s = harness();
    assert_eq!(s.archive.holds().unwrap().len(), 3);
    let mut checked = 0;
    for (name, role, _) in USERS {
        if !Perm::HoldsRead.allowed(*role) {
            continue;
        }
        let sess = s.session(name);
        let list = s.call("GET", "/api/holds", &sess, None).await.json();
        let got: BTreeSet<String> =
            list["holds"].as_array().unwrap().iter().map(|h| h["cameras"][0].as_str().unwrap().to_string()).collect();
        let want: BTreeSet<String> = sees(name).into_iter().map(String::from).collect();
        assert_eq!(got, want, "{name} GET /api/holds");
        let unknown = s.call("GET", "/api/holds/99", &sess, None).await;
        assert_eq!(unknown.status, 404);
        for (i, cam) in CAMERAS.iter().enumerate() {
            let id = i + 1;
            let mut calls = vec![("GET", format!("/api/holds/{id}"), None)];
            if Perm::HoldsManage.allowed(*role) {
                let export = format!("/api/holds/{id}/export?camera={cam}&from={T0_MS}&to={}", T0_MS + 5000);
                calls.push(("GET", export, None));
            }
            for (m, path, body) in calls {
                let r = s.call(m, &path, &sess, body).await;
                if sees(name).contains(cam) {
                    // Past the sector check (the harness has no footage to export).
                    let past = r.status != 404 || r.error().contains("no footage recorded");
                    assert!(past, "{name} {m} {path}: {}", r.error());
                } else {
                    assert_eq!(r.status, 404, "{name} {m} {path}");
                    assert_eq!(
                        r.error().replace(&format!("hold {id}"), "hold 99"),
                        unknown.error(),
                        "{name} {m} {path}"
                    );
                    assert_eq!(s.last_audit().1, "access.out_of_sector", "{name} {m} {path}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked}");
    // Releasing another sector's hold: unknown, and the hold stays.
    let sup_c = s.session("sup_c");
    let r = s.call("POST", "/api/holds/2/release", &sup_c, Some(r#"{"reason":"done"}"#)).await;
    assert_eq!(r.status, 404);
    assert_eq!(s.archive.active_holds(UnixMs(T0_MS)).unwrap().len(), 3);
    // Placing one on another sector's camera is refused as for a camera that does not exist.
    let body = |cam: &str| {
        format!(
            r#"{{"cameras":["{cam}"],"from":"{T0_MS}","to":"{}","reference":"PV 9","reason":"requisition"}}"#,
            T0_MS + 5000
        )
    };
    let other = s.call("POST", "/api/holds", &sup_c, Some(&body("g1"))).await;
    let none = s.call("POST", "/api/holds", &sup_c, Some(&body("nosuch"))).await;
    assert_eq!((other.status, other.error().replace("g1", "nosuch")), (none.status, none.error()));
    assert_eq!(s.call("POST", "/api/holds", &sup_c, Some(&body("c1"))).await.status, 201);
}

/// Privacy masks of another sector's camera: read or changed, answered as an unknown camera.
#[tokio::test]
async fn masks_keep_to_sectors() {
    let s = harness();
    let adm_c = s.session("adm_c");
    let body = r#"{"masks":[{"name":"w","polygon":[[1,1],[20,1],[20,20]]}]}"#;
    for (m, b) in [("GET", None), ("PUT", Some(body))] {
        let unknown = s.call(m, "/api/cameras/nosuch/privacy_masks", &adm_c, b).await;
        let other = s.call(m, "/api/cameras/g1/privacy_masks", &adm_c, b).await;
        assert_eq!((other.status, other.error().replace("g1", "nosuch")), (unknown.status, unknown.error()), "{m}");
        assert_eq!(s.last_audit().1, "access.out_of_sector", "{m}");
        // Their own camera is past the check (this harness's config cannot edit masks).
        let own = s.call(m, "/api/cameras/c1/privacy_masks", &adm_c, b).await;
        assert!(!own.error().contains("no camera"), "{m}: {}", own.error());
    }
}

/// A bulk dismissal naming another sector's alert refuses it exactly as an unknown id (audited as
/// out of sector, nothing changed) and dismisses the caller's own.
#[tokio::test]
async fn bulk_dismissal_keeps_to_sectors() {
    let s = harness();
    let op_c = s.session("op_c");
    let body = serde_json::json!({"ids": [alert_of("g1"), alert_of("c1"), "alert-nosuch"], "reason": "duplicate"});
    let r = s.call("POST", "/api/alerts/dismiss", &op_c, Some(&body.to_string())).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["dismissed"], serde_json::json!([alert_of("c1")]));
    let refused = j["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{j}");
    let err = |id: &str| refused.iter().find(|x| x["id"] == id).unwrap()["error"].as_str().unwrap().to_string();
    assert_eq!(err(&alert_of("g1")).replace(&alert_of("g1"), "alert-nosuch"), err("alert-nosuch"));
    let states: std::collections::BTreeMap<_, _> = s.states().into_iter().collect();
    assert_eq!(states[&alert_of("g1")], "new", "another sector's alert was left alone");
    assert_eq!(states[&alert_of("c1")], "dismissed");
    let e = s.store.audit_entries(&vigie_store::AuditQuery { limit: 10, ..Default::default() }).unwrap();
    assert!(
        e.iter().any(|x| x.action == "access.out_of_sector" && x.actor == "op_c" && x.target == alert_of("g1")),
        "the attempt on g1 is recorded"
    );
}
