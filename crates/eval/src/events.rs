//! Event scenarios through the same pipeline as a live camera (decode → motion gate → detector →
//! tracker → rules), collecting what the rules raise for [`crate::scenario::score`].

use crate::scenario::Scenario;
use anyhow::anyhow;
use vigie_core::{ClassMap, Event};
use vigie_pipeline::{ClipOptions, FrameResult};
use vigie_source::{Mp4FileSource, Mp4Options};

/// What the rules raised on one scenario's clip, each event with its media time (seconds from the
/// clip's first frame).
pub type ScenarioEvents = (Scenario, Vec<(f64, Event)>);

/// Runs every scenario's clip through the pipeline and its rules. `on_event` sees each event as
/// it is raised (scenario name, media time, event), for a verbose listing.
pub fn run_scenarios(
    scenarios: Vec<Scenario>,
    opts: &ClipOptions,
    model_sha256: &str,
    classes: &ClassMap,
    mut on_event: impl FnMut(&str, f64, &Event) + Send,
) -> anyhow::Result<Vec<ScenarioEvents>> {
    let mut results = Vec::new();
    for sc in scenarios {
        let mut engine = sc.engine(model_sha256, classes).map_err(|e| anyhow!("scenario {}: {e}", sc.name))?;
        let source = Mp4FileSource::open(&sc.clip, Mp4Options { name: Some(sc.name.clone()), ..Default::default() })?;
        let mut events: Vec<(f64, Event)> = Vec::new();
        vigie_pipeline::analyze(source, opts, |r: FrameResult<'_>| {
            let t = r.frame.pts.as_secs_f64();
            for e in engine.process(r.frame, r.tracks, sc.wall_clock(t)) {
                on_event(&sc.name, t, &e);
                events.push((t, e));
            }
        })?;
        results.push((sc, events));
    }
    Ok(results)
}
