//! Command-line pieces for the `vigie` binary: `init`, `user add|passwd|disable`,
//! `audit verify|checkpoint|public-key`.
//! Passwords are read as one line from standard input so that they never appear in a process
//! list or shell history.

use crate::{Checkpoint, NodeKey, Role, Store, StoreError, DB_FILE};
use anyhow::{bail, Context};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vigie_core::{AuditAction, SystemClock};

/// Actor recorded in the audit trail for changes made from the command line.
pub const CLI_ACTOR: &str = "cli";

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Data directory (created if missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Name of the first administrator; the password is read from standard input.
    #[arg(long, default_value = "admin")]
    pub admin: String,
}

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        data: PathBuf,
        /// operator, supervisor, admin or auditor.
        #[arg(long)]
        role: String,
        /// The user must replace this password at their first login (you chose it for them).
        #[arg(long)]
        temporary: bool,
        name: String,
    },
    /// Set a user's password (read from standard input) and close their sessions.
    Passwd {
        #[arg(long)]
        data: PathBuf,
        /// The user must replace this password at their next login (you chose it for them).
        #[arg(long)]
        temporary: bool,
        name: String,
    },
    /// Disable a user and close their sessions (the account stays, for the audit trail).
    Disable {
        #[arg(long)]
        data: PathBuf,
        name: String,
    },
}

