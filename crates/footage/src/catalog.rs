//! `archive.db`: the segment index (which file holds which camera's footage for which time),
//! the log of deletions, and a few settings remembered for the command line.

use crate::db::{migrate, sql_err, DbError};
use crate::holds::{self, Hold, HoldExport, HoldState, NewHold};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;
use vigie_core::UnixMs;

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the first release indexed segments only.
    "CREATE TABLE segments (
        id INTEGER PRIMARY KEY,
        camera TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE
    );
    CREATE INDEX segments_camera_start ON segments(camera, start_ms);",
    // 2: segment state (a file deleted behind our back is marked, not forgotten), picture size,
    //    the deletion log shown to operators, and settings for the command line.
    "ALTER TABLE segments ADD COLUMN state TEXT NOT NULL DEFAULT 'ok';
    ALTER TABLE segments ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE segments ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX segments_start ON segments(start_ms);
    CREATE TABLE deletions (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        reason TEXT NOT NULL,
        camera TEXT,
        segments INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        oldest_start_ms INTEGER,
        newest_end_ms INTEGER
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 3: legal holds and the unblurred exports made under them (see `holds.rs`).
    crate::holds::HOLDS_MIGRATION,
];

/// State of an indexed segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    Ok,
    /// The file disappeared (deleted by hand, disk replaced); kept so the gap is explained.
    Missing,
}

impl SegmentState {
    fn as_str(self) -> &'static str {
        match self {
            SegmentState::Ok => "ok",
            SegmentState::Missing => "missing",
        }
    }
    fn parse(s: &str) -> Self {
        if s == "missing" {
            SegmentState::Missing
        } else {
            SegmentState::Ok
        }
    }
}

/// One indexed segment file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRow {
    pub id: i64,
    pub camera: String,
    /// Wall-clock time of the first frame.
    pub start_ms: UnixMs,
    /// Wall-clock time at which the last frame ends.
    pub end_ms: UnixMs,
    pub frames: u64,
    pub bytes: u64,
    pub sha256: String,
    /// Key in the segment store.
    pub path: String,
    pub state: SegmentState,
    pub width: u32,
    pub height: u32,
}

/// A segment about to be indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSegment {
    pub camera: String,
    pub start_ms: UnixMs,
    pub end_ms: UnixMs,
    pub frames: u64,
    pub bytes: u64,
    pub sha256: String,
    pub path: String,
    pub width: u32,
    pub height: u32,
}

/// Footage held for one camera.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraUsage {
    pub camera: String,
    pub segments: u64,
    pub bytes: u64,
    pub oldest_start_ms: UnixMs,
    pub newest_end_ms: UnixMs,
    pub missing_segments: u64,
}

/// A row of the deletion log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletionRow {
    pub at_ms: UnixMs,
    /// `"retention"` or `"storage limit"`.
    pub reason: String,
    pub camera: Option<String>,
    pub segments: u64,
    pub bytes: u64,
    pub oldest_start_ms: Option<UnixMs>,
    pub newest_end_ms: Option<UnixMs>,
}

/// Where the footage catalogue lives: which segment holds which camera's minutes, what was
/// deleted and why. SQLite ([`SqliteCatalog`]) on a single node; the trait is the seam for a
/// shared database when several nodes record.
pub trait FootageCatalog: Send + Sync {
    fn insert(&self, s: &NewSegment) -> Result<i64, DbError>;
    /// Segments of `camera` overlapping `[from_ms, to_ms]`, oldest first.
    fn range(&self, camera: &str, from_ms: UnixMs, to_ms: UnixMs) -> Result<Vec<SegmentRow>, DbError>;
    fn all(&self) -> Result<Vec<SegmentRow>, DbError>;
    /// Segments that started before `cutoff_ms`, oldest first.
    fn started_before(&self, cutoff_ms: UnixMs) -> Result<Vec<SegmentRow>, DbError>;
    /// Oldest segments first, optionally for one camera.
    fn oldest(&self, camera: Option<&str>, limit: usize) -> Result<Vec<SegmentRow>, DbError>;
    fn by_path(&self, path: &str) -> Result<Option<SegmentRow>, DbError>;
    fn set_state(&self, id: i64, state: SegmentState) -> Result<(), DbError>;
    fn delete(&self, ids: &[i64]) -> Result<(), DbError>;
    fn usage(&self) -> Result<Vec<CameraUsage>, DbError>;
    fn record_deletion(&self, d: &DeletionRow) -> Result<(), DbError>;
    /// Most recent deletions first.
    fn deletions(&self, limit: usize) -> Result<Vec<DeletionRow>, DbError>;
    fn meta(&self, key: &str) -> Result<Option<String>, DbError>;
    fn set_meta(&self, key: &str, value: &str) -> Result<(), DbError>;
    /// Stores a checked hold as active; returns its id.
    fn insert_hold(&self, h: &NewHold, placed_by: &str, at: UnixMs) -> Result<i64, DbError>;
    /// Removes a hold whose placing could not be audited.
    fn delete_hold(&self, id: i64) -> Result<(), DbError>;
    /// Every hold, newest first, with its exports.
    fn holds(&self) -> Result<Vec<Hold>, DbError>;
    fn hold(&self, id: i64) -> Result<Option<Hold>, DbError>;
    /// Ends an active hold (released or expired); false when it was not active.
    fn end_hold(
        &self,
        id: i64,
        state: HoldState,
        at: UnixMs,
        by: Option<&str>,
        reason: Option<&str>,
    ) -> Result<bool, DbError>;
    fn add_hold_export(&self, hold: i64, e: &HoldExport) -> Result<(), DbError>;
}

