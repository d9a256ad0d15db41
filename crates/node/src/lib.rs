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
use vigie_core::{BBox, Detection, EventPhase, Frame, Packet, Polygon, StreamInfo, TrackedObject};
use vigie_pipeline::CameraHooks;
use vigie_server::hub::{AlertHub, PublishExtras};
use vigie_server::providers::ZoneInfo;
use wall::Wall;

/// Detections of people at or above this score are blurred even before they become tracks;
/// blurring a few false positives costs nothing, leaving a real person clear does.
const PEOPLE_BLUR_SCORE: f32 = 0.25;

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
    /// The person class, for the people boxes below.
    pub person: Option<u16>,
    /// People seen by the last detector run, tracked or not: pictures blur them all.
    people: Vec<BBox>,
    /// The camera's zones in pixels, as the rules engine last resolved them.
    zones: Vec<(String, Polygon)>,
    /// Capture time of the last frame: when the camera stops, open events end there.
    last_frame_at: Option<SystemTime>,
    /// Anonymous counts of the camera's counting zones (see [`CameraStages::with_stats`]).
    stats: Option<stats_stage::StatsStage>,
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
        }
    }

    /// Counts the camera's counting zones into the statistics.
    pub fn with_stats(mut self, stats: stats_stage::StatsStage) -> Self {
        self.stats = Some(stats);
        self
    }

    /// Events to alerts: an opening gets its two pictures, then every phase is published.
    fn publish(&mut self, frame: &Frame, tracks: &[TrackedObject], out: RulesOutput) {
        for mut ev in out.events {
            let pictures = match ev.phase {
                EventPhase::Opened => out
                    .evidence
                    .iter()
                    .find(|e| e.event_id == ev.id)
                    .map(|e| self.evidence.render(frame, tracks, &self.people, e)),
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
            self.people = d
                .iter()
                .filter(|d| d.score >= PEOPLE_BLUR_SCORE && Some(d.class_id) == self.person)
                .map(|d| d.bbox)
                .collect();
        }
        let now = frame.captured_at;
        self.last_frame_at = Some(now);
        let mut out = self.rules.process(frame, tracks);
        if let Some(zones) = out.zones.take() {
            let info = zones.iter().map(|(n, p)| ZoneInfo { name: n.clone(), polygon: p.points.clone() }).collect();
            self.wall.set_zones(&self.camera, info);
            self.zones = zones;
        }
        self.publish(frame, tracks, out);
        self.index.observe(frame, tracks, &self.zones, now);
        if let Some(s) = self.stats.as_mut() {
            s.observe(frame, tracks);
        }
        self.wall.update(&self.camera, frame, tracks, &self.people);
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
