//! One module per `vigie` command: its clap arguments and a `run`. The work itself is done by the
//! library crates; these modules parse, call and print.

pub mod analyze;
pub mod audit;
pub mod bench;
pub mod eval;
pub mod init;
pub mod retention;
pub mod run;
pub mod user;

#[cfg(test)]
mod catalogue_tests;

use anyhow::{bail, Context};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use vigie_core::SystemClock;
use vigie_store::{Store, StoreError, DB_FILE};

/// Actor recorded in the audit trail for changes made from the command line.
pub const CLI_ACTOR: &str = "cli";

/// Opens the catalogue of `init`, `user` and `audit`. With `must_exist`, a mistyped `--data` is
/// an error rather than a new, empty catalogue.
pub fn open_store(data: &Path, must_exist: bool) -> anyhow::Result<Store> {
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

/// One line from standard input, so that a password never appears in a process list or shell
/// history.
pub fn read_password(input: &mut dyn BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password on standard input: pipe it in, e.g. `printf '%s\\n' \"$PW\" | vigie user add ...`");
    }
    vigie_store::users::validate_password(&pw)?;
    Ok(pw)
}

pub fn store_err(e: StoreError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}
