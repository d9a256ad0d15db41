//! `vigie retention status|run`: footage retention now, outside a running node.

use std::path::PathBuf;
use std::sync::Arc;

/// Defined with the archive until that crate is split; this binary is its only user.
pub use vigie_archive::RetentionArgs;

/// The data directory the command works on.
pub fn data(a: &RetentionArgs) -> &PathBuf {
    match &a.command {
        vigie_archive::RetentionCommand::Status { data, .. } | vigie_archive::RetentionCommand::Run { data, .. } => {
            data
        }
    }
}

pub fn run(a: &RetentionArgs) -> anyhow::Result<()> {
    let store = vigie_store::Store::open(data(a), Arc::new(vigie_core::SystemClock::default()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = vigie_archive::run_retention(a, None, Arc::new(store))?;
    println!("{report}");
    Ok(())
}
