//! `/metrics`, `/healthz` and `/readyz` on the real router over a real catalogue: who may scrape,
//! what the exposition holds (checked by Prometheus's own `promtool`), and answers that stay
//! quick while the database is locked and an alert is stuck waiting for it.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;
use vigie_core::EventType;
use vigie_server::metrics::{MetricsText, NodeOps, ReadyCheck, PROBE_LOCK_TIMEOUT};
use vigie_server::{MetricsAccess, PublishExtras, Server, ServerConfig, ServerDeps};

/// A node with one camera whose connection the test switches.
#[derive(Default)]
struct FakeNode {
    camera_down: AtomicBool,
}

impl NodeOps for FakeNode {
    fn live_metrics(&self, m: &mut MetricsText) {
        let up = if self.camera_down.load(Ordering::Relaxed) { 0.0 } else { 1.0 };
        m.gauge("vigie_camera_up", "Stream connected.", [(&[("camera", "cam1")][..], up)]);
    }
    fn stored_metrics(&self, m: &mut MetricsText) -> Result<(), String> {
        m.gauge("vigie_archive_used_bytes", "Footage.", [(&[][..], 1234.0)]);
        Ok(())
    }
    fn readiness(&self) -> Vec<ReadyCheck> {
        let down = self.camera_down.load(Ordering::Relaxed);
        vec![ReadyCheck::new(
            "cameras",
            !down,
            if down { "0 of 1 connected; not connected: cam1 (retrying)" } else { "1 of 1 connected" },
        )]
    }
}

/// The common harness, its router rebuilt with a node attached.
fn harness_ops(cfg: ServerConfig) -> (H, Arc<FakeNode>) {
    let mut h = harness_with(cfg.clone());
    let node = Arc::new(FakeNode::default());
    let server = Server::new(ServerDeps {
        alerts: h.store.clone(),
        audit: h.store.clone(),
        accounts: h.store.clone(),
        hub: h.hub.clone(),
        live: Arc::new(TestLive),
        clips: h.clips.clone(),
        search: None,
        config_admin: None,
        notify_status: None,
        config: cfg,
    })
    .with_operations(node.clone(), vigie_store::DbProbe::new(h.dir.path(), PROBE_LOCK_TIMEOUT));
    h.router = server.router();
    (h, node)
}

/// A GET from `peer` (the connection's address) with extra headers.
async fn get(h: &H, peer: Option<&str>, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::builder().method("GET").uri(path);
    if let Some(ip) = peer {
        let addr: std::net::SocketAddr = std::net::SocketAddr::new(ip.parse().unwrap(), 40000);
        b = b.extension(axum::extract::ConnectInfo(addr));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = h.router.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body }
}

fn text(r: &Resp) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The value of the sample written exactly `series` (name and labels as exposed).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `promtool check metrics` (Debian package `prometheus`, installed by scripts/setup.sh).
fn promtool_check(metrics: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}): install Debian's prometheus package (scripts/setup.sh does)")
        });
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n---\n{metrics}");
}

