//! The catalogue against a real SQLite file in a temporary directory.

use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{AuditAction, AuditSink, Event, EventPhase, EventType, PeakMeasure, SimClock, UnixMs};
use vigie_store::*;

const T0_MS: i64 = 1_750_000_000_000;

fn setup() -> (tempfile::TempDir, SimClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Store::open(dir.path(), Arc::new(clock.clone())).unwrap();
    (dir, clock, store)
}

fn event(id: &str, t: EventType, camera: &str, phase: EventPhase) -> Event {
    Event {
        id: id.into(),
        event_type: t,
        phase,
        camera: camera.into(),
        zone: "square".into(),
        rule: format!("{t}-rule"),
        rule_version: 3,
        mode: vigie_core::RuleMode::Live,
        legal_basis: "Arrêté municipal 2025-17".into(),
        started_at_ms: UnixMs(T0_MS),
        ended_at_ms: None,
        frame_seq: 42,
        track_ids: vec![7],
        peak: PeakMeasure { kind: "count".into(), value: 12.0 },
        region: Some(vigie_core::BBox::new(1.0, 2.0, 30.0, 40.0)),
        model_sha256: "abc123".into(),
        snapshot_jpeg: Some(Arc::new(b"\xff\xd8blurred\xff\xd9".to_vec())),
    }
}

fn raw(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(DB_FILE)).unwrap()
}

#[test]
fn users_passwords_and_sessions() {
    let (_d, clock, s) = setup();
    let u = s.add_user("alice", "correct horse battery", Role::Operator).unwrap();
    assert!(matches!(s.add_user("alice", "another long one", Role::Admin), Err(StoreError::Conflict(_))));
    assert!(matches!(s.add_user("bob", "short", Role::Admin), Err(StoreError::Invalid(m)) if m.contains("too short")));
    assert!(matches!(s.add_user("bad name", "long enough pw", Role::Admin), Err(StoreError::Invalid(_))));
    assert!(matches!(Role::parse("root"), Err(StoreError::Invalid(m)) if m.contains("unknown role 'root'")));

    assert!(matches!(s.authenticate("alice", "correct horse battery").unwrap(), LoginOutcome::Ok(x) if x == u));
    assert!(matches!(
        s.authenticate("alice", "wrong password!").unwrap(),
        LoginOutcome::Failed { reason: "wrong password" }
    ));
    assert!(matches!(
        s.authenticate("nobody", "whatever123").unwrap(),
        LoginOutcome::Failed { reason: "unknown user" }
    ));

    let sess = s.create_session(&u, Duration::from_secs(60)).unwrap();
    assert_eq!(sess.token.len(), 64);
    assert!(matches!(s.session(&sess.token).unwrap(), SessionLookup::Valid(v) if v.csrf_token == sess.csrf_token));
    assert!(matches!(s.session("not-a-token").unwrap(), SessionLookup::Unknown));
    clock.advance(Duration::from_secs(61));
    assert!(matches!(s.session(&sess.token).unwrap(), SessionLookup::Expired));

    // A password change and a disable both close open sessions.
    let s2 = s.create_session(&u, Duration::from_secs(600)).unwrap();
    s.set_password("alice", "a brand new password").unwrap();
    assert!(matches!(s.session(&s2.token).unwrap(), SessionLookup::Unknown));
    assert!(matches!(s.authenticate("alice", "a brand new password").unwrap(), LoginOutcome::Ok(_)));
    let s3 = s.create_session(&u, Duration::from_secs(600)).unwrap();
    s.disable_user("alice").unwrap();
    assert!(matches!(s.session(&s3.token).unwrap(), SessionLookup::Unknown));
    assert!(matches!(
        s.authenticate("alice", "a brand new password").unwrap(),
        LoginOutcome::Failed { reason: "account disabled" }
    ));
    assert!(matches!(s.disable_user("ghost"), Err(StoreError::NotFound(_))));
}

