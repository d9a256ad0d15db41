//! Shared work on alerts: who holds an alert, takeovers, and that of two operators acting at
//! once exactly one wins.

use std::sync::{Arc, Barrier};
use vigie_core::{Event, EventPhase, EventType, PeakMeasure, SimClock, UnixMs};
use vigie_store::*;

const T0_MS: i64 = 1_750_000_000_000;

fn setup() -> (tempfile::TempDir, SimClock, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Store::open(dir.path(), Arc::new(clock.clone())).unwrap();
    (dir, clock, Arc::new(store))
}

fn raise(s: &Store, id: &str) {
    let ev = Event {
        id: id.into(),
        event_type: EventType::Intrusion,
        phase: EventPhase::Opened,
        camera: "cam1".into(),
        zone: "square".into(),
        rule: "intrusion-rule".into(),
        rule_version: 1,
        mode: vigie_core::RuleMode::Live,
        legal_basis: "Arrêté municipal 2025-17".into(),
        started_at_ms: UnixMs(T0_MS),
        ended_at_ms: None,
        frame_seq: 1,
        track_ids: vec![7],
        peak: PeakMeasure { kind: "count".into(), value: 1.0 },
        region: None,
        model_sha256: "abc".into(),
        snapshot_jpeg: None,
    };
    s.ingest_event(&ev, None).unwrap();
}

/// The newest `n` entries of the trail, oldest first: (actor, action, target, details).
fn trail(s: &Store, n: u32) -> Vec<(String, String, String, serde_json::Value)> {
    let mut e: Vec<_> = s
        .audit_entries(&AuditQuery { limit: n, ..Default::default() })
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.target, serde_json::from_str(&e.details).unwrap()))
        .collect();
    e.reverse();
    e
}

fn audit_len(s: &Store) -> usize {
    s.audit_entries(&AuditQuery { limit: 10_000, ..Default::default() }).unwrap().len()
}

