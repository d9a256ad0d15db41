//! Shared harness: a real catalogue in a temp dir, the real router, small in-test providers
//! standing in for the pipeline and archive (which live in other crates).
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use vigie_core::{Event, EventPhase, EventType, PeakMeasure, SimClock, UnixMs};
use vigie_imaging::RgbImage;
use vigie_server::*;
use vigie_store::{Role, Store, User};

pub const T0_MS: i64 = 1_750_000_000_000;

pub fn jpeg(shade: u8) -> Vec<u8> {
    let mut img = RgbImage::new(64, 48);
    for p in img.data.iter_mut() {
        *p = shade;
    }
    img.encode_jpeg(80)
}

pub struct TestLive;

impl LiveView for TestLive {
    fn cameras(&self) -> Vec<CameraStatus> {
        vec![CameraStatus {
            id: "cam1".into(),
            name: "Market square".into(),
            width: 64,
            height: 48,
            health: CameraHealth { connected: true, fps: 7.0, last_error: None, details: Default::default() },
            zones: vec![ZoneInfo { name: "square".into(), polygon: vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)] }],
        }]
    }
    fn jpeg(&self, camera: &str) -> Option<Vec<u8>> {
        (camera == "cam1").then(|| jpeg(90))
    }
}

/// Records what was asked, so tests can check that unblurred footage is only asked under a grant.
#[derive(Default)]
pub struct TestClips {
    pub calls: Mutex<Vec<(String, i64, i64, bool)>>,
}

impl ClipProvider for TestClips {
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        let (camera, from_ms, to_ms, blurred) = (req.camera, req.from_ms.0, req.to_ms.0, req.blurred);
        self.calls.lock().push((camera.into(), from_ms, to_ms, blurred));
        if camera != "cam1" {
            return Err(ClipError::NotAvailable(format!("no footage of {camera}")));
        }
        Ok(Clip::Frames { fps: 25.0, jpegs: vec![jpeg(if blurred { 10 } else { 200 }); 2] })
    }
}

pub struct TestSearch;

impl SearchProvider for TestSearch {
    fn search(&self, _actor: &str, p: &SearchParams) -> Result<vigie_search::SearchResult, SearchFailure> {
        if p.q.as_deref() == Some("??") {
            return Err(SearchFailure::BadQuery("could not understand: ??".into()));
        }
        let hit = vigie_search::TrackHit {
            id: 1,
            camera: "cam1".into(),
            track_id: 7,
            class: "car".into(),
            color: None,
            start: UnixMs(T0_MS).rfc3339(),
            end: UnixMs(T0_MS + 5000).rfc3339(),
            start_ms: UnixMs(T0_MS),
            end_ms: UnixMs(T0_MS + 5000),
            duration_s: 5.0,
            zones: Vec::new(),
            direction: None,
            displacement_px: 0.0,
            width: 40.0,
            height: 30.0,
            event_ids: Vec::new(),
            has_thumbnail: true,
            clip_from_ms: UnixMs(T0_MS - 3000),
            clip_to_ms: UnixMs(T0_MS + 8000),
            distance: None,
        };
        Ok(vigie_search::SearchResult {
            tracks: vec![hit],
            total: 1,
            total_is_lower_bound: false,
            has_more: false,
            filters: vigie_search::AppliedFilters {
                from: p.from.clone().unwrap_or_default(),
                classes: p.class.clone(),
                ..Default::default()
            },
            understood: vec!["cars".into()],
            took_ms: 0.1,
        })
    }
    fn thumbnail(&self, id: &str) -> Option<Vec<u8>> {
        (id == "1").then(|| jpeg(50))
    }
}

pub struct TestConfig {
    pub value: Mutex<serde_json::Value>,
}

impl ConfigAdmin for TestConfig {
    fn current(&self) -> serde_json::Value {
        self.value.lock().clone()
    }
    fn apply(&self, _actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<vigie_core::ConfigError>> {
        if new.get("cameras").and_then(|c| c.as_array()).is_none() {
            return Err(vec![vigie_core::ConfigError::new("cameras", "missing: a list of cameras is required")]);
        }
        *self.value.lock() = new.clone();
        Ok(new)
    }
}

pub struct H {
    pub dir: tempfile::TempDir,
    pub clock: SimClock,
    pub store: Arc<Store>,
    pub hub: Arc<AlertHub>,
    pub clips: Arc<TestClips>,
    pub config: Arc<TestConfig>,
    pub router: Router,
    pub users: Vec<(Role, User)>,
    /// The real statistics store, empty until a test writes minutes into it.
    pub stats: Arc<vigie_stats::SqliteStats>,
}

/// Counting zones of cam1: the line `north` and the area `fountain`; the series come from the
/// real store.
pub struct TestStats {
    pub store: Arc<vigie_stats::SqliteStats>,
}

pub const COUNTED: [&str; 6] = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];

impl StatsProvider for TestStats {
    fn zones(&self) -> Vec<StatsZone> {
        [("north", vigie_stats::CountKind::Line), ("fountain", vigie_stats::CountKind::Area)]
            .into_iter()
            .map(|(zone, kind)| StatsZone {
                camera: "cam1".into(),
                camera_name: "Market square".into(),
                zone: zone.into(),
                kind,
                classes: COUNTED.iter().map(|c| c.to_string()).collect(),
            })
            .collect()
    }
    fn series(&self, q: &vigie_stats::SeriesQuery) -> Result<Vec<vigie_stats::Bucket>, vigie_stats::StatsError> {
        use vigie_stats::StatsStore;
        self.store.series(q)
    }
}

