//! `/api/holds` against a real archive recorded from a bundled clip: placing, listing,
//! releasing, every bad input and role refusal, the unblurred export under a hold with its hash
//! recorded and audited, and the counts in the transparency report.

mod common;

use common::*;
use sha2::Digest;
use vigie_core::UnixMs;

/// The common harness (a real archive behind `/api/holds`) with 30 s of `cam1` from `T0_MS`.
fn held() -> H {
    let h = harness();
    record(&h.archive, "cam1", T0_MS, 30.0);
    h
}

fn body(from: i64, to: i64) -> serde_json::Value {
    serde_json::json!({
        "cameras": ["cam1"],
        "from": from.to_string(),
        "to": to.to_string(),
        "reference": "PV 2025/0615 commissariat central",
        "reason": "requisition: theft at the market",
    })
}

fn count(h: &H, action: &str) -> usize {
    h.audit_actions(10_000).iter().filter(|(_, a, _)| a == action).count()
}

#[tokio::test]
async fn holds_are_placed_listed_and_released_and_bad_input_and_wrong_roles_change_nothing() {
    let h = held();
    let (sup, op, aud, adm) = (h.session("sup"), h.session("op"), h.session("aud"), h.session("adm"));
    let ok = body(T0_MS, T0_MS + 20_000);

    let r = h.call("POST", "/api/holds", Some(&sup), Some(&ok.to_string())).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let hold = r.json();
    let id = hold["id"].as_i64().unwrap();
    assert_eq!(hold["state"], "active");
    assert_eq!(hold["from"], UnixMs(T0_MS).rfc3339());
    assert_eq!(hold["until"], serde_json::Value::Null);
    assert_eq!(hold["placed_by"], "sup");
    assert_eq!(count(&h, "hold.place"), 1);

    // Every bad input: 400 naming the field, nothing stored, nothing audited as placed.
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b.to_string()
    };
    let cases = [
        (with("reference", serde_json::Value::Null), "reference: required"),
        (with("reference", "  ".into()), "reference: required"),
        (with("reason", serde_json::Value::Null), "reason: required"),
        (with("reason", "".into()), "reason: required"),
        (with("to", T0_MS.to_string().into()), "to: must be after from"),
        (with("to", (T0_MS - 5000).to_string().into()), "to: must be after from"),
        (with("from", serde_json::Value::Null), "from: required"),
        (with("from", "yesterday".into()), "invalid 'from'"),
        (with("cameras", serde_json::json!(["cam9"])), "cameras: unknown camera 'cam9'"),
        (with("cameras", serde_json::json!([])), "cameras: name at least one camera"),
        (with("cameras", serde_json::Value::Null), "cameras: name at least one camera"),
        (with("until", (T0_MS - 1000).to_string().into()), "until: "),
        (with("until", "2025-01-01".into()), "until: "),
        (with("colour", "red".into()), "malformed JSON body"),
        ("{".to_string(), "malformed JSON body"),
    ];
    for (b, want) in &cases {
        let r = h.call("POST", "/api/holds", Some(&sup), Some(b)).await;
        assert_eq!(r.status, 400, "{b}");
        assert!(r.error().starts_with(want), "{want}: {}", r.error());
    }
    let list = h.call("GET", "/api/holds", Some(&sup), None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["holds"].as_array().unwrap().len(), 1, "nothing stored by the refusals");
    assert_eq!(count(&h, "hold.place"), 1);

    // Roles: operators neither read nor write; auditors read only; admins act like supervisors.
    for (s, method, path) in [
        (&op, "GET", "/api/holds".to_string()),
        (&op, "POST", "/api/holds".to_string()),
        (&op, "GET", format!("/api/holds/{id}")),
        (&op, "POST", format!("/api/holds/{id}/release")),
        (&aud, "POST", "/api/holds".to_string()),
        (&aud, "POST", format!("/api/holds/{id}/release")),
        (&aud, "GET", format!("/api/holds/{id}/export?camera=cam1&from={T0_MS}&to={}", T0_MS + 1000)),
        (&op, "GET", format!("/api/holds/{id}/export?camera=cam1&from={T0_MS}&to={}", T0_MS + 1000)),
    ] {
        let b = (method == "POST").then(|| ok.to_string());
        let r = h.call(method, &path, Some(s), b.as_deref()).await;
        assert_eq!(r.status, 403, "{} {method} {path}", s.user.username);
    }
    assert_eq!(h.call("GET", "/api/holds", Some(&aud), None).await.status, 200);
    assert_eq!(h.call("GET", &format!("/api/holds/{id}"), Some(&aud), None).await.json()["id"], id);
    assert_eq!(h.call("GET", "/api/holds", None, None).await.status, 401);
    let r = h.call("POST", "/api/holds", Some(&adm), Some(&ok.to_string())).await;
    assert_eq!(r.status, 201);
    assert_eq!(h.call("GET", "/api/holds", Some(&sup), None).await.json()["holds"].as_array().unwrap().len(), 2);
    assert_eq!(h.call("GET", "/api/holds/abc", Some(&sup), None).await.status, 404);
    assert_eq!(h.call("GET", "/api/holds/999", Some(&sup), None).await.status, 404);

    // Release: a reason is required; a released hold cannot be released again.
    let rel = format!("/api/holds/{id}/release");
    let r = h.call("POST", &rel, Some(&sup), Some("{}")).await;
    assert_eq!((r.status.as_u16(), r.error().starts_with("reason: required")), (400, true), "{}", r.error());
    let r = h.call("POST", &rel, Some(&sup), Some(r#"{"reason": "procedure closed"}"#)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["state"], "released");
    assert_eq!(r.json()["release_reason"], "procedure closed");
    let r = h.call("POST", &rel, Some(&sup), Some(r#"{"reason": "again"}"#)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("already released"), "{}", r.error());
    assert_eq!(count(&h, "hold.release"), 1);
    assert!(count(&h, "hold.view") >= 3, "reads are audited");
}

#[tokio::test]
async fn a_hold_export_is_unblurred_within_the_hold_only_and_its_hash_is_recorded_and_audited() {
    let h = held();
    let sup = h.session("sup");
    let r = h.call("POST", "/api/holds", Some(&sup), Some(&body(T0_MS, T0_MS + 20_000).to_string())).await;
    let id = r.json()["id"].as_i64().unwrap();
    let url = |cam: &str, from: i64, to: i64| format!("/api/holds/{id}/export?camera={cam}&from={from}&to={to}");

    let r = h.call("GET", &url("cam1", T0_MS + 2000, T0_MS + 8000), Some(&sup), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.headers["content-type"], "video/mp4");
    let sha = hex::encode(sha2::Sha256::digest(&r.body));
    assert_eq!(r.headers["x-content-sha256"], sha.as_str());
    let hold = h.call("GET", &format!("/api/holds/{id}"), Some(&sup), None).await.json();
    assert_eq!(hold["exports"][0]["sha256"], sha.as_str(), "the hash is kept with the hold");
    assert_eq!(hold["exports"][0]["actor"], "sup");
    let entries = h.store.audit_entries(&vigie_store::AuditQuery { limit: 100, ..Default::default() }).unwrap();
    let e = entries.iter().find(|e| e.action == "hold.export").expect("hold.export audited");
    assert_eq!(e.target, format!("hold/{id}"));
    assert!(e.details.contains(&sha), "{}", e.details);

    for (u, want) in [
        (url("cam1", T0_MS + 15_000, T0_MS + 25_000), "from/to:"),
        (url("cam1", T0_MS - 5000, T0_MS + 5000), "from/to:"),
        (url("cam2", T0_MS + 2000, T0_MS + 8000), "camera: 'cam2' is not under hold"),
        (format!("/api/holds/{id}/export?camera=cam1&from=x&to=1"), "invalid 'from'"),
    ] {
        let r = h.call("GET", &u, Some(&sup), None).await;
        assert_eq!(r.status, 400, "{u}");
        assert!(r.error().starts_with(want), "{want}: {}", r.error());
    }
    assert_eq!(count(&h, "hold.export"), 1, "refused exports record nothing");

    // Counted in the transparency report of the period.
    let aud = h.session("aud");
    let r = h
        .call("GET", &format!("/api/reports/transparency?from={}&to={}", T0_MS - 1000, T0_MS + 1000), Some(&aud), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["holds"], serde_json::json!({"active": 1, "placed": 1, "released": 0, "expired": 0}));
}
