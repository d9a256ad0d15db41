//! Where the minutes are kept: `stats.db` in the data folder, its own database so its retention
//! (years) is independent of footage and alerts. [`StatsStore`] is the seam for another backend
//! (PostgreSQL at city scale); [`StatsWriter`] writes from a background thread so a slow disk
//! never stalls a camera's pipeline.

use crate::counter::{MinuteCounts, MINUTE_MS};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigie_core::UnixMs;

const DB: &str = "stats.db";

/// Index `i` holds migration number `i + 1`. Never edit a released one: add the next and extend
/// the upgrade test.
pub const MIGRATIONS: &[&str] = &[
    // 1: per-minute counts per camera, zone and class, and how long each camera was watched.
    r#"
    CREATE TABLE minutes (
        camera TEXT NOT NULL,
        zone TEXT NOT NULL,
        class TEXT NOT NULL,
        minute_ms INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('line', 'area')),
        crossings_in INTEGER NOT NULL DEFAULT 0,
        crossings_out INTEGER NOT NULL DEFAULT 0,
        entries INTEGER NOT NULL DEFAULT 0,
        occupancy_ms REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (camera, zone, minute_ms, class)
    ) WITHOUT ROWID;
    CREATE TABLE coverage (
        camera TEXT NOT NULL,
        minute_ms INTEGER NOT NULL,
        observed_ms INTEGER NOT NULL,
        PRIMARY KEY (camera, minute_ms)
    ) WITHOUT ROWID;
    "#,
];

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Db(#[from] vigie_sqlite::Error),
    #[error("stats.db: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One series asked for: a zone's counts from `from` (inclusive) to `to` (exclusive) in steps
/// of `step_ms` starting at `from`; `class` `None` sums every class.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesQuery {
    pub camera: String,
    pub zone: String,
    pub class: Option<String>,
    pub from: UnixMs,
    pub to: UnixMs,
    pub step_ms: i64,
}

impl SeriesQuery {
    /// Steps in the series (the last may be shorter).
    pub fn steps(&self) -> i64 {
        let span = self.to.as_i64() - self.from.as_i64();
        if span <= 0 || self.step_ms <= 0 {
            0
        } else {
            (span + self.step_ms - 1) / self.step_ms
        }
    }
}

/// One step of a series. A minute belongs to the step its start falls in.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start of the step.
    pub t: UnixMs,
    pub crossings_in: u64,
    pub crossings_out: u64,
    pub entries: u64,
    /// Tracks inside integrated over time, track-milliseconds.
    pub occupancy_ms: f64,
    /// How long the camera was watched during the step.
    pub observed_ms: u64,
}

impl Bucket {
    /// Mean number inside over the watched time (0 when the camera was not watched).
    pub fn occupancy(&self) -> f64 {
        if self.observed_ms == 0 {
            0.0
        } else {
            self.occupancy_ms / self.observed_ms as f64
        }
    }
}

/// Keeps and answers per-minute counts.
pub trait StatsStore: Send + Sync {
    /// Adds the minutes' counts; a minute written twice (a counter restarted within it) adds up.
    fn write(&self, minutes: &[MinuteCounts]) -> Result<(), StatsError>;
    /// Every step of the query, oldest first, zeros where nothing was counted.
    fn series(&self, q: &SeriesQuery) -> Result<Vec<Bucket>, StatsError>;
    /// Deletes the minutes that started before `cutoff`; returns how many rows went.
    fn purge_before(&self, cutoff: UnixMs) -> Result<u64, StatsError>;
}

/// The SQLite store: one connection writes, another reads (WAL: reads never wait on writes).
pub struct SqliteStats {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
}

impl SqliteStats {
    /// Opens (creating and upgrading) `stats.db` at `path`.
    pub fn open(path: &Path) -> Result<Self, StatsError> {
        let opts = vigie_sqlite::Options::default();
        let mut w = vigie_sqlite::open(path, DB, &opts)?;
        vigie_sqlite::migrate(&mut w, DB, MIGRATIONS)?;
        let r = vigie_sqlite::open(path, DB, &opts)?;
        Ok(SqliteStats { write: Mutex::new(w), read: Mutex::new(r) })
    }

    /// How long `camera` was watched in the minute starting at `minute`.
    pub fn observed_ms(&self, camera: &str, minute: UnixMs) -> Result<Option<u32>, StatsError> {
        let c = self.read.lock().unwrap_or_else(|e| e.into_inner());
        Ok(c.query_row(
            "SELECT observed_ms FROM coverage WHERE camera = ?1 AND minute_ms = ?2",
            params![camera, minute.as_i64()],
            |r| r.get(0),
        )
        .optional()?)
    }
}