pub struct Sess {
    pub cookie: String,
    pub csrf: String,
    pub user: User,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_string()
    }
}

pub fn password(name: &str) -> String {
    format!("password-of-{name}")
}

pub fn event(id: &str, t: EventType, camera: &str) -> Event {
    Event {
        id: id.into(),
        event_type: t,
        phase: EventPhase::Opened,
        camera: camera.into(),
        zone: "square".into(),
        rule: "square-crowd".into(),
        rule_version: 2,
        legal_basis: "Arrêté 2025-17, art. 3".into(),
        started_at_ms: UnixMs(T0_MS),
        ended_at_ms: None,
        frame_seq: 100,
        track_ids: vec![1, 2],
        peak: PeakMeasure { kind: "count".into(), value: 14.0 },
        region: None,
        model_sha256: "feedbeef".into(),
        snapshot_jpeg: Some(Arc::new(jpeg(10))),
    }
}

pub fn harness() -> H {
    harness_with(ServerConfig::default())
}

pub fn harness_with(cfg: ServerConfig) -> H {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(Store::open(dir.path(), Arc::new(clock.clone())).unwrap());
    let mut users = Vec::new();
    for (role, name) in [
        (Role::Operator, "op"),
        (Role::Supervisor, "sup"),
        (Role::Admin, "adm"),
        (Role::Auditor, "aud"),
        (Role::Analyst, "ana"),
    ] {
        users.push((role, store.add_user(name, &password(name), role).unwrap()));
    }
    let hub = AlertHub::new(store.clone(), None);
    let clips = Arc::new(TestClips::default());
    let config = Arc::new(TestConfig { value: Mutex::new(serde_json::json!({"cameras": [{"id": "cam1"}]})) });
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(TestLive),
        clips: clips.clone(),
        search: Some(Arc::new(TestSearch)),
        config_admin: Some(config.clone()),
        notify_status: None,
        config: cfg,
    });
    let stats = Arc::new(vigie_stats::SqliteStats::open(&dir.path().join("stats.db")).unwrap());
    let server = server.with_stats(Arc::new(TestStats { store: stats.clone() }));
    let router = server.router();
    H { dir, clock, store, hub, clips, config, router, users, stats }
}

impl H {
    pub fn user(&self, name: &str) -> User {
        self.users.iter().find(|(_, u)| u.username == name).unwrap().1.clone()
    }

    /// A session made directly in the catalogue (skips Argon2, which login tests cover).
    pub fn session(&self, name: &str) -> Sess {
        let user = self.user(name);
        let s = self.store.create_session(&user, Duration::from_secs(3600)).unwrap();
        Sess { cookie: format!("vigie_session={}", s.token), csrf: s.csrf_token, user }
    }

    pub fn publish(&self, id: &str) {
        self.hub
            .publish_with(
                &event(id, EventType::Crowd, "cam1"),
                PublishExtras { clear_jpeg: Some(&jpeg(200)), fired_at_ms: None },
            )
            .unwrap();
    }

    pub async fn call(&self, method: &str, path: &str, sess: Option<&Sess>, body: Option<&str>) -> Resp {
        self.call_with(method, path, sess, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        sess: Option<&Sess>,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(s) = sess {
            b = b.header("cookie", &s.cookie);
            if method != "GET" {
                b = b.header("x-csrf-token", &s.csrf);
            }
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = b.body(body.map(|s| Body::from(s.to_string())).unwrap_or_else(Body::empty)).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = if headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            bytes::Bytes::new()
        } else {
            resp.into_body().collect().await.unwrap().to_bytes()
        };
        Resp { status, headers, body }
    }

    /// A request from a given client address (as `ConnectInfo` would give it when served).
    pub async fn call_from(&self, ip: &str, method: &str, path: &str, body: Option<&str>) -> Resp {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        let mut b = Request::builder().method(method).uri(path).extension(axum::extract::ConnectInfo(addr));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let req = b.body(body.map(|s| Body::from(s.to_string())).unwrap_or_else(Body::empty)).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp { status, headers, body }
    }

    pub fn audit_actions(&self, n: u32) -> Vec<(String, String, String)> {
        self.store
            .audit_entries(&vigie_store::AuditQuery { limit: n, ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.target))
            .collect()
    }

    /// Everything a refused request must leave untouched.
    pub fn fingerprint(&self) -> String {
        let alerts: Vec<(String, String)> = self
            .store
            .alerts(&vigie_store::AlertQuery { limit: 5000, ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a.state.as_str().to_string()))
            .collect();
        let users: Vec<(String, bool)> =
            self.store.users().unwrap().into_iter().map(|u| (u.username, u.disabled)).collect();
        let grants: Vec<bool> =
            alerts.iter().map(|(id, _)| self.store.active_unmask(id, "sup").unwrap().is_some()).collect();
        format!("{alerts:?}|{users:?}|{grants:?}|{}", self.config.current())
    }
}
