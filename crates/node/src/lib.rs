//! A Vigie node after the tracker: what becomes of a camera's packets, tracks and events.
//!
//! ```text
//! camera ─▶ packets ─┬─▶ RecordingSink ─▶ archive (segments, catalogue)
//!                    └─▶ decoder ─▶ motion gate ─▶ detector ─▶ tracker          (vigie-pipeline)
//!                                                                │ tracks
//!          ┌──────────────────────────┬──────────────────────────┼────────────────────┐
//!          ▼                          ▼                          ▼                    ▼
//!     RulesStage ─▶ events ─▶ EvidenceStage ─▶ AlertHub      TrackIndexSink        Wall
//!     (a track becomes       (clear and         (the alert is  (summaries ─▶       (camera wall,
//!      an alert)              pixelated          stored, sent   search index)       clip buffer)
//!                             pictures)          live, notified)
//! ```
//!
//! [`CameraStages`] wires them for one camera; [`Node`] starts the cameras, the console and the
//! background tasks, and stops them in order.

pub mod config;
pub mod config_admin;
pub mod evidence;
mod node;
pub mod ops;
pub mod recording;
pub mod rules_stage;
pub mod scene;
pub mod settings;
pub mod stats_stage;
pub mod track_index;
pub mod wall;

pub use node::{termination_signal, Node};

use evidence::EvidenceStage;
use recording::RecordingSink;
use rules_stage::{RulesOutput, RulesStage};
use std::sync::Arc;
use std::time::SystemTime;
use track_index::TrackIndexSink;
use vigie_core::{BBox, ClassMap, Detection, EventPhase, Frame, LiveMasks, Packet, Polygon, StreamInfo, TrackedObject};
use vigie_imaging::privacy::{decide, HidePlan, PrivacyClasses, PrivacyInputs};
use vigie_pipeline::{CameraHooks, Sight};
use vigie_server::hub::{AlertHub, PublishExtras};
use vigie_server::providers::ZoneInfo;
use wall::Wall;

/// One camera's stages after the tracker, in the order a frame goes through them.
pub struct CameraStages {
    pub camera: String,
    pub recording: RecordingSink,
    pub rules: RulesStage,
    pub evidence: EvidenceStage,
    /// Where an alert goes: stored in the alert catalogue, on the live feed, to webhook/MQTT.
    pub alerts: Arc<AlertHub>,
    pub index: TrackIndexSink,
    pub wall: Arc<Wall>,
    /// The person class (and, once [`CameraStages::with_privacy`] is called, the vehicles).
    pub person: Option<u16>,
    /// People seen by the last detector run, tracked or not: pictures blur them all.
    people: Vec<BBox>,
    /// The camera's zones in pixels, as the rules engine last resolved them.
    zones: Vec<(String, Polygon)>,
    /// Capture time of the last frame: when the camera stops, open events end there.
    last_frame_at: Option<SystemTime>,
    /// Anonymous counts of the camera's counting zones (see [`CameraStages::with_stats`]).
    stats: Option<stats_stage::StatsStage>,
    /// Vehicles seen by the last detector run: their own motion is not hidden.
    vehicles: Vec<BBox>,
    classes: PrivacyClasses,
    /// The camera's privacy masks, full-frame pixels, and as configured.
    masks: LiveMasks,
    mask_configs: Vec<config::PrivacyMaskConfig>,
    /// The pipeline's motion and trust for the frame about to come.
    sight: Sight,
    /// Why pictures are pixelated whole right now: logged once when it starts, not per frame.
    fail_closed: Option<String>,
}

