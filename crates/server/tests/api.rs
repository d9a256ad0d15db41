//! The API against the real router and catalogue: every role against every endpoint, bad input,
//! sessions, CSRF, rate limits, unmasking, and that refused requests change nothing.

mod common;

use common::*;
use std::time::Duration;
use vigie_server::config::CookieSecure;
use vigie_server::{Access, ServerConfig, ROUTES};
use vigie_store::{AlertAction, AlertState, Role};

/// A request that succeeds for an allowed role, prepared so that it can (fresh alert or user).
fn prepare(h: &H, method: &str, path: &str, case: usize) -> (String, Option<String>, u16) {
    let alert = format!("alert-{case}");
    h.publish(&alert);
    let user = format!("user{case}");
    h.store.add_user(&user, &password(&user), Role::Operator).unwrap();
    let state = |s: AlertState| {
        if s == AlertState::Confirmed {
            h.store.act(&alert, "setup", &AlertAction::Confirm).unwrap();
            // Confirming took it: let it go, or the role under test would find it held.
            h.store.release(&alert, "setup").unwrap();
        }
    };
    let bulk = format!(r#"{{"ids":["{alert}"],"reason":"duplicate"}}"#);
    let body: Option<&str> = match (method, path) {
        ("POST", "/api/alerts/dismiss") => Some(bulk.as_str()),
        ("POST", "/api/alerts/{id}/dismiss") => Some(r#"{"reason":"false_detection"}"#),
        ("POST", "/api/alerts/{id}/dispatch") => {
            state(AlertState::Confirmed);
            Some(r#"{"unit":"Patrol 7"}"#)
        }
        ("POST", "/api/alerts/{id}/resolve") => {
            state(AlertState::Confirmed);
            Some(r#"{"note":"crowd dispersed"}"#)
        }
        ("POST", "/api/alerts/{id}/unmask") => Some(r#"{"reason":"police request 2025-114"}"#),
        ("POST", "/api/users") => Some(r#"{"username":"newbie","password":"long enough password","role":"operator"}"#),
        ("POST", "/api/users/{name}/password") => Some(r#"{"password":"another long password"}"#),
        // `{old}`: the caller's own password, filled in by the caller.
        ("POST", "/api/me/password") => Some(r#"{"old_password":"{old}","new_password":"a password of my own"}"#),
        ("PUT", "/api/config") => Some(r#"{"cameras":[{"id":"cam1"},{"id":"cam2"}]}"#),
        ("POST", "/api/calibration/alerts/{id}/review") => {
            h.publish_calibration(&format!("cal-{case}"));
            Some(r#"{"verdict":"wrong","note":"a shadow"}"#)
        }
        ("POST", "/api/calibration/rules/{camera}/{rule}/live") => {
            *h.config.value.lock() = serde_json::json!({"cameras": [{"id": "cam1", "rules": [
                {"id": format!("r-{case}"), "type": "crowd", "mode": "calibration", "version": 1}
            ]}]});
            Some(r#"{"reason":"precision good enough over two weeks"}"#)
        }
        ("POST", "/api/users/{name}/sectors") => Some(r#"{"sectors":[]}"#),
        ("PUT", "/api/cameras/{id}/privacy_masks") => {
            Some(r#"{"masks":[{"name":"w","polygon":[[1,1],[20,1],[20,20]]}]}"#)
        }
        ("POST", "/api/holds") => Some(
            r#"{"cameras":["cam1"],"from":"1750000000000","to":"1750000010000","reference":"PV 1","reason":"requisition"}"#,
        ),
        ("POST", "/api/holds/{id}/release") => Some(r#"{"reason":"procedure closed"}"#),
        // Every entry, as CSV: no body, no parameter needed.
        ("GET", "/api/audit/export") => None,
        _ => None,
    };
    // A fresh hold over footage of cam1 (recorded once) for the routes that name one.
    let hold = if path.starts_with("/api/holds/{id}") {
        if h.archive.cameras().unwrap().is_empty() {
            record(&h.archive, "cam1", T0_MS, 12.0);
        }
        let new = vigie_footage::NewHold {
            cameras: vec!["cam1".into()],
            from_ms: vigie_core::UnixMs(T0_MS),
            to_ms: vigie_core::UnixMs(T0_MS + 10_000),
            reference: format!("PV {case}"),
            reason: "requisition".into(),
            until_ms: None,
        };
        h.archive.place_hold("setup", &new, &[]).unwrap().id
    } else {
        0
    };
    let concrete = if path == "/api/stats" { "/api/stats?zone=north&step=3600" } else { path };
    let concrete = concrete
        .replace("/api/alerts/{id}", &format!("/api/alerts/{alert}"))
        .replace("/api/calibration/alerts/{id}", &format!("/api/calibration/alerts/cal-{case}"))
        .replace("{camera}/{rule}", &format!("cam1/r-{case}"))
        .replace("/api/cameras/{id}/clip", "/api/cameras/cam1/clip?from=1750000000000&to=1750000060000")
        .replace("/api/cameras/{id}/export", "/api/cameras/cam1/export?from=1750000000000&to=1750000060000")
        .replace("/api/cameras/{id}", "/api/cameras/cam1")
        .replace("/api/search/thumbnails/{id}", "/api/search/thumbnails/1")
        .replace(
            "/api/holds/{id}/export",
            &format!("/api/holds/{hold}/export?camera=cam1&from={T0_MS}&to={}", T0_MS + 4000),
        )
        .replace("/api/holds/{id}", &format!("/api/holds/{hold}"))
        .replace("{name}", &user)
        .replace("{file}", "app.js");
    let ok = match (method, path) {
        ("POST", "/api/alerts/{id}/unmask") | ("POST", "/api/users") | ("POST", "/api/holds") => 201,
        // This harness's config admin cannot edit masks (tests/masks.rs runs the node's own):
        // an allowed role gets past the role check to that answer.
        (_, "/api/cameras/{id}/privacy_masks") => 404,
        _ => 200,
    };
    (concrete, body.map(String::from), ok)
}

#[tokio::test]
async fn every_role_against_every_endpoint() {
    let h = harness();
    let mut case = 0;
    for route in ROUTES.iter().filter(|r| r.access != Access::Public && r.path != "/api/logout") {
        for (role, user) in h.users.clone() {
            case += 1;
            let (mut path, body, ok) = prepare(&h, route.method, route.path, case);
            let body = body.map(|b| b.replace("{old}", &password(&user.username)));
            let sess = h.session(&user.username);
            let allowed = match route.access {
                Access::Perm(p) => p.allowed(role),
                _ => true,
            };
            if allowed && route.path == "/api/search/thumbnails/{id}" {
                // Thumbnails are served only from this session's own search results.
                let found = h.call("GET", "/api/search?class=car", Some(&sess), None).await.json();
                path = found["tracks"][0]["thumbnail_url"].as_str().unwrap().to_string();
            }
            let before = h.fingerprint();
            let r = h.call(route.method, &path, Some(&sess), body.as_deref()).await;
            if allowed {
                assert_eq!(
                    r.status.as_u16(),
                    ok,
                    "{role} {} {path}: {}",
                    route.method,
                    String::from_utf8_lossy(&r.body)
                );
            } else {
                assert_eq!(r.status.as_u16(), 403, "{role} {} {path} should be refused", route.method);
                assert_eq!(r.error(), format!("role {role} may not {}", route.summary));
                assert_eq!(h.fingerprint(), before, "{role} {} {path}: a refused request changed state", route.method);
                let last = &h.audit_actions(1)[0];
                assert_eq!(
                    (last.0.as_str(), last.1.as_str(), last.2.as_str()),
                    (user.username.as_str(), "access.denied", path.split('?').next().unwrap())
                );
            }
        }
    }
    // Logout for every role.
    for (_, user) in h.users.clone() {
        let sess = h.session(&user.username);
        assert_eq!(h.call("POST", "/api/logout", Some(&sess), None).await.status, 200);
        assert_eq!(h.call("GET", "/api/me", Some(&sess), None).await.status, 401, "the session is closed");
    }
}

#[tokio::test]
async fn auditor_never_gets_a_picture() {
    let h = harness();
    h.publish("a1");
    let aud = h.session("aud");
    for path in [
        "/api/alerts/a1/snapshot",
        "/api/alerts/a1/clip",
        "/api/cameras/cam1/live",
        "/api/alerts",
        "/api/search/thumbnails/1",
        "/api/holds/1/export?camera=cam1&from=1750000000000&to=1750000001000",
    ] {
        let r = h.call("GET", path, Some(&aud), None).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.headers.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    }
    let me = h.call("GET", "/api/me", Some(&aud), None).await.json();
    assert_eq!(me["permissions"], serde_json::json!(["reports", "audit", "stats", "calibration_read", "holds_read"]));
}

#[tokio::test]
async fn login_sets_a_strict_httponly_cookie_and_csrf_token() {
    let h = harness();
    let r = h.call("POST", "/api/login", None, Some(r#"{"username":"op","password":"password-of-op"}"#)).await;
    assert_eq!(r.status, 200);
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("vigie_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"),
        "{cookie}"
    );
    let j = r.json();
    assert_eq!(j["role"], "operator");
    let csrf = j["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(csrf.len(), 64);
    let sess = Sess { cookie: cookie.split(';').next().unwrap().to_string(), csrf, user: h.user("op") };
    assert_eq!(h.call("GET", "/api/me", Some(&sess), None).await.json()["csrf_token"], j["csrf_token"]);
    assert_eq!(h.audit_actions(1)[0], ("op".into(), "login".into(), "op".into()));

    let secure = harness_with(ServerConfig { cookie_secure: CookieSecure::Always, ..Default::default() });
    let r = secure.call("POST", "/api/login", None, Some(r#"{"username":"op","password":"password-of-op"}"#)).await;
    assert!(r.headers.get("set-cookie").unwrap().to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn wrong_passwords_are_refused_audited_and_rate_limited() {
    let h = harness();
    let login = |u: &str, p: &str| format!(r#"{{"username":"{u}","password":"{p}"}}"#);
    for (u, p) in [("op", "nope-nope-nope"), ("ghost", "whatever-123")] {
        let r = h.call_from("10.0.0.1", "POST", "/api/login", Some(&login(u, p))).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.error(), "wrong username or password");
        assert!(r.headers.get("set-cookie").is_none());
        assert_eq!(h.audit_actions(1)[0], (u.to_string(), "login.failed".into(), u.to_string()));
    }
    // Per (user, address): five failures for "op" from one address, and even the right password is
    // refused there, but not from another address (an attacker cannot lock the real user out).
    for _ in 0..4 {
        let r = h.call_from("10.0.0.1", "POST", "/api/login", Some(&login("op", "bad-password"))).await;
        assert_eq!(r.status, 401);
    }
    let r = h.call_from("10.0.0.1", "POST", "/api/login", Some(&login("op", "password-of-op"))).await;
    assert_eq!(r.status, 429);
    assert!(r.error().starts_with("too many failed logins"), "{}", r.error());
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(h.audit_actions(1)[0].1, "login.rate_limited");
    assert_eq!(h.call_from("10.0.2.1", "POST", "/api/login", Some(&login("op", "password-of-op"))).await.status, 200);
    // Per address: a few failures on different names from one address (a control room behind NAT)
    // do not lock the others out there; the per-address limit is much higher (see hardening.rs).
    for i in 0..5 {
        h.call_from("10.0.3.1", "POST", "/api/login", Some(&login(&format!("u{i}"), "bad-password"))).await;
    }
    assert_eq!(h.call_from("10.0.3.1", "POST", "/api/login", Some(&login("sup", "password-of-sup"))).await.status, 200);
    h.clock.advance(Duration::from_secs(5 * 60 + 1));
    assert_eq!(h.call_from("10.0.0.1", "POST", "/api/login", Some(&login("op", "password-of-op"))).await.status, 200);
}

#[tokio::test]
async fn sessions_expire_and_missing_sessions_are_refused() {
    let h = harness();
    h.publish("a1");
    let r = h.call("GET", "/api/alerts", None, None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (401, "not logged in"));
    let forged = Sess { cookie: "vigie_session=deadbeef".into(), csrf: "x".into(), user: h.user("op") };
    assert_eq!(h.call("GET", "/api/alerts", Some(&forged), None).await.status, 401);
    let op = h.session("op");
    assert_eq!(h.call("GET", "/api/alerts", Some(&op), None).await.status, 200);
    h.clock.advance(Duration::from_secs(3601));
    let before = h.fingerprint();
    let r = h.call("POST", "/api/alerts/a1/confirm", Some(&op), None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (401, "session expired: log in again"));
    assert_eq!(h.fingerprint(), before);
    let e = &h.audit_actions(1)[0];
    assert_eq!((e.0.as_str(), e.1.as_str()), ("anonymous", "access.unauthenticated"));
}

#[tokio::test]
async fn csrf_is_required_on_every_state_change() {
    let h = harness();
    h.publish("a1");
    let op = h.session("op");
    let before = h.fingerprint();
    for token in [None, Some("wrong")] {
        let mut req =
            axum::http::Request::builder().method("POST").uri("/api/alerts/a1/confirm").header("cookie", &op.cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let resp =
            tower::ServiceExt::oneshot(h.router.clone(), req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), 403);
        assert_eq!(h.audit_actions(1)[0].1, "access.csrf_refused");
    }
    assert_eq!(h.fingerprint(), before);
    assert_eq!(h.call("POST", "/api/alerts/a1/confirm", Some(&op), None).await.status, 200);
}

#[tokio::test]
async fn bad_bodies_and_unknown_ids_get_clear_errors_and_change_nothing() {
    let h = harness();
    h.publish("a1");
    let op = h.session("op");
    let before = h.fingerprint();
    let big = format!(r#"{{"reason":"other","text":"{}"}}"#, "x".repeat(70 * 1024));
    let cases: Vec<(&str, Option<&str>, u16, &str)> = vec![
        ("/api/alerts/a1/dismiss", Some("{not json"), 400, "malformed JSON body"),
        ("/api/alerts/a1/dismiss", Some(r#"{"text":"no reason"}"#), 400, "malformed JSON body"),
        ("/api/alerts/a1/dismiss", Some(r#"{"reason":"bored"}"#), 400, "unknown dismissal reason 'bored'"),
        ("/api/alerts/a1/dismiss", Some(r#"{"reason":"other"}"#), 400, "dismissal reason 'other' needs a text"),
        ("/api/alerts/a1/dismiss", Some(r#"{"reason":"duplicate","extra":1}"#), 400, "malformed JSON body"),
        ("/api/alerts/a1/dismiss", Some(big.as_str()), 413, "request body too large: at most 64 KiB"),
        (
            "/api/alerts/a1/dispatch",
            Some(r#"{"unit":"P1"}"#),
            409,
            "cannot dispatch alert a1: confirm it before dispatching a patrol",
        ),
        ("/api/alerts/a1/resolve", Some(r#"{"note":""}"#), 400, "resolution note is empty"),
        ("/api/alerts/nope/confirm", None, 404, "no alert 'nope'"),
        ("/api/alerts/nope/dismiss", Some(r#"{"reason":"duplicate"}"#), 404, "no alert 'nope'"),
    ];
    for (path, body, status, msg) in cases {
        let r = h.call("POST", path, Some(&op), body).await;
        assert_eq!(r.status.as_u16(), status, "{path} {body:?}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.error().starts_with(msg), "{path}: '{}' should start with '{msg}'", r.error());
        assert_eq!(h.fingerprint(), before, "{path} {body:?} changed state");
    }
    // JSON sent as a form (what a cross-site form could do) is refused.
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/alerts/a1/dismiss")
        .header("cookie", &op.cookie)
        .header("x-csrf-token", &op.csrf)
        .header("content-type", "text/plain");
    req = req.header("accept", "*/*");
    let resp = tower::ServiceExt::oneshot(
        h.router.clone(),
        req.body(axum::body::Body::from(r#"{"reason":"duplicate"}"#)).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 415);
    for path in ["/api/alerts/nope", "/api/alerts/nope/snapshot", "/api/alerts/nope/clip", "/api/cameras/nope/live"] {
        let r = h.call("GET", path, Some(&op), None).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.error().contains("nope"), "{}", r.error());
    }
    let r = h.call("GET", "/api/alerts?state=bogus", Some(&op), None).await;
    assert_eq!((r.status.as_u16(), r.error().starts_with("unknown alert state 'bogus'")), (400, true));
    let r = h.call("GET", "/api/alerts?limit=abc", Some(&op), None).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("bad query string"));
    let r = h.call("GET", "/api/nothing-here", Some(&op), None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (404, "no such endpoint: GET /api/nothing-here"));
    let r = h.call("DELETE", "/api/alerts", Some(&op), None).await;
    assert_eq!(r.status, 405);
    assert_eq!(h.fingerprint(), before);
}

#[tokio::test]
async fn decisions_flow_through_the_state_machine_and_the_audit_trail() {
    let h = harness();
    h.publish("a1");
    let op = h.session("op");
    let mut rx = h.hub.subscribe();
    let r = h.call("POST", "/api/alerts/a1/confirm", Some(&op), None).await;
    assert_eq!(r.json()["state"], "confirmed");
    let pushed = rx.try_recv().unwrap();
    assert_eq!(pushed.kind, "update");
    assert!(pushed.json.contains("\"state\":\"confirmed\""));
    let r = h.call("POST", "/api/alerts/a1/confirm", Some(&op), None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (409, "cannot confirm alert a1: it is already confirmed"));
    assert_eq!(
        h.call("POST", "/api/alerts/a1/dispatch", Some(&op), Some(r#"{"unit":"Patrol 7"}"#)).await.json()["state"],
        "dispatched"
    );
    let r = h.call("POST", "/api/alerts/a1/dismiss", Some(&op), Some(r#"{"reason":"duplicate"}"#)).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("resolve it with a note instead"));
    assert_eq!(
        h.call("POST", "/api/alerts/a1/resolve", Some(&op), Some(r#"{"note":"dispersed"}"#)).await.json()["state"],
        "resolved"
    );
    let d = h.call("GET", "/api/alerts/a1", Some(&op), None).await.json();
    let actions: Vec<&str> = d["decisions"].as_array().unwrap().iter().map(|x| x["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["confirm", "dispatch", "resolve"]);
    assert_eq!(d["decisions"][1]["text"], "Patrol 7");
    assert_eq!(d["decisions"][0]["actor"], "op");
    assert_eq!(d["alert"]["legal_basis"], "Arrêté 2025-17, art. 3");
    assert_eq!(d["alert"]["model_sha256"], "feedbeef");

    let aud = h.session("aud");
    let entries = h.call("GET", "/api/audit?action=alert.", Some(&aud), None).await.json();
    let got: Vec<(String, String)> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap().into(), e["action"].as_str().unwrap().into()))
        .collect();
    let want = [("op", "alert.view"), ("op", "alert.resolve"), ("op", "alert.dispatch"), ("op", "alert.confirm")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let v = h.call("GET", "/api/audit/verify", Some(&aud), None).await.json();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn evidence_is_blurred_unless_a_supervisor_holds_a_grant() {
    let h = harness();
    h.publish("a1");
    let (op, sup) = (h.session("op"), h.session("sup"));
    let blurred = h.call("GET", "/api/alerts/a1/snapshot", Some(&op), None).await;
    assert_eq!(blurred.status, 200);
    assert_eq!(blurred.headers["content-type"], "image/jpeg");
    assert_eq!(blurred.headers["cache-control"], "no-store, private");
    assert_eq!(&blurred.body[..], &jpeg(10)[..]);
    let r = h.call("GET", "/api/alerts/a1/snapshot?unmasked=true", Some(&op), None).await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (403, "role operator may not see unblurred evidence"));
    let r = h.call("GET", "/api/alerts/a1/snapshot?unmasked=true", Some(&sup), None).await;
    assert_eq!(r.status, 403);
    assert!(r.error().starts_with("no unmask grant in force for alert a1"));
    assert_eq!(h.call("POST", "/api/alerts/a1/unmask", Some(&sup), Some(r#"{"reason":"  "}"#)).await.status, 400);
    let g = h.call("POST", "/api/alerts/a1/unmask", Some(&sup), Some(r#"{"reason":"police request 114"}"#)).await;
    assert_eq!(g.status, 201);
    assert_eq!(g.json()["grant"]["expires_at_ms"], T0_MS + 15 * 60_000);
    let clear = h.call("GET", "/api/alerts/a1/snapshot?unmasked=true", Some(&sup), None).await;
    assert_eq!(&clear.body[..], &jpeg(200)[..]);
    assert_eq!(
        &h.call("GET", "/api/alerts/a1/snapshot", Some(&sup), None).await.body[..],
        &jpeg(10)[..],
        "default stays blurred"
    );
    assert_eq!(h.call("GET", "/api/alerts/a1/clip?unmasked=true", Some(&sup), None).await.status, 200);
    assert_eq!(h.call("GET", "/api/alerts/a1/clip", Some(&op), None).await.status, 200);
    let blurred_flags: Vec<bool> = h.clips.calls.lock().iter().map(|c| c.3).collect();
    assert_eq!(blurred_flags, [false, true]);
    assert_eq!(
        h.call("GET", "/api/alerts/a1/snapshot?unmasked=true", Some(&op), None).await.status,
        403,
        "grants are personal"
    );
    let actions: Vec<String> = h.audit_actions(20).into_iter().map(|e| e.1).collect();
    assert!(actions.contains(&"alert.unmask".to_string()));
    h.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(
        h.call("GET", "/api/alerts/a1/snapshot?unmasked=true", Some(&sup), None).await.status,
        403,
        "grants expire"
    );
}

#[tokio::test]
async fn clip_is_served_as_mjpeg_from_frames() {
    let h = harness();
    h.publish("a1");
    let op = h.session("op");
    let r = h.call("GET", "/api/alerts/a1/clip", Some(&op), None).await;
    assert_eq!(r.headers["content-type"], "multipart/x-mixed-replace; boundary=vigieframe");
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(text.matches("Content-Type: image/jpeg").count(), 2);
    assert!(text.ends_with("--vigieframe--\r\n"));
    let (cam, from, to, _) = h.clips.calls.lock()[0].clone();
    assert_eq!((cam.as_str(), from, to), ("cam1", T0_MS - 10_000, T0_MS + 10_000));
    let e = &h.audit_actions(1)[0];
    assert_eq!((e.1.as_str(), e.2.as_str()), ("alert.clip.view", "a1"));
}

#[tokio::test]
async fn live_views_are_audited_once_per_period() {
    let h = harness();
    let op = h.session("op");
    let cams = h.call("GET", "/api/cameras", Some(&op), None).await.json();
    assert_eq!(cams["cameras"][0]["health"]["fps"], 7.0);
    for _ in 0..3 {
        let r = h.call("GET", "/api/cameras/cam1/live", Some(&op), None).await;
        assert_eq!(r.headers["content-type"], "image/jpeg");
    }
    let count = |h: &H| h.audit_actions(100).iter().filter(|e| e.1 == "live.view").count();
    assert_eq!(count(&h), 1);
    h.clock.advance(Duration::from_secs(5 * 60));
    h.call("GET", "/api/cameras/cam1/live", Some(&op), None).await;
    assert_eq!(count(&h), 2);
}

#[tokio::test]
async fn search_report_users_and_config() {
    let h = harness();
    h.publish("a1");
    let (op, sup, adm) = (h.session("op"), h.session("sup"), h.session("adm"));
    let r = h.call("GET", "/api/search?class=car&from=2025-06-01", Some(&op), None).await.json();
    assert_eq!(r["tracks"][0]["id"], 1);
    assert_eq!(r["filters"]["from"], "2025-06-01", "dates reach the archive as typed, for the city's time zone");
    let r = h.call("GET", "/api/search?class=car&from=1748736000000", Some(&op), None).await.json();
    assert_eq!(r["filters"]["from"], "2025-06-01T00:00:00Z", "instants reach it as RFC 3339");
    assert_eq!(h.audit_actions(1)[0].1, "search");
    assert_eq!(h.call("GET", "/api/search?q=%3F%3F", Some(&op), None).await.error(), "could not understand: ??");
    assert_eq!(h.call("GET", "/api/search?from=yesterday", Some(&op), None).await.status, 400);
    assert_eq!(h.call("GET", "/api/search?colour=red", Some(&op), None).await.status, 400, "unknown parameter");

    h.store.act("a1", "op", &AlertAction::Confirm).unwrap();
    let j = h.call("GET", "/api/reports/transparency?from=2025-01-01&to=2026-01-01", Some(&sup), None).await.json();
    assert_eq!(j["rows"][0]["confirmed"], 1);
    assert_eq!(j["rows"][0]["precision"], 1.0);
    let csv =
        h.call("GET", "/api/reports/transparency?from=2025-01-01&to=2026-01-01&format=csv", Some(&sup), None).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(String::from_utf8_lossy(&csv.body).lines().nth(1).unwrap().starts_with("cam1,crowd,1,1,0,"));
    assert_eq!(h.audit_actions(1)[0].1, "report.export");
    assert_eq!(h.call("GET", "/api/reports/transparency?format=xml", Some(&sup), None).await.status, 400);

    let r = h
        .call(
            "POST",
            "/api/users",
            Some(&adm),
            Some(r#"{"username":"op","password":"long enough password","role":"operator"}"#),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.error().as_str()), (409, "user 'op' already exists"));
    let r = h
        .call("POST", "/api/users", Some(&adm), Some(r#"{"username":"x","password":"short","role":"operator"}"#))
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .call(
            "POST",
            "/api/users",
            Some(&adm),
            Some(r#"{"username":"x","password":"long enough password","role":"god"}"#),
        )
        .await;
    assert!(r.error().starts_with("unknown role 'god'"));
    assert_eq!(h.call("POST", "/api/users/adm/disable", Some(&adm), None).await.status, 409);
    assert_eq!(h.call("POST", "/api/users/ghost/disable", Some(&adm), None).await.status, 404);
    assert_eq!(h.call("POST", "/api/users/op/disable", Some(&adm), None).await.status, 200);
    assert_eq!(h.call("GET", "/api/me", Some(&op), None).await.status, 401, "disabling closes sessions");

    let r = h.call("PUT", "/api/config", Some(&adm), Some(r#"{"zones":[]}"#)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["key"], "cameras");
    let r = h.call("PUT", "/api/config", Some(&adm), Some(r#"{"cameras":[]}"#)).await;
    assert_eq!(r.status, 200);
    let e = h.store.audit_entries(&vigie_store::AuditQuery { limit: 1, ..Default::default() }).unwrap().remove(0);
    assert_eq!(e.action, "config.change");
    assert!(e.details.contains("\"before\"") && e.details.contains("cam1"));
    assert_eq!(h.call("GET", "/api/notifications", Some(&adm), None).await.json()["webhook"], serde_json::Value::Null);
}

#[tokio::test]
async fn console_is_served_with_a_strict_policy() {
    let h = harness();
    let r = h.call("GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("<script src=\"/assets/app.js\""));
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(
        h.call("GET", "/assets/app.js", None, None).await.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(h.call("GET", "/assets/secrets.txt", None, None).await.status, 404);
    assert_eq!(h.call("GET", "/assets/..%2Fvigie.db", None, None).await.status, 404);
}

#[tokio::test]
async fn unblurred_footage_export_needs_a_supervisor_and_a_reason() {
    let h = harness();
    let (op, sup) = (h.session("op"), h.session("sup"));
    let base = "/api/cameras/cam1/clip?from=1750000000000&to=1750000060000";
    let r = h.call("GET", &format!("{base}&unmask_reason=case%2042"), Some(&op), None).await;
    assert_eq!(r.status, 403, "operators never see unblurred footage");
    assert_eq!(h.audit_actions(1)[0].1, "access.denied");
    let r = h.call("GET", &format!("{base}&unmask_reason=%20"), Some(&sup), None).await;
    assert_eq!(r.status, 400, "a blank reason is no reason");
    assert!(h.clips.calls.lock().is_empty(), "refused requests ask for nothing");
    let r = h.call("GET", &format!("{base}&unmask_reason=case%2042"), Some(&sup), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(h.call("GET", base, Some(&sup), None).await.status, 200);
    let flags: Vec<bool> = h.clips.calls.lock().iter().map(|c| c.3).collect();
    assert_eq!(flags, [false, true], "unblurred only with the reason");
    let audit = h.audit_actions(2);
    assert!(audit.iter().all(|e| e.1 == "footage.view"), "{audit:?}");
}

#[tokio::test]
async fn footage_exports_are_supervisors_files_audited_with_their_hash() {
    use sha2::Digest;
    let h = harness();
    let (op, sup) = (h.session("op"), h.session("sup"));
    let base = "/api/cameras/cam1/export?from=1750000000000&to=1750000060000";
    let r = h.call("GET", base, Some(&op), None).await;
    assert_eq!(r.status, 403, "an operator's copy would leave the system unaccounted for");
    let r = h.call("GET", base, Some(&sup), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.headers["content-type"], "video/x-motion-jpeg");
    assert_eq!(r.headers["x-footage-source"], "buffer");
    assert_eq!(r.headers["content-disposition"], "attachment; filename=\"vigie-cam1-20250615T150640Z.mjpeg\"");
    let sha = hex::encode(sha2::Sha256::digest(&r.body));
    assert_eq!(r.headers["x-content-sha256"], sha.as_str());
    assert_eq!(r.body.len(), 2 * common::jpeg(10).len(), "both pictures, unpaced");
    let e = &h.audit_actions(1)[0];
    assert_eq!((e.0.as_str(), e.1.as_str(), e.2.as_str()), ("sup", "footage.export", "cam1"));
    let entry = &h.store.audit_entries(&vigie_store::AuditQuery { limit: 1, ..Default::default() }).unwrap()[0];
    let d: serde_json::Value = serde_json::from_str(&entry.details).unwrap();
    assert_eq!((d["sha256"].as_str(), d["unmasked"].as_bool()), (Some(sha.as_str()), Some(false)));
    let r = h.call("GET", &format!("{base}&unmask_reason=PV%202025-114"), Some(&sup), None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-disposition"].to_str().unwrap().ends_with("-unmasked.mjpeg\""));
    let flags: Vec<bool> = h.clips.calls.lock().iter().map(|c| c.3).collect();
    assert_eq!(flags, [true, false], "pixelated unless a reason is given");
    let r = h.call("GET", "/api/cameras/cam1/export?from=1750000000000&to=1750000900000", Some(&sup), None).await;
    assert_eq!(r.status, 400, "over 10 minutes");
}

/// Logs in (then out) from `peer`, optionally through a proxy saying the client used `proto`;
/// returns both Set-Cookie headers.
async fn cookies_from(h: &H, peer: &str, proto: Option<&str>) -> (String, String) {
    use tower::ServiceExt;
    let addr = std::net::SocketAddr::new(peer.parse().unwrap(), 40000);
    let build = |method: &str, uri: &str| {
        let mut b = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .extension(axum::extract::ConnectInfo(addr))
            .header("content-type", "application/json");
        if let Some(p) = proto {
            b = b.header("x-forwarded-proto", p);
        }
        b
    };
    let body = r#"{"username":"op","password":"password-of-op"}"#;
    let r = h
        .router
        .clone()
        .oneshot(build("POST", "/api/login").body(axum::body::Body::from(body)).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let csrf = {
        use http_body_util::BodyExt;
        let b = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["csrf_token"].as_str().unwrap().to_string()
    };
    let req = build("POST", "/api/logout")
        .header("cookie", login.split(';').next().unwrap())
        .header("x-csrf-token", csrf)
        .body(axum::body::Body::empty())
        .unwrap();
    let r = h.router.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), 200);
    (login, r.headers()["set-cookie"].to_str().unwrap().to_string())
}

#[tokio::test]
async fn cookie_secure_true_false_and_auto_behind_a_trusted_proxy() {
    let secure = |c: &str| c.split(';').any(|a| a.trim() == "Secure");
    let with = |mode: CookieSecure| {
        harness_with(ServerConfig {
            cookie_secure: mode,
            trusted_proxies: vec!["10.9.0.0/16".into(), "192.0.2.7".into()],
            ..Default::default()
        })
    };
    // true and false hold whatever the request says.
    for (mode, want) in [(CookieSecure::Always, true), (CookieSecure::Never, false)] {
        let h = with(mode);
        for (peer, proto) in [("10.9.1.1", Some("https")), ("203.0.113.5", None)] {
            let (login, logout) = cookies_from(&h, peer, proto).await;
            assert_eq!((secure(&login), secure(&logout)), (want, want), "{mode:?} {peer} {proto:?}: {login}");
        }
    }
    // auto: Secure only when a trusted proxy says the client came over HTTPS.
    let h = with(CookieSecure::Auto);
    for (peer, proto, want) in [
        ("10.9.1.1", Some("https"), true),
        ("192.0.2.7", Some("HTTPS, http"), true),
        ("::ffff:10.9.3.4", Some("https"), true),
        ("10.9.1.1", Some("http"), false),
        ("10.9.1.1", None, false),
        // Anyone can send the header; an address outside the list is not believed.
        ("203.0.113.5", Some("https"), false),
        ("10.10.0.1", Some("https"), false),
    ] {
        let (login, logout) = cookies_from(&h, peer, proto).await;
        assert_eq!((secure(&login), secure(&logout)), (want, want), "auto {peer} {proto:?}: {login}");
        assert!(login.contains("HttpOnly") && login.contains("SameSite=Strict"), "{login}");
    }
}

#[test]
fn cookie_secure_reads_auto_and_the_old_booleans_and_checks_proxies() {
    for (text, want) in [
        ("", CookieSecure::Auto),
        ("cookie_secure = \"auto\"", CookieSecure::Auto),
        ("cookie_secure = true", CookieSecure::Always),
        ("cookie_secure = false", CookieSecure::Never),
    ] {
        let c: ServerConfig = toml::from_str(text).unwrap();
        assert_eq!(c.cookie_secure, want, "{text}");
        c.validate("server").unwrap();
    }
    let e = toml::from_str::<ServerConfig>("cookie_secure = \"sometimes\"").unwrap_err().to_string();
    assert!(e.contains("cookie_secure") || e.contains("\"auto\", true or false"), "{e}");
    let c: ServerConfig = toml::from_str("trusted_proxies = [\"10.0.0.1\", \"10.0.0.0/33\", \"proxy.lan\"]").unwrap();
    let keys: Vec<String> = c.validate("server").unwrap_err().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, ["server.trusted_proxies[1]", "server.trusted_proxies[2]"]);
}

/// Client strings past the documented `maxLength` are refused at once with a 400 naming the field
/// (search text, time strings, passwords), before any search, parse or Argon2 hash.
#[tokio::test]
async fn over_long_search_text_times_and_passwords_get_a_clear_400() {
    let h = harness();
    let op = h.session("op");
    let long_q = "a".repeat(501);
    let long_t = format!("2025-06-01T08:00:00{}Z", "0".repeat(30));
    for (path, field) in [
        (format!("/api/search?q={long_q}"), "q"),
        (format!("/api/search?camera={long_q}"), "camera"),
        (format!("/api/search?from={long_t}"), "from"),
        (format!("/api/alerts?to={long_t}"), "to"),
        (format!("/api/cameras/cam1/clip?from={long_t}&to=2025-06-01"), "from"),
    ] {
        let r = h.call("GET", &path, Some(&op), None).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(r.error().starts_with(&format!("'{field}' is too long")), "{path}: {}", r.error());
    }
    // At the limit it is not refused for its length.
    let r = h.call("GET", &format!("/api/search?q={}", "a".repeat(500)), Some(&op), None).await;
    assert_eq!(r.status, 200, "{}", r.error());
    let sup = h.session("sup");
    let r = h.call("GET", &format!("/api/reports/transparency?to={long_t}"), Some(&sup), None).await;
    assert_eq!((r.status.as_u16(), r.error().starts_with("'to' is too long")), (400, true), "{}", r.error());

    let login = format!(r#"{{"username":"op","password":"{}"}}"#, "é".repeat(1025));
    let r = h.call("POST", "/api/login", None, Some(&login)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("'password' is too long: 1025 characters, at most 1024"), "{}", r.error());
    let adm = h.session("adm");
    let body = format!(r#"{{"username":"newbie","password":"{}","role":"operator"}}"#, "x".repeat(1025));
    let r = h.call("POST", "/api/users", Some(&adm), Some(&body)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("password too long"), "{}", r.error());
    // 1024 multi-byte characters are within the documented limit.
    let body = format!(r#"{{"username":"newbie","password":"{}","role":"operator"}}"#, "é".repeat(1024));
    assert_eq!(h.call("POST", "/api/users", Some(&adm), Some(&body)).await.status, 201);
}

/// The console groups statistics by the city's hours: `/api/me` names the zone in force, and a
/// reload that changes it is seen at the next call.
#[tokio::test]
async fn me_names_the_city_time_zone_in_force() {
    let h = harness();
    let op = h.session("op");
    let me = h.call("GET", "/api/me", Some(&op), None).await.json();
    assert!(me.get("timezone").is_none(), "no [events] in the test configuration: {me}");
    *h.config.value.lock() = serde_json::json!({"events": {"timezone": "Europe/Paris"}, "cameras": [{"id": "cam1"}]});
    let me = h.call("GET", "/api/me", Some(&op), None).await.json();
    assert_eq!(me["timezone"], "Europe/Paris", "{me}");
    *h.config.value.lock() =
        serde_json::json!({"events": {"timezone": "America/Montreal"}, "cameras": [{"id": "cam1"}]});
    assert_eq!(h.call("GET", "/api/me", Some(&op), None).await.json()["timezone"], "America/Montreal");
}
