//! The catalogue used only through its traits, as the server and the node use it.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use vigie_core::{AuditAction, AuditSink, Event, EventPhase, EventType, PeakMeasure, SimClock, UnixMs};
use vigie_store::{Accounts, AlertAction, AlertState, AlertStore, AuditQuery, AuditTrail, LoginOutcome, SessionLookup};

const T0_MS: i64 = 1_750_000_000_000;

fn event(id: &str) -> Event {
    Event {
        id: id.into(),
        event_type: EventType::Intrusion,
        phase: EventPhase::Opened,
        camera: "cam1".into(),
        zone: "square".into(),
        rule: "intrusion-rule".into(),
        rule_version: 1,
        mode: vigie_core::RuleMode::Live,
        legal_basis: "Arrêté municipal 2025-17".into(),
        started_at_ms: vigie_core::UnixMs(T0_MS),
        ended_at_ms: None,
        frame_seq: 1,
        track_ids: vec![3],
        peak: PeakMeasure { kind: "count".into(), value: 1.0 },
        region: None,
        model_sha256: "abc".into(),
        snapshot_jpeg: Some(Arc::new(b"\xff\xd8blurred\xff\xd9".to_vec())),
    }
}

#[test]
fn alerts_accounts_and_trail_through_the_traits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(vigie_store::Store::open(dir.path(), Arc::new(clock)).unwrap());
    let (alerts, trail, accounts): (Arc<dyn AlertStore>, Arc<dyn AuditTrail>, Arc<dyn Accounts>) =
        (store.clone(), store.clone(), store);

    let pw = accounts.bootstrap_admin("admin").unwrap().expect("first start creates the admin");
    assert_eq!(accounts.bootstrap_admin("admin").unwrap(), None);
    let LoginOutcome::Ok(admin) = accounts.authenticate("admin", &pw).unwrap() else { panic!("login refused") };
    let session = accounts.create_session(&admin, Duration::from_secs(60)).unwrap();
    assert!(matches!(accounts.session(&session.token).unwrap(), SessionLookup::Valid(s) if s.user == admin));

    let clear = b"\xff\xd8clear\xff\xd9";
    assert!(alerts.ingest_event(&event("a1"), Some(clear)).unwrap().created);
    assert_eq!(alerts.clock().now(), UNIX_EPOCH + Duration::from_millis(T0_MS as u64));
    assert_eq!(alerts.snapshot("a1", true).unwrap(), clear);
    let a = alerts.act("a1", "admin", &AlertAction::Confirm).unwrap();
    assert_eq!(a.state, AlertState::Confirmed);

    // A stage that only writes sees the same trail as an AuditSink.
    let sink: Arc<dyn AuditSink> = trail.clone();
    sink.record("system", AuditAction::RetentionDelete, "archive", "{\"files\":2}").unwrap();
    let newest = trail.entries(&AuditQuery { limit: 10, ..Default::default() }).unwrap();
    let actions: Vec<&str> = newest.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["retention.delete", "alert.confirm", "user.add"]);
    assert_eq!(newest[0].details, "{\"files\":2}");
    assert_eq!(trail.verify().unwrap().unwrap().entries, 3);
}
