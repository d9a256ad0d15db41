//! `vigie analyze`: the whole pipeline over a clip as fast as possible, tracks written as
//! MOTChallenge rows or JSON lines.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use vigie_eval::privacy::OperatorView;
use vigie_node::settings::AnalysisSettings;
use vigie_pipeline::{ClipOptions, FrameResult};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// H.264 MP4 clip.
    pub video: PathBuf,
    /// Only report these classes (comma-separated COCO names, e.g. `person,car`); default all.
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<String>,
    /// CPU threads for the whole pipeline, inference included.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Write tracks in MOTChallenge format (`frame,id,x,y,w,h,score,-1,-1,-1`).
    #[arg(long)]
    pub mot: Option<PathBuf>,
    /// Write tracks as JSON lines.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Analysis settings (`[detector]`, `[tracker]`, `[motion]`); defaults are built in.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Let the motion gate skip the detector on still frames (off by default here: the
    /// detector runs on every frame, as accuracy is measured).
    #[arg(long)]
    pub motion_gate: bool,
    /// Run the detector on this many frames per second of the clip, predicting tracks on the
    /// others, as a live camera's `detect_fps` does (default: every frame).
    #[arg(long)]
    pub detect_fps: Option<f64>,
    /// Write the operator view: the clip as every picture leaving a node shows it (people and
    /// unexplained motion pixelated), H.264 MP4 with the same frames and size, for
    /// `vigie eval privacy`.
    #[arg(long)]
    pub privacy_out: Option<PathBuf>,
}

fn create(path: &PathBuf) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let f = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(std::io::BufWriter::new(f))
}

pub fn run(a: &AnalyzeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.threads >= 1, "--threads must be at least 1");
    if let Some(v) = a.detect_fps {
        vigie_pipeline::check_detect_fps(v).map_err(|e| anyhow::anyhow!("--detect-fps: {e}"))?;
    }
    let mut settings = AnalysisSettings::load(a.config.as_deref())?;
    if !a.classes.is_empty() {
        settings.detector.classes = a.classes.clone();
    }
    settings.motion.enabled = a.motion_gate;
    if a.privacy_out.is_some() && !settings.detector.classes.is_empty() {
        anyhow::ensure!(
            settings.detector.classes.iter().any(|c| c == vigie_core::classes::PERSON),
            "--privacy-out hides people: --classes must include person (or be left out)"
        );
    }
    let source = Mp4FileSource::open(&a.video, Mp4Options::default())?;
    let fps = source.info().fps.unwrap_or(25.0);
    let mut mot = a.mot.as_ref().map(create).transpose()?;
    let mut json = a.json.as_ref().map(create).transpose()?;
    let opts = ClipOptions {
        threads: a.threads,
        detector: settings.detector.clone(),
        tracker: settings.tracker.clone(),
        motion: settings.motion.clone(),
        detect_fps: a.detect_fps,
    };
    let labels = std::fs::read_to_string(&settings.detector.labels)
        .with_context(|| format!("cannot read class list {}", settings.detector.labels.display()))?;
    let classes = vigie_core::ClassMap::parse(&labels);
    let mut view = a.privacy_out.as_ref().map(|_| OperatorView::new(&classes, fps, Vec::new()));
    let mut write_err: Option<std::io::Error> = None;
    let mut view_err: Option<vigie_footage::ArchiveError> = None;
    let stats = vigie_pipeline::analyze(source, &opts, |r: FrameResult<'_>| {
        if let (Some(v), true) = (view.as_mut(), view_err.is_none()) {
            view_err = v.push(&r).err();
        }
        if write_err.is_some() {
            return;
        }
        let res = (|| -> std::io::Result<()> {
            for t in r.tracks {
                let b = t.bbox;
                if let Some(w) = mot.as_mut() {
                    writeln!(
                        w,
                        "{},{},{:.2},{:.2},{:.2},{:.2},{:.3},-1,-1,-1",
                        r.frame.seq,
                        t.track_id,
                        b.x1,
                        b.y1,
                        b.width(),
                        b.height(),
                        t.score
                    )?;
                }
                if let Some(w) = json.as_mut() {
                    let line = serde_json::json!({
                        "frame": r.frame.seq,
                        "time": r.frame.pts.as_secs_f64(),
                        "track_id": t.track_id,
                        "class": classes.name(t.class_id),
                        "box": [b.x1, b.y1, b.x2, b.y2],
                        "score": t.score,
                    });
                    writeln!(w, "{line}")?;
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            write_err = Some(e);
        }
    })?;
    if let Some(e) = write_err {
        anyhow::bail!("cannot write the track files: {e}");
    }
    for w in [mot.as_mut(), json.as_mut()].into_iter().flatten() {
        w.flush().context("cannot write the track files")?;
    }
    if let (Some(path), Some(v)) = (&a.privacy_out, view) {
        if let Some(e) = view_err {
            anyhow::bail!("--privacy-out {}: {e}", path.display());
        }
        let (frames, whole) = (v.frames(), v.pixelated_whole);
        let mp4 = v.finish()?.ok_or_else(|| anyhow::anyhow!("--privacy-out: the clip has no decodable frame"))?;
        std::fs::write(path, mp4).with_context(|| format!("cannot write {}", path.display()))?;
        println!("privacy_out={} frames={frames} pixelated_whole={whole}", path.display());
    }
    for w in &stats.warnings {
        eprintln!("warning: {w}");
    }
    let model = stats.model.as_ref().expect("model info");
    println!(
        "frames={} wall_s={:.2} fps={:.2} threads={} detector_runs={} model_sha256={}",
        stats.frames,
        stats.wall.as_secs_f64(),
        stats.fps(),
        a.threads,
        stats.detector_runs,
        model.sha256
    );
    Ok(())
}