#[test]
fn events_become_alerts_with_evidence_files() {
    let (dir, clock, s) = setup();
    let out = s.ingest_event(&event("e1", EventType::Crowd, "cam1", EventPhase::Opened), Some(b"clear")).unwrap();
    assert!(out.created);
    assert_eq!(out.alert.state, AlertState::New);
    assert_eq!(out.alert.rule_version, 3);
    assert!(dir.path().join("snapshots/e1.jpg").exists());
    assert_eq!(s.snapshot("e1", false).unwrap(), b"\xff\xd8blurred\xff\xd9");
    assert_eq!(s.snapshot("e1", true).unwrap(), b"clear");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("evidence-clear/e1.jpg")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "unblurred evidence must be private to the service user");
        let dmode = std::fs::metadata(dir.path().join("evidence-clear")).unwrap().permissions().mode();
        assert_eq!(dmode & 0o077, 0);
    }

    clock.advance(Duration::from_secs(5));
    let mut up = event("e1", EventType::Crowd, "cam1", EventPhase::Updated);
    up.peak.value = 20.0;
    up.snapshot_jpeg = None;
    let out = s.ingest_event(&up, None).unwrap();
    assert!(!out.created);
    assert_eq!(out.alert.peak.value, 20.0);
    assert_eq!(
        s.snapshot("e1", false).unwrap(),
        b"\xff\xd8blurred\xff\xd9",
        "an update without picture keeps the old one"
    );

    let mut closed = event("e1", EventType::Crowd, "cam1", EventPhase::Closed);
    closed.ended_at_ms = Some(UnixMs(T0_MS + 9000));
    closed.snapshot_jpeg = None;
    assert_eq!(s.ingest_event(&closed, None).unwrap().alert.ended_at_ms, Some(UnixMs(T0_MS + 9000)));

    // Ids that could steer a path are hashed into the file name.
    s.ingest_event(&event("../../etc/x", EventType::Graffiti, "cam1", EventPhase::Opened), None).unwrap();
    assert!(!dir.path().join("etc").exists());
    assert_eq!(s.snapshot("../../etc/x", false).unwrap(), b"\xff\xd8blurred\xff\xd9");

    // Retention removing the file is reported as such.
    std::fs::remove_file(dir.path().join("snapshots/e1.jpg")).unwrap();
    assert!(matches!(s.snapshot("e1", false), Err(StoreError::NotFound(m)) if m.contains("retention")));
    assert!(matches!(s.snapshot("nope", false), Err(StoreError::NotFound(_))));
    assert!(matches!(s.alert("nope"), Err(StoreError::NotFound(m)) if m.contains("nope")));
}

#[test]
fn queue_puts_open_urgent_and_new_first() {
    let (_d, clock, s) = setup();
    for (id, t) in [("g", EventType::Graffiti), ("p", EventType::PersonDown), ("c", EventType::Crowd)] {
        s.ingest_event(&event(id, t, "cam1", EventPhase::Opened), None).unwrap();
        clock.advance(Duration::from_secs(1));
    }
    let mut late = event("c2", EventType::Crowd, "cam2", EventPhase::Opened);
    late.started_at_ms.0 += 10_000;
    s.ingest_event(&late, None).unwrap();
    s.act("p", "op", &AlertAction::Confirm).unwrap();
    s.act("g", "op", &AlertAction::Dismiss { reason: DismissReason::Duplicate, text: None }).unwrap();
    let ids: Vec<String> = s.alerts(&AlertQuery::default()).unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, ["c2", "c", "p", "g"]);
    let open: Vec<String> =
        s.alerts(&AlertQuery { open_only: true, ..Default::default() }).unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(open, ["c2", "c", "p"]);
    let cam2 = s.alerts(&AlertQuery { camera: Some("cam2".into()), ..Default::default() }).unwrap();
    assert_eq!(cam2.len(), 1);
}

fn audit_len(s: &Store) -> usize {
    s.audit_entries(&AuditQuery { limit: 10_000, ..Default::default() }).unwrap().len()
}

/// Drives a fresh alert into `state` through legal actions.
fn reach(s: &Store, id: &str, state: AlertState) {
    s.ingest_event(&event(id, EventType::Intrusion, "cam1", EventPhase::Opened), None).unwrap();
    let steps: &[AlertAction] = match state {
        AlertState::New => &[],
        AlertState::Confirmed => &[AlertAction::Confirm],
        AlertState::Dispatched => &[AlertAction::Confirm, AlertAction::Dispatch { unit: "P1".into() }],
        AlertState::Resolved => &[AlertAction::Confirm, AlertAction::Resolve { note: "fine".into() }],
        AlertState::Dismissed => &[AlertAction::Dismiss { reason: DismissReason::FalseDetection, text: None }],
    };
    for a in steps {
        s.act(id, "setup", a).unwrap();
    }
    // Acting took it: let it go for whoever acts next.
    s.release(id, "setup").unwrap();
    assert_eq!(s.alert(id).unwrap().state, state);
}

