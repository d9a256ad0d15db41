//! The rules stage: a camera's tracks through its rules engine, into events. The engine is
//! rebuilt when the camera's scene changes (config reload or console edit); rules that did not
//! change keep their open events.

use crate::scene::RulesSlot;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::SystemTime;
use vigie_core::{ClassMap, Event, Frame, Polygon, TrackedObject};
use vigie_rules::{CameraRules, Evidence};

/// What one frame produced.
#[derive(Default)]
pub struct RulesOutput {
    pub events: Vec<Event>,
    /// The pictures the `Opened` events need.
    pub evidence: Vec<Evidence>,
    /// The camera's zones in pixels, when they changed with this frame.
    pub zones: Option<Vec<(String, Polygon)>>,
}

pub struct RulesStage {
    camera: String,
    slot: Arc<Mutex<RulesSlot>>,
    /// The engine and the slot version it was built from.
    engine: Option<(u64, CameraRules)>,
    model_sha256: String,
    classes: ClassMap,
}

impl RulesStage {
    pub fn new(camera: &str, slot: Arc<Mutex<RulesSlot>>, model_sha256: &str, classes: ClassMap) -> Self {
        Self { camera: camera.to_string(), slot, engine: None, model_sha256: model_sha256.to_string(), classes }
    }

    pub fn process(&mut self, frame: &Frame, tracks: &[TrackedObject]) -> RulesOutput {
        let mut out = self.rebuild_if_stale(frame);
        if let Some((_, engine)) = self.engine.as_mut() {
            out.events.extend(engine.process(frame, tracks, frame.captured_at));
            out.evidence = engine.evidence().to_vec();
        }
        out
    }

    /// Closes every open event at `at` (camera stopped).
    pub fn close_all(&mut self, at: SystemTime) -> Vec<Event> {
        self.engine.as_mut().map(|(_, e)| e.close_all(at)).unwrap_or_default()
    }

    fn rebuild_if_stale(&mut self, frame: &Frame) -> RulesOutput {
        let slot = self.slot.lock();
        if self.engine.as_ref().is_some_and(|(v, _)| *v == slot.version) {
            return RulesOutput::default();
        }
        let version = slot.version;
        let c = &slot.camera;
        let built = CameraRules::new(
            &c.id,
            &c.zones,
            &c.rules,
            c.calibration.as_ref(),
            &slot.events,
            (frame.width, frame.height),
            &self.model_sha256,
            &self.classes,
        );
        match built {
            Ok(mut new) => {
                let zones = c
                    .zones
                    .iter()
                    // Counting lines are no areas: the wall and the track index see areas only.
                    .filter(|z| z.kind.is_area())
                    .map(|z| (z.name.clone(), vigie_rules::config::zone_polygon(z, frame.width, frame.height)))
                    .collect();
                drop(slot);
                let closed = match self.engine.take() {
                    Some((_, old)) => new.take_over(old, frame.captured_at),
                    None => Vec::new(),
                };
                self.engine = Some((version, new));
                RulesOutput { events: closed, evidence: Vec::new(), zones: Some(zones) }
            }
            Err(e) => {
                // Validated before it got here; a failure now (e.g. a zone outside a camera
                // whose resolution changed) keeps the rules already running.
                drop(slot);
                tracing::error!(camera = %self.camera, error = %e, "rules not rebuilt; keeping the previous ones");
                if let Some((v, _)) = self.engine.as_mut() {
                    *v = version;
                }
                RulesOutput::default()
            }
        }
    }
}
