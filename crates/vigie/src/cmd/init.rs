//! `vigie init`: a data directory and its first administrator.

use super::{open_store, read_password, store_err, CLI_ACTOR};
use anyhow::bail;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use vigie_core::AuditAction;
use vigie_store::Role;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Data directory (created if missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Name of the first administrator; the password is read from standard input.
    #[arg(long, default_value = "admin")]
    pub admin: String,
}

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    run_with(args, &mut std::io::stdin().lock(), &mut std::io::stdout())
}

pub fn run_with(args: InitArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<()> {
    vigie_store::users::validate_username(&args.admin).map_err(store_err)?;
    let store = open_store(&args.data, false)?;
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
