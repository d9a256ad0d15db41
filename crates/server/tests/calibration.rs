//! Rules in calibration: their alerts reach only the supervisors' review queue (never the
//! operators' queue, feed or notifications), are marked right or wrong, and their figures are
//! recorded when an admin sets the rule live.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigie_core::{EventType, RuleMode, SimClock, UnixMs};
use vigie_server::config::{NotifyConfig, WebhookConfig};
use vigie_server::{AlertHub, ConfigAdmin, Notifier, PublishExtras};
use vigie_store::Store;

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn calibration_alerts_reach_only_the_review_queue() {
    let h = harness();
    h.publish("live-1");
    h.publish_calibration("cal-1");
    let (op, sup, adm, aud) = (h.session("op"), h.session("sup"), h.session("adm"), h.session("aud"));

    // Nobody's alert queue lists it, a supervisor's included.
    for s in [&op, &sup] {
        let list = h.call("GET", "/api/alerts", Some(s), None).await.json();
        assert_eq!(ids(&list), ["live-1"], "{}", s.user.username);
    }
    // For an operator it does not exist: detail, pictures and actions answer 404.
    for (m, path, body) in [
        ("GET", "/api/alerts/cal-1", None),
        ("GET", "/api/alerts/cal-1/snapshot", None),
        ("GET", "/api/alerts/cal-1/clip", None),
        ("POST", "/api/alerts/cal-1/confirm", None),
        ("POST", "/api/alerts/cal-1/dismiss", Some(r#"{"reason":"false_detection"}"#)),
    ] {
        let r = h.call(m, path, Some(&op), body).await;
        assert_eq!(r.status, 404, "operator {m} {path}: {}", String::from_utf8_lossy(&r.body));
    }
    // A supervisor reviews it: sees it (blurred), cannot work it as a live alert.
    assert_eq!(h.call("GET", "/api/alerts/cal-1/snapshot", Some(&sup), None).await.status, 200);
    let r = h.call("POST", "/api/alerts/cal-1/confirm", Some(&sup), None).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("calibration"), "{}", r.error());
    let queue = h.call("GET", "/api/calibration/alerts", Some(&sup), None).await.json();
    assert_eq!(ids(&queue), ["cal-1"]);
    assert_eq!(queue["alerts"][0]["mode"], "calibration");
    for s in [&op, &adm, &aud] {
        assert_eq!(h.call("GET", "/api/calibration/alerts", Some(s), None).await.status, 403);
    }

    // Marks: bad verdicts and live alerts refused, nothing changed; a mark can be corrected.
    let bad = h.call("POST", "/api/calibration/alerts/cal-1/review", Some(&sup), Some(r#"{"verdict":"maybe"}"#)).await;
    assert_eq!(bad.status, 400);
    assert!(bad.error().contains("right, wrong"), "{}", bad.error());
    let live =
        h.call("POST", "/api/calibration/alerts/live-1/review", Some(&sup), Some(r#"{"verdict":"right"}"#)).await;
    assert_eq!(live.status, 409);
    assert_eq!(h.store.alert("cal-1").unwrap().review, None);
    let r = h.call("POST", "/api/calibration/alerts/cal-1/review", Some(&sup), Some(r#"{"verdict":"right"}"#)).await;
    assert_eq!(r.status, 200);
    let r = h
        .call(
            "POST",
            "/api/calibration/alerts/cal-1/review",
            Some(&sup),
            Some(r#"{"verdict":"wrong","note":"a shadow"}"#),
        )
        .await;
    assert_eq!(r.json()["review"]["verdict"], "wrong");
    let reviewed = h.store.alert("cal-1").unwrap().review.unwrap();
    assert_eq!((reviewed.by.as_str(), reviewed.note.as_deref()), ("sup", Some("a shadow")));
    let trail = h.audit_actions(20);
    let marks: Vec<_> = trail.iter().filter(|(_, a, _)| a == "calibration.review").collect();
    assert_eq!(marks.len(), 2, "{trail:?}");
    assert_eq!(h.store.alert("cal-1").unwrap().state, vigie_store::AlertState::New, "reviewing is not deciding");

    // The transparency report keeps the two apart.
    let report =
        h.call("GET", "/api/reports/transparency?from=2020-01-01&to=2100-01-01", Some(&sup), None).await.json();
    let live_alerts: u64 = report["rows"].as_array().unwrap().iter().map(|r| r["alerts"].as_u64().unwrap()).sum();
    assert_eq!(live_alerts, 1, "{report}");
    let cal = &report["calibration"][0];
    assert_eq!(
        (cal["rule"].as_str(), cal["alerts"].as_u64(), cal["wrong"].as_u64()),
        (Some("square-crowd"), Some(1), Some(1))
    );
    assert_eq!(cal["precision"], 0.0);
}

async fn webhook_receiver() -> (String, Arc<parking_lot::Mutex<Vec<serde_json::Value>>>) {
    let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: bytes::Bytes| {
            let g = g.clone();
            async move {
                g.lock().push(serde_json::from_slice::<serde_json::Value>(&body).unwrap());
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibration_alerts_are_never_notified() {
    let (url, got) = webhook_receiver().await;
    let cfg = NotifyConfig {
        webhook: Some(WebhookConfig { url, secret: "s".into(), max_attempts: 2, retry_initial_ms: 20, timeout_s: 5 }),
        mqtt: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), Arc::new(SimClock::new(UnixMs(T0_MS).into()))).unwrap());
    let notifier = Notifier::start(&cfg, &tokio::runtime::Handle::current()).unwrap();
    let hub = AlertHub::new(store, Some(notifier.clone()));
    let mut cal = event("cal-1", EventType::PersonDown, "cam1");
    cal.mode = RuleMode::Calibration;
    hub.publish_with(&cal, PublishExtras::default()).unwrap();
    hub.publish_with(&event("live-1", EventType::PersonDown, "cam1"), PublishExtras::default()).unwrap();
    for _ in 0..200 {
        if notifier.status().webhook.lock().sent >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Deliveries go out in order: once the live one is in, the calibration one would have been.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids: Vec<String> =
        got.lock().iter().map(|b| b["alert"]["id"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(ids, ["live-1"]);
}

/// Reads an SSE feed until `until` appears in it (or fails after 5 s).
async fn read_until(feed: &mut tokio::net::TcpStream, got: &mut String, until: &str) {
    while !got.contains(until) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), feed.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no '{until}' in the feed: {got}"))
            .unwrap();
        assert!(n > 0, "feed closed before '{until}': {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

#[tokio::test]
async fn the_feed_carries_calibration_alerts_to_reviewers_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), Arc::new(SimClock::new(UnixMs(T0_MS).into()))).unwrap());
    let hub = AlertHub::new(store.clone(), None);
    let server = vigie_server::Server::new(vigie_server::ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(vigie_server::NoLive),
        clips: Arc::new(vigie_server::NoClips),
        search: None,
        config_admin: None,
        notify_status: None,
        config: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener));
    let mut feeds = Vec::new();
    for (name, role) in [("op", vigie_store::Role::Operator), ("sup", vigie_store::Role::Supervisor)] {
        let user = store.add_user(name, &password(name), role).unwrap();
        let session = store.create_session(&user, Duration::from_secs(3600)).unwrap();
        let mut feed = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req =
            format!("GET /api/alerts/stream HTTP/1.1\r\nhost: x\r\ncookie: vigie_session={}\r\n\r\n", session.token);
        feed.write_all(req.as_bytes()).await.unwrap();
        let mut got = String::new();
        read_until(&mut feed, &mut got, "event: ready").await;
        feeds.push((name, feed, got));
    }
    let mut cal = event("cal-1", EventType::Crowd, "cam1");
    cal.mode = RuleMode::Calibration;
    hub.publish_with(&cal, PublishExtras::default()).unwrap();
    hub.publish_with(&event("live-1", EventType::Crowd, "cam1"), PublishExtras::default()).unwrap();
    for (name, feed, got) in &mut feeds {
        read_until(feed, got, "\"live-1\"").await;
        let calibration = got.contains("event: calibration") && got.contains("\"cal-1\"");
        assert_eq!(calibration, *name == "sup", "{name}'s feed: {got}");
        // Never announced as a new alert (no console rings for it).
        assert!(!got.contains("event: alert\ndata: {\"id\":\"cal-1\""), "{got}");
    }
}

#[tokio::test]
async fn going_live_records_the_figures_and_bumps_the_version() {
    let h = harness();
    *h.config.value.lock() = serde_json::json!({"cameras": [{"id": "cam1", "rules": [
        {"id": "square-crowd", "type": "crowd", "zone": "square", "mode": "calibration", "version": 2,
         "legal_basis": "Arrêté 2025-17, art. 3"},
        {"id": "other", "type": "intrusion", "zone": "square", "version": 1, "legal_basis": "x"}
    ]}]});
    for (id, verdict) in [("c1", "right"), ("c2", "right"), ("c3", "wrong"), ("c4", "")] {
        h.publish_calibration(id);
        if !verdict.is_empty() {
            let body = format!(r#"{{"verdict":"{verdict}"}}"#);
            let (path, sup) = (format!("/api/calibration/alerts/{id}/review"), h.session("sup"));
            assert_eq!(h.call("POST", &path, Some(&sup), Some(&body)).await.status, 200);
        }
    }
    let (op, sup, adm, aud) = (h.session("op"), h.session("sup"), h.session("adm"), h.session("aud"));
    for s in [&sup, &adm, &aud] {
        let rules = h.call("GET", "/api/calibration/rules", Some(s), None).await.json();
        assert_eq!(rules["rules"].as_array().unwrap().len(), 1, "only the rule in calibration: {rules}");
        let f = &rules["rules"][0]["figures"];
        assert_eq!((f["alerts"].as_u64(), f["right"].as_u64(), f["wrong"].as_u64()), (Some(4), Some(2), Some(1)));
        assert!((f["precision"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    }
    assert_eq!(h.call("GET", "/api/calibration/rules", Some(&op), None).await.status, 403);

    // A plain configuration edit cannot take a rule out of calibration: that would skip the record.
    let mut edited = h.config.current();
    edited["cameras"][0]["rules"][0].as_object_mut().unwrap().remove("mode");
    let r = h.call("PUT", "/api/config", Some(&adm), Some(&edited.to_string())).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["key"], "cameras.cam1.rules.square-crowd.mode");
    let mut edited = h.config.current();
    edited["cameras"][0]["rules"][0]["cooldown_s"] = 60.into();
    assert_eq!(h.call("PUT", "/api/config", Some(&adm), Some(&edited.to_string())).await.status, 200, "other edits go");

    let path = "/api/calibration/rules/cam1/square-crowd/live";
    let reason = r#"{"reason":"two weeks, precision acceptable"}"#;
    assert_eq!(h.call("POST", path, Some(&sup), Some(reason)).await.status, 403, "admins set rules live");
    let before = h.config.current();
    let r = h.call("POST", path, Some(&adm), Some(r#"{"reason":"  "}"#)).await;
    assert_eq!(r.status, 400, "a reason is required");
    assert_eq!(h.call("POST", "/api/calibration/rules/cam1/nope/live", Some(&adm), Some(reason)).await.status, 404);
    assert_eq!(h.call("POST", "/api/calibration/rules/cam1/other/live", Some(&adm), Some(reason)).await.status, 409);
    assert_eq!(h.config.current(), before, "refusals change nothing");

    let r = h.call("POST", path, Some(&adm), Some(reason)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["version"], 3);
    let rule = h.config.current()["cameras"][0]["rules"][0].clone();
    assert_eq!((rule.get("mode"), rule["version"].as_u64()), (None, Some(3)), "{rule}");
    let entry = h
        .store
        .audit_entries(&vigie_store::AuditQuery { limit: 5, ..Default::default() })
        .unwrap()
        .into_iter()
        .find(|e| e.action == "rule.go_live")
        .expect("rule.go_live audited");
    let d: serde_json::Value = serde_json::from_str(&entry.details).unwrap();
    assert_eq!((entry.actor.as_str(), entry.target.as_str()), ("adm", "cam1/square-crowd"));
    assert_eq!((d["from_version"].as_u64(), d["version"].as_u64()), (Some(2), Some(3)));
    assert_eq!((d["figures"]["right"].as_u64(), d["figures"]["wrong"].as_u64()), (Some(2), Some(1)));
    assert_eq!(d["reason"], "two weeks, precision acceptable");
    assert_eq!(h.call("POST", path, Some(&adm), Some(reason)).await.status, 409, "already live");
    assert!(h.call("GET", "/api/calibration/rules", Some(&adm), None).await.json()["rules"]
        .as_array()
        .unwrap()
        .is_empty());
}
