//! `vigie bench capacity`: the command line over `vigie_eval::bench::capacity`.

use vigie_eval::bench::capacity;
use vigie_node::settings::{asset_root, AnalysisSettings};

#[derive(clap::Args)]
pub struct CapacityArgs {
    /// Cameras at each step, in order (the four bundled clips in turn).
    #[arg(long, value_delimiter = ',', default_value = "4,8,12,16,20,24")]
    pub cameras: Vec<usize>,
    /// Measured seconds per step.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Seconds per step before measuring (models loaded, motion backgrounds learnt).
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Frames analysed per second per camera.
    #[arg(long, default_value_t = vigie_pipeline::DEFAULT_DETECT_FPS)]
    pub detect_fps: f64,
    /// Detector sessions (one thread each), as `[pipeline] detector_workers`.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// A camera below this many detections a second falls short.
    #[arg(long, default_value_t = 4.5)]
    pub min_rate: f64,
    /// Run every step, even after one falls short.
    #[arg(long)]
    pub all_steps: bool,
    /// Analysis settings (`[detector]`, `[tracker]`, `[motion]`); defaults are built in.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
}

pub fn run(a: &CapacityArgs) -> anyhow::Result<()> {
    anyhow::ensure!((1..=64).contains(&a.workers), "--workers must be between 1 and 64");
    let settings = AnalysisSettings::load(a.config.as_deref())?;
    capacity::run(&capacity::CapacityOptions {
        root: asset_root(),
        detector: settings.detector,
        tracker: settings.tracker,
        motion: settings.motion,
        detector_workers: a.workers,
        cameras: a.cameras.clone(),
        seconds: a.seconds,
        warmup_s: a.warmup,
        detect_fps: a.detect_fps,
        min_detections_per_s: a.min_rate,
        all_steps: a.all_steps,
    })?;
    Ok(())
}
