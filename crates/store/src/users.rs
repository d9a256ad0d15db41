//! Accounts, roles and login sessions.

use crate::{random_hex, Db, Result, Store, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use std::time::Duration;
use vigie_core::UnixMs;

/// Shorter passwords are refused everywhere (CLI, API).
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted, in characters (as the API's `maxLength` counts them).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// What a user may do is decided by the server from the role alone (see vigie-server's route table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Alerts (read and act) and the live wall.
    Operator,
    /// Operator's rights plus unmasking, reports and exports.
    Supervisor,
    /// Cameras, zones, rules and users.
    Admin,
    /// Audit trail and reports, read-only, never any image.
    Auditor,
    /// Anonymous statistics (counts per zone and class) and nothing else: no alert, no image.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Operator, Role::Supervisor, Role::Admin, Role::Auditor, Role::Analyst];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s).ok_or_else(|| {
            StoreError::Invalid(format!("unknown role '{s}': expected operator, supervisor, admin, auditor or analyst"))
        })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at_ms: UnixMs,
    /// The password was set by someone else (first start, administrator): the user must set
    /// their own before anything else.
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The cookie value. Only its SHA-256 is stored, so a copy of the database opens no session.
    #[serde(skip)]
    pub token: String,
    pub csrf_token: String,
    pub user: User,
    pub expires_at_ms: UnixMs,
}

#[derive(Debug, Clone)]
pub enum SessionLookup {
    Valid(Session),
    Expired,
    Unknown,
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Ok(User),
    /// `reason` is for the audit trail only; the user is told "wrong username or password".
    Failed {
        reason: &'static str,
    },
}

