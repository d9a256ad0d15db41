//! `vigie eval events`: runs each scenario's clip through the same pipeline as a live camera
//! (decode → motion gate → detector → tracker → rules) and scores the alerts against the
//! expected events.

use crate::settings::AnalysisSettings;
use anyhow::anyhow;
use std::path::PathBuf;
use vigie_core::{ClassMap, Event};
use vigie_pipeline::{ClipOptions, FrameResult};
use vigie_rules::scenario::{score, Scenario};
use vigie_source::{Mp4FileSource, Mp4Options};

#[derive(clap::Args)]
pub struct EvalEventsArgs {
    /// Scenario folders (each with a scenario.toml), e.g. `scenarios/*`.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// CPU threads for the pipeline.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Analysis settings (`[detector]`, `[tracker]`, `[motion]`); defaults are built in.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run the detector on every frame instead of letting the motion gate skip still ones.
    #[arg(long)]
    pub no_motion_gate: bool,
    /// Print every event as it is raised.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(a: &EvalEventsArgs) -> anyhow::Result<()> {
    let settings = AnalysisSettings::load(a.config.as_deref())?;
    let scenarios = Scenario::load_all(&a.scenarios).map_err(|e| anyhow!("{e}"))?;
    let labels = std::fs::read_to_string(&settings.detector.labels)?;
    let classes = ClassMap::parse(&labels);
    let model_sha = vigie_detect::model_sha256(&settings.detector.model)?;
    let mut opts = ClipOptions {
        threads: a.threads,
        detector: settings.detector.clone(),
        tracker: settings.tracker.clone(),
        motion: settings.motion.clone(),
    };
    if a.no_motion_gate {
        opts.motion.enabled = false;
    }
    let mut results = Vec::new();
    for sc in scenarios {
        let mut engine = sc.engine(&model_sha, &classes).map_err(|e| anyhow!("scenario {}: {e}", sc.name))?;
        let source = Mp4FileSource::open(&sc.clip, Mp4Options { name: Some(sc.name.clone()), ..Default::default() })?;
        let mut events: Vec<(f64, Event)> = Vec::new();
        let verbose = a.verbose;
        let name = sc.name.clone();
        vigie_pipeline::analyze(source, &opts, |r: FrameResult<'_>| {
            let t = r.frame.pts.as_secs_f64();
            for e in engine.process(r.frame, r.tracks, sc.wall_clock(t)) {
                if verbose {
                    println!(
                        "  {name} {t:>7.2}s {:?} {} zone={} tracks={:?} {}={:.1}",
                        e.phase, e.event_type, e.zone, e.track_ids, e.peak.kind, e.peak.value
                    );
                }
                events.push((t, e));
            }
        })?;
        results.push((sc, events));
    }
    print!("{}", score(&results));
    Ok(())
}
