//! `stats.db`: what the counter hands out comes back as series, across a restart; a minute
//! written twice adds up; retention deletes old minutes only; the writer never makes its caller
//! wait, even on a store that hangs.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use vigie_core::UnixMs;
use vigie_stats::store::WRITER_QUEUE;
use vigie_stats::{
    Bucket, ClassCounts, CountKind, MinuteCounts, SeriesQuery, SqliteStats, StatsError, StatsStore, StatsWriter,
};

const M0: i64 = 1_796_119_200_000;

fn minute(k: i64, person_in: u32, car_out: u32, occ: f64) -> MinuteCounts {
    let c = |class: &str, i: u32, o: u32| ClassCounts {
        zone: "north".into(),
        kind: CountKind::Line,
        class: class.into(),
        crossings_in: i,
        crossings_out: o,
        entries: 0,
        occupancy_ms: 0.0,
    };
    MinuteCounts {
        camera: "plaza".into(),
        minute: UnixMs(M0 + k * 60_000),
        observed_ms: 60_000,
        counts: vec![
            c("person", person_in, 0),
            c("car", 0, car_out),
            ClassCounts {
                zone: "fountain".into(),
                kind: CountKind::Area,
                class: "person".into(),
                crossings_in: 0,
                crossings_out: 0,
                entries: 2,
                occupancy_ms: occ,
            },
        ],
    }
}

fn query(zone: &str, class: Option<&str>, from: i64, to: i64, step_s: i64) -> SeriesQuery {
    SeriesQuery {
        camera: "plaza".into(),
        zone: zone.into(),
        class: class.map(String::from),
        from: UnixMs(from),
        to: UnixMs(to),
        step_ms: step_s * 1000,
    }
}

#[test]
fn minutes_round_trip_across_a_restart_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.db");
    {
        let db = SqliteStats::open(&path).unwrap();
        db.write(&(0..10).map(|k| minute(k, 3, 1, 90_000.0)).collect::<Vec<_>>()).unwrap();
    }
    let db = SqliteStats::open(&path).unwrap();
    // Minute 4 again (a counter rebuilt within it on a reload): its counts add up, its watched
    // time stays within the minute.
    db.write(&[minute(4, 2, 0, 30_000.0)]).unwrap();
    assert_eq!(db.observed_ms("plaza", UnixMs(M0 + 4 * 60_000)).unwrap(), Some(60_000));

    let s = db.series(&query("north", None, M0, M0 + 600_000, 300)).unwrap();
    let got: Vec<(i64, u64, u64, u64)> =
        s.iter().map(|b| (b.t.as_i64() - M0, b.crossings_in, b.crossings_out, b.observed_ms)).collect();
    assert_eq!(got, [(0, 17, 5, 300_000), (300_000, 15, 5, 300_000)]);
    let s = db.series(&query("north", Some("car"), M0, M0 + 600_000, 600)).unwrap();
    assert_eq!((s[0].crossings_in, s[0].crossings_out), (0, 10));
    // Occupancy: 1.5 on average, 2 in minute 4.
    let s = db.series(&query("fountain", Some("person"), M0 + 180_000, M0 + 300_000, 60)).unwrap();
    let occ: Vec<f64> = s.iter().map(Bucket::occupancy).collect();
    assert_eq!(occ, [1.5, 2.0]);
    assert_eq!(s[1].entries, 4);
    // Another camera or zone: zeros.
    let s = db.series(&query("south", None, M0, M0 + 120_000, 60)).unwrap();
    assert!(s.iter().all(|b| b.crossings_in == 0 && b.observed_ms == 60_000), "{s:?}");

    // Retention: minutes before the cutoff go, with their coverage; the rest stay.
    assert_eq!(db.purge_before(UnixMs(M0 + 5 * 60_000)).unwrap(), 15);
    let s = db.series(&query("north", None, M0, M0 + 600_000, 300)).unwrap();
    assert_eq!((s[0].crossings_in, s[0].observed_ms, s[1].crossings_in), (0, 0, 15));
}

/// A store whose writes wait until it is opened: a disk that hangs.
struct Stuck {
    open: Mutex<bool>,
    cv: Condvar,
    written: Mutex<usize>,
}

impl StatsStore for Stuck {
    fn write(&self, minutes: &[MinuteCounts]) -> Result<(), StatsError> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        *self.written.lock().unwrap() += minutes.len();
        Ok(())
    }
    fn series(&self, _: &SeriesQuery) -> Result<Vec<Bucket>, StatsError> {
        Ok(Vec::new())
    }
    fn purge_before(&self, _: UnixMs) -> Result<u64, StatsError> {
        Ok(0)
    }
}

#[test]
fn a_hung_store_never_stalls_the_pipeline() {
    let stuck = Arc::new(Stuck { open: Mutex::new(false), cv: Condvar::new(), written: Mutex::new(0) });
    let w = StatsWriter::start(stuck.clone(), 730);
    let n = WRITER_QUEUE + 50;
    let t = Instant::now();
    for k in 0..n {
        w.submit(vec![minute(k as i64, 1, 0, 0.0)]);
    }
    let took = t.elapsed();
    assert!(took < Duration::from_millis(500), "submitting {n} batches took {took:?}");
    // One batch is held by the stuck write, WRITER_QUEUE wait; the rest are dropped and counted.
    assert!((49..=50).contains(&w.dropped()), "{}", w.dropped());
    assert!(!w.sync(Duration::from_millis(100)), "the writer is stuck");
    *stuck.open.lock().unwrap() = true;
    stuck.cv.notify_all();
    assert!(w.sync(Duration::from_secs(10)));
    assert_eq!(*stuck.written.lock().unwrap() as u64, n as u64 - w.dropped());
}

#[test]
fn the_writer_writes_to_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(SqliteStats::open(&dir.path().join("stats.db")).unwrap());
    let w = StatsWriter::start(db.clone(), 730);
    w.submit((0..3).map(|k| minute(k, 1, 0, 0.0)).collect());
    assert!(w.sync(Duration::from_secs(10)));
    let s = db.series(&query("north", None, M0, M0 + 180_000, 180)).unwrap();
    assert_eq!(s[0].crossings_in, 3);
    assert_eq!((w.dropped(), w.failed()), (0, 0));
}

#[test]
fn upgraded_database_equals_a_fresh_one() {
    use vigie_stats::store::MIGRATIONS;
    let mut old = rusqlite::Connection::open_in_memory().unwrap();
    vigie_sqlite::migrate(&mut old, "old", &MIGRATIONS[..0]).unwrap();
    let m = vigie_sqlite::migrate(&mut old, "old", MIGRATIONS).unwrap();
    assert_eq!((m.from, m.to), (0, MIGRATIONS.len() as u32));
    let mut fresh = rusqlite::Connection::open_in_memory().unwrap();
    vigie_sqlite::migrate(&mut fresh, "fresh", MIGRATIONS).unwrap();
    let schema = vigie_sqlite::schema_of(&fresh).unwrap();
    assert!(schema.contains("table minutes") && schema.contains("table coverage"), "{schema}");
    assert_eq!(vigie_sqlite::schema_of(&old).unwrap(), schema);
    // Nothing in the schema could hold a track, a picture or a position.
    for word in ["track", "bbox", "image", "x1", "path", "jpeg"] {
        assert!(!schema.contains(word), "{word} in {schema}");
    }
}
