//! Shared work over the API: taking an alert, the 409 that names its holder, explicit takeover,
//! release, the feed telling every console, two operators racing, and bulk dismissal.

mod common;

use common::*;
use std::time::Duration;
use vigie_store::Role;

/// A second operator (the harness has one operator and one supervisor).
fn second_operator(h: &H) -> Sess {
    let user = h.store.add_user("op2", &password("op2"), Role::Operator).unwrap();
    let s = h.store.create_session(&user, Duration::from_secs(3600)).unwrap();
    Sess { cookie: format!("vigie_session={}", s.token), csrf: s.csrf_token, user }
}

/// The next `update` the hub pushes about `id`, as the feed carries it.
fn next_update(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<vigie_server::hub::HubMessage>>,
    id: &str,
) -> serde_json::Value {
    loop {
        let m = rx.try_recv().expect("an update was pushed");
        let v: serde_json::Value = serde_json::from_str(&m.json).unwrap();
        if m.kind == "update" && v["id"] == id {
            return v;
        }
    }
}

#[tokio::test]
async fn take_refuse_takeover_release_and_every_console_is_told() {
    let h = harness();
    h.publish("a1");
    let (a, b) = (h.session("op"), second_operator(&h));
    let mut feed = h.hub.subscribe();

    let r = h.call("POST", "/api/alerts/a1/take", Some(&a), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!((r.json()["held_by"].as_str(), r.json()["held_at_ms"].as_i64()), (Some("op"), Some(T0_MS)));
    assert_eq!(next_update(&mut feed, "a1")["held_by"], "op");
    assert_eq!(h.audit_actions(1)[0], ("op".into(), "alert.take".into(), "a1".into()));
    // Again: nothing changes, nothing is pushed or recorded.
    assert_eq!(h.call("POST", "/api/alerts/a1/take", Some(&a), None).await.status, 200);
    assert!(feed.try_recv().is_err());
    assert_eq!(h.audit_actions(1)[0].1, "alert.take");
    // The list and the detail say who holds it.
    let list = h.call("GET", "/api/alerts", Some(&b), None).await.json();
    assert_eq!(list["alerts"][0]["held_by"], "op");
    let detail = h.call("GET", "/api/alerts/a1", Some(&b), None).await.json();
    assert_eq!(detail["alert"]["held_by"], "op");

    // B's dismissal is refused naming A, and changes nothing.
    let before = h.fingerprint();
    let r = h.call("POST", "/api/alerts/a1/dismiss", Some(&b), Some(r#"{"reason":"duplicate"}"#)).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.error(),
        "cannot dismiss alert a1: it is held by op since 2025-06-15T15:06:40Z; take it over explicitly"
    );
    for (path, body) in
        [("confirm", None), ("dispatch", Some(r#"{"unit":"P1"}"#)), ("resolve", Some(r#"{"note":"x"}"#))]
    {
        let r = h.call("POST", &format!("/api/alerts/a1/{path}"), Some(&b), body).await;
        assert_eq!(r.status, 409, "{path}");
        assert!(r.error().contains("held by op"), "{path}: {}", r.error());
    }
    let r = h.call("POST", "/api/alerts/a1/take", Some(&b), None).await;
    assert_eq!(r.status, 409);
    assert!(r.error().ends_with("take it over explicitly"), "{}", r.error());
    assert_eq!(h.call("POST", "/api/alerts/a1/release", Some(&b), None).await.status, 409);
    assert_eq!(h.fingerprint(), before);
    assert_eq!(h.store.alert("a1").unwrap().held_by.as_deref(), Some("op"));

    // The explicit takeover, audited with the previous holder and pushed.
    h.clock.advance(Duration::from_secs(60));
    let r = h.call("POST", "/api/alerts/a1/take", Some(&b), Some(r#"{"takeover":true}"#)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["held_by"], "op2");
    let pushed = next_update(&mut feed, "a1");
    assert_eq!((pushed["held_by"].as_str(), pushed["held_at_ms"].as_i64()), (Some("op2"), Some(T0_MS + 60_000)));
    let e = &h.store.audit_entries(&vigie_store::AuditQuery { limit: 1, ..Default::default() }).unwrap()[0];
    assert_eq!((e.actor.as_str(), e.action.as_str()), ("op2", "alert.takeover"));
    assert!(e.details.contains("\"previous\":\"op\""), "{}", e.details);
    // Now A is the one refused; B confirms.
    let r = h.call("POST", "/api/alerts/a1/confirm", Some(&a), None).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("held by op2"), "{}", r.error());
    assert_eq!(h.call("POST", "/api/alerts/a1/confirm", Some(&b), None).await.json()["state"], "confirmed");

    // Release: pushed, held by nobody; then A can act again (taking it implicitly).
    let r = h.call("POST", "/api/alerts/a1/release", Some(&b), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["held_by"], serde_json::Value::Null);
    let _ = next_update(&mut feed, "a1");
    assert!(next_update(&mut feed, "a1")["held_by"].is_null());
    assert_eq!(h.audit_actions(1)[0].1, "alert.release");
    let r = h.call("POST", "/api/alerts/a1/dismiss", Some(&a), Some(r#"{"reason":"duplicate"}"#)).await;
    assert_eq!((r.json()["state"].as_str(), r.json()["held_by"].as_str()), (Some("dismissed"), None));
    let r = h.call("POST", "/api/alerts/a1/take", Some(&a), None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (409, "cannot take alert a1: it is already dismissed (final)"));
}

#[tokio::test]
async fn take_reads_an_optional_body_strictly() {
    let h = harness();
    h.publish("a1");
    let op = h.session("op");
    for (body, ctype, status, msg) in [
        (r#"{"takeover":"yes"}"#, "application/json", 400, "malformed JSON body"),
        (r#"{"steal":true}"#, "application/json", 400, "malformed JSON body"),
        ("takeover", "text/plain", 415, "expected a JSON body"),
    ] {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/alerts/a1/take")
            .header("cookie", &op.cookie)
            .header("x-csrf-token", &op.csrf)
            .header("content-type", ctype)
            .body(axum::body::Body::from(body))
            .unwrap();
        let r = tower::ServiceExt::oneshot(h.router.clone(), req).await.unwrap();
        assert_eq!(r.status(), status, "{body}");
        let b = http_body_util::BodyExt::collect(r.into_body()).await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&b).contains(msg), "{body}: {}", String::from_utf8_lossy(&b));
    }
    assert_eq!(h.store.alert("a1").unwrap().held_by, None);
    assert_eq!(h.call("POST", "/api/alerts/a1/take", Some(&op), Some("{}")).await.json()["held_by"], "op");
    assert_eq!(h.call("POST", "/api/alerts/nope/take", Some(&op), None).await.status, 404);
}

/// Two operators press at the same moment (one confirms, one dismisses): exactly one 200, and
/// the other a 409 saying why. Many rounds, on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_racing_exactly_one_wins() {
    let h = harness();
    let (a, b) = (h.session("op"), second_operator(&h));
    let rounds = 30;
    let mut first = [0usize; 2];
    let t0 = std::time::Instant::now();
    for i in 0..rounds {
        let id = format!("race-{i}");
        h.publish(&id);
        let (ca, cb) = (format!("/api/alerts/{id}/confirm"), format!("/api/alerts/{id}/dismiss"));
        let (ra, rb) = tokio::join!(
            h.call("POST", &ca, Some(&a), None),
            h.call("POST", &cb, Some(&b), Some(r#"{"reason":"duplicate"}"#))
        );
        let codes = (ra.status.as_u16(), rb.status.as_u16());
        assert!(codes == (200, 409) || codes == (409, 200), "round {i}: {codes:?}");
        let (loser, why) = if codes.0 == 409 { (&ra, "already dismissed") } else { (&rb, "held by op") };
        assert!(loser.error().contains(why), "round {i}: {}", loser.error());
        assert_eq!(h.store.decisions(&id).unwrap().len(), 1);
        first[(codes.0 == 409) as usize] += 1;
    }
    println!("{rounds} races in {:?}: confirm won {}, dismiss won {}", t0.elapsed(), first[0], first[1]);
}

#[tokio::test]
async fn bulk_dismissal_dismisses_each_as_one_and_lists_refusals() {
    let h = harness();
    for id in ["d1", "d2", "d3", "held", "closed"] {
        h.publish(id);
    }
    let (a, b) = (h.session("op"), second_operator(&h));
    assert_eq!(h.call("POST", "/api/alerts/held/take", Some(&b), None).await.status, 200);
    let dismiss = r#"{"reason":"false_detection"}"#;
    assert_eq!(h.call("POST", "/api/alerts/closed/dismiss", Some(&b), Some(dismiss)).await.status, 200);

    // Refused as a whole, before anything changes: bad reason, "other" without text, too many ids.
    let before = h.fingerprint();
    let too_many: Vec<String> = (0..501).map(|i| format!("x{i}")).collect();
    for (body, msg) in [
        (serde_json::json!({"ids": ["d1"], "reason": "bored"}), "unknown dismissal reason 'bored'"),
        (serde_json::json!({"ids": ["d1"], "reason": "other"}), "dismissal reason 'other' needs a text"),
        (serde_json::json!({"ids": [], "reason": "duplicate"}), "'ids' is empty"),
        (serde_json::json!({"ids": too_many, "reason": "duplicate"}), "'ids' names 501 alerts: at most 500 per call"),
        (serde_json::json!({"ids": ["d1"], "reason": "duplicate", "all": true}), "malformed JSON body"),
    ] {
        let r = h.call("POST", "/api/alerts/dismiss", Some(&a), Some(&body.to_string())).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.error().starts_with(msg), "{body}: {}", r.error());
    }
    assert_eq!(h.fingerprint(), before);

    let body = serde_json::json!({
        "ids": ["d1", "d2", "held", "closed", "ghost", "d3", "d1"],
        "reason": "other",
        "text": "street festival",
    });
    let t0 = std::time::Instant::now();
    let r = h.call("POST", "/api/alerts/dismiss", Some(&a), Some(&body.to_string())).await;
    println!("bulk dismissal of 7 ids answered in {:?}", t0.elapsed());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["dismissed"], serde_json::json!(["d1", "d2", "d3"]), "in order, each once");
    let refused: std::collections::BTreeMap<String, String> = j["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap().to_string(), x["error"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(refused.len(), 3, "{j}");
    assert!(refused["held"].contains("held by op2"), "{}", refused["held"]);
    assert!(refused["closed"].contains("already dismissed"), "{}", refused["closed"]);
    assert_eq!(refused["ghost"], "no alert 'ghost'");
    // Each dismissal is audited as one, with its reason and text, and recorded as a decision.
    let e = h.store.audit_entries(&vigie_store::AuditQuery { limit: 3, ..Default::default() }).unwrap();
    let mut targets: Vec<&str> = e.iter().filter(|x| x.action == "alert.dismiss").map(|x| x.target.as_str()).collect();
    targets.sort();
    assert_eq!(targets, ["d1", "d2", "d3"]);
    assert!(e.iter().all(|x| x.actor == "op" && x.details.contains("street festival")));
    assert_eq!(h.store.decisions("d2").unwrap()[0].reason.as_deref(), Some("other"));
    assert_eq!(h.store.alert("held").unwrap().state, vigie_store::AlertState::New);
}

/// 500 ids, the most one call takes, within the time budget of a test.
#[tokio::test]
async fn bulk_dismissal_of_500_alerts() {
    let h = harness();
    let ids: Vec<String> = (0..500).map(|i| format!("b{i}")).collect();
    // Straight into the catalogue, without pictures: the dismissals are what is measured.
    let seeded = std::time::Instant::now();
    for id in &ids {
        let mut ev = event(id, vigie_core::EventType::Crowd, "cam1");
        ev.snapshot_jpeg = None;
        h.store.ingest_event(&ev, None).unwrap();
    }
    println!("500 alerts stored in {:?}", seeded.elapsed());
    let op = h.session("op");
    let body = serde_json::json!({"ids": ids, "reason": "duplicate"}).to_string();
    let t0 = std::time::Instant::now();
    let r = h.call("POST", "/api/alerts/dismiss", Some(&op), Some(&body)).await;
    let took = t0.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["dismissed"].as_array().unwrap().len(), 500);
    assert!(r.json()["refused"].as_array().unwrap().is_empty());
    println!("bulk dismissal of 500 alerts: {took:?} ({} bytes of request)", body.len());
}
