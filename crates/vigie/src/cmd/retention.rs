//! `vigie retention status|run`: footage retention now, outside a running node.

use std::path::PathBuf;
use std::sync::Arc;
use vigie_footage::RetentionRequest;

/// `vigie retention ...`
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    pub command: RetentionCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum RetentionCommand {
    /// Shows the oldest footage per camera and when the next deletion is due.
    Status {
        /// Data directory of the service (holds archive.db).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Runs a retention pass now (deletes what is past its limit and audits it).
    Run {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Pretend it is this instant (RFC 3339), for tests and drills.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[arg(long)]
        json: bool,
        /// Your name, for the audit trail (recorded with your operating-system account).
        #[arg(long, value_name = "NAME")]
        actor: Option<String>,
    },
}

impl RetentionArgs {
    fn request(&self) -> RetentionRequest {
        match self.command.clone() {
            RetentionCommand::Status { data, json } => RetentionRequest::Status { data, json },
            RetentionCommand::Run { data, now, json, actor } => RetentionRequest::Run { data, now, json, actor },
        }
    }
}

/// The data directory the command works on.
pub fn data(a: &RetentionArgs) -> &PathBuf {
    match &a.command {
        RetentionCommand::Status { data, .. } | RetentionCommand::Run { data, .. } => data,
    }
}

pub fn run(a: &RetentionArgs) -> anyhow::Result<()> {
    let data = data(a);
    let store = vigie_store::Store::open(data, Arc::new(vigie_core::SystemClock::default()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Footage must go even when the track index cannot be opened: say so and carry on.
    let tracks_db = data.join("tracks.db");
    let tracks: Option<Arc<dyn vigie_core::TrackPurge>> = match tracks_db.exists() {
        false => None,
        true => match vigie_search::TrackIndex::open(&tracks_db) {
            Ok(ix) => Some(Arc::new(ix)),
            Err(e) => {
                eprintln!("track index: {e} (tracks are not purged in this pass)");
                None
            }
        },
    };
    let report = vigie_footage::run_retention(&a.request(), None, tracks, Arc::new(store))?;
    println!("{report}");
    Ok(())
}
