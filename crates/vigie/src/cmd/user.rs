//! `vigie user add|passwd|disable`: console users, managed from the node's shell.

use super::{open_store, read_password, store_err, CLI_ACTOR};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use vigie_core::AuditAction;
use vigie_store::Role;

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
        /// operator, supervisor, admin, auditor or analyst.
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

pub fn run(args: UserArgs) -> anyhow::Result<()> {
    run_with(args, &mut std::io::stdin().lock(), &mut std::io::stdout())
}

pub fn run_with(args: UserArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add { data, role, temporary, name } => {
            let role = Role::parse(&role).map_err(store_err)?;
            vigie_store::users::validate_username(&name).map_err(store_err)?;
            let store = open_store(&data, false)?;
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
            let store = open_store(&data, true)?;
            store.user(&name).map_err(store_err)?;
            let pw = read_password(input)?;
            store.set_password_as(&name, &pw, temporary).map_err(store_err)?;
            let details = serde_json::json!({"temporary": temporary});
            store.record(CLI_ACTOR, AuditAction::UserPasswd, &name, &details).map_err(store_err)?;
            writeln!(out, "password of '{name}' changed; their sessions are closed")?;
        }
        UserCommand::Disable { data, name } => {
            let store = open_store(&data, true)?;
            store.disable_user(&name).map_err(store_err)?;
            store.record(CLI_ACTOR, AuditAction::UserDisable, &name, &serde_json::json!({})).map_err(store_err)?;
            writeln!(out, "user '{name}' disabled; their sessions are closed")?;
        }
    }
    Ok(())
}
