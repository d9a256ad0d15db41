//! What every rule shares with the engine that runs it: the frame as a rule sees it
//! ([`FrameContext`]), a rule's resolved definition ([`RuleDef`]) and what a rule reports for
//! one frame ([`Observation`]). The rule logics (`track_rules`, `scene_rules`) and the engine
//! import this module; the engine sits on top and none of them imports it.

use crate::config::{RuleConfig, RuleTiming, ZoneConfig, BAG_CLASSES, VEHICLE_CLASSES};
use crate::geometry::Homography;
use crate::schedule::Schedule;
use std::collections::VecDeque;
use vigie_core::{BBox, ClassMap, EventType, Polygon, TrackedObject};

/// A track may leave the zone (or the detector may miss it) for this long without losing its
/// accumulated state: tracker jitter at zone borders must not restart the clock.
pub(crate) const GAP_S: f64 = 1.0;

/// What one rule reports for one frame.
pub(crate) struct Observation {
    /// The rule's thresholds are met now (durations included): may open an event.
    pub active: bool,
    /// The situation goes on, even if not (again) for the minimum duration: keeps an open
    /// event open (a gathering that thins out for a moment and regroups is the same one).
    pub holding: bool,
    pub tracks: Vec<u64>,
    pub measure: f64,
    pub kind: &'static str,
    pub region: Option<BBox>,
    /// No single subject (a crowd): every person in the snapshot is anonymised.
    pub blur_all: bool,
}

impl Observation {
    pub fn new(kind: &'static str) -> Self {
        Observation {
            active: false,
            holding: false,
            tracks: Vec::new(),
            measure: 0.0,
            kind,
            region: None,
            blur_all: false,
        }
    }

    pub fn add(&mut self, t: &TrackedObject, measure: f64) {
        self.active = true;
        self.holding = true;
        self.tracks.push(t.track_id);
        self.measure = self.measure.max(measure);
        self.region = Some(self.region.map_or(t.bbox, |r| r.union(&t.bbox)));
    }
}

/// Class ids by role, resolved once from the detector's class map.
pub(crate) struct ClassSets {
    pub person: Option<u16>,
    vehicle: Vec<bool>,
    bag: Vec<bool>,
}

impl ClassSets {
    pub fn new(map: &ClassMap) -> Self {
        let mask = |names: &[&str]| {
            let mut m = vec![false; map.len()];
            for n in names {
                if let Some(i) = map.id(n) {
                    m[i as usize] = true;
                }
            }
            m
        };
        let mut vehicle_names: Vec<&str> = VEHICLE_CLASSES.to_vec();
        vehicle_names.push("bicycle");
        ClassSets { person: map.id("person"), vehicle: mask(&vehicle_names), bag: mask(&BAG_CLASSES) }
    }

    pub fn is_vehicle(&self, c: u16) -> bool {
        self.vehicle.get(c as usize).copied().unwrap_or(false)
    }

    pub fn is_bag(&self, c: u16) -> bool {
        self.bag.get(c as usize).copied().unwrap_or(false)
    }
}

/// Recent tracks (time, id, class, box), for finding who was near an object when it appeared.
pub(crate) type History = VecDeque<(f64, Vec<(u64, u16, BBox)>)>;
/// Seconds of track history kept.
pub(crate) const HISTORY_S: f64 = 40.0;

/// One frame as a rule sees it.
pub(crate) struct FrameContext<'a> {
    /// The frame's wall-clock time, seconds since the Unix epoch.
    pub now: f64,
    pub tracks: &'a [TrackedObject],
    pub homography: Option<&'a Homography>,
    pub classes: &'a ClassSets,
    pub history: &'a History,
}

/// A rule's fixed definition, resolved against the frame size and class map.
pub(crate) struct RuleDef {
    pub id: String,
    pub event_type: EventType,
    pub version: u32,
    pub legal_basis: String,
    pub zone_name: String,
    pub zone: Polygon,
    pub timing: RuleTiming,
    /// Per class id: whether the rule looks at it.
    pub class_mask: Vec<bool>,
    pub schedule: Schedule,
    /// Lanes: unit vector of the legal direction, in image coordinates.
    pub direction: (f64, f64),
    pub ground_area_m2: Option<f64>,
    /// As configured, to tell on reload whether the rule changed.
    pub config: RuleConfig,
    pub zone_config: ZoneConfig,
}

impl RuleDef {
    pub fn class_ok(&self, c: u16) -> bool {
        self.class_mask.get(c as usize).copied().unwrap_or(false)
    }
}
