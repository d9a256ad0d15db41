//! What the rules engine hands to operators, the store and the audit trail.

use crate::{BBox, UnixMs};
use serde::{Deserialize, Serialize};

/// The event types the city can switch on, with the names used in config, API and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    VehicleInPedestrianZone,
    Crowd,
    AbandonedObject,
    Graffiti,
    WrongWay,
    Intrusion,
    PersonDown,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::VehicleInPedestrianZone,
        EventType::Crowd,
        EventType::AbandonedObject,
        EventType::Graffiti,
        EventType::WrongWay,
        EventType::Intrusion,
        EventType::PersonDown,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::VehicleInPedestrianZone => "vehicle_in_pedestrian_zone",
            EventType::Crowd => "crowd",
            EventType::AbandonedObject => "abandoned_object",
            EventType::Graffiti => "graffiti",
            EventType::WrongWay => "wrong_way",
            EventType::Intrusion => "intrusion",
            EventType::PersonDown => "person_down",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a rule's alerts go to operators or only to the supervisors' calibration review.
///
/// Before a rule goes live its alerts are checked by supervisors (the evaluation of the 2024
/// Olympics trial called this phase essential): a calibration alert is never shown to operators,
/// never notified, and its right/wrong marks give the precision recorded when the rule goes live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    #[default]
    Live,
    Calibration,
}

impl RuleMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleMode::Live => "live",
            RuleMode::Calibration => "calibration",
        }
    }

    pub fn parse(s: &str) -> Option<RuleMode> {
        match s {
            "live" => Some(RuleMode::Live),
            "calibration" => Some(RuleMode::Calibration),
            _ => None,
        }
    }

    pub fn is_calibration(&self) -> bool {
        *self == RuleMode::Calibration
    }
}

/// Lifecycle of an event as the rules engine sees it (operator decisions live in the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPhase {
    /// First emission: the situation just crossed the rule's thresholds.
    Opened,
    /// Same situation, still going: measures updated, no new alert.
    Updated,
    /// The situation ended (hysteresis elapsed).
    Closed,
}

/// The measure that makes an event serious: people counted, seconds dwelt, metres travelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakMeasure {
    /// `"count"`, `"density_per_m2"`, `"dwell_s"`, `"distance_m"`, `"distance_px"`, `"area_px"`...
    pub kind: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Unique id, stable across the updates of one event.
    pub id: String,
    pub event_type: EventType,
    pub phase: EventPhase,
    pub camera: String,
    pub zone: String,
    pub rule: String,
    pub rule_version: u32,
    /// Calibration events go to the supervisors' review queue only.
    #[serde(default)]
    pub mode: RuleMode,
    pub legal_basis: String,
    pub started_at_ms: UnixMs,
    pub ended_at_ms: Option<UnixMs>,
    /// Frame sequence number at which the rule fired (first emission) or was last updated.
    pub frame_seq: u64,
    pub track_ids: Vec<u64>,
    pub peak: PeakMeasure,
    /// Where in the image the event is (subject's box, changed region of a wall...).
    pub region: Option<BBox>,
    /// SHA-256 of the detector model that produced the tracks.
    pub model_sha256: String,
    /// JPEG evidence with every non-subject person blurred; absent on `Updated`/`Closed` if unchanged.
    #[serde(skip)]
    pub snapshot_jpeg: Option<std::sync::Arc<Vec<u8>>>,
}
