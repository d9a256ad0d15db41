//! `vigie eval mot`, `vigie eval events` and `vigie eval counts`: accuracy against ground truth. The measuring is
//! `vigie-eval`'s; this module is the command line and the printing.

use anyhow::anyhow;
use std::path::PathBuf;
use vigie_core::ClassMap;
use vigie_eval::scenario::{score, Scenario};
use vigie_node::settings::AnalysisSettings;
use vigie_pipeline::ClipOptions;

#[derive(clap::Subcommand)]
pub enum EvalCmd {
    /// MOTChallenge 2D metrics (CLEAR, identity, HOTA) of a tracker result against ground truth.
    Mot(EvalMotArgs),
    /// Event rules on scenarios: precision, recall and alert delay per event type.
    Events(EvalEventsArgs),
    /// Line counts on scenarios counted by hand: error per line and direction against the target.
    Counts(EvalCountsArgs),
    /// How well an operator view (`vigie analyze --privacy-out`) hides the ground truth's people
    /// while the background keeps its detail.
    Privacy(EvalPrivacyArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct EvalPrivacyArgs {
    /// The original clip (H.264 MP4).
    pub original: PathBuf,
    /// The operator view of it, same frames and size.
    pub view: PathBuf,
    /// MOT ground truth of the people (`frame,id,x,y,w,h,...`, 1-based frames); frames after the
    /// last annotated one are not measured.
    #[arg(long)]
    pub gt: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Score a tracker result against MOTChallenge ground truth (CLEAR MOT, IDF1, HOTA).
#[derive(Debug, Clone, clap::Args)]
pub struct EvalMotArgs {
    /// Ground truth: a MOT file (`frame,id,x,y,w,h,conf,...`) or a MOTChallenge sequence directory
    /// holding `gt/gt.txt` or `gt.txt`. Rows with conf 0 are ignored.
    pub gt: PathBuf,
    /// Tracker output in the same format.
    pub result: PathBuf,
    /// Print the metrics as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

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

#[derive(clap::Args)]
pub struct EvalCountsArgs {
    /// Counting scenario files (`*.toml`) or folders of them, e.g. `scenarios/counts/*`.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// CPU threads for the pipeline.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Analysis settings (`[detector]`, `[tracker]`, `[motion]`); defaults are built in.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print each crossing the counter counts (or takes back) with its frame number, to set
    /// against the hand count's list in the scenario file.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(cmd: &EvalCmd) -> anyhow::Result<()> {
    match cmd {
        EvalCmd::Mot(a) => run_mot(a),
        EvalCmd::Events(a) => run_events(a),
        EvalCmd::Counts(a) => run_counts(a),
        EvalCmd::Privacy(a) => run_privacy(a),
    }
}

/// Prints the share of people hidden and of background tiles that kept their detail.
pub fn run_privacy(a: &EvalPrivacyArgs) -> anyhow::Result<()> {
    use vigie_eval::privacy::{decode_frames, measure, HIDDEN_BELOW, KEPT_FROM, TILE};
    let gt = vigie_eval::read_mot(&a.gt)?;
    let last = gt.iter().map(|r| r.frame as usize).max().unwrap_or(0);
    let count = |p: &PathBuf| -> anyhow::Result<Option<u64>> {
        Ok(vigie_source::VideoSource::info(&vigie_source::Mp4FileSource::open(p, Default::default())?).frame_count)
    };
    let (n_orig, n_view) = (count(&a.original)?, count(&a.view)?);
    anyhow::ensure!(n_orig == n_view, "the operator view has {n_view:?} frames, the original {n_orig:?}");
    // Only the annotated frames are decoded: a whole clip would not fit in memory twice.
    let original = decode_frames(&a.original, Some(last))?;
    let view = decode_frames(&a.view, Some(last))?;
    let fig = measure(&original, &view, &gt).map_err(|e| anyhow!("{}: {e}", a.view.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&fig)?);
    } else {
        println!(
            "people_hidden={:.2}% ({}/{}, correlation < {HIDDEN_BELOW}) background_kept={:.2}% ({}/{} {TILE}-px tiles, correlation >= {KEPT_FROM}; {} flat tiles left out) frames={}",
            100.0 * fig.hidden_share(),
            fig.people_hidden,
            fig.people,
            100.0 * fig.kept_share(),
            fig.tiles_kept,
            fig.tiles,
            fig.tiles_flat,
            fig.frames
        );
    }
    Ok(())
}

/// Prints the table (or JSON with `--json`) to stdout.
pub fn run_mot(args: &EvalMotArgs) -> anyhow::Result<()> {
    let named = vigie_eval::evaluate_files(&args.gt, &args.result)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&named)?);
    } else {
        print!("{}", named.metrics.table(&named.sequence));
    }
    Ok(())
}

