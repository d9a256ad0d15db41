//! Legal holds with a simulated clock: held footage outlives retention and the storage limits,
//! the retention proof lists what it kept and why, release and expiry hand it back, and an
//! unblurred export under a hold has its hash recorded and audited.

mod common;

use common::*;
use std::sync::Arc;
use vigie_core::{StopToken, UnixMs};
use vigie_footage::*;

const DAY: u64 = 86_400;

fn ms(secs: u64) -> UnixMs {
    UnixMs(secs as i64 * 1000)
}

fn new_hold(cameras: &[&str], from: UnixMs, to: UnixMs) -> NewHold {
    NewHold {
        cameras: cameras.iter().map(|c| c.to_string()).collect(),
        from_ms: from,
        to_ms: to,
        reference: "PV 2026/118 TJ Lyon".into(),
        reason: "requisition of the judicial police, assault on the plaza".into(),
        until_ms: None,
    }
}

fn cfg() -> ArchiveConfig {
    ArchiveConfig { retention_days: 10, segment_s: 20, ..Default::default() }
}

#[test]
fn held_footage_outlives_retention_is_listed_in_the_proof_and_goes_after_release() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, clock) = open(dir.path(), cfg(), audit.clone());
    let a = record(&archive, "a", t(T0), 60.0);
    let b = record(&archive, "b", t(T0), 60.0);
    assert!(a.len() >= 3 && b.len() >= 3, "{} {}", a.len(), b.len());
    // Held: camera a, its first 25 seconds (the first two 20-second segments overlap them).
    let hold =
        archive.place_hold("sup", &new_hold(&["a"], ms(T0), ms(T0 + 25)), &["a".to_string(), "b".to_string()]).unwrap();
    assert_eq!(hold.state, HoldState::Active);
    let held: Vec<&SegmentRow> = a.iter().filter(|r| r.start_ms <= ms(T0 + 25)).collect();
    assert_eq!(held.len(), 2);
    let placed = audit.with_action("hold.place");
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0]["reference"], "PV 2026/118 TJ Lyon");
    assert_eq!(placed[0]["cameras"][0], "a");

    let now = t(T0 + 12 * DAY);
    clock.set(now);
    let rep = archive.retention_pass(now).unwrap();
    let left = archive.catalog().all().unwrap();
    assert_eq!(left.len(), held.len(), "only held segments survive: {left:?}");
    for h in &held {
        assert!(left.iter().any(|r| r.path == h.path));
        assert!(archive.store().exists(&h.path).unwrap(), "held file kept");
    }
    assert_eq!(rep.segments.len(), a.len() + b.len() - held.len());
    assert_eq!(rep.held.len(), held.len());
    assert_eq!(rep.held_bytes, held.iter().map(|r| r.bytes).sum::<u64>());
    assert!(
        rep.summary().contains(&format!("kept under legal hold #{} (PV 2026/118 TJ Lyon)", hold.id)),
        "{}",
        rep.summary()
    );
    // The audited proof names each kept segment with its hash and the hold that kept it.
    let proof = audit.with_action("retention.delete");
    let listed = proof[0]["held"].as_array().unwrap();
    assert_eq!(listed.len(), held.len());
    for h in &held {
        let e = listed.iter().find(|s| s["path"] == h.path.as_str()).unwrap();
        assert_eq!(e["sha256"], h.sha256.as_str());
        assert_eq!(e["holds"][0]["id"], hold.id);
        assert_eq!(e["holds"][0]["reference"], "PV 2026/118 TJ Lyon");
    }
    assert!(proof[0]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["camera"] == "b" || held.iter().all(|h| h.path != s["path"].as_str().unwrap())));

    // Released: the next pass deletes it.
    let e = archive.release_hold(hold.id, "sup", "  ").unwrap_err().to_string();
    assert!(e.starts_with("reason:"), "{e}");
    let released = archive.release_hold(hold.id, "sup2", "case closed by the court").unwrap();
    assert_eq!(released.state, HoldState::Released);
    assert_eq!(released.released_by.as_deref(), Some("sup2"));
    let rel = audit.with_action("hold.release");
    assert_eq!((rel.len(), rel[0]["reason"].as_str()), (1, Some("case closed by the court")));
    let e = archive.release_hold(hold.id, "sup2", "again").unwrap_err().to_string();
    assert!(e.contains("already released"), "{e}");
    let rep = archive.retention_pass(now).unwrap();
    assert_eq!(rep.segments.len(), held.len());
    assert!(rep.held.is_empty());
    assert!(archive.catalog().all().unwrap().is_empty());
    for h in &held {
        assert!(!archive.store().exists(&h.path).unwrap());
    }
}