#[tokio::test]
async fn metrics_are_for_loopback_by_default_or_anyone_or_token_holders() {
    let (h, _) = harness_ops(ServerConfig::default());
    for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        let r = get(&h, Some(ip), "/metrics", &[]).await;
        assert_eq!(r.status, 200, "{ip}: {}", text(&r));
        assert_eq!(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    }
    for peer in [Some("192.0.2.1"), Some("2001:db8::1"), None] {
        let r = get(&h, peer, "/metrics", &[]).await;
        assert_eq!(r.status, 403, "{peer:?}");
        assert!(r.error().contains("server.metrics_access"), "{}", r.error());
    }
    // Health needs no address at all.
    let r = get(&h, Some("192.0.2.1"), "/healthz", &[]).await;
    assert_eq!((r.status.as_u16(), text(&r).as_str()), (200, "ok\n"));

    // Behind a trusted proxy on this host, the client it names is the one judged.
    let cfg = ServerConfig { trusted_proxies: vec!["127.0.0.1".into()], ..Default::default() };
    let (h, _) = harness_ops(cfg);
    let r = get(&h, Some("127.0.0.1"), "/metrics", &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(r.status, 403);
    let r = get(&h, Some("127.0.0.1"), "/metrics", &[]).await;
    assert_eq!(r.status, 200);

    let (h, _) = harness_ops(ServerConfig { metrics_access: MetricsAccess::Any, ..Default::default() });
    assert_eq!(get(&h, Some("192.0.2.1"), "/metrics", &[]).await.status, 200);

    let var = "VIGIE_TEST_METRICS_TOKEN";
    let token = "a-long-scraper-token-0123456789";
    std::env::set_var(var, token);
    let cfg = ServerConfig {
        metrics_access: MetricsAccess::Token,
        metrics_token_env: Some(var.into()),
        ..Default::default()
    };
    cfg.validate("server").unwrap();
    let (h, _) = harness_ops(cfg);
    for (auth, want) in [(None, 401), (Some("Bearer wrong-token-wrong-token"), 401), (Some(token), 401)] {
        let hdr: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let r = get(&h, Some("127.0.0.1"), "/metrics", &hdr).await;
        assert_eq!(r.status, want, "{auth:?}");
        assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"vigie-metrics\"");
        assert!(!r.body.windows(token.len()).any(|w| w == token.as_bytes()), "the token is echoed back");
    }
    let bearer = format!("Bearer {token}");
    let r = get(&h, Some("192.0.2.1"), "/metrics", &[("authorization", &bearer)]).await;
    assert_eq!(r.status, 200, "{}", text(&r));

    // The configuration names what is wrong, never the token.
    let bad = ServerConfig { metrics_access: MetricsAccess::Token, ..Default::default() };
    let errs = bad.validate("server").unwrap_err();
    assert_eq!(errs[0].key, "server.metrics_token_env", "{errs:?}");
    let unset = ServerConfig { metrics_token_env: Some("VIGIE_TEST_UNSET_VARIABLE".into()), ..bad.clone() };
    let e = unset.metrics_token("server").unwrap_err();
    assert!(e.key == "server.metrics_token_env" && e.message.contains("VIGIE_TEST_UNSET_VARIABLE is not set"), "{e}");
    std::env::set_var("VIGIE_TEST_SHORT_TOKEN", "short");
    let short = ServerConfig { metrics_token_env: Some("VIGIE_TEST_SHORT_TOKEN".into()), ..bad };
    let e = short.metrics_token("server").unwrap_err();
    assert!(e.message.contains("too short") && !e.message.contains("short\""), "{e}");
    let e = toml::from_str::<ServerConfig>("metrics_access = \"sometimes\"").unwrap_err().to_string();
    assert!(e.contains("metrics_access") && e.contains("loopback"), "{e}");
    assert_eq!(ServerConfig::default().metrics_access, MetricsAccess::Loopback, "loopback by default");
}

#[tokio::test]
async fn the_exposition_passes_promtool_with_names_labels_and_latency() {
    let (h, _) = harness_ops(ServerConfig::default());
    h.publish("a1");
    for _ in 0..3 {
        h.store.record("op", vigie_core::AuditAction::Logout, "op", &serde_json::json!({})).unwrap();
    }
    let fired = vigie_core::UnixMs(T0_MS - 750);
    h.hub
        .publish_with(
            &event("a2", EventType::Intrusion, "cam1"),
            PublishExtras { clear_jpeg: None, fired_at_ms: Some(fired) },
        )
        .unwrap();
    let r = get(&h, Some("127.0.0.1"), "/metrics", &[]).await;
    assert_eq!(r.status, 200);
    let m = text(&r);
    promtool_check(&m);
    assert_eq!(sample(&m, "vigie_alerts{type=\"crowd\",state=\"new\"}"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "vigie_alerts{type=\"intrusion\",state=\"new\"}"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "vigie_alerts{type=\"graffiti\",state=\"dismissed\"}"), Some(0.0), "zeros are exposed: {m}");
    let audit = h.store.verify_audit().unwrap().unwrap().entries as f64;
    assert_eq!(audit, 3.0);
    assert_eq!(sample(&m, "vigie_audit_entries_total"), Some(audit), "{m}");
    // The alert with a capture time: 750 ms of the simulated clock, in the 0.75 s bucket.
    assert_eq!(sample(&m, "vigie_alert_latency_seconds_count"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "vigie_alert_latency_seconds_bucket{le=\"0.5\"}"), Some(0.0), "{m}");
    assert_eq!(sample(&m, "vigie_alert_latency_seconds_bucket{le=\"0.75\"}"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "vigie_alerts_waiting_to_store"), Some(0.0), "{m}");
    assert_eq!(sample(&m, "vigie_camera_up{camera=\"cam1\"}"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "vigie_archive_used_bytes"), Some(1234.0), "{m}");
    assert_eq!(sample(&m, "vigie_stored_metrics_up"), Some(1.0), "{m}");
    for name in
        ["vigie_alert_latency_seconds", "vigie_alerts", "vigie_audit_entries_total", "vigie_stored_metrics_age_seconds"]
    {
        assert!(m.contains(&format!("# HELP {name} ")) && m.contains(&format!("# TYPE {name} ")), "{name}: {m}");
    }
}