/// Runs each scenario's clip through the same pipeline as a live camera and scores the alerts
/// against the expected events.
pub fn run_events(a: &EvalEventsArgs) -> anyhow::Result<()> {
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
        detect_fps: None,
    };
    if a.no_motion_gate {
        opts.motion.enabled = false;
    }
    let verbose = a.verbose;
    let results = vigie_eval::events::run_scenarios(scenarios, &opts, &model_sha, &classes, |name, t, e| {
        if verbose {
            println!(
                "  {name} {t:>7.2}s {:?} {} zone={} tracks={:?} {}={:.1}",
                e.phase, e.event_type, e.zone, e.track_ids, e.peak.kind, e.peak.value
            );
        }
    })?;
    print!("{}", score(&results));
    Ok(())
}

/// Runs each counting scenario's clip through the same pipeline and counter as a live camera,
/// prints one row per line and direction and the closing `counts ...` line, and fails when a line
/// is off target.
pub fn run_counts(a: &EvalCountsArgs) -> anyhow::Result<()> {
    use vigie_eval::counts::{compare, run_scenario, scenario_files, CountFile, CountReport, CountScenario};
    let settings = AnalysisSettings::load(a.config.as_deref())?;
    let labels = std::fs::read_to_string(&settings.detector.labels)?;
    let classes = ClassMap::parse(&labels);
    let mut scenarios = Vec::new();
    for file in scenario_files(&a.scenarios)? {
        let text =
            std::fs::read_to_string(&file).map_err(|e| anyhow!("cannot read scenario {}: {e}", file.display()))?;
        let parsed: CountFile = vigie_node::settings::parse_toml(&text, &file)?;
        scenarios.push(CountScenario::new(&file, parsed, &classes)?);
    }
    let opts = ClipOptions {
        threads: a.threads,
        detector: settings.detector.clone(),
        tracker: settings.tracker.clone(),
        motion: settings.motion.clone(),
        detect_fps: None,
    };
    let mut report = CountReport::default();
    for sc in &scenarios {
        println!(
            "scenario {}: frames {}–{} of {} at {:.1} fps, {}",
            sc.name, sc.first_frame, sc.last_frame, sc.frame_count, sc.fps, sc.description
        );
        let verbose = a.verbose;
        let totals = run_scenario(sc, &opts, &classes, |c| {
            if verbose {
                println!("  frame {:>5} {} {} {} {:+}", c.frame, c.zone, c.direction.as_str(), c.class, c.delta);
            }
        })?;
        report.lines.extend(compare(sc, &totals));
    }
    print!("{report}");
    let failed = report.failures();
    if failed > 0 {
        anyhow::bail!("{failed} of {} line directions off target (±5 % or ±1 of the hand count)", report.lines.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn reference(seq: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/annotations/mot-reference").join(seq)
    }

    #[test]
    fn args_parse_as_the_binary_will_see_them() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            mot: EvalMotArgs,
        }
        let cli = Cli::try_parse_from(["vigie", "seqs/TUD-Campus", "out/TUD-Campus.txt", "--json"]).unwrap();
        assert_eq!(cli.mot.gt, PathBuf::from("seqs/TUD-Campus"));
        assert_eq!(cli.mot.result, PathBuf::from("out/TUD-Campus.txt"));
        assert!(cli.mot.json);
        assert!(Cli::try_parse_from(["vigie", "gt.txt"]).is_err());
    }

    #[test]
    fn run_mot_reports_a_missing_result_file() {
        let args =
            EvalMotArgs { gt: reference("TUD-Campus"), result: PathBuf::from("/nonexistent/res.txt"), json: false };
        let msg = run_mot(&args).unwrap_err().to_string();
        assert!(msg.starts_with("cannot read /nonexistent/res.txt: "), "{msg}");
    }
}
