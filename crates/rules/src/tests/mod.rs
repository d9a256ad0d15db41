//! Engine tests on synthetic tracks and frames, one module per event type.

mod abandoned;
mod config;
mod crowd;
mod graffiti;
mod intrusion;
mod paint;
mod person_down;
mod reload;
mod vehicle;
mod wrong_way;

use crate::{
    AbandonedObjectParams, Calibration, CameraRules, CrowdParams, EventsConfig, IntrusionParams, PersonDownParams,
    RuleConfig, RuleParams, VehicleParams, WrongWayParams, ZoneConfig, ZoneKind,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vigie_core::{BBox, ClassMap, Event, EventPhase, EventType, Frame, TrackedObject};

pub fn coco() -> ClassMap {
    ClassMap::parse(include_str!("../../../../assets/models/coco80_labels.txt"))
}

/// Monday 2024-07-01 12:00:00 in Paris (10:00 UTC).
pub const NOON_PARIS: u64 = 1_719_828_000;

pub fn zone(name: &str, kind: ZoneKind, poly: &[[f64; 2]]) -> ZoneConfig {
    ZoneConfig::area(name, kind, poly)
}

pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

pub fn rule(id: &str, t: EventType, zone: &str) -> RuleConfig {
    RuleConfig::new(id, t, zone, "Arrêté municipal n° 2024-117, art. 3")
}

/// Accessors to a rule's typed parameters, for tests that know the rule's type.
macro_rules! params_of {
    ($name:ident, $variant:ident, $ty:ty) => {
        pub fn $name(r: &mut RuleConfig) -> &mut $ty {
            match &mut r.params {
                RuleParams::$variant(p) => p,
                other => panic!("not a {} rule: {other:?}", stringify!($variant)),
            }
        }
    };
}
params_of!(vehicle_params, VehicleInPedestrianZone, VehicleParams);
params_of!(crowd_params, Crowd, CrowdParams);
params_of!(abandoned_params, AbandonedObject, AbandonedObjectParams);
params_of!(graffiti_params, Graffiti, crate::GraffitiParams);
params_of!(wrong_way_params, WrongWay, WrongWayParams);
params_of!(intrusion_params, Intrusion, IntrusionParams);
params_of!(person_down_params, PersonDown, PersonDownParams);

pub fn trk(id: u64, class: &str, b: BBox) -> TrackedObject {
    TrackedObject {
        track_id: id,
        bbox: b,
        score: 0.9,
        class_id: coco().id(class).expect("coco class"),
        age: 10,
        frames_since_update: 0,
        velocity: (0.0, 0.0),
    }
}

/// A box of `w`×`h` standing on the ground point `(x, y)`.
pub fn at(x: f32, y: f32, w: f32, h: f32) -> BBox {
    BBox::new(x - w / 2.0, y - h, x + w / 2.0, y)
}

/// Drives a camera engine with simulated time.
pub struct Sim {
    pub rules: CameraRules,
    pub start: SystemTime,
    pub fps: f64,
    pub t: f64,
    pub seq: u64,
    pub frame: Frame,
    pub events: Vec<(f64, Event)>,
    /// What the pictures of the opened events must show, in order.
    pub evidence: Vec<crate::Evidence>,
}

impl Sim {
    pub fn new(zones: &[ZoneConfig], rules: &[RuleConfig], calib: Option<&Calibration>, size: (usize, usize)) -> Sim {
        Self::with(zones, rules, calib, &EventsConfig::default(), size, NOON_PARIS)
    }

    pub fn with(
        zones: &[ZoneConfig],
        rules: &[RuleConfig],
        calib: Option<&Calibration>,
        ev: &EventsConfig,
        size: (usize, usize),
        start_unix: u64,
    ) -> Sim {
        let rules = CameraRules::new("cam", zones, rules, calib, ev, size, "sha-test", &coco()).expect("valid config");
        Sim {
            rules,
            start: UNIX_EPOCH + Duration::from_secs(start_unix),
            fps: 10.0,
            t: 0.0,
            seq: 0,
            frame: Frame::solid(size.0, size.1, [100, 128, 128]),
            events: Vec::new(),
            evidence: Vec::new(),
        }
    }

    pub fn now(&self) -> SystemTime {
        self.start + Duration::from_secs_f64(self.t)
    }

    /// One frame with these tracks; time then advances by one frame.
    pub fn step(&mut self, tracks: &[TrackedObject]) -> Vec<Event> {
        self.seq += 1;
        self.frame.seq = self.seq;
        let now = self.now();
        let ev = self.rules.process(&self.frame, tracks, now);
        for e in &ev {
            self.events.push((self.t, e.clone()));
        }
        self.evidence.extend_from_slice(self.rules.evidence());
        self.t += 1.0 / self.fps;
        ev
    }

    /// Runs `secs` seconds, asking `f(t)` for the tracks of each frame.
    pub fn run(&mut self, secs: f64, mut f: impl FnMut(f64) -> Vec<TrackedObject>) {
        let end = self.t + secs - 1e-9;
        while self.t < end {
            let tr = f(self.t);
            self.step(&tr);
        }
    }

    pub fn phases(&self, phase: EventPhase) -> Vec<(f64, Event)> {
        self.events.iter().filter(|(_, e)| e.phase == phase).cloned().collect()
    }

    pub fn opened(&self) -> Vec<(f64, Event)> {
        self.phases(EventPhase::Opened)
    }
}