/// The footage catalogue in SQLite (`<data>/archive.db`).
pub struct SqliteCatalog {
    conn: Mutex<Connection>,
    name: String,
}

const COLS: &str = "id, camera, start_ms, end_ms, frames, bytes, sha256, path, state, width, height";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SegmentRow> {
    Ok(SegmentRow {
        id: r.get(0)?,
        camera: r.get(1)?,
        start_ms: r.get(2)?,
        end_ms: r.get(3)?,
        frames: r.get::<_, i64>(4)? as u64,
        bytes: r.get::<_, i64>(5)? as u64,
        sha256: r.get(6)?,
        path: r.get(7)?,
        state: SegmentState::parse(&r.get::<_, String>(8)?),
        width: r.get(9)?,
        height: r.get(10)?,
    })
}

impl SqliteCatalog {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let name = path.display().to_string();
        // WAL: readers (search, status) never block the recorders. FULL: an indexed segment
        // survives a power cut once the insert returned.
        let options = vigie_sqlite::Options {
            synchronous: vigie_sqlite::Synchronous::Full,
            busy_timeout: std::time::Duration::from_secs(10),
            ..Default::default()
        };
        let mut conn = vigie_sqlite::open(path, &name, &options)?;
        migrate(&mut conn, &name, MIGRATIONS)?;
        Ok(Self { conn: Mutex::new(conn), name })
    }

    fn e(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        sql_err(&self.name)
    }
}

impl FootageCatalog for SqliteCatalog {
    fn insert(&self, s: &NewSegment) -> Result<i64, DbError> {
        let c = self.conn.lock();
        c.execute(
            "INSERT INTO segments (camera, start_ms, end_ms, frames, bytes, sha256, path, state, width, height)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ok', ?8, ?9)",
            params![
                s.camera,
                s.start_ms,
                s.end_ms,
                s.frames as i64,
                s.bytes as i64,
                s.sha256,
                s.path,
                s.width,
                s.height
            ],
        )
        .map_err(self.e())?;
        Ok(c.last_insert_rowid())
    }