#[test]
fn a_hold_expires_at_its_end_date_audited_once_and_its_footage_goes_in_that_pass() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, clock) = open(dir.path(), cfg(), audit.clone());
    let a = record(&archive, "a", t(T0), 40.0);
    let mut nh = new_hold(&["a"], ms(T0), ms(T0 + 40));
    nh.until_ms = Some(ms(T0 + 11 * DAY));
    let hold = archive.place_hold("sup", &nh, &[]).unwrap();
    assert_eq!(hold.until, Some(ms(T0 + 11 * DAY)));

    // Day 10.5: past retention, hold still in force.
    let now = t(T0 + 10 * DAY + DAY / 2);
    clock.set(now);
    let rep = archive.retention_pass(now).unwrap();
    assert!(rep.segments.is_empty());
    assert_eq!(rep.held.len(), a.len());
    let st = archive.retention_status(now).unwrap();
    assert_eq!(st.holds.len(), 1);
    assert!(
        st.to_text().contains(&format!("legal hold #{} reference PV 2026/118 TJ Lyon: cameras a", hold.id)),
        "{}",
        st.to_text()
    );
    assert!(audit.with_action("hold.expire").is_empty());
    let cam = &st.cameras[0];
    assert!(cam.oldest_under_hold && !cam.overdue, "held footage past the limit is not overdue: {cam:?}");
    assert!(st.to_text().contains("(oldest footage under legal hold)"), "{}", st.to_text());

    // Day 11.5: expired; the same pass deletes the footage.
    let now = t(T0 + 11 * DAY + DAY / 2);
    clock.set(now);
    assert!(archive.retention_status(now).unwrap().holds.is_empty(), "status lists only holds in force");
    let rep = archive.retention_pass(now).unwrap();
    assert_eq!(rep.segments.len(), a.len());
    assert!(rep.held.is_empty());
    let exp = audit.with_action("hold.expire");
    assert_eq!(exp.len(), 1);
    assert_eq!(exp[0]["id"], hold.id);
    let h = archive.hold(hold.id).unwrap();
    assert_eq!((h.state, h.ended_at), (HoldState::Expired, Some(ms(T0 + 11 * DAY))));
    archive.retention_pass(now).unwrap();
    assert_eq!(audit.with_action("hold.expire").len(), 1, "expiry audited once");
    let counts = archive.hold_counts(ms(T0), ms(T0 + 12 * DAY)).unwrap();
    assert_eq!(counts, HoldCounts { active: 0, placed: 1, released: 0, expired: 1 });
    let counts = archive.hold_counts(ms(T0), ms(T0 + DAY)).unwrap();
    assert_eq!(counts, HoldCounts { active: 1, placed: 1, released: 0, expired: 0 });
}

#[test]
fn bad_holds_are_refused_naming_the_field_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _clock) = open(dir.path(), cfg(), audit.clone());
    record(&archive, "a", t(T0), 20.0);
    let known = vec!["a".to_string(), "b".to_string()];
    let ok = new_hold(&["a", "b"], ms(T0), ms(T0 + 60));
    let cases: Vec<(NewHold, &str)> = vec![
        (NewHold { reference: "".into(), ..ok.clone() }, "reference: required"),
        (NewHold { reference: " \t ".into(), ..ok.clone() }, "reference: required"),
        (NewHold { reference: "x".repeat(201), ..ok.clone() }, "reference: too long"),
        (NewHold { reason: "".into(), ..ok.clone() }, "reason: required"),
        (NewHold { cameras: vec![], ..ok.clone() }, "cameras: name at least one"),
        (NewHold { cameras: vec!["nope".into()], ..ok.clone() }, "cameras: unknown camera 'nope'"),
        (NewHold { cameras: vec!["a".into(), "a".into()], ..ok.clone() }, "cameras: 'a' is named twice"),
        (NewHold { to_ms: ok.from_ms, ..ok.clone() }, "to: must be after from"),
        (NewHold { to_ms: ms(T0 - 10), ..ok.clone() }, "to: must be after from"),
        (NewHold { until_ms: Some(ms(T0 - 1)), ..ok.clone() }, "until: "),
        (NewHold { until_ms: Some(ms(T0)), ..ok.clone() }, "until: "),
    ];
    for (h, want) in cases {
        let e = archive.place_hold("sup", &h, &known).unwrap_err();
        assert!(matches!(e, ArchiveError::BadRequest(_)), "{e}");
        assert!(e.to_string().starts_with(want), "{want}: {e}");
    }
    assert!(archive.holds().unwrap().is_empty(), "nothing stored");
    assert!(audit.with_action("hold.place").is_empty(), "nothing audited");
    // A camera with footage but no longer configured can still be held.
    let h = archive.place_hold("sup", &new_hold(&["a"], ms(T0), ms(T0 + 60)), &[]).unwrap();
    assert_eq!(archive.holds().unwrap(), vec![h]);
}

