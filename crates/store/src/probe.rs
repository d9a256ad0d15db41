//! Health probes of the catalogue for `/readyz` and `/metrics`, on connections of their own: the
//! [`Store`](crate::Store)'s single connection may be held by a writer waiting out a lock for
//! seconds, and a probe must neither wait behind it nor make the pipeline wait behind a probe.

use crate::{AlertState, Result, StoreError, DB_FILE};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Alerts of one type in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCount {
    pub event_type: String,
    pub state: AlertState,
    pub count: u64,
}

/// What `/metrics` reads from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueFigures {
    pub alerts: Vec<AlertCount>,
    /// Entries in the hash-chained audit trail.
    pub audit_entries: u64,
}

/// Opens a short-lived connection per probe (cheap next to the probe itself), so a probe stuck
/// on a lock never holds anything another caller needs.
#[derive(Debug, Clone)]
pub struct DbProbe {
    path: PathBuf,
    /// How long a probe waits for another connection's lock before reporting it.
    pub timeout: Duration,
}

impl DbProbe {
    /// The catalogue in the data folder `dir` (created by [`crate::Store::open`]).
    pub fn new(dir: &Path, timeout: Duration) -> DbProbe {
        DbProbe { path: dir.join(DB_FILE), timeout }
    }

    fn connect(&self, flags: OpenFlags) -> Result<Connection> {
        let err = |e: rusqlite::Error| StoreError::Internal(format!("{DB_FILE}: {e}"));
        // No CREATE: a probe must not make an empty database where the catalogue went missing.
        let conn = Connection::open_with_flags(&self.path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(err)?;
        conn.busy_timeout(self.timeout).map_err(err)?;
        Ok(conn)
    }

    /// Whether a write could start now: takes the database's write lock (`BEGIN IMMEDIATE`)
    /// within [`DbProbe::timeout`] and rolls back, writing nothing. Fails naming the cause
    /// (`database is locked`, read-only file, missing file).
    pub fn check_writable(&self) -> Result<()> {
        let conn = self.connect(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let err = |e: rusqlite::Error| StoreError::Internal(format!("{DB_FILE}: {e}"));
        conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        conn.execute_batch("ROLLBACK").map_err(err)
    }

    /// Alerts by type and state, and the audit trail's length.
    pub fn figures(&self) -> Result<CatalogueFigures> {
        let conn = self.connect(OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let err = |e: rusqlite::Error| StoreError::Internal(format!("{DB_FILE}: {e}"));
        let mut st = conn
            .prepare("SELECT event_type, state, COUNT(*) FROM alerts GROUP BY event_type, state ORDER BY 1, 2")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
            .map_err(err)?;
        let mut alerts = Vec::new();
        for row in rows {
            let (event_type, state, n) = row.map_err(err)?;
            alerts.push(AlertCount { event_type, state: AlertState::parse(&state)?, count: n.max(0) as u64 });
        }
        // The head row holds the last sequence number: no scan of the trail.
        let audit_entries: i64 = conn
            .query_row("SELECT COALESCE((SELECT last_seq FROM audit_head WHERE id = 1), 0)", [], |r| r.get(0))
            .map_err(err)?;
        Ok(CatalogueFigures { alerts, audit_entries: audit_entries.max(0) as u64 })
    }
}