#[test]
fn state_machine_allows_exactly_the_documented_transitions() {
    let (_d, _c, s) = setup();
    use AlertState::*;
    let actions = [
        AlertAction::Confirm,
        AlertAction::Dismiss { reason: DismissReason::AuthorisedActivity, text: None },
        AlertAction::Dispatch { unit: "Patrol 7".into() },
        AlertAction::Resolve { note: "area cleared".into() },
    ];
    let expected = |from: AlertState, a: &AlertAction| -> Option<AlertState> {
        match (from, a.name()) {
            (New, "confirm") => Some(Confirmed),
            (New | Confirmed, "dismiss") => Some(Dismissed),
            (Confirmed | Dispatched, "dispatch") => Some(Dispatched),
            (Confirmed | Dispatched, "resolve") => Some(Resolved),
            _ => None,
        }
    };
    let mut n = 0;
    for from in AlertState::ALL {
        for a in &actions {
            n += 1;
            let id = format!("a{n}");
            reach(&s, &id, from);
            let before_audit = audit_len(&s);
            let before_decisions = s.decisions(&id).unwrap().len();
            match (expected(from, a), s.act(&id, "carol", a)) {
                (Some(to), Ok(alert)) => {
                    assert_eq!(alert.state, to);
                    let d = s.decisions(&id).unwrap();
                    let last = d.last().unwrap();
                    assert_eq!((last.actor.as_str(), last.from_state, last.to_state), ("carol", from, to));
                    assert_eq!(last.at_ms, UnixMs(T0_MS));
                    let e = &s.audit_entries(&AuditQuery { limit: 1, ..Default::default() }).unwrap()[0];
                    assert_eq!(
                        (e.actor.as_str(), e.action.as_str(), e.target.as_str()),
                        ("carol", &*format!("alert.{}", a.name()), &*id)
                    );
                }
                (None, Err(StoreError::Conflict(m))) => {
                    assert!(m.starts_with(&format!("cannot {} alert {id}: ", a.name())), "{m}");
                    assert_eq!(s.alert(&id).unwrap().state, from, "refused action changed state");
                    assert_eq!(audit_len(&s), before_audit);
                    assert_eq!(s.decisions(&id).unwrap().len(), before_decisions);
                }
                (want, got) => panic!("{from:?} + {}: expected {want:?}, got {got:?}", a.name()),
            }
        }
    }
    reach(&s, "x", New);
    let r = s.act("x", "c", &AlertAction::Dispatch { unit: "P".into() });
    assert!(matches!(r, Err(StoreError::Conflict(m)) if m.contains("confirm it before dispatching")));
    let r = s.act("x", "c", &AlertAction::Dismiss { reason: DismissReason::Other, text: Some("  ".into()) });
    assert!(matches!(r, Err(StoreError::Invalid(m)) if m.contains("needs a text")));
    s.act("x", "c", &AlertAction::Confirm).unwrap();
    assert!(
        matches!(s.act("x", "c", &AlertAction::Dispatch { unit: " ".into() }), Err(StoreError::Invalid(m)) if m == "unit is empty")
    );
    assert!(matches!(s.act("missing", "c", &AlertAction::Confirm), Err(StoreError::NotFound(_))));
    let d =
        s.act("x", "c", &AlertAction::Dismiss { reason: DismissReason::Other, text: Some("drill".into()) }).unwrap();
    assert_eq!(d.state, Dismissed);
    assert_eq!(s.decisions("x").unwrap().last().unwrap().text.as_deref(), Some("drill"));
}

#[test]
fn unmask_grants_expire_and_are_audited() {
    let (_d, clock, s) = setup();
    s.ingest_event(&event("e", EventType::Intrusion, "cam1", EventPhase::Opened), Some(b"clear")).unwrap();
    assert!(matches!(s.grant_unmask("e", "sup", "  ", Duration::from_secs(900)), Err(StoreError::Invalid(_))));
    assert!(matches!(
        s.grant_unmask("zz", "sup", "police request", Duration::from_secs(900)),
        Err(StoreError::NotFound(_))
    ));
    let g = s.grant_unmask("e", "sup", "police request 123", Duration::from_secs(900)).unwrap();
    assert_eq!(g.expires_at_ms, UnixMs(T0_MS + 900_000));
    assert!(s.active_unmask("e", "sup").unwrap().is_some());
    assert!(s.active_unmask("e", "someone-else").unwrap().is_none(), "a grant is personal");
    let e = &s.audit_entries(&AuditQuery { limit: 1, ..Default::default() }).unwrap()[0];
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("alert.unmask", "sup"));
    assert!(e.details.contains("police request 123"));
    clock.advance(Duration::from_secs(901));
    assert!(s.active_unmask("e", "sup").unwrap().is_none());
}