impl CameraStages {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        camera: &str,
        recording: RecordingSink,
        rules: RulesStage,
        evidence: EvidenceStage,
        alerts: Arc<AlertHub>,
        index: TrackIndexSink,
        wall: Arc<Wall>,
        person: Option<u16>,
    ) -> Self {
        Self {
            camera: camera.to_string(),
            recording,
            rules,
            evidence,
            alerts,
            index,
            wall,
            person,
            people: Vec::new(),
            zones: Vec::new(),
            last_frame_at: None,
            stats: None,
            vehicles: Vec::new(),
            classes: PrivacyClasses { person, vehicles: Vec::new() },
            masks: LiveMasks::default(),
            mask_configs: Vec::new(),
            sight: Sight::default(),
            fail_closed: None,
        }
    }

    /// Counts the camera's counting zones into the statistics.
    pub fn with_stats(mut self, stats: stats_stage::StatsStage) -> Self {
        self.stats = Some(stats);
        self
    }

    /// The camera's privacy masks, and the classes whose motion stays clear (vehicles).
    pub fn with_privacy(mut self, masks: &[config::PrivacyMaskConfig], classes: &ClassMap) -> Self {
        self.masks = LiveMasks::new(masks.iter().map(|m| m.to_polygon()).collect());
        self.mask_configs = masks.to_vec();
        self.classes = PrivacyClasses::new(classes);
        self
    }

    /// Follows the running camera's masks (its [`scene::RulesSlot`]'s): an edit from the console
    /// or the config file applies from the next frame.
    pub fn with_live_masks(mut self, masks: LiveMasks) -> Self {
        self.masks = masks;
        self
    }

    /// Masks reaching outside the picture are a config mistake only the stream's size shows.
    fn check_masks(&self, width: usize, height: usize) {
        for (i, m) in self.mask_configs.iter().enumerate() {
            if let Err(e) = m.check_inside(&format!("cameras.{}.privacy_masks[{i}]", self.camera), width, height) {
                tracing::error!(camera = %self.camera, "{e} (the part inside is still masked)");
            }
        }
    }

    /// What every picture of this frame hides: the one decision, from the tracks, the last
    /// detector run, the motion and the masks.
    fn hide_plan(&mut self, frame: &Frame, tracks: &[TrackedObject]) -> HidePlan {
        let (mut people, mut vehicles) = self.classes.tracks(tracks);
        people.extend_from_slice(&self.people);
        vehicles.extend_from_slice(&self.vehicles);
        let masks = self.masks.get();
        let plan = decide(&PrivacyInputs {
            width: frame.width,
            height: frame.height,
            people: &people,
            vehicles: &vehicles,
            motion: &self.sight.motion,
            masks: &masks,
            undecidable: self.sight.undecidable.as_deref(),
        });
        match (&plan.whole_frame, &self.fail_closed) {
            (Some(why), None) => {
                tracing::warn!(camera = %self.camera, reason = %why, "pictures pixelated whole: what to hide cannot be decided")
            }
            (None, Some(_)) => tracing::info!(camera = %self.camera, "pictures pixelated by people and motion again"),
            _ => {}
        }
        self.fail_closed = plan.whole_frame.clone();
        plan
    }

    /// Events to alerts: an opening gets its two pictures, then every phase is published.
    fn publish(&mut self, frame: &Frame, tracks: &[TrackedObject], plan: &HidePlan, out: RulesOutput) {
        for mut ev in out.events {
            let pictures = match ev.phase {
                EventPhase::Opened => out
                    .evidence
                    .iter()
                    .find(|e| e.event_id == ev.id)
                    .map(|e| self.evidence.render(frame, tracks, plan, e)),
                _ => None,
            };
            let clear = pictures.map(|p| {
                ev.snapshot_jpeg = Some(Arc::new(p.pixelated));
                p.clear
            });
            let extras = PublishExtras {
                clear_jpeg: clear.as_deref(),
                fired_at_ms: Some(vigie_core::UnixMs::from(frame.captured_at)),
            };
            // A catalogue that cannot store the alert (disk full) still gets it on the live
            // feed and later in the catalogue; only an overflowing backlog loses it.
            if let Err(e) = self.alerts.publish_with(&ev, extras) {
                tracing::error!(camera = %self.camera, error = %e, "alert lost");
            }
            if ev.phase == EventPhase::Opened {
                self.index.link_event(&ev);
            }
        }
    }
}

impl CameraHooks for CameraStages {
    fn on_packet(&mut self, packet: &Packet, info: &StreamInfo) {
        self.recording.push(packet, info);
    }

    fn on_frame(&mut self, frame: &Arc<Frame>, tracks: &[TrackedObject], detections: Option<&[Detection]>) {
        if let Some(d) = detections {
            // Held frames keep the last detector run's people: they have not moved far.
            (self.people, self.vehicles) = self.classes.detections(d);
        }
        let plan = self.hide_plan(frame, tracks);
        let now = frame.captured_at;
        if self.last_frame_at.is_none() {
            self.check_masks(frame.width, frame.height);
        }
        self.last_frame_at = Some(now);
        let mut out = self.rules.process(frame, tracks);
        if let Some(zones) = out.zones.take() {
            let info = zones.iter().map(|(n, p)| ZoneInfo { name: n.clone(), polygon: p.points.clone() }).collect();
            self.wall.set_zones(&self.camera, info);
            self.zones = zones;
        }
        self.publish(frame, tracks, &plan, out);
        self.index.observe(frame, tracks, &self.zones, &plan, now);
        if let Some(s) = self.stats.as_mut() {
            s.observe(frame, tracks);
        }
        self.wall.update(&self.camera, frame, tracks, &plan);
    }

    fn on_sight(&mut self, sight: &Sight) {
        self.sight = sight.clone();
    }
}

impl Drop for CameraStages {
    /// The camera has stopped (node shutdown, or the end of a file): its open events end at the
    /// last frame seen, or their alerts would stay ongoing forever.
    fn drop(&mut self) {
        if let Some(at) = self.last_frame_at {
            for ev in self.rules.close_all(at) {
                if let Err(e) = self.alerts.publish_with(&ev, PublishExtras::default()) {
                    tracing::error!(camera = %self.camera, alert = %ev.id, error = %e, "cannot close alert");
                }
            }
        }
        self.recording.finish();
        self.index.finish();
        if let Some(s) = self.stats.as_mut() {
            s.finish();
        }
    }
}
