//! Alerts when the catalogue cannot store them (a full disk, simulated here by a trigger that
//! refuses every alert row, as SQLite does with SQLITE_FULL): shown live at once, stored later
//! in order, nothing lost, no picture left without its row.

mod common;

use common::*;
use std::sync::Arc;
use vigie_core::{EventPhase, EventType, SystemClock};
use vigie_server::*;
use vigie_store::{AlertQuery, Store};

fn refuse_alerts(dir: &std::path::Path, on: bool) {
    let c = rusqlite::Connection::open(dir.join(vigie_store::DB_FILE)).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    if on {
        c.execute_batch(
            "CREATE TRIGGER full_ins BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
             CREATE TRIGGER full_upd BEFORE UPDATE ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )
        .unwrap();
    } else {
        c.execute_batch("DROP TRIGGER full_ins; DROP TRIGGER full_upd;").unwrap();
    }
}

#[test]
fn alerts_reach_the_live_feed_when_the_catalogue_fails_and_are_stored_in_order_later() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), Arc::new(SystemClock::default())).unwrap());
    let hub = AlertHub::new(store.clone(), None);
    let mut feed = hub.subscribe();
    refuse_alerts(dir.path(), true);

    let a = event("a", EventType::Intrusion, "cam1");
    let b = event("b", EventType::Crowd, "cam1");
    let mut a_closed = event("a", EventType::Intrusion, "cam1");
    a_closed.phase = EventPhase::Closed;
    a_closed.ended_at_ms = Some(vigie_core::UnixMs(T0_MS + 9000));
    a_closed.snapshot_jpeg = None;
    let clear = jpeg(200);
    for (ev, clear) in [(&a, Some(clear.as_slice())), (&b, None), (&a_closed, None)] {
        let v = hub.publish_with(ev, PublishExtras { clear_jpeg: clear, fired_at_ms: None }).unwrap();
        assert_eq!(v.id, ev.id);
    }
    // Shown live at once, without a snapshot link (the picture waits with its row).
    let got: Vec<(&str, serde_json::Value)> = (0..3)
        .map(|_| {
            let m = feed.try_recv().expect("a live message per event");
            (m.kind, serde_json::from_str(&m.json).unwrap())
        })
        .collect();
    assert_eq!(
        got.iter().map(|(k, v)| (*k, v["id"].as_str().unwrap())).collect::<Vec<_>>(),
        [("alert", "a"), ("alert", "b"), ("update", "a")]
    );
    assert!(got[0].1["snapshot_url"].is_null());
    assert_eq!(got[2].1["ended_at_ms"], T0_MS + 9000);
    // Nothing stored, nothing written: no picture without its row.
    assert!(store.alerts(&AlertQuery::default()).unwrap().is_empty());
    assert_eq!(hub.pending(), 2, "a's close merges into a");
    for d in [vigie_store::SNAPSHOT_DIR, vigie_store::CLEAR_DIR] {
        let n = std::fs::read_dir(dir.path().join(d)).map(|r| r.count()).unwrap_or(0);
        assert_eq!(n, 0, "orphan files in {d}");
    }

    // Space comes back: the retry stores both, in order, with a's last state and pictures.
    refuse_alerts(dir.path(), false);
    hub.retry_pending();
    assert_eq!(hub.pending(), 0);
    let stored = store.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(stored.len(), 2);
    let sa = store.alert("a").unwrap();
    let sb = store.alert("b").unwrap();
    assert!(sa.received_at_ms <= sb.received_at_ms);
    assert_eq!(sa.ended_at_ms, Some(vigie_core::UnixMs(T0_MS + 9000)));
    assert!(sa.has_snapshot && sa.has_clear_snapshot && sb.has_snapshot && !sb.has_clear_snapshot);
    // Consoles get the stored versions, with their snapshot links.
    let m = feed.try_recv().unwrap();
    let v: serde_json::Value = serde_json::from_str(&m.json).unwrap();
    assert_eq!((m.kind, v["id"].as_str().unwrap()), ("update", "a"));
    assert!(v["snapshot_url"].is_string());
    // And the next alert goes straight through.
    hub.publish_with(&event("c", EventType::Intrusion, "cam1"), PublishExtras::default()).unwrap();
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 3);
}

/// The background retry stores waiting alerts without any new event to push them.
#[test]
fn waiting_alerts_are_stored_by_the_background_retry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), Arc::new(SystemClock::default())).unwrap());
    let hub = AlertHub::new(store.clone(), None);
    refuse_alerts(dir.path(), true);
    hub.publish_with(&event("x", EventType::Intrusion, "cam1"), PublishExtras::default()).unwrap();
    assert_eq!(hub.pending(), 1);
    refuse_alerts(dir.path(), false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while hub.pending() > 0 {
        assert!(std::time::Instant::now() < deadline, "not retried");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(store.alert("x").unwrap().has_snapshot);
}
