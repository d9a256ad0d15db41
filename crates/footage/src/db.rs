//! Numbered schema migrations shared by `archive.db` and `tracks.db`.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Each migration runs in its own
//! transaction together with the version bump, so an interrupted upgrade leaves the previous
//! version intact and is simply retried at the next start.

use rusqlite::Connection;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{db}: {source}")]
    Sql { db: String, source: rusqlite::Error },
    #[error("{db} has schema version {found}, newer than this program knows ({known}); upgrade Vigie")]
    TooNew { db: String, found: u32, known: u32 },
}

pub(crate) fn sql_err(db: &str) -> impl Fn(rusqlite::Error) -> DbError + '_ {
    move |source| DbError::Sql { db: db.to_string(), source }
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies `migrations[v..]` where `v` is the current version. Returns the number applied.
pub(crate) fn migrate(conn: &mut Connection, db: &str, migrations: &[&str]) -> Result<usize, DbError> {
    let found = user_version(conn).map_err(sql_err(db))?;
    if found as usize > migrations.len() {
        return Err(DbError::TooNew { db: db.to_string(), found, known: migrations.len() as u32 });
    }
    let mut applied = 0;
    for (i, sql) in migrations.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(sql_err(db))?;
        tx.execute_batch(sql).map_err(sql_err(db))?;
        tx.pragma_update(None, "user_version", (i + 1) as u32).map_err(sql_err(db))?;
        tx.commit().map_err(sql_err(db))?;
        applied += 1;
    }
    Ok(applied)
}