fn fill_audit(s: &Store, n: usize) {
    for i in 0..n {
        s.record("alice", AuditAction::AlertView, &format!("a{i}"), &serde_json::json!({"i": i})).unwrap();
    }
}

fn verify(s: &Store) -> Result<AuditSummary, AuditBreak> {
    s.verify_audit().unwrap()
}

#[test]
fn audit_trail_is_append_only_and_verifies() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 5);
    AuditSink::record(&s, "system", AuditAction::RetentionDelete, "seg-1", "{\"files\":3}").unwrap();
    AuditSink::record(&s, "system", AuditAction::ConfigReload, "x", "not json").unwrap();
    let ok = verify(&s).unwrap();
    assert_eq!(ok.entries, 7);
    let newest = s.audit_entries(&AuditQuery { limit: 2, ..Default::default() }).unwrap();
    assert_eq!(newest[0].details, "\"not json\"");
    assert_eq!(newest[1].prev_hash, s.audit_entries(&AuditQuery { limit: 3, ..Default::default() }).unwrap()[2].hash);
    assert_eq!(ok.head_hash, newest[0].hash);
    // The database itself refuses edits.
    let c = raw(dir.path());
    let err = c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(c.execute("DELETE FROM audit WHERE seq = 2", []).is_err());
    let filtered = s
        .audit_entries(&AuditQuery { action_prefix: Some("retention.".into()), limit: 10, ..Default::default() })
        .unwrap();
    assert_eq!(filtered.len(), 1);
}

/// Simulates an attacker with write access to the file, who first removes the triggers.
fn tamper(dir: &std::path::Path, sql: &str) {
    let c = raw(dir);
    c.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    c.execute_batch(sql).unwrap();
}

#[test]
fn verify_names_an_edited_entry() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    tamper(dir.path(), "UPDATE audit SET target = 'other' WHERE seq = 4");
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("edited"), "{b}");
}

#[test]
fn verify_names_a_rewritten_entry_with_recomputed_hash() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    let e3 = s
        .audit_entries(&AuditQuery { limit: 10, ..Default::default() })
        .unwrap()
        .into_iter()
        .find(|e| e.seq == 3)
        .unwrap();
    let forged =
        vigie_store::audit::entry_hash(&e3.prev_hash, 3, e3.at_ms, "mallory", &e3.action, &e3.target, &e3.details);
    tamper(dir.path(), &format!("UPDATE audit SET actor = 'mallory', hash = '{forged}' WHERE seq = 3"));
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("entry 3 was rewritten"), "{b}");
}

#[test]
fn verify_names_deleted_entries() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    tamper(dir.path(), "DELETE FROM audit WHERE seq = 3");
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 3);
    assert!(b.reason.contains("missing (deleted)"), "{b}");

    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    tamper(dir.path(), "DELETE FROM audit WHERE seq >= 5");
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 5);
    assert!(b.reason.contains("deleted from the end"), "{b}");
}

#[test]
fn verify_detects_reordered_entries() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    // Swap the contents (hashes included) of entries 2 and 3.
    tamper(
        dir.path(),
        "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2;",
    );
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 2);
}

fn entry(s: &Store, seq: i64) -> AuditEntry {
    s.audit_entries(&AuditQuery { limit: 10_000, ..Default::default() })
        .unwrap()
        .into_iter()
        .find(|e| e.seq == seq)
        .unwrap()
}

/// An entry whose hash is recomputed for its new content, as someone who knows the scheme would.
fn forged_entry_sql(prev: &AuditEntry, seq: i64, actor: &str) -> String {
    let details = "{}";
    let h = vigie_store::audit::entry_hash(&prev.hash, seq, prev.at_ms, actor, "alert.view", "a9", details);
    format!(
        "INSERT INTO audit (seq, at_ms, actor, action, target, details, prev_hash, hash) \
         VALUES ({seq}, {}, '{actor}', 'alert.view', 'a9', '{details}', '{}', '{h}')",
        prev.at_ms, prev.hash
    )
}

