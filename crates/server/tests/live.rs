//! The live feed over a real socket, measured with the probe client the benchmarks use, and
//! notifications to a real HTTP receiver and a real MQTT broker (Debian's mosquitto).

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{EventType, SimClock, SystemClock, UnixMs};
use vigie_eval::probe::{api_load, summarize, watch_alerts, ApiClient};
use vigie_server::*;
use vigie_store::{Role, Store};

async fn serve(store: Arc<Store>, hub: Arc<AlertHub>) -> String {
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store,
        hub,
        live: Arc::new(TestLive),
        clips: Arc::new(TestClips::default()),
        search: None,
        config_admin: None,
        notify_status: None,
        config: ServerConfig::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener));
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_a_connected_console_with_their_timing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), Arc::new(SystemClock::default())).unwrap());
    store.add_user("op", "operator password", Role::Operator).unwrap();
    let hub = AlertHub::new(store.clone(), None);
    let base = serve(store.clone(), hub.clone()).await;
    let client = ApiClient::login(&base, "op", "operator password").await.unwrap();
    assert!(ApiClient::login(&base, "op", "wrong password!").await.unwrap_err().contains("HTTP 401"));

    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let producer = std::thread::spawn(move || {
        ready_rx.recv().unwrap();
        // Published from a plain thread, as the pipeline does.
        for i in 0..3 {
            let mut ev = event(&format!("live-{i}"), EventType::Intrusion, "cam1");
            ev.started_at_ms = vigie_core::UnixMs(1_750_000_000_000 + i);
            hub.publish_with(&ev, PublishExtras { clear_jpeg: None, fired_at_ms: Some(UnixMs(1_700_000_000_000 + i)) })
                .unwrap();
        }
    });
    let samples = watch_alerts(&client, 3, Duration::from_secs(20), move || {
        let _ = ready_tx.send(());
    })
    .await
    .unwrap();
    producer.join().unwrap();
    let ids: Vec<&str> = samples.iter().map(|s| s.alert_id.as_str()).collect();
    assert_eq!(ids, ["live-0", "live-1", "live-2"]);
    let a = &samples[0].alert;
    assert_eq!(
        (a["type"].as_str(), a["camera"].as_str(), a["zone"].as_str()),
        (Some("intrusion"), Some("cam1"), Some("square"))
    );
    assert_eq!(a["started_at"], "2025-06-15T15:06:40Z");
    assert_eq!(a["state"], "new");
    assert_eq!(a["snapshot_url"], "/api/alerts/live-0/snapshot");
    assert_eq!(samples[1].fired_at_ms, Some(UnixMs(1_700_000_000_001)));
    assert!(samples[0].published_at_ms.unwrap() <= samples[0].received_at_ms);
    assert!(samples[0].latency_ms().is_some());

    let report = api_load(&client, "/api/alerts", 40, 2).await.unwrap();
    assert_eq!((report.latency_ms.n, report.errors), (40, 0));
}

#[test]
fn percentiles_use_nearest_rank() {
    let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
    let s = summarize(&mut v);
    assert_eq!((s.n, s.p50, s.p99, s.max), (100, 50.0, 99.0, 100.0));
    assert!(summarize(&mut []).p50.is_nan());
}

/// A local receiver that fails the first `fail_first` deliveries.
/// Each delivery: signature, attempt, timestamp headers and the body.
type Deliveries = Arc<parking_lot::Mutex<Vec<(String, String, String, Vec<u8>)>>>;

