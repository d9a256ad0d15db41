//! Catalogue: users, sessions, alerts and their decisions, hash-chained audit trail (SQLite).
//!
//! Everything lives in `<data>/vigie.db` (schema versioned with `PRAGMA user_version`, see
//! [`migrate`]) plus evidence files: `<data>/snapshots/<alert>.jpg` (blurred, what operators see)
//! and `<data>/evidence-clear/<alert>.jpg` (unblurred, owner-only permissions, served only under
//! an unmask grant). The rest of Vigie uses it through [`AlertStore`], [`AuditTrail`] and
//! [`Accounts`], which no rusqlite or file-system type crosses, so a PostgreSQL catalogue can
//! replace it behind the same traits.

pub mod alerts;
pub mod audit;
pub mod calibration;
pub mod checkpoint;
pub mod masks;
mod migrate;
pub mod probe;
pub mod report;
pub mod text;
pub mod traits;
pub mod users;

pub use alerts::{
    Alert, AlertAction, AlertQuery, AlertState, Decision, DismissReason, HoldChange, IngestOutcome, UnmaskGrant,
};
pub use audit::{AuditBreak, AuditEntry, AuditQuery, AuditSummary};
pub use calibration::{CalibrationFigures, Review, Verdict};
pub use checkpoint::{Checkpoint, CheckpointError, NodeKey};
pub use masks::{MaskSet, MaskSource, PrivacyMask};
pub use migrate::latest as latest_schema_version;
pub use probe::{AlertCount, CatalogueFigures, DbProbe};
pub use report::{CameraMasks, MaskSummary, PictureSize, ReportRow, TransparencyReport};
pub use text::{FreeText, MAX_FREE_TEXT_CHARS};
pub use traits::{Accounts, AlertStore, AuditTrail, MaskVersions};
pub use users::{
    LoginOutcome, Role, Session, SessionLookup, User, INITIAL_PASSWORD_FILE, MAX_PASSWORD_CHARS, MIN_PASSWORD_LEN,
};

use parking_lot::Mutex;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vigie_core::{Clock, UnixMs};

/// What can go wrong, sorted by what the caller should tell the user (the server maps these to
/// 404 / 409 / 400 / 500).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the current state forbids it (state machine, duplicate name).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("catalogue error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Keeps rusqlite's error type out of the public API.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::Internal(e.to_string()))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}

/// The catalogue. One connection behind a mutex: every statement is short (indexed lookups and
/// single-row writes), and serialising writers is what keeps the audit chain linear.
pub struct Store {
    conn: Mutex<Connection>,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

pub const DB_FILE: &str = "vigie.db";
pub const SNAPSHOT_DIR: &str = "snapshots";
pub const CLEAR_DIR: &str = "evidence-clear";

impl Store {
    /// Opens (creating if needed) the catalogue in `dir` and brings its schema up to date.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Internal(format!("cannot create data directory {}: {e}", dir.display())))?;
        let conn = migrate::open(&dir.join(DB_FILE))?;
        Ok(Store { conn: Mutex::new(conn), dir: dir.to_path_buf(), clock })
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn now_ms(&self) -> UnixMs {
        self.clock.now_ms()
    }

    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        self.conn.lock().pragma_query_value(None, "user_version", |r| r.get(0)).db()
    }
}

/// Makes the data directory owner-only: creates it 0700 if missing, and tightens it and
/// everything under it (0700 folders, 0600 files) where group or others had any access.
/// Footage, unmasked exports and the catalogue (password hashes, session CSRF tokens) are for
/// the service account alone. Returns the paths it had to fix, for the caller to warn about;
/// fails naming the path it could not fix (not its owner, read-only mount...).
#[cfg(unix)]
pub fn secure_data_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let named = |p: &Path, what: &str, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot {what} {} owner-only: {e}", p.display()))
    };
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| named(dir, "create", e))?;
    }
    let mut fixed = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = std::fs::symlink_metadata(&p).map_err(|e| named(&p, "check", e))?;
        if md.file_type().is_symlink() {
            continue;
        }
        let mode = md.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            let want = if md.is_dir() { (mode & 0o700) | 0o700 } else { mode & 0o700 };
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(want)).map_err(|e| named(&p, "make", e))?;
            fixed.push(p.clone());
        }
        if md.is_dir() {
            for entry in std::fs::read_dir(&p).map_err(|e| named(&p, "check", e))? {
                stack.push(entry.map_err(|e| named(&p, "check", e))?.path());
            }
        }
    }
    Ok(fixed)
}

#[cfg(not(unix))]
pub fn secure_data_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    Ok(Vec::new())
}

/// One warning line per fixed path worth naming (the folder itself, the catalogue), and a count
/// for the rest, so a data folder of thousands of segments does not flood the log.
pub fn describe_fixed_permissions(dir: &Path, fixed: &[PathBuf]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut others = 0;
    for p in fixed {
        if p == dir || p.file_name().is_some_and(|n| n == DB_FILE) {
            lines.push(format!("{} was readable by other accounts: made owner-only", p.display()));
        } else {
            others += 1;
        }
    }
    if others > 0 {
        lines.push(format!(
            "{others} more path(s) under {} were readable by other accounts: made owner-only",
            dir.display()
        ));
    }
    lines
}

/// Random bytes as lowercase hex, for session tokens, CSRF tokens and generated passwords.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

/// Writes through a temporary file so a reader never sees half an image.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut f = opts.open(&tmp)?;
        if let Err(e) = f.write_all(bytes) {
            // A full disk must not leave half a picture behind.
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
