//! Passwords someone else chose (the generated first one, an administrator's) open nothing but
//! the form that replaces them.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test]
async fn a_password_set_by_an_administrator_must_be_replaced_before_anything_else() {
    let h = harness();
    let adm = h.session("adm");
    let r = h
        .call(
            "POST",
            "/api/users",
            Some(&adm),
            Some(r#"{"username":"newbie","password":"long enough password","role":"operator"}"#),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["must_change_password"], true);
    let r = h
        .call_from("10.0.0.9", "POST", "/api/login", Some(r#"{"username":"newbie","password":"long enough password"}"#))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["password_change_required"], true);

    let user = h.store.user("newbie").unwrap();
    let s = h.store.create_session(&user, Duration::from_secs(3600)).unwrap();
    let me = Sess { cookie: format!("vigie_session={}", s.token), csrf: s.csrf_token, user };
    for path in ["/api/alerts", "/api/cameras", "/api/alerts/stream"] {
        let r = h.call("GET", path, Some(&me), None).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.error().starts_with("password change required"), "{path}: {}", r.error());
    }
    let r = h.call("GET", "/api/me", Some(&me), None).await;
    assert_eq!((r.status.as_u16(), r.json()["password_change_required"].as_bool()), (200, Some(true)));

    let change = |old: &str, new: &str| serde_json::json!({"old_password": old, "new_password": new}).to_string();
    let r = h.call("POST", "/api/me/password", Some(&me), Some(&change("wrong password!", "my own password"))).await;
    assert_eq!((r.status.as_u16(), r.error()), (400, "old_password: does not match your current password".into()));
    let r = h.call("POST", "/api/me/password", Some(&me), Some(&change("long enough password", "short"))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("new_password: password too short"), "{}", r.error());
    let r = h.call("POST", "/api/me/password", Some(&me), Some(r#"{"password":"x"}"#)).await;
    assert_eq!(r.status, 400, "a malformed body is refused");
    let r =
        h.call("POST", "/api/me/password", Some(&me), Some(&change("long enough password", "my own password"))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["password_change_required"], false);
    assert_eq!(h.audit_actions(1)[0].1, "user.password_changed");
    // The same session goes on, now with every right of the role.
    assert_eq!(h.call("GET", "/api/alerts", Some(&me), None).await.status, 200);
    assert!(!h.store.user("newbie").unwrap().must_change_password);

    // An administrator's reset is temporary again; an administrator's own is not.
    let body = r#"{"password":"reset by the admin"}"#;
    assert_eq!(h.call("POST", "/api/users/newbie/password", Some(&adm), Some(body)).await.status, 200);
    assert!(h.store.user("newbie").unwrap().must_change_password);
    assert_eq!(h.call("POST", "/api/users/adm/password", Some(&adm), Some(body)).await.status, 200);
    assert!(!h.store.user("adm").unwrap().must_change_password);
}