impl UserCommand {
    pub fn data(&self) -> &Path {
        match self {
            UserCommand::Add { data, .. } | UserCommand::Passwd { data, .. } | UserCommand::Disable { data, .. } => {
                data
            }
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first bad entry. With `--checkpoint`, also
    /// checks each checkpoint's signature and that the trail still holds its entry and hash.
    Verify {
        #[arg(long)]
        data: PathBuf,
        /// Signed checkpoint file(s) kept by the auditor (`vigie audit checkpoint`).
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// The node's public key (hex, or a file holding it) as the auditor recorded it; defaults
        /// to `DATA/audit-signing.pub`.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign the trail's head now: writes `DATA/checkpoints/…` and, with `--out`, a copy to keep.
    Checkpoint {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the node's public key (hex), which checks its checkpoints.
    PublicKey {
        #[arg(long)]
        data: PathBuf,
    },
}

fn open(data: &Path, must_exist: bool) -> anyhow::Result<Store> {
    if must_exist && !data.join(DB_FILE).exists() {
        bail!(
            "no Vigie catalogue in {} (expected {DB_FILE}); run `vigie init --data {}` first",
            data.display(),
            data.display()
        );
    }
    Store::open(data, Arc::new(SystemClock::default()))
        .with_context(|| format!("opening catalogue in {}", data.display()))
}

fn read_password(input: &mut dyn BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password on standard input: pipe it in, e.g. `printf '%s\\n' \"$PW\" | vigie user add ...`");
    }
    crate::users::validate_password(&pw)?;
    Ok(pw)
}

fn store_err(e: StoreError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

pub fn run_init(args: InitArgs) -> anyhow::Result<()> {
    run_init_with(args, &mut std::io::stdin().lock(), &mut std::io::stdout())
}

pub fn run_init_with(args: InitArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<()> {
    crate::users::validate_username(&args.admin).map_err(store_err)?;
    let store = open(&args.data, false)?;
    let n = store.user_count().map_err(store_err)?;
    if n > 0 {
        bail!("{} is already initialised ({n} users); use `vigie user add` for more", args.data.display());
    }
    let pw = read_password(input)?;
    store.add_user(&args.admin, &pw, Role::Admin).map_err(store_err)?;
    store
        .record(CLI_ACTOR, AuditAction::UserAdd, &args.admin, &serde_json::json!({"role": "admin", "init": true}))
        .map_err(store_err)?;
    writeln!(out, "initialised {} with administrator '{}'", args.data.display(), args.admin)?;
    Ok(())
}

pub fn run_user(args: UserArgs) -> anyhow::Result<()> {
    run_user_with(args, &mut std::io::stdin().lock(), &mut std::io::stdout())
}

pub fn run_user_with(args: UserArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add { data, role, temporary, name } => {
            let role = Role::parse(&role).map_err(store_err)?;
            crate::users::validate_username(&name).map_err(store_err)?;
            let store = open(&data, false)?;
            let pw = read_password(input)?;
            store.add_user(&name, &pw, role).map_err(store_err)?;
            if temporary {
                store.set_must_change_password(&name, true).map_err(store_err)?;
            }
            let details = serde_json::json!({"role": role, "temporary": temporary});
            store.record(CLI_ACTOR, AuditAction::UserAdd, &name, &details).map_err(store_err)?;
            writeln!(out, "user '{name}' added with role {role}")?;
        }
        UserCommand::Passwd { data, temporary, name } => {
            let store = open(&data, true)?;
            store.user(&name).map_err(store_err)?;
            let pw = read_password(input)?;
            store.set_password_as(&name, &pw, temporary).map_err(store_err)?;
            let details = serde_json::json!({"temporary": temporary});
            store.record(CLI_ACTOR, AuditAction::UserPasswd, &name, &details).map_err(store_err)?;
            writeln!(out, "password of '{name}' changed; their sessions are closed")?;
        }
        UserCommand::Disable { data, name } => {
            let store = open(&data, true)?;
            store.disable_user(&name).map_err(store_err)?;
            store.record(CLI_ACTOR, AuditAction::UserDisable, &name, &serde_json::json!({})).map_err(store_err)?;
            writeln!(out, "user '{name}' disabled; their sessions are closed")?;
        }
    }
    Ok(())
}

impl AuditCommand {
    /// The data directory the command works on, when it names one.
    pub fn data(&self) -> Option<&Path> {
        match self {
            AuditCommand::Verify { data, .. } => Some(data.as_path()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

pub fn run_audit(args: AuditArgs) -> anyhow::Result<()> {
    run_audit_with(args, &mut std::io::stdout())
}

pub fn run_audit_with(args: AuditArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { data, checkpoint, public_key } => {
            let store = open(&data, true)?;
            if checkpoint.is_empty() {
                return match store.verify_audit().map_err(store_err)? {
                    Ok(s) => {
                        writeln!(out, "audit trail intact: {} entries, head hash {}", s.entries, s.head_hash)?;
                        Ok(())
                    }
                    Err(b) => Err(anyhow::anyhow!(b)),
                };
            }
            let trusted = trusted_key(&data, public_key.as_deref())?;
            for file in &checkpoint {
                let cp = Checkpoint::read(file)?;
                cp.verify_signature(trusted.as_deref()).with_context(|| file.display().to_string())?;
                let s = store.verify_against(&cp).map_err(store_err)?.with_context(|| file.display().to_string())?;
                writeln!(
                    out,
                    "audit trail intact: {} entries, head hash {}; holds checkpoint {} (seq {}, {})",
                    s.entries,
                    s.head_hash,
                    file.display(),
                    cp.seq,
                    cp.at
                )?;
            }
            Ok(())
        }
        AuditCommand::Checkpoint { data, out: copy } => {
            let store = open(&data, true)?;
            let key = NodeKey::load_or_create(&data).map_err(store_err)?;
            let (cp, path) = store
                .write_checkpoint(&key, None)
                .map_err(store_err)?
                .map_err(|b| anyhow::anyhow!("{b}; not signing a trail that does not verify"))?;
            if let Some(copy) = &copy {
                std::fs::copy(&path, copy).with_context(|| format!("copying the checkpoint to {}", copy.display()))?;
            }
            writeln!(
                out,
                "checkpoint: seq {} head hash {} at {}, signed by key {}; written to {}",
                cp.seq,
                cp.head_hash,
                cp.at,
                cp.public_key,
                copy.as_ref().unwrap_or(&path).display()
            )?;
            Ok(())
        }
        AuditCommand::PublicKey { data } => {
            let key = NodeKey::load_or_create(&data).map_err(store_err)?;
            writeln!(out, "{}", key.public_hex())?;
            Ok(())
        }
    }
}

/// `--public-key` as hex or as a file holding it; else the node's own public key file, when there.
fn trusted_key(data: &Path, given: Option<&str>) -> anyhow::Result<Option<String>> {
    let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match given {
        Some(k) if is_hex(k.trim()) => Ok(Some(k.trim().to_ascii_lowercase())),
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("--public-key: '{f}' is neither 64 hex digits nor a readable file"))?;
            if !is_hex(text.trim()) {
                bail!("--public-key: {f} does not hold a 64-hex-digit Ed25519 public key");
            }
            Ok(Some(text.trim().to_ascii_lowercase()))
        }
        None => Ok(std::fs::read_to_string(data.join(crate::checkpoint::PUBLIC_KEY_FILE))
            .ok()
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| is_hex(t))),
    }
}