impl StatsStore for SqliteStats {
    fn write(&self, minutes: &[MinuteCounts]) -> Result<(), StatsError> {
        let mut c = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let tx = c.transaction()?;
        {
            let mut row = tx.prepare_cached(
                "INSERT INTO minutes (camera, zone, class, minute_ms, kind, crossings_in, crossings_out, entries, occupancy_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (camera, zone, minute_ms, class) DO UPDATE SET
                     crossings_in = crossings_in + excluded.crossings_in,
                     crossings_out = crossings_out + excluded.crossings_out,
                     entries = entries + excluded.entries,
                     occupancy_ms = occupancy_ms + excluded.occupancy_ms",
            )?;
            let mut cov = tx.prepare_cached(
                "INSERT INTO coverage (camera, minute_ms, observed_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (camera, minute_ms) DO UPDATE SET observed_ms = min(?4, observed_ms + excluded.observed_ms)",
            )?;
            for m in minutes {
                for r in &m.counts {
                    row.execute(params![
                        m.camera,
                        r.zone,
                        r.class,
                        m.minute.as_i64(),
                        r.kind.as_str(),
                        r.crossings_in,
                        r.crossings_out,
                        r.entries,
                        r.occupancy_ms
                    ])?;
                }
                if m.observed_ms > 0 {
                    cov.execute(params![m.camera, m.minute.as_i64(), m.observed_ms, MINUTE_MS])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn series(&self, q: &SeriesQuery) -> Result<Vec<Bucket>, StatsError> {
        let n = q.steps();
        let (from, step) = (q.from.as_i64(), q.step_ms);
        let mut out: Vec<Bucket> = (0..n)
            .map(|i| Bucket {
                t: UnixMs(from + i * step),
                crossings_in: 0,
                crossings_out: 0,
                entries: 0,
                occupancy_ms: 0.0,
                observed_ms: 0,
            })
            .collect();
        let c = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = c.prepare_cached(
            "SELECT (minute_ms - ?1) / ?2, sum(crossings_in), sum(crossings_out), sum(entries), sum(occupancy_ms)
             FROM minutes
             WHERE camera = ?3 AND zone = ?4 AND (?5 IS NULL OR class = ?5) AND minute_ms >= ?1 AND minute_ms < ?6
             GROUP BY 1",
        )?;
        let rows = st.query_map(params![from, step, q.camera, q.zone, q.class, q.to.as_i64()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, f64>(4)?,
            ))
        })?;
        for row in rows {
            let (i, a, b, e, o) = row?;
            if let Some(k) = out.get_mut(i as usize) {
                k.crossings_in = a as u64;
                k.crossings_out = b as u64;
                k.entries = e as u64;
                k.occupancy_ms = o;
            }
        }
        let mut st = c.prepare_cached(
            "SELECT (minute_ms - ?1) / ?2, sum(observed_ms) FROM coverage
             WHERE camera = ?3 AND minute_ms >= ?1 AND minute_ms < ?4 GROUP BY 1",
        )?;
        let rows = st.query_map(params![from, step, q.camera, q.to.as_i64()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (i, o) = row?;
            if let Some(k) = out.get_mut(i as usize) {
                k.observed_ms = o as u64;
            }
        }
        Ok(out)
    }

    fn purge_before(&self, cutoff: UnixMs) -> Result<u64, StatsError> {
        let mut c = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let tx = c.transaction()?;
        let n = tx.execute("DELETE FROM minutes WHERE minute_ms < ?1", [cutoff.as_i64()])?;
        tx.execute("DELETE FROM coverage WHERE minute_ms < ?1", [cutoff.as_i64()])?;
        tx.commit()?;
        Ok(n as u64)
    }
}

/// Batches of minutes the writer may hold before new ones are dropped (and counted): about a
/// day of one camera's minutes, far more than a slow disk ever falls behind.
pub const WRITER_QUEUE: usize = 1024;

enum Job {
    Write(Vec<MinuteCounts>),
    /// Wakes the writer to hand back when everything before is written (tests, shutdown).
    Sync(Sender<()>),
}

/// Writes minutes to a [`StatsStore`] on its own thread and purges those older than the
/// retention every hour. [`StatsWriter::submit`] never blocks.
#[derive(Clone)]
pub struct StatsWriter {
    tx: Sender<Job>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl StatsWriter {
    /// Starts the writer thread. `retention_days`: minutes older than this are deleted.
    pub fn start(store: Arc<dyn StatsStore>, retention_days: u32) -> Self {
        let (tx, rx) = bounded(WRITER_QUEUE);
        let failed = Arc::new(AtomicU64::new(0));
        let f = failed.clone();
        std::thread::Builder::new()
            .name("stats-writer".into())
            .spawn(move || writer_loop(store, rx, retention_days, f))
            .expect("spawn the stats writer");
        StatsWriter { tx, dropped: Arc::new(AtomicU64::new(0)), failed }
    }

    /// Queues minutes for writing; drops them (counted in [`StatsWriter::dropped`]) when the
    /// queue is full rather than make the pipeline wait.
    pub fn submit(&self, minutes: Vec<MinuteCounts>) {
        if minutes.is_empty() {
            return;
        }
        match self.tx.try_send(Job::Write(minutes)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "statistics writer is behind; minutes dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until everything submitted before is written (at most `timeout`); false on timeout.
    pub fn sync(&self, timeout: Duration) -> bool {
        let (tx, rx) = bounded(1);
        if self.tx.send_timeout(Job::Sync(tx), timeout).is_err() {
            return false;
        }
        rx.recv_timeout(timeout).is_ok()
    }

    /// Batches dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Batches the store refused (logged).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

const DAY_MS: i64 = 86_400_000;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

fn writer_loop(store: Arc<dyn StatsStore>, rx: Receiver<Job>, retention_days: u32, failed: Arc<AtomicU64>) {
    let purge = || {
        let cutoff = UnixMs(UnixMs::now().as_i64() - i64::from(retention_days) * DAY_MS);
        match store.purge_before(cutoff) {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, retention_days, "old statistics purged"),
            Err(e) => tracing::warn!(error = %e, "statistics purge failed"),
        }
    };
    purge();
    let mut last_purge = std::time::Instant::now();
    loop {
        match rx.recv_timeout(PURGE_EVERY) {
            Ok(Job::Write(m)) => {
                if let Err(e) = store.write(&m) {
                    failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "statistics not written");
                }
            }
            Ok(Job::Sync(done)) => {
                let _ = done.send(());
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            purge();
            last_purge = std::time::Instant::now();
        }
    }
}