#[test]
fn verify_checks_the_head_record() {
    // Newest entry replaced by a consistent forgery: only the head record's hash tells.
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    let e5 = entry(&s, 5);
    tamper(dir.path(), &format!("DELETE FROM audit WHERE seq = 6; {}", forged_entry_sql(&e5, 6, "mallory")));
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 6);
    assert!(b.reason.contains("does not match the recorded head hash"), "{b}");

    // Forged entries appended past the head record.
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    let e6 = entry(&s, 6);
    tamper(dir.path(), &forged_entry_sql(&e6, 7, "mallory"));
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 7);
    assert!(b.reason.contains("added without going through the trail's head record"), "{b}");

    // Head record deleted.
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    tamper(dir.path(), "DELETE FROM audit_head");
    let b = verify(&s).unwrap_err();
    assert_eq!(b.seq, 6);
    assert!(b.reason.contains("head record of the trail was deleted"), "{b}");

    // An empty trail without a head record is simply empty.
    let (_dir, _c, s) = setup();
    assert_eq!(verify(&s).unwrap().entries, 0);
}

/// Deletes entries after `keep` and rewinds the head record to match: the database alone then
/// looks intact.
fn truncate_and_rewind(dir: &std::path::Path, s: &Store, keep: i64) {
    let last = entry(s, keep);
    tamper(
        dir,
        &format!(
            "DELETE FROM audit WHERE seq > {keep}; UPDATE audit_head SET last_seq = {keep}, last_hash = '{}'",
            last.hash
        ),
    );
}

#[test]
fn later_checkpoints_verify_what_was_added_since_the_previous_one() {
    let (dir, _c, s) = setup();
    let key = NodeKey::load_or_create(dir.path()).unwrap();
    fill_audit(&s, 6);
    let first = s.checkpoint(&key).unwrap().unwrap();
    fill_audit(&s, 2);
    let (second, _) = s.write_checkpoint(&key, Some(&first)).unwrap().unwrap();
    assert_eq!((second.seq, second.head_hash.as_str()), (8, entry(&s, 8).hash.as_str()));

    // An entry added since is edited: refused, named.
    tamper(dir.path(), "UPDATE audit SET target = 'other' WHERE seq = 7");
    let b = s.checkpoint_after(&key, Some(&first)).unwrap().unwrap_err();
    assert_eq!(b.seq, 7);
    assert!(b.reason.contains("edited"), "{b}");

    // The trail is cut back below the previous checkpoint: its entry is gone.
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    let first = s.checkpoint(&key).unwrap().unwrap();
    truncate_and_rewind(dir.path(), &s, 4);
    let b = s.checkpoint_after(&key, Some(&first)).unwrap().unwrap_err();
    assert_eq!(b.seq, 6);
    assert!(b.reason.contains("no longer holds the entry verified before"), "{b}");
}

#[test]
fn a_broken_trail_is_not_signed() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 3);
    tamper(dir.path(), "UPDATE audit SET target = 'other' WHERE seq = 2");
    let key = NodeKey::load_or_create(dir.path()).unwrap();
    let b = s.checkpoint(&key).unwrap().unwrap_err();
    assert_eq!(b.seq, 2);
}

