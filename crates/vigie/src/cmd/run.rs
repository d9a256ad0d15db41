//! `vigie run`: cameras, analysis, archive and console together on one node (crates/node).

use std::path::PathBuf;
use vigie_node::config::VigieConfig;
use vigie_node::Node;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Node configuration (cameras, zones, rules, console...).
    #[arg(long)]
    pub config: PathBuf,
    /// Data directory: catalogue, audit trail, footage, snapshots, track index.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Listen on this address instead of the config's `server.listen`.
    #[arg(long)]
    pub listen: Option<String>,
    /// Log lines as plain text (colours only on a terminal) or as JSON objects, one per line,
    /// for a log collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,ort=warn".into());
    let base = tracing_subscriber::fmt().with_writer(std::io::stderr);
    // Colour codes are for people at a terminal; in a file or a journal they are noise.
    let _ = match format {
        LogFormat::Text => base.with_ansi(std::io::stderr().is_terminal()).with_env_filter(filter()).try_init(),
        LogFormat::Json => base.json().with_ansi(false).with_env_filter(filter()).try_init(),
    };
}

pub fn run(a: &RunArgs) -> anyhow::Result<()> {
    init_logging(a.log_format);
    let mut cfg = VigieConfig::load(&a.config)?;
    if let Some(l) = &a.listen {
        cfg.server.listen = l.clone();
    }
    Node::start(cfg, &a.config, &a.data)?.run(vigie_node::termination_signal())
}
