//! `vigie bench seed-alerts`: a busy alert queue in a data folder, for the console's scaling
//! tests (run it before the node starts on the folder).

use crate::cmd::open_store;
use std::path::PathBuf;
use vigie_core::UnixMs;
use vigie_eval::bench::seed_alerts::{seed_alerts, SeedOptions};

#[derive(clap::Args)]
pub struct SeedAlertsArgs {
    /// The node's data folder (its vigie.db is created if missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Alerts to write.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Share (0 to 1) of alerts repeating their camera, zone and type within minutes.
    #[arg(long, default_value_t = 0.35)]
    pub repeat_share: f64,
    /// Every n-th alert is confirmed (0: none).
    #[arg(long, default_value_t = 10)]
    pub confirm_every: usize,
    /// Seed of the generator (same seed, same alerts).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: &SeedAlertsArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&a.repeat_share) {
        anyhow::bail!("--repeat-share must be between 0 and 1, not {}", a.repeat_share);
    }
    std::fs::create_dir_all(&a.data)?;
    let store = open_store(&a.data, false)?;
    let o = SeedOptions { count: a.count, repeat_share: a.repeat_share, confirm_every: a.confirm_every, seed: a.seed };
    let rep = seed_alerts(&store, UnixMs::now(), &o)?;
    println!(
        "seeded {} alerts ({} repeats, {} incidents, {} confirmed) in {} in {:.2} s",
        rep.alerts,
        rep.repeats,
        rep.incidents,
        rep.confirmed,
        a.data.display(),
        rep.elapsed.as_secs_f64()
    );
    Ok(())
}