#[test]
fn transparency_report_counts_decisions() {
    let (_d, clock, s) = setup();
    let ids = ["a", "b", "c", "d", "e"];
    for id in ids {
        s.ingest_event(&event(id, EventType::Crowd, "cam1", EventPhase::Opened), None).unwrap();
    }
    let mut other = event("f", EventType::Graffiti, "cam2", EventPhase::Opened);
    other.model_sha256 = "def456".into();
    s.ingest_event(&other, None).unwrap();
    let mut outside = event("old", EventType::Crowd, "cam1", EventPhase::Opened);
    outside.started_at_ms = UnixMs(T0_MS - 10 * 86_400_000);
    s.ingest_event(&outside, None).unwrap();

    clock.advance(Duration::from_secs(10));
    s.act("a", "op", &AlertAction::Confirm).unwrap();
    clock.advance(Duration::from_secs(20));
    s.act("b", "op", &AlertAction::Confirm).unwrap();
    s.act("b", "op", &AlertAction::Dispatch { unit: "P1".into() }).unwrap();
    clock.advance(Duration::from_secs(30));
    s.act("c", "op", &AlertAction::Dismiss { reason: DismissReason::FalseDetection, text: None }).unwrap();
    s.act("d", "op", &AlertAction::Dismiss { reason: DismissReason::Duplicate, text: None }).unwrap();

    let r = s.transparency(UnixMs(T0_MS - 86_400_000), UnixMs(T0_MS + 86_400_000)).unwrap();
    assert_eq!(r.days, 2.0);
    assert_eq!(r.rows.len(), 2);
    let row = &r.rows[0];
    assert_eq!((row.camera.as_str(), row.event_type.as_str()), ("cam1", "crowd"));
    assert_eq!((row.alerts, row.confirmed, row.dismissed, row.undecided), (5, 2, 2, 1));
    assert_eq!(row.dismissed_by_reason["false_detection"], 1);
    assert_eq!(row.dismissed_by_reason["duplicate"], 1);
    assert_eq!(row.dismissed_by_reason["other"], 0);
    assert_eq!(row.precision, Some(0.5));
    assert_eq!(row.false_alarms_per_camera_day, 0.5);
    // Decisions after 10, 30, 60 and 60 seconds.
    assert_eq!(row.median_time_to_decision_s, Some(45.0));
    assert_eq!(row.rule_versions, ["crowd-rule@3"]);
    assert_eq!(r.models, ["abc123", "def456"]);
    assert_eq!(r.rows[1].precision, None);

    let csv = r.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("camera,event_type,alerts,confirmed,dismissed,dismissed_false_detection"));
    // Every report anchors the audit trail: its head when the report was made.
    let head = verify(&s).unwrap();
    assert!(head.entries > 0);
    assert_eq!((r.audit_head.seq, r.audit_head.hash.as_str()), (head.entries, head.head_hash.as_str()));
    assert!(lines[0].ends_with(",rule_versions,audit_head_seq,audit_head_hash"), "{}", lines[0]);
    assert_eq!(
        lines[1],
        format!(
            "cam1,crowd,5,2,2,1,0,1,0,1,0.5000,0.5000,45.0000,abc123,crowd-rule@3,{},{}",
            head.entries, head.head_hash
        )
    );
    assert!(matches!(s.transparency(UnixMs(5), UnixMs(5)), Err(StoreError::Invalid(_))));
}

#[test]
fn bootstrap_admin_only_on_empty_catalogue() {
    let (_d, _c, s) = setup();
    let pw = s.bootstrap_admin("admin").unwrap().unwrap();
    assert!(matches!(s.authenticate("admin", &pw).unwrap(), LoginOutcome::Ok(u) if u.role == Role::Admin));
    assert!(s.bootstrap_admin("admin2").unwrap().is_none());
}

#[test]
fn reopening_keeps_data_and_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SimClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000)));
    {
        let s = Store::open(dir.path(), clock.clone()).unwrap();
        s.add_user("a", "0123456789", Role::Auditor).unwrap();
        fill_audit(&s, 2);
    }
    let s = Store::open(dir.path(), clock).unwrap();
    assert_eq!(s.schema_version().unwrap(), latest_schema_version());
    assert_eq!(s.user("a").unwrap().role, Role::Auditor);
    assert_eq!(verify(&s).unwrap().entries, 2);
}

/// A user's sectors are stored sorted and once each, come with their sessions, and unreadable
/// text narrows what they see rather than making them city-wide.
#[test]
fn users_carry_their_sectors_into_their_sessions() {
    let (dir, _clock, s) = setup();
    let u = s.add_user("olive", "operator password", Role::Operator).unwrap();
    assert!(u.sectors.is_empty(), "a new user is city-wide");
    let u = s.set_sectors("olive", &["gare".into(), "centre".into(), "gare".into()]).unwrap();
    assert_eq!(u.sectors, ["centre", "gare"]);
    let sess = s.create_session(&u, Duration::from_secs(60)).unwrap();
    match s.session(&sess.token).unwrap() {
        SessionLookup::Valid(v) => assert_eq!(v.user.sectors, ["centre", "gare"]),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(s.authenticate("olive", "operator password").unwrap(), LoginOutcome::Ok(u) if u.sectors.len() == 2)
    );
    let e = s.set_sectors("olive", &["centre".into(), "a;b".into()]).unwrap_err().to_string();
    assert!(e.contains("sector: invalid id 'a;b'"), "{e}");
    assert!(s.set_sectors("nobody", &[]).unwrap_err().to_string().contains("no user 'nobody'"));
    assert_eq!(s.user("olive").unwrap().sectors, ["centre", "gare"], "a refusal changed nothing");
    raw(dir.path()).execute("UPDATE users SET sectors = 'not json' WHERE username = 'olive'", []).unwrap();
    assert_eq!(s.user("olive").unwrap().sectors, ["(unreadable sectors)"]);
    assert!(s.set_sectors("olive", &[]).unwrap().sectors.is_empty());
}