fn conflict(r: Result<impl std::fmt::Debug, StoreError>) -> String {
    match r {
        Err(StoreError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn take_takeover_and_release_are_audited_and_refused_to_others() {
    let (_d, clock, s) = setup();
    raise(&s, "a1");
    assert_eq!((s.alert("a1").unwrap().held_by, s.alert("a1").unwrap().held_at_ms), (None, None));

    let t = s.take("a1", "ana", false).unwrap();
    assert!(t.changed);
    assert_eq!((t.alert.held_by.as_deref(), t.alert.held_at_ms), (Some("ana"), Some(UnixMs(T0_MS))));
    assert_eq!(trail(&s, 1)[0].1, "alert.take");
    // Taking it again changes nothing and writes nothing.
    let before = audit_len(&s);
    clock.advance(std::time::Duration::from_secs(30));
    let again = s.take("a1", "ana", false).unwrap();
    assert!(!again.changed);
    assert_eq!(again.alert.held_at_ms, Some(UnixMs(T0_MS)), "the hold keeps its start");
    assert_eq!(audit_len(&s), before);

    // Bruno is told who holds it and since when; nothing changes.
    let m = conflict(s.take("a1", "bruno", false));
    assert_eq!(m, "cannot take alert a1: it is held by ana since 2025-06-15T15:06:40Z; take it over explicitly");
    assert_eq!(s.alert("a1").unwrap().held_by.as_deref(), Some("ana"));
    assert_eq!(audit_len(&s), before);
    let m = conflict(s.release("a1", "bruno"));
    assert!(m.contains("held by ana") && m.contains("take it over"), "{m}");

    // The explicit takeover names the previous holder in the trail.
    let t = s.take("a1", "bruno", true).unwrap();
    assert_eq!((t.changed, t.previous.as_deref()), (true, Some("ana")));
    assert_eq!(t.alert.held_by.as_deref(), Some("bruno"));
    assert_eq!(t.alert.held_at_ms, Some(UnixMs(T0_MS + 30_000)));
    let (actor, action, target, details) = trail(&s, 1).remove(0);
    assert_eq!((actor.as_str(), action.as_str(), target.as_str()), ("bruno", "alert.takeover", "a1"));
    assert_eq!(details["previous"], "ana");
    assert_eq!(details["previous_since_ms"], T0_MS);

    // Ana has lost it: her actions are refused naming Bruno; his release lets anyone take it.
    assert!(conflict(s.act("a1", "ana", &AlertAction::Confirm)).contains("held by bruno"));
    let r = s.release("a1", "bruno").unwrap();
    assert!(r.changed);
    assert_eq!((r.alert.held_by, r.alert.held_at_ms), (None, None));
    assert_eq!(trail(&s, 1)[0].1, "alert.release");
    let before = audit_len(&s);
    assert!(!s.release("a1", "bruno").unwrap().changed, "releasing nobody's alert changes nothing");
    assert_eq!(audit_len(&s), before);

    assert!(matches!(s.take("nope", "ana", false), Err(StoreError::NotFound(_))));
    assert!(matches!(s.release("nope", "ana"), Err(StoreError::NotFound(_))));
}

#[test]
fn acting_takes_an_unheld_alert_refuses_others_and_closing_drops_the_hold() {
    let (_d, clock, s) = setup();
    raise(&s, "a1");
    // Two-click confirm: no separate take needed, and the trail says the hold came with it.
    let a = s.act("a1", "ana", &AlertAction::Confirm).unwrap();
    assert_eq!(
        (a.state, a.held_by.as_deref(), a.held_at_ms),
        (AlertState::Confirmed, Some("ana"), Some(UnixMs(T0_MS)))
    );
    let e = trail(&s, 1).remove(0);
    assert_eq!((e.1.as_str(), &e.3["took_hold"]), ("alert.confirm", &serde_json::json!(true)));

    // Bruno's dismissal two seconds later is refused, naming Ana; nothing is recorded.
    clock.advance(std::time::Duration::from_secs(2));
    let (audit, decisions) = (audit_len(&s), s.decisions("a1").unwrap().len());
    let dismiss = AlertAction::Dismiss { reason: DismissReason::Duplicate, text: None };
    let m = conflict(s.act("a1", "bruno", &dismiss));
    assert!(m.starts_with("cannot dismiss alert a1: it is held by ana since "), "{m}");
    assert_eq!(s.alert("a1").unwrap().state, AlertState::Confirmed);
    assert_eq!((audit_len(&s), s.decisions("a1").unwrap().len()), (audit, decisions));
    // The holder of an alert in the wrong state still gets the state machine's answer.
    assert!(conflict(s.act("a1", "ana", &AlertAction::Confirm)).contains("already confirmed"));

    // Ana dispatches (keeping her hold and its start), then resolves: closed, held by nobody.
    let a = s.act("a1", "ana", &AlertAction::Dispatch { unit: "P1".into() }).unwrap();
    assert_eq!((a.held_by.as_deref(), a.held_at_ms), (Some("ana"), Some(UnixMs(T0_MS))));
    assert!(trail(&s, 1)[0].3.get("took_hold").is_none());
    let a = s.act("a1", "ana", &AlertAction::Resolve { note: "cleared".into() }).unwrap();
    assert_eq!((a.state, a.held_by, a.held_at_ms), (AlertState::Resolved, None, None));
    assert!(conflict(s.take("a1", "bruno", false)).contains("already resolved (final)"));

    // A dismissal of an unheld alert closes it without leaving a holder behind.
    raise(&s, "a2");
    let a = s.act("a2", "bruno", &dismiss).unwrap();
    assert_eq!((a.state, a.held_by), (AlertState::Dismissed, None));
}

/// Operators press at the same moment: exactly one action goes through, the other is told who
/// won. Repeated over many alerts so that both orders happen.
#[test]
fn two_operators_acting_at_once_exactly_one_wins() {
    let (_d, _c, s) = setup();
    let rounds = 40;
    let mut wins = std::collections::BTreeMap::new();
    for i in 0..rounds {
        let id = format!("race-{i}");
        raise(&s, &id);
        let gate = Arc::new(Barrier::new(2));
        let run = |who: &'static str, action: AlertAction| {
            let (s, gate, id) = (s.clone(), gate.clone(), id.clone());
            std::thread::spawn(move || {
                gate.wait();
                (who, s.act(&id, who, &action))
            })
        };
        // One confirms while the other dismisses (the situation seen in the control room).
        let a = run("ana", AlertAction::Confirm);
        let b = run("bruno", AlertAction::Dismiss { reason: DismissReason::Duplicate, text: None });
        let results = [a.join().unwrap(), b.join().unwrap()];
        let ok: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).map(|(w, _)| *w).collect();
        assert_eq!(ok.len(), 1, "round {i}: {results:?}");
        let (loser, err) = results.iter().find(|(_, r)| r.is_err()).map(|(w, r)| (*w, r)).unwrap();
        let m = match err {
            Err(StoreError::Conflict(m)) => m.clone(),
            other => panic!("round {i}: {loser} got {other:?}"),
        };
        // Ana's confirm holds it (named); Bruno's dismissal closed it (final).
        let winner = ok[0];
        if winner == "ana" {
            assert!(m.contains("held by ana"), "{m}");
        } else {
            assert!(m.contains("already dismissed"), "{m}");
        }
        assert_eq!(s.decisions(&id).unwrap().len(), 1, "round {i}: one decision only");
        *wins.entry(winner).or_insert(0) += 1;
    }
    println!("two operators acting at once over {rounds} alerts: wins {wins:?}");

    // Two takes at once: one holds it, the other is refused naming them.
    raise(&s, "t");
    let gate = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["ana", "bruno"]
        .into_iter()
        .map(|who| {
            let (s, gate) = (s.clone(), gate.clone());
            std::thread::spawn(move || {
                gate.wait();
                (who, s.take("t", who, false))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).map(|(w, _)| *w).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(s.alert("t").unwrap().held_by.as_deref(), Some(winners[0]));
    let (_, lost) = results.iter().find(|(_, r)| r.is_err()).unwrap();
    assert!(matches!(lost, Err(StoreError::Conflict(m)) if m.contains(&format!("held by {}", winners[0]))));
}

#[test]
fn calibration_alerts_are_not_held() {
    let (_d, _c, s) = setup();
    let cal = Event {
        id: "cal".into(),
        event_type: EventType::Crowd,
        phase: EventPhase::Opened,
        camera: "cam1".into(),
        zone: "square".into(),
        rule: "crowd-rule".into(),
        rule_version: 1,
        mode: vigie_core::RuleMode::Calibration,
        legal_basis: "x".into(),
        started_at_ms: UnixMs(T0_MS),
        ended_at_ms: None,
        frame_seq: 1,
        track_ids: vec![],
        peak: PeakMeasure { kind: "count".into(), value: 1.0 },
        region: None,
        model_sha256: "abc".into(),
        snapshot_jpeg: None,
    };
    s.ingest_event(&cal, None).unwrap();
    assert!(conflict(s.take("cal", "ana", false)).contains("calibration"));
    assert_eq!(s.alert("cal").unwrap().held_by, None);
}
