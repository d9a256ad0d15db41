//! `vigie bench` and its subcommands: the command line over `vigie_eval::bench` (and the
//! archive's search benchmark). The measuring code is in the libraries; what stays here is what
//! needs the binary: its path (the whole-pipeline and latency runs start it as a child process),
//! the analysis settings it loads and the config parser it fuzzes.

mod capacity;
mod fuzz_config;
mod seed_alerts;

use anyhow::anyhow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use vigie_eval::bench::{figures, fuzz, latency};
use vigie_node::settings::{asset_root, AnalysisSettings};

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: Option<BenchWhat>,
    /// Python of the reference pipeline's environment (onnxruntime, cv2, supervision); default:
    /// `$TMPDIR/vigie-python-reference/bin/python` when bench/python-reference/setup.sh has run.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Create the Python reference environment first if it is missing (needs network for pip).
    #[arg(long)]
    pub setup_python: bool,
    /// Alternate Vigie and Python runs this many times per thread count and keep each one's best.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Frames used for the detector and tracker micro-measurements.
    #[arg(long, default_value_t = 150)]
    pub frames: usize,
}

#[derive(clap::Subcommand)]
pub enum BenchWhat {
    /// Track search over a generated index (10 million tracks by default): p50/p95 per query type.
    Search(SearchBenchArgs),
    /// Alert latency (frame → console) and API latency with live RTSP cameras.
    Latency(LatencyArgs),
    /// Every input parser (config, search text, MP4, RTSP URL and H.264) on random and mutated
    /// inputs for a bounded time: inputs tried and findings per target.
    Fuzz(FuzzArgs),
    /// A busy alert queue in a data folder (the console's 1,000-alert test): alerts of the demo
    /// cameras, zones and several types, some repeated within minutes.
    SeedAlerts(seed_alerts::SeedAlertsArgs),
    /// Cameras per node: looping file cameras at `detect_fps`, more at each step, until one
    /// falls short of its analysis rate or behind its frame rate.
    Capacity(capacity::CapacityArgs),
}

#[derive(clap::Args)]
pub struct SearchBenchArgs {
    /// Tracks in the generated index.
    #[arg(long, default_value_t = 10_000_000)]
    pub tracks: u64,
    /// Where the index is generated (reused when it already holds as many tracks).
    #[arg(long, default_value = "target/bench-search/tracks.db")]
    pub db: PathBuf,
    /// Runs of each query type.
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
}

#[derive(clap::Args)]
pub struct LatencyArgs {
    /// Fake RTSP cameras (the four bundled clips, in turn).
    #[arg(long, default_value_t = 8)]
    pub cameras: usize,
    /// Measurement time after the node is up.
    #[arg(long, default_value_t = 90)]
    pub seconds: u64,
}

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Seconds per target.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seed of the input generator (same seed, same inputs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these targets (config, search-text, mp4, rtsp-url, rtsp-h264).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Where inputs that gave a finding are written.
    #[arg(long, default_value = "target/fuzz-findings")]
    pub findings: PathBuf,
}

pub fn run(a: &BenchArgs) -> anyhow::Result<()> {
    match &a.what {
        Some(BenchWhat::Search(s)) => run_search(s),
        Some(BenchWhat::Latency(l)) => latency::run(&latency::LatencyOptions {
            root: asset_root(),
            vigie_exe: std::env::current_exe()?,
            cameras: l.cameras,
            seconds: l.seconds,
        }),
        Some(BenchWhat::Fuzz(f)) => run_fuzz(f),
        Some(BenchWhat::SeedAlerts(s)) => seed_alerts::run(s),
        Some(BenchWhat::Capacity(c)) => capacity::run(c),
        None => {
            let settings = AnalysisSettings::load(None)?;
            figures::run(&figures::FiguresOptions {
                root: asset_root(),
                vigie_exe: std::env::current_exe()?,
                detector: settings.detector,
                tracker: settings.tracker,
                python: a.python.clone(),
                setup_python: a.setup_python,
                rounds: a.rounds,
                frames: a.frames,
            })
        }
    }
}

fn run_search(a: &SearchBenchArgs) -> anyhow::Result<()> {
    if let Some(dir) = a.db.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let have = vigie_search::TrackIndex::open(&a.db).ok().map(|ix| ix.len()).unwrap_or(0);
    if have != a.tracks {
        let _ = std::fs::remove_file(&a.db);
        let t0 = Instant::now();
        let rep = vigie_search::bench::generate_index(&a.db, a.tracks, 1).map_err(|e| anyhow!("{e}"))?;
        println!("generated {} tracks in {:.0} s: {rep:?}", a.tracks, t0.elapsed().as_secs_f64());
    }
    let rep = vigie_search::bench::bench_search(&a.db, a.runs, 7).map_err(|e| anyhow!("{e}"))?;
    print!("{rep}");
    let worst = rep.lines.iter().map(|l| l.p95_ms).fold(0.0, f64::max);
    println!("worst p95 {worst:.1} ms (target < 100 ms: {})", if worst < 100.0 { "met" } else { "NOT met" });
    Ok(())
}

fn run_fuzz(a: &FuzzArgs) -> anyhow::Result<()> {
    let mut targets: Vec<Arc<dyn fuzz::Target>> = vec![Arc::new(fuzz_config::ConfigTarget::new())];
    targets.extend(fuzz::targets(&asset_root())?);
    fuzz::run(
        targets,
        &fuzz::FuzzOptions { seconds: a.seconds, seed: a.seed, only: a.only.clone(), findings: a.findings.clone() },
    )
}