pub fn validate_username(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else if name.len() > 64 {
        // Not echoed: a refused name may be tens of kilobytes.
        Err(StoreError::Invalid(format!(
            "invalid user name ({} bytes): use 1 to 64 letters, digits, '.', '_' or '-'",
            name.len()
        )))
    } else {
        Err(StoreError::Invalid(format!("invalid user name '{name}': use 1 to 64 letters, digits, '.', '_' or '-'")))
    }
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid(format!("password too short: at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!("password too long: at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Internal(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Verifying against this when the user does not exist keeps the answer time the same, so
/// response times do not reveal which accounts exist.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("vigie-timing-equaliser").unwrap_or_default())
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const USER_COLS: &str = "id, username, role, disabled, created_at_ms, must_change_password";

fn row_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    row_user_at(r, 0)
}

/// A user from six columns starting at `at`, in [`USER_COLS`] order.
fn row_user_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<User> {
    let role: String = r.get(at + 2)?;
    Ok(User {
        id: r.get(at)?,
        username: r.get(at + 1)?,
        role: Role::parse(&role).unwrap_or(Role::Auditor),
        disabled: r.get::<_, i64>(at + 3)? != 0,
        created_at_ms: r.get(at + 4)?,
        must_change_password: r.get::<_, i64>(at + 5)? != 0,
    })
}

/// Where `vigie run` leaves the generated first password, owner-only, in the data directory.
/// Removed once that password is changed: it then opens nothing, and should not linger.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password.txt";

impl Store {
    /// Creates an account. Hashing (Argon2id, ~tens of ms) happens before taking the lock.
    pub fn add_user(&self, username: &str, password: &str, role: Role) -> Result<User> {
        validate_username(username)?;
        validate_password(password)?;
        let hash = hash_password(password)?;
        let now = self.now_ms();
        let conn = self.conn.lock();
        let exists: bool = conn
            .query_row("SELECT 1 FROM users WHERE username = ?1", [username], |_| Ok(true))
            .optional()
            .db()?
            .is_some();
        if exists {
            return Err(StoreError::Conflict(format!("user '{username}' already exists")));
        }
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![username, hash, role.as_str(), now],
        )
        .db()?;
        let id = conn.last_insert_rowid();
        Ok(User {
            id,
            username: username.into(),
            role,
            disabled: false,
            created_at_ms: now,
            must_change_password: false,
        })
    }

    /// Marks a user's password as temporary (chosen by someone else) or not.
    pub fn set_must_change_password(&self, username: &str, must: bool) -> Result<()> {
        let n = self
            .conn
            .lock()
            .execute("UPDATE users SET must_change_password = ?1 WHERE username = ?2", params![must as i64, username])
            .db()?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no user '{username}'")));
        }
        Ok(())
    }

    /// Changes a password and closes the user's open sessions. `temporary`: someone else chose
    /// it, so the user must set their own at their next login.
    pub fn set_password(&self, username: &str, password: &str) -> Result<()> {
        self.replace_password(username, password, false, None)
    }

    /// As [`Store::set_password`], marking the new password temporary or not.
    pub fn set_password_as(&self, username: &str, password: &str, temporary: bool) -> Result<()> {
        self.replace_password(username, password, temporary, None)
    }

    /// A user setting their own password: the old one must match and the new one differ. Their
    /// other sessions close; `keep_session` (the token of the session asking) stays open.
    pub fn change_own_password(&self, username: &str, old: &str, new: &str, keep_session: &str) -> Result<()> {
        let hash: Option<String> = self
            .conn
            .lock()
            .query_row("SELECT password_hash FROM users WHERE username = ?1", [username], |r| r.get(0))
            .optional()
            .db()?;
        let hash = hash.ok_or_else(|| StoreError::NotFound(format!("no user '{username}'")))?;
        if !verify_password(old, &hash) {
            return Err(StoreError::Invalid("old_password: does not match your current password".into()));
        }
        if old == new {
            return Err(StoreError::Invalid("new_password: must differ from the current password".into()));
        }
        validate_password(new).map_err(|e| StoreError::Invalid(format!("new_password: {e}")))?;
        self.replace_password(username, new, false, Some(keep_session))
    }

    fn replace_password(&self, username: &str, password: &str, temporary: bool, keep: Option<&str>) -> Result<()> {
        validate_password(password)?;
        let hash = hash_password(password)?;
        let old_hash: Option<String> = self
            .conn
            .lock()
            .query_row("SELECT password_hash FROM users WHERE username = ?1", [username], |r| r.get(0))
            .optional()
            .db()?;
        let Some(old_hash) = old_hash else {
            return Err(StoreError::NotFound(format!("no user '{username}'")));
        };
        {
            let conn = self.conn.lock();
            conn.execute(
                "UPDATE users SET password_hash = ?1, must_change_password = ?2 WHERE username = ?3",
                params![hash, temporary as i64, username],
            )
            .db()?;
            conn.execute(
                "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1) \
                 AND token_hash IS NOT ?2",
                params![username, keep.map(token_hash)],
            )
            .db()?;
        }
        self.forget_initial_password(&old_hash);
        Ok(())
    }

    /// Removes the generated first password's file once the account it opened has another
    /// password (it is recognised by checking it against the replaced hash).
    fn forget_initial_password(&self, replaced_hash: &str) {
        let file = self.dir.join(INITIAL_PASSWORD_FILE);
        let Ok(text) = std::fs::read_to_string(&file) else { return };
        if verify_password(text.trim(), replaced_hash) {
            match std::fs::remove_file(&file) {
                Ok(()) => tracing::info!(file = %file.display(), "initial password changed: its file is removed"),
                Err(e) => tracing::warn!(file = %file.display(), "cannot remove the initial password file: {e}"),
            }
        }
    }

    /// Disables an account (kept for the audit trail's sake) and closes its sessions.
    pub fn disable_user(&self, username: &str) -> Result<()> {
        let conn = self.conn.lock();
        let n = conn.execute("UPDATE users SET disabled = 1 WHERE username = ?1", [username]).db()?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no user '{username}'")));
        }
        conn.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)", [username])
            .db()?;
        Ok(())
    }

    pub fn user(&self, username: &str) -> Result<User> {
        let conn = self.conn.lock();
        conn.query_row(&format!("SELECT {USER_COLS} FROM users WHERE username = ?1"), [username], row_user)
            .optional()
            .db()?
            .ok_or_else(|| StoreError::NotFound(format!("no user '{username}'")))
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn.lock();
        let mut st = conn.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY username")).db()?;
        let rows = st.query_map([], row_user).db()?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db()
    }

    pub fn user_count(&self) -> Result<u64> {
        self.conn.lock().query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0)).db().map(|n| n as u64)
    }

    /// Checks a password. Unknown, disabled and wrong all cost one Argon2 verification.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<LoginOutcome> {
        let found: Option<(User, String)> = {
            let conn = self.conn.lock();
            conn.query_row(
                &format!("SELECT {USER_COLS}, password_hash FROM users WHERE username = ?1"),
                [username],
                |r| Ok((row_user(r)?, r.get(6)?)),
            )
            .optional()
            .db()?
        };
        Ok(match found {
            None => {
                verify_password(password, dummy_hash());
                LoginOutcome::Failed { reason: "unknown user" }
            }
            Some((user, hash)) => {
                let ok = verify_password(password, &hash);
                if user.disabled {
                    LoginOutcome::Failed { reason: "account disabled" }
                } else if !ok {
                    LoginOutcome::Failed { reason: "wrong password" }
                } else {
                    LoginOutcome::Ok(user)
                }
            }
        })
    }

    /// Opens a session lasting `ttl` from now (absolute, not sliding: a shift ends, so does its session).
    pub fn create_session(&self, user: &User, ttl: Duration) -> Result<Session> {
        let token = random_hex(32);
        let csrf = random_hex(32);
        let now = self.now_ms();
        let expires = now.saturating_add(ttl);
        let conn = self.conn.lock();
        // Expired sessions are pruned on the way; nothing reads them after expiry.
        conn.execute(
            "DELETE FROM sessions WHERE expires_at_ms < ?1",
            [now.saturating_sub(Duration::from_secs(86_400))],
        )
        .db()?;
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash(&token), user.id, csrf, now, expires],
        )
        .db()?;
        Ok(Session { token, csrf_token: csrf, user: user.clone(), expires_at_ms: expires })
    }

    pub fn session(&self, token: &str) -> Result<SessionLookup> {
        let now = self.now_ms();
        let conn = self.conn.lock();
        let row = conn
            .query_row(
                &format!(
                    "SELECT s.csrf_token, s.expires_at_ms, {} FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = ?1",
                    USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
                ),
                [token_hash(token)],
                |r| {
                    let csrf: String = r.get(0)?;
                    let exp: UnixMs = r.get(1)?;
                    Ok((csrf, exp, row_user_at(r, 2)?))
                },
            )
            .optional()
            .db()?;
        Ok(match row {
            None => SessionLookup::Unknown,
            Some((_, _, user)) if user.disabled => SessionLookup::Unknown,
            Some((_, exp, _)) if exp <= now => SessionLookup::Expired,
            Some((csrf, exp, user)) => {
                SessionLookup::Valid(Session { token: token.to_string(), csrf_token: csrf, user, expires_at_ms: exp })
            }
        })
    }

    pub fn delete_session(&self, token: &str) -> Result<()> {
        self.conn.lock().execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash(token)]).db()?;
        Ok(())
    }

    /// For a first start with no account: creates `username` as admin with a random password and
    /// returns it (to be shown once). `None` when any user exists already. The password is
    /// temporary: the first login must replace it.
    pub fn bootstrap_admin(&self, username: &str) -> Result<Option<String>> {
        if self.user_count()? > 0 {
            return Ok(None);
        }
        let password = random_hex(12);
        self.add_user(username, &password, Role::Admin)?;
        self.set_must_change_password(username, true)?;
        self.record(
            "system",
            vigie_core::AuditAction::UserAdd,
            username,
            &serde_json::json!({"role": "admin", "bootstrap": true}),
        )?;
        Ok(Some(password))
    }
}
