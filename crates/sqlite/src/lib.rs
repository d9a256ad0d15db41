//! SQLite shared by every Vigie database (`vigie.db`, `archive.db`, `tracks.db`): opening a
//! connection with the house pragmas, and one runner for numbered schema migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Each migration runs in its own
//! transaction together with the version bump, so an interrupted upgrade leaves the previous
//! version intact and is simply retried at the next start. Never edit a released migration:
//! add the next one, and extend that database's upgrade test (an upgraded database must equal
//! a fresh one, see [`schema_of`]).

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// One schema migration: SQL run in a single transaction. In a list, index `i` holds migration
/// number `i + 1`.
pub type Migration = &'static str;

/// What can go wrong opening or upgrading a database. Every variant names the database, so a
/// node with three of them says which one failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{db}: {source}")]
    Sql { db: String, source: rusqlite::Error },
    /// The database is left at `version - 1`.
    #[error("{db}: schema migration {version} failed: {source}")]
    Migration { db: String, version: u32, source: rusqlite::Error },
    /// Written by a newer Vigie: refusing is safer than running on a schema we do not know.
    #[error("{db} has schema version {found}, newer than this program knows ({known}); upgrade Vigie")]
    TooNew { db: String, found: u32, known: u32 },
}

/// Wraps a rusqlite error with the database's name (for `map_err`).
pub fn sql_err(db: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sql { db: db.to_string(), source }
}

/// How much durability a commit buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// In WAL mode a commit survives a process crash; the last ones may be lost on power loss.
    Normal,
    /// A commit survives a power cut once it returned.
    Full,
}

impl Synchronous {
    fn as_sql(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Connection settings. Every Vigie database runs in WAL mode, so readers (search, the
/// console) never block the writers (pipeline, recorders); the rest differs per database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub synchronous: Synchronous,
    pub foreign_keys: bool,
    /// How long a statement waits for another connection's lock before failing.
    pub busy_timeout: Duration,
    /// Page cache size in KiB; `None` keeps SQLite's default (2 MiB).
    pub cache_kib: Option<u32>,
    /// Sorts and temporary indexes in memory rather than in temporary files.
    pub temp_store_memory: bool,
}

impl Default for Options {
    /// NORMAL sync, foreign keys enforced, 5 s busy timeout, default cache.
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Normal,
            foreign_keys: true,
            busy_timeout: Duration::from_secs(5),
            cache_kib: None,
            temp_store_memory: false,
        }
    }
}

/// Opens (creating if needed) the database at `path` with `options`; `db` names it in errors.
pub fn open(path: &Path, db: &str, options: &Options) -> Result<Connection, Error> {
    let conn = Connection::open(path).map_err(sql_err(db))?;
    let mut pragmas = format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys={};",
        options.synchronous.as_sql(),
        if options.foreign_keys { "ON" } else { "OFF" }
    );
    if let Some(kib) = options.cache_kib {
        // A negative cache_size is in KiB rather than pages.
        pragmas.push_str(&format!(" PRAGMA cache_size=-{kib};"));
    }
    if options.temp_store_memory {
        pragmas.push_str(" PRAGMA temp_store=MEMORY;");
    }
    conn.execute_batch(&pragmas).map_err(sql_err(db))?;
    conn.busy_timeout(options.busy_timeout).map_err(sql_err(db))?;
    Ok(conn)
}

/// The number of migrations applied to the database.
pub fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Schema versions before and after [`migrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: u32,
    pub to: u32,
}

impl Migrated {
    pub fn applied(&self) -> u32 {
        self.to - self.from
    }
}

/// Applies the `migrations` after the database's current version, in order, each in its own
/// transaction with its version bump. `db` names the database in errors. Passing a prefix of
/// the list builds an old database (the upgrade tests do).
pub fn migrate(conn: &mut Connection, db: &str, migrations: &[&str]) -> Result<Migrated, Error> {
    let known = migrations.len() as u32;
    let from = user_version(conn).map_err(sql_err(db))?;
    if from > known {
        return Err(Error::TooNew { db: db.to_string(), found: from, known });
    }
    for version in from + 1..=known {
        let failed = |source| Error::Migration { db: db.to_string(), version, source };
        let tx = conn.transaction().map_err(sql_err(db))?;
        tx.execute_batch(migrations[version as usize - 1]).map_err(failed)?;
        tx.pragma_update(None, "user_version", version).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(Migrated { from, to: known })
}

/// The database's schema as comparable text: every table, index, view and trigger with its SQL
/// (whitespace collapsed), and each table's columns as SQLite resolved them (name, type, not
/// null, default, primary key position). Two databases with equal `schema_of` accept the same
/// statements the same way; the upgrade tests compare an upgraded database with a fresh one.
pub fn schema_of(conn: &Connection) -> rusqlite::Result<String> {
    let mut out = String::new();
    let mut st = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let objects = st
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (kind, name, table, sql) in objects {
        let sql = sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        out.push_str(&format!("{kind} {name} on {table}: {sql}\n"));
        if kind == "table" {
            let mut cols = conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")?;
            let rows = cols.query_map([&name], |r| {
                Ok(format!(
                    "  column {} {} notnull={} default={} pk={}\n",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?.unwrap_or_else(|| "-".into()),
                    r.get::<_, i64>(4)?
                ))
            })?;
            for row in rows {
                out.push_str(&row?);
            }
        }
    }
    Ok(out)
}