#[test]
fn storage_limits_never_evict_held_footage_and_say_so_when_only_it_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _clock) = open(dir.path(), cfg(), audit.clone());
    // More than the smallest total limit (16 MiB), all of it held.
    let a = record(&archive, "a", t(T0), 900.0);
    let limit = 16u64 << 20;
    assert!(a.iter().map(|r| r.bytes).sum::<u64>() > limit);
    let hold = archive.place_hold("sup", &new_hold(&["a"], ms(T0), ms(T0 + 900)), &[]).unwrap();
    drop(archive);
    // Reopened under that limit, without the free-space reserve (the test machine's disk is not
    // part of the test).
    let limited = ArchiveConfig { max_total_bytes: Some(limit), reserve_mb: 0, ..cfg() };
    let (archive, _clock) = open(dir.path(), limited, audit.clone());
    assert!(archive.enforce_limits(None).unwrap().is_none(), "nothing evicted");
    assert_eq!(archive.catalog().all().unwrap().len(), a.len());
    assert!(audit.with_action("archive.evict").is_empty());
    let st = archive.storage_status().unwrap();
    let alert = st.alerts.iter().find(|m| m.contains("held footage")).unwrap_or_else(|| panic!("{:?}", st.alerts));
    assert!(alert.contains(&format!("#{} (PV 2026/118 TJ Lyon)", hold.id)), "{alert}");
    assert!(alert.contains(&format!("{} segment(s)", a.len() - 1)), "the newest is spared anyway: {alert}");
    // Released: the limit evicts the oldest, and the alarm clears.
    archive.release_hold(hold.id, "sup", "procedure over").unwrap();
    let ev = archive.enforce_limits(None).unwrap().unwrap();
    assert!(!ev.segments.is_empty());
    assert_eq!(ev.segments[0].path, a[0].path, "oldest first");
    let total: u64 = archive.catalog().all().unwrap().iter().map(|r| r.bytes).sum();
    assert!(total <= limit, "{total}");
    assert!(!archive.storage_status().unwrap().alerts.iter().any(|m| m.contains("held footage")));
}

#[test]
fn an_export_under_a_hold_is_unblurred_only_within_it_and_its_hash_is_recorded_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, clock) = open(dir.path(), cfg(), audit.clone());
    record(&archive, "a", t(T0), 60.0);
    record(&archive, "b", t(T0), 60.0);
    let hold = archive.place_hold("sup", &new_hold(&["a"], ms(T0), ms(T0 + 30)), &[]).unwrap();
    let stop = StopToken::never();
    let (exp, res, mp4) = archive.export_for_hold(hold.id, "a", ms(T0 + 5), ms(T0 + 15), "sup", &stop).unwrap();
    assert!(!res.blurred);
    assert!(res.frames > 0);
    assert_eq!(exp.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&mp4)));
    let h = archive.hold(hold.id).unwrap();
    assert_eq!(h.exports, vec![exp.clone()], "the hash is kept with the hold");
    let a = audit.with_action("hold.export");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["sha256"], exp.sha256.as_str());
    assert_eq!(a[0]["id"], hold.id);
    let e = audit.with_action("export");
    assert_eq!(e[0]["unmask_reason"], format!("legal hold #{}, requisition PV 2026/118 TJ Lyon", hold.id));

    let err = |cam: &str, from: u64, to: u64| {
        archive.export_for_hold(hold.id, cam, ms(T0 + from), ms(T0 + to), "sup", &stop).unwrap_err().to_string()
    };
    assert!(err("b", 5, 15).starts_with("camera: 'b' is not under hold"), "{}", err("b", 5, 15));
    assert!(err("a", 20, 40).starts_with("from/to:"), "{}", err("a", 20, 40));
    let e = archive.export_for_hold(999, "a", ms(T0), ms(T0 + 5), "sup", &stop).unwrap_err();
    assert!(matches!(e, ArchiveError::NotFound(_)), "{e}");
    clock.set(t(T0 + 60));
    archive.release_hold(hold.id, "sup", "done").unwrap();
    assert!(err("a", 5, 15).contains("is released"), "{}", err("a", 5, 15));
    assert_eq!(audit.with_action("hold.export").len(), 1, "refusals export nothing");
}

#[test]
fn retention_status_command_lists_active_holds() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let id = {
        let (archive, _) = open(dir.path(), cfg(), audit.clone());
        record(&archive, "a", t(T0), 20.0);
        let mut nh = new_hold(&["a"], ms(T0), ms(T0 + 20));
        nh.until_ms = Some(UnixMs(4_102_444_800_000)); // 2100-01-01
        archive.place_hold("sup", &nh, &[]).unwrap().id
    };
    let req = RetentionRequest::Status { data: dir.path().into(), json: false };
    let out = run_retention(&req, None, None, audit.clone()).unwrap();
    assert!(
        out.contains(&format!(
            "legal hold #{id} reference PV 2026/118 TJ Lyon: cameras a, footage 2026-11-01T00:00:00Z to 2026-11-01T00:00:20Z, until 2100-01-01T00:00:00Z"
        )),
        "{out}"
    );
    let req = RetentionRequest::Status { data: dir.path().into(), json: true };
    let v: serde_json::Value = serde_json::from_str(&run_retention(&req, None, None, audit).unwrap()).unwrap();
    assert_eq!(v["holds"][0]["reference"], "PV 2026/118 TJ Lyon");
    assert_eq!(v["holds"][0]["from"], "2026-11-01T00:00:00Z");
}