/// Holds `BEGIN EXCLUSIVE` on the catalogue from another connection, as a second process would.
fn lock_catalogue(h: &H) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(h.dir.path().join(vigie_store::DB_FILE)).unwrap();
    c.execute_batch("BEGIN EXCLUSIVE").unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_and_not_ready_and_quick_answers_while_the_database_is_locked() {
    let (h, node) = harness_ops(ServerConfig::default());
    h.publish("a1");
    let r = get(&h, None, "/readyz", &[]).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let body = r.json();
    assert_eq!(body["ready"], true);
    let names: Vec<&str> = body["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database", "cameras"]);

    node.camera_down.store(true, Ordering::Relaxed);
    let r = get(&h, None, "/readyz", &[]).await;
    assert_eq!(r.status, 503);
    let body = r.json();
    assert_eq!(body["ready"], false);
    let failing: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["cameras"], "{body}");
    node.camera_down.store(false, Ordering::Relaxed);

    // A first scrape caches what the catalogue holds.
    let before = text(&get(&h, Some("127.0.0.1"), "/metrics", &[]).await);
    assert_eq!(sample(&before, "vigie_alerts{type=\"crowd\",state=\"new\"}"), Some(1.0));

    let lock = lock_catalogue(&h);
    // An alert fired now, from a camera's thread: the catalogue refuses it, so it waits in the
    // hub (whose retries take the queue's lock while they try).
    let hub = h.hub.clone();
    let stuck = std::thread::spawn(move || {
        let ev = event("a2", EventType::Crowd, "cam1");
        hub.publish_with(&ev, PublishExtras::default()).map(|_| ())
    });
    std::thread::sleep(Duration::from_millis(200));
    tokio::time::sleep(Duration::from_millis(600)).await; // past the cached readiness

    let t = Instant::now();
    let r = get(&h, None, "/readyz", &[]).await;
    let took = t.elapsed();
    assert_eq!(r.status, 503, "{}", text(&r));
    assert!(took < Duration::from_millis(1500), "readyz took {took:?} on a locked database");
    let db = &r.json()["checks"][0];
    assert_eq!((db["name"].as_str(), db["ok"].as_bool()), (Some("database"), Some(false)), "{db}");
    assert!(db["detail"].as_str().unwrap().contains("locked"), "{db}");
    assert!(!text(&r).contains(h.dir.path().to_str().unwrap()), "the body names the data folder: {}", text(&r));

    let t = Instant::now();
    let r = get(&h, Some("127.0.0.1"), "/metrics", &[]).await;
    let took = t.elapsed();
    assert_eq!(r.status, 200);
    assert!(took < Duration::from_millis(1500), "a scrape took {took:?} on a locked database");
    let m = text(&r);
    promtool_check(&m);
    assert_eq!(sample(&m, "vigie_alerts{type=\"crowd\",state=\"new\"}"), Some(1.0), "cached figures shown: {m}");
    assert!(m.contains("# TYPE vigie_alerts_waiting_to_store gauge"), "{m}");
    // 1, or no value at all while a retry holds the queue: never a wait for the retry.
    let waiting = sample(&m, "vigie_alerts_waiting_to_store");
    assert!(matches!(waiting, None | Some(1.0)), "{m}");

    drop(lock);
    stuck.join().unwrap().unwrap();
    // Ready again once the alert is stored (at once, or by the hub's retry within a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let r = get(&h, None, "/readyz", &[]).await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still not ready after the lock: {}", text(&r));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the cached figures
    let m = text(&get(&h, Some("127.0.0.1"), "/metrics", &[]).await);
    assert_eq!(sample(&m, "vigie_alerts{type=\"crowd\",state=\"new\"}"), Some(2.0), "{m}");
}

/// Figures that cannot be read (here: the catalogue's file moved away under the running node)
/// are shown as last read, marked stale; the scrape still answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_that_cannot_be_read_are_shown_stale() {
    let (h, _) = harness_ops(ServerConfig::default());
    h.publish("a1");
    let m = text(&get(&h, Some("127.0.0.1"), "/metrics", &[]).await);
    assert_eq!(sample(&m, "vigie_stored_metrics_up"), Some(1.0), "{m}");

    let db = h.dir.path().join(vigie_store::DB_FILE);
    let moved = h.dir.path().join("moved.db");
    std::fs::rename(&db, &moved).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut stale = None;
    for _ in 0..20 {
        let t = Instant::now();
        let r = get(&h, Some("127.0.0.1"), "/metrics", &[]).await;
        assert!(t.elapsed() < Duration::from_millis(1500), "a scrape took {:?}", t.elapsed());
        let m = text(&r);
        if sample(&m, "vigie_stored_metrics_up") == Some(0.0) {
            stale = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let m = stale.expect("the unreadable figures were never reported stale");
    promtool_check(&m);
    assert_eq!(sample(&m, "vigie_alerts{type=\"crowd\",state=\"new\"}"), Some(1.0), "last figures kept: {m}");
    assert!(sample(&m, "vigie_stored_metrics_age_seconds").unwrap() >= 1.0, "{m}");
    // Nor does readiness create an empty catalogue in its place.
    let r = get(&h, None, "/readyz", &[]).await;
    assert_eq!(r.status, 503);
    assert!(!db.exists(), "a probe created {}", db.display());
    std::fs::rename(&moved, &db).unwrap();
}