async fn receiver(fail_first: usize) -> (String, Deliveries) {
    use axum::http::{HeaderMap, StatusCode};
    let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: bytes::Bytes| {
            let g = g.clone();
            async move {
                let mut v = g.lock();
                let h = |k: &str| headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                v.push((h("x-vigie-signature"), h("x-vigie-attempt"), h("x-vigie-timestamp"), body.to_vec()));
                if v.len() <= fail_first {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn hub_with(notify: &NotifyConfig) -> (tempfile::TempDir, Arc<AlertHub>, Notifier) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(Store::open(dir.path(), Arc::new(clock)).unwrap());
    let notifier = Notifier::start(notify, &tokio::runtime::Handle::current()).unwrap();
    let hub = AlertHub::new(store, Some(notifier.clone()));
    (dir, hub, notifier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_is_signed_and_retried() {
    let (url, got) = receiver(2).await;
    let secret = "a-shared-secret-of-the-city";
    let cfg = NotifyConfig {
        webhook: Some(WebhookConfig {
            url,
            secret: secret.into(),
            max_attempts: 5,
            retry_initial_ms: 20,
            timeout_s: 5,
        }),
        mqtt: None,
    };
    let (_d, hub, notifier) = hub_with(&cfg);
    hub.publish_with(&event("w1", EventType::PersonDown, "cam1"), PublishExtras::default()).unwrap();
    // Updates of a known alert are not re-notified.
    hub.publish_with(&event("w1", EventType::PersonDown, "cam1"), PublishExtras::default()).unwrap();
    until("webhook delivery", || notifier.status().webhook.lock().sent == 1).await;
    let got = got.lock().clone();
    assert_eq!(got.len(), 3, "two refusals, then delivered");
    let attempts: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    for (sig, _, ts, body) in &got {
        // What a receiver does (README): recompute over "<timestamp>.<body>", refuse old ones.
        let t: i64 = ts.parse().unwrap_or_else(|_| panic!("X-Vigie-Timestamp '{ts}' is not Unix seconds"));
        assert!((now_s - t).abs() <= 30, "timestamp {t} is not the sending time (now {now_s})");
        assert_eq!(sig, &notify::sign(secret, t, body));
        assert_eq!(notify::verify(secret, ts, sig, body, now_s, notify::MAX_SIGNATURE_AGE_S), Ok(()));
        // The same delivery replayed later, or with its timestamp moved, is refused.
        let later = now_s + notify::MAX_SIGNATURE_AGE_S + 60;
        assert!(matches!(
            notify::verify(secret, ts, sig, body, later, notify::MAX_SIGNATURE_AGE_S),
            Err(notify::SignatureError::TooOld { .. })
        ));
        let moved = (t + 1).to_string();
        assert_eq!(
            notify::verify(secret, &moved, sig, body, now_s, notify::MAX_SIGNATURE_AGE_S),
            Err(notify::SignatureError::Mismatch)
        );
    }
    let body: serde_json::Value = serde_json::from_slice(&got[0].3).unwrap();
    assert_eq!((body["event"].as_str(), body["alert"]["id"].as_str()), (Some("alert.opened"), Some("w1")));
    let st = notifier.status().webhook.lock().clone();
    assert_eq!((st.retries, st.failed), (2, 0));
    assert!(st.last_error.unwrap().contains("HTTP 503"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_checkpoints_are_notified_signed() {
    let (url, got) = receiver(0).await;
    let cfg = NotifyConfig {
        webhook: Some(WebhookConfig { url, secret: "s".into(), max_attempts: 2, retry_initial_ms: 20, timeout_s: 5 }),
        mqtt: None,
    };
    let (dir, hub, notifier) = hub_with(&cfg);
    hub.publish_with(&event("c1", EventType::Crowd, "cam1"), PublishExtras::default()).unwrap();
    let store = Store::open(dir.path(), Arc::new(SimClock::new(std::time::UNIX_EPOCH))).unwrap();
    store.record("alice", vigie_core::AuditAction::AlertView, "c1", &serde_json::json!({})).unwrap();
    let key = vigie_store::NodeKey::load_or_create(dir.path()).unwrap();
    let cp = store.checkpoint(&key).unwrap().unwrap();
    notifier.audit_checkpoint(&cp);
    until("the alert and the checkpoint", || notifier.status().webhook.lock().sent == 2).await;
    let got = got.lock().clone();
    let body: serde_json::Value = serde_json::from_slice(&got[1].3).unwrap();
    assert_eq!(body["event"], "audit.checkpoint");
    let sent: vigie_store::Checkpoint = serde_json::from_value(body["checkpoint"].clone()).unwrap();
    let head = store.verify_audit().unwrap().unwrap();
    assert!(head.entries >= 1);
    assert_eq!((sent.seq, &sent.head_hash), (head.entries, &head.head_hash));
    sent.verify_signature(Some(&key.public_hex())).unwrap();
    // Signed like alerts (same headers, same function).
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (sig, _, ts, raw) = &got[1];
    assert_eq!(notify::verify("s", ts, sig, raw, now_s, notify::MAX_SIGNATURE_AGE_S), Ok(()));
    assert_ne!(got[1].0, got[0].0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_gives_up_after_max_attempts_and_says_so() {
    let cfg = NotifyConfig {
        webhook: Some(WebhookConfig {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "0123456789abcdef".into(),
            max_attempts: 2,
            retry_initial_ms: 10,
            timeout_s: 2,
        }),
        mqtt: None,
    };
    let (_d, hub, notifier) = hub_with(&cfg);
    hub.publish_with(&event("w2", EventType::Crowd, "cam1"), PublishExtras::default()).unwrap();
    until("webhook failure", || notifier.status().webhook.lock().failed == 1).await;
    let s = serde_json::to_value(notifier.status().snapshot()).unwrap();
    assert_eq!(s["webhook"]["sent"], 0);
    assert!(s["webhook"]["last_error"].as_str().unwrap().contains("cannot connect to 127.0.0.1:9"));
}

struct Mosquitto(std::process::Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn mosquitto(port: u16) -> Mosquitto {
    let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].into_iter().find(|p| std::path::Path::new(p).exists()).expect(
        "mosquitto is not installed: these tests need a real MQTT broker (Debian package `mosquitto`, installed by the setup script)",
    );
    Mosquitto(
        std::process::Command::new(bin)
            .args(["-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting mosquitto"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_publishes_alerts_and_reconnects_to_a_late_broker() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let port = free_port();
    let cfg = NotifyConfig {
        webhook: None,
        mqtt: Some(MqttConfig {
            host: "127.0.0.1".into(),
            port,
            topic: "vigie/alerts".into(),
            client_id: "vigie-test".into(),
            retry_initial_ms: 100,
        }),
    };
    // The broker is not running yet: the notifier keeps retrying and says why.
    let (d, hub, notifier) = hub_with(&cfg);
    until("a connection error", || notifier.status().mqtt.lock().last_error.is_some()).await;
    assert_eq!(notifier.status().mqtt.lock().connected, Some(false));

    let _broker = mosquitto(port);
    let (sub, mut el) = AsyncClient::new(MqttOptions::new("test-sub", "127.0.0.1", port), 16);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = tx.send(None);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(Some((p.topic.clone(), p.payload.to_vec())));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    sub.subscribe("vigie/alerts/#", QoS::AtLeastOnce).await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap(), Some(None), "subscribed");
    until("the notifier to reach the broker", || notifier.status().mqtt.lock().connected == Some(true)).await;

    hub.publish_with(&event("m1", EventType::AbandonedObject, "gare/nord"), PublishExtras::default()).unwrap();
    let (topic, payload) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(topic, "vigie/alerts/gare_nord");
    let body: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(body["alert"]["type"], "abandoned_object");
    until("the broker's acknowledgement", || notifier.status().mqtt.lock().sent == 1).await;

    // Audit checkpoints go to a level of their own, which no camera id can take.
    let store = Store::open(d.path(), Arc::new(SystemClock::default())).unwrap();
    store.record("alice", vigie_core::AuditAction::AlertView, "m1", &serde_json::json!({})).unwrap();
    let cp = store.checkpoint(&vigie_store::NodeKey::load_or_create(d.path()).unwrap()).unwrap().unwrap();
    notifier.audit_checkpoint(&cp);
    let (topic, payload) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(topic, "vigie/alerts/_node/audit");
    let body: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!((body["event"].as_str(), body["checkpoint"]["seq"].as_i64()), (Some("audit.checkpoint"), Some(cp.seq)));
}