    fn range(&self, camera: &str, from_ms: UnixMs, to_ms: UnixMs) -> Result<Vec<SegmentRow>, DbError> {
        let c = self.conn.lock();
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {COLS} FROM segments WHERE camera = ?1 AND start_ms <= ?3 AND end_ms >= ?2 ORDER BY start_ms"
            ))
            .map_err(self.e())?;
        let rows = st.query_map(params![camera, from_ms, to_ms], row).map_err(self.e())?;
        rows.collect::<Result<_, _>>().map_err(self.e())
    }

    fn all(&self) -> Result<Vec<SegmentRow>, DbError> {
        let c = self.conn.lock();
        let mut st = c.prepare(&format!("SELECT {COLS} FROM segments ORDER BY start_ms")).map_err(self.e())?;
        let rows = st.query_map([], row).map_err(self.e())?;
        rows.collect::<Result<_, _>>().map_err(self.e())
    }

    fn started_before(&self, cutoff_ms: UnixMs) -> Result<Vec<SegmentRow>, DbError> {
        let c = self.conn.lock();
        let mut st = c
            .prepare(&format!("SELECT {COLS} FROM segments WHERE start_ms < ?1 ORDER BY start_ms"))
            .map_err(self.e())?;
        let rows = st.query_map([cutoff_ms], row).map_err(self.e())?;
        rows.collect::<Result<_, _>>().map_err(self.e())
    }

    fn oldest(&self, camera: Option<&str>, limit: usize) -> Result<Vec<SegmentRow>, DbError> {
        let c = self.conn.lock();
        let rows = match camera {
            Some(cam) => {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {COLS} FROM segments WHERE camera = ?1 ORDER BY start_ms LIMIT ?2"
                    ))
                    .map_err(self.e())?;
                let r = st.query_map(params![cam, limit as i64], row).map_err(self.e())?;
                r.collect::<Result<Vec<_>, _>>()
            }
            None => {
                let mut st = c
                    .prepare_cached(&format!("SELECT {COLS} FROM segments ORDER BY start_ms LIMIT ?1"))
                    .map_err(self.e())?;
                let r = st.query_map(params![limit as i64], row).map_err(self.e())?;
                r.collect::<Result<Vec<_>, _>>()
            }
        };
        rows.map_err(self.e())
    }

    fn by_path(&self, path: &str) -> Result<Option<SegmentRow>, DbError> {
        let c = self.conn.lock();
        c.query_row(&format!("SELECT {COLS} FROM segments WHERE path = ?1"), [path], row).optional().map_err(self.e())
    }

    fn set_state(&self, id: i64, state: SegmentState) -> Result<(), DbError> {
        let c = self.conn.lock();
        c.execute("UPDATE segments SET state = ?2 WHERE id = ?1", params![id, state.as_str()]).map_err(self.e())?;
        Ok(())
    }

    fn delete(&self, ids: &[i64]) -> Result<(), DbError> {
        let mut c = self.conn.lock();
        let tx = c.transaction().map_err(self.e())?;
        {
            let mut st = tx.prepare_cached("DELETE FROM segments WHERE id = ?1").map_err(self.e())?;
            for id in ids {
                st.execute([id]).map_err(self.e())?;
            }
        }
        tx.commit().map_err(self.e())
    }

    fn usage(&self) -> Result<Vec<CameraUsage>, DbError> {
        let c = self.conn.lock();
        let mut st = c
            .prepare(
                "SELECT camera, count(*), coalesce(sum(bytes), 0), min(start_ms), max(end_ms),
                        sum(state = 'missing')
                 FROM segments GROUP BY camera ORDER BY camera",
            )
            .map_err(self.e())?;
        let rows = st
            .query_map([], |r| {
                Ok(CameraUsage {
                    camera: r.get(0)?,
                    segments: r.get::<_, i64>(1)? as u64,
                    bytes: r.get::<_, i64>(2)? as u64,
                    oldest_start_ms: r.get(3)?,
                    newest_end_ms: r.get(4)?,
                    missing_segments: r.get::<_, i64>(5)? as u64,
                })
            })
            .map_err(self.e())?;
        rows.collect::<Result<_, _>>().map_err(self.e())
    }

    fn record_deletion(&self, d: &DeletionRow) -> Result<(), DbError> {
        let c = self.conn.lock();
        c.execute(
            "INSERT INTO deletions (at_ms, reason, camera, segments, bytes, oldest_start_ms, newest_end_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![d.at_ms, d.reason, d.camera, d.segments as i64, d.bytes as i64, d.oldest_start_ms, d.newest_end_ms],
        )
        .map_err(self.e())?;
        Ok(())
    }

    fn deletions(&self, limit: usize) -> Result<Vec<DeletionRow>, DbError> {
        let c = self.conn.lock();
        let mut st = c
            .prepare(
                "SELECT at_ms, reason, camera, segments, bytes, oldest_start_ms, newest_end_ms
                 FROM deletions ORDER BY at_ms DESC, id DESC LIMIT ?1",
            )
            .map_err(self.e())?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(DeletionRow {
                    at_ms: r.get(0)?,
                    reason: r.get(1)?,
                    camera: r.get(2)?,
                    segments: r.get::<_, i64>(3)? as u64,
                    bytes: r.get::<_, i64>(4)? as u64,
                    oldest_start_ms: r.get(5)?,
                    newest_end_ms: r.get(6)?,
                })
            })
            .map_err(self.e())?;
        rows.collect::<Result<_, _>>().map_err(self.e())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        let c = self.conn.lock();
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(self.e())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), DbError> {
        let c = self.conn.lock();
        c.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
            [key, value],
        )
        .map_err(self.e())?;
        Ok(())
    }

    fn insert_hold(&self, h: &NewHold, placed_by: &str, at: UnixMs) -> Result<i64, DbError> {
        holds::insert(&self.conn.lock(), h, placed_by, at).map_err(self.e())
    }

    fn delete_hold(&self, id: i64) -> Result<(), DbError> {
        let c = self.conn.lock();
        c.execute("DELETE FROM holds WHERE id = ?1", [id]).map_err(self.e())?;
        Ok(())
    }

    fn holds(&self) -> Result<Vec<Hold>, DbError> {
        holds::all(&self.conn.lock()).map_err(self.e())
    }

    fn hold(&self, id: i64) -> Result<Option<Hold>, DbError> {
        holds::one(&self.conn.lock(), id).map_err(self.e())
    }

    fn end_hold(
        &self,
        id: i64,
        state: HoldState,
        at: UnixMs,
        by: Option<&str>,
        reason: Option<&str>,
    ) -> Result<bool, DbError> {
        holds::end(&self.conn.lock(), id, state, at, by, reason).map_err(self.e())
    }

    fn add_hold_export(&self, hold: i64, e: &HoldExport) -> Result<(), DbError> {
        holds::add_export(&self.conn.lock(), hold, e).map_err(self.e())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::user_version;

    #[test]
    fn a_version_1_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("archive.db");
        {
            let mut c = Connection::open(&path).unwrap();
            migrate(&mut c, "old", &MIGRATIONS[..1]).unwrap();
            assert_eq!(user_version(&c).unwrap(), 1);
            c.execute(
                "INSERT INTO segments (camera, start_ms, end_ms, frames, bytes, sha256, path)
                 VALUES ('cam', 1000, 61000, 1500, 12345, 'ab', 'cam/1970-01-01/1000.mp4')",
                [],
            )
            .unwrap();
        }
        let cat = SqliteCatalog::open(&path).unwrap();
        assert_eq!(user_version(&cat.conn.lock()).unwrap(), MIGRATIONS.len() as u32);
        let rows = cat.all().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, SegmentState::Ok, "existing rows get the default state");
        assert_eq!((rows[0].start_ms, rows[0].bytes), (UnixMs(1000), 12345));
        cat.set_meta("retention_days", "7").unwrap();
        cat.record_deletion(&DeletionRow {
            at_ms: UnixMs(5),
            reason: "retention".into(),
            camera: None,
            segments: 1,
            bytes: 2,
            oldest_start_ms: None,
            newest_end_ms: None,
        })
        .unwrap();
        drop(cat);
        // Reopening applies nothing more and keeps the data.
        let cat = SqliteCatalog::open(&path).unwrap();
        assert_eq!(cat.meta("retention_days").unwrap().as_deref(), Some("7"));
        assert_eq!(cat.deletions(10).unwrap().len(), 1);
    }

    /// Moonfire NVR's `upgrade_and_compare`: an `archive.db` filled at schema 1 and upgraded has
    /// exactly the schema of a fresh one, and its segments survive with the new columns filled.
    #[test]
    fn an_upgraded_database_equals_a_fresh_one() {
        let mut old = Connection::open_in_memory().unwrap();
        migrate(&mut old, "old", &MIGRATIONS[..1]).unwrap();
        old.execute_batch(
            "INSERT INTO segments (camera, start_ms, end_ms, frames, bytes, sha256, path) VALUES
                ('cam', 1000, 61000, 1500, 12345, 'ab', 'cam/1970-01-01/1000.mp4'),
                ('cam', 61000, 121000, 1500, 23456, 'cd', 'cam/1970-01-01/61000.mp4'),
                ('door', 5000, 65000, 750, 999, 'ef', 'door/1970-01-01/5000.mp4');",
        )
        .unwrap();
        let m = migrate(&mut old, "old", MIGRATIONS).unwrap();
        assert_eq!((m.from, m.to), (1, MIGRATIONS.len() as u32));
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh, "fresh", MIGRATIONS).unwrap();
        let schema = vigie_sqlite::schema_of(&fresh).unwrap();
        assert!(schema.contains("index segments_start") && schema.contains("table deletions"), "{schema}");
        assert!(schema.contains("table holds") && schema.contains("table hold_exports"), "{schema}");
        assert_eq!(vigie_sqlite::schema_of(&old).unwrap(), schema);

        let mut st = old.prepare(&format!("SELECT {COLS} FROM segments ORDER BY id")).unwrap();
        let rows = st.query_map([], row).unwrap().collect::<rusqlite::Result<Vec<_>>>().unwrap();
        let summary: Vec<_> =
            rows.iter().map(|r| (r.camera.as_str(), r.start_ms.0, r.bytes, r.state, r.width, r.height)).collect();
        assert_eq!(
            summary,
            [
                ("cam", 1000, 12345, SegmentState::Ok, 0, 0),
                ("cam", 61000, 23456, SegmentState::Ok, 0, 0),
                ("door", 5000, 999, SegmentState::Ok, 0, 0),
            ]
        );
    }

    #[test]
    fn a_database_from_a_newer_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("archive.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let e = SqliteCatalog::open(&path).err().unwrap().to_string();
        assert!(e.contains("99") && e.contains("newer"), "{e}");
    }
}
