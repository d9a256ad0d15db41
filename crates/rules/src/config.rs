//! Per-camera zones, rules and calibration, and the city-wide `[events]` switches, as written in
//! `vigie.toml`, with each rule type's parameters and defaults. [`crate::validate`] checks them.

use crate::geometry::to_pixels;
use serde::{Deserialize, Serialize};
use vigie_core::{ConfigError, EventType, Polygon};

pub use crate::validate::{calibration_homography, validate_camera};

/// What a zone is on the ground; decides which rules may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    PedestrianStreet,
    Square,
    Wall,
    /// A traffic or walking lane with a legal direction of travel.
    Lane,
    Forbidden,
    /// A counting line (a polyline, `points`), not an area: crossings are counted per direction.
    Line,
}

impl ZoneKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ZoneKind::PedestrianStreet => "pedestrian_street",
            ZoneKind::Square => "square",
            ZoneKind::Wall => "wall",
            ZoneKind::Lane => "lane",
            ZoneKind::Forbidden => "forbidden",
            ZoneKind::Line => "line",
        }
    }

    /// Whether the zone is an area (a `polygon`) rather than a counting line (`points`).
    pub fn is_area(&self) -> bool {
        *self != ZoneKind::Line
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub name: String,
    pub kind: ZoneKind,
    /// Vertices in image coordinates: pixels, or normalised 0–1 when every value is ≤ 1.
    /// Areas only (empty for a line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<[f64; 2]>,
    /// Lanes only: the legal direction of travel in the image, `[dx, dy]` (any length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<[f64; 2]>,
    /// Lines only: the polyline, first point to last, in the same coordinates as polygons.
    /// Crossing from its left to its right, looking along it, is `in`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<[f64; 2]>,
    /// Areas only: count entries and mean occupancy per class (anonymous statistics).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count: bool,
}

impl ZoneConfig {
    /// An area zone with no lane direction and no counting.
    pub fn area(name: &str, kind: ZoneKind, polygon: &[[f64; 2]]) -> Self {
        ZoneConfig {
            name: name.into(),
            kind,
            polygon: polygon.to_vec(),
            direction: None,
            points: Vec::new(),
            count: false,
        }
    }

    /// A counting line along `points`.
    pub fn line(name: &str, points: &[[f64; 2]]) -> Self {
        ZoneConfig {
            name: name.into(),
            kind: ZoneKind::Line,
            polygon: Vec::new(),
            direction: None,
            points: points.to_vec(),
            count: false,
        }
    }

    /// Whether the zone produces statistics: every line, and areas with `count = true`.
    pub fn counts(&self) -> bool {
        self.kind == ZoneKind::Line || self.count
    }
}

/// Four image points and where they lie on the ground, in metres (any planar frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Pixels, or normalised 0–1 like zone polygons.
    pub image: Vec<[f64; 2]>,
    pub ground_m: Vec<[f64; 2]>,
}

/// One rule as the operator wrote it: an event type bound to a zone, the settings every type
/// shares, and the type's own parameters ([`RuleParams`], whose variant is the rule's type).
/// Keys left out take the type's defaults (the accessors); serialising gives back exactly the keys
/// that were written, so the console and the file write-back do not invent values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RuleSpec", into = "RuleSpec")]
pub struct RuleConfig {
    pub id: String,
    pub zone: String,
    pub enabled: bool,
    /// The decision or article that authorises this processing; required to enable the rule.
    pub legal_basis: Option<String>,
    /// Bumped by whoever edits the rule; carried by every event so decisions can be traced.
    pub version: u32,
    /// How long the situation must last before the alert; the default depends on the type.
    pub min_duration_s: Option<f64>,
    /// After an event closes, no new event opens for this rule for this long.
    pub cooldown_s: Option<f64>,
    /// An open event closes only once its condition has been false for this long.
    pub hysteresis_s: Option<f64>,
    /// Local-time windows when the rule is in force (`"10:00-19:00"`, `"mon-fri 07:00-09:00"`);
    /// empty = always.
    pub schedule: Vec<String>,
    pub params: RuleParams,
    /// Keys written for this rule that its type does not take. Kept (not refused while parsing)
    /// so validation reports them with the camera's and rule's path, alongside every other error.
    misplaced: Vec<&'static str>,
}

/// A rule type's own parameters, as written (`None` = the type's default, see the accessors).
#[derive(Debug, Clone, PartialEq)]
pub enum RuleParams {
    VehicleInPedestrianZone(VehicleParams),
    Crowd(CrowdParams),
    AbandonedObject(AbandonedObjectParams),
    Graffiti(GraffitiParams),
    WrongWay(WrongWayParams),
    Intrusion(IntrusionParams),
    PersonDown(PersonDownParams),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VehicleParams {
    /// Detector class names (COCO); default: cars, trucks, buses, motorcycles.
    pub classes: Option<Vec<String>>,
    /// Count bicycles as vehicles (added to the default classes).
    pub include_bicycles: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrowdParams {
    /// Default: people.
    pub classes: Option<Vec<String>>,
    /// People in the zone at or above which it is a crowd. One of this and the density is needed.
    pub min_count: Option<u32>,
    /// People per ground m² (needs calibration).
    pub max_density_per_m2: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AbandonedObjectParams {
    /// Smallest object, in full-frame pixels².
    pub min_area_px: Option<f64>,
    /// Only objects someone was seen bringing (default true).
    pub require_owner: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraffitiParams {
    /// Smallest changed region of the wall, in full-frame pixels².
    pub min_area_px: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrongWayParams {
    /// Default: people, bicycles and motor vehicles.
    pub classes: Option<Vec<String>>,
    /// Distance travelled against the lane, in metres (needs calibration).
    pub min_distance_m: Option<f64>,
    /// Distance travelled against the lane, in pixels.
    pub min_distance_px: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntrusionParams {
    /// Default: people.
    pub classes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonDownParams {
    /// Default: people.
    pub classes: Option<Vec<String>>,
    /// Box width/height at or above which a person counts as lying.
    pub lying_aspect: Option<f64>,
    /// Calibrated cameras: box height, in ground metres, under which a person counts as lying.
    pub max_lying_height_m: Option<f64>,
}

impl AbandonedObjectParams {
    pub fn min_area_px(&self) -> f64 {
        self.min_area_px.unwrap_or(300.0)
    }

    pub fn require_owner(&self) -> bool {
        self.require_owner.unwrap_or(true)
    }
}

impl GraffitiParams {
    pub fn min_area_px(&self) -> f64 {
        self.min_area_px.unwrap_or(150.0)
    }
}

impl WrongWayParams {
    /// The distances (metres, pixels) that trigger the rule. With neither distance nor a
    /// duration asked for, 80 pixels.
    pub fn distances(&self, duration_given: bool) -> (Option<f64>, Option<f64>) {
        match (self.min_distance_m, self.min_distance_px) {
            (None, None) if !duration_given => (None, Some(80.0)),
            other => other,
        }
    }
}

impl PersonDownParams {
    pub fn lying_aspect(&self) -> f64 {
        self.lying_aspect.unwrap_or(1.2)
    }

    pub fn max_lying_height_m(&self) -> f64 {
        self.max_lying_height_m.unwrap_or(1.0)
    }
}

impl RuleParams {
    /// The parameters of a rule of type `t` with every key left out.
    pub fn defaults(t: EventType) -> Self {
        match t {
            EventType::VehicleInPedestrianZone => RuleParams::VehicleInPedestrianZone(VehicleParams::default()),
            EventType::Crowd => RuleParams::Crowd(CrowdParams::default()),
            EventType::AbandonedObject => RuleParams::AbandonedObject(AbandonedObjectParams::default()),
            EventType::Graffiti => RuleParams::Graffiti(GraffitiParams::default()),
            EventType::WrongWay => RuleParams::WrongWay(WrongWayParams::default()),
            EventType::Intrusion => RuleParams::Intrusion(IntrusionParams::default()),
            EventType::PersonDown => RuleParams::PersonDown(PersonDownParams::default()),
        }
    }

    pub fn event_type(&self) -> EventType {
        match self {
            RuleParams::VehicleInPedestrianZone(_) => EventType::VehicleInPedestrianZone,
            RuleParams::Crowd(_) => EventType::Crowd,
            RuleParams::AbandonedObject(_) => EventType::AbandonedObject,
            RuleParams::Graffiti(_) => EventType::Graffiti,
            RuleParams::WrongWay(_) => EventType::WrongWay,
            RuleParams::Intrusion(_) => EventType::Intrusion,
            RuleParams::PersonDown(_) => EventType::PersonDown,
        }
    }

    /// The classes as written, for the types that take a class list.
    pub fn classes(&self) -> Option<&Vec<String>> {
        match self {
            RuleParams::VehicleInPedestrianZone(p) => p.classes.as_ref(),
            RuleParams::Crowd(p) => p.classes.as_ref(),
            RuleParams::WrongWay(p) => p.classes.as_ref(),
            RuleParams::Intrusion(p) => p.classes.as_ref(),
            RuleParams::PersonDown(p) => p.classes.as_ref(),
            RuleParams::AbandonedObject(_) | RuleParams::Graffiti(_) => None,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_version() -> u32 {
    1
}

/// A rule as it is written in `vigie.toml` and exchanged with the console: one flat table, the
/// type's parameters beside the common keys. Only (de)serialisation sees this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    #[serde(rename = "type")]
    event_type: EventType,
    zone: String,
    #[serde(default = "default_true")]
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    legal_basis: Option<String>,
    #[serde(default = "default_version")]
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_density_per_m2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cooldown_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hysteresis_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    schedule: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    include_bicycles: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_distance_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_distance_px: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_area_px: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    require_owner: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lying_aspect: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_lying_height_m: Option<f64>,
}

/// Whether rules of type `t` take the type-specific key `k` (the keys of its [`RuleParams`] variant).
fn takes(t: EventType, k: &str) -> bool {
    use EventType::*;
    match k {
        "classes" => !matches!(t, AbandonedObject | Graffiti),
        "min_count" | "max_density_per_m2" => t == Crowd,
        "include_bicycles" => t == VehicleInPedestrianZone,
        "min_distance_m" | "min_distance_px" => t == WrongWay,
        "min_area_px" => matches!(t, AbandonedObject | Graffiti),
        "require_owner" => t == AbandonedObject,
        "lying_aspect" | "max_lying_height_m" => t == PersonDown,
        _ => true,
    }
}

impl From<RuleSpec> for RuleConfig {
    fn from(w: RuleSpec) -> Self {
        use RuleParams as P;
        let params = match w.event_type {
            EventType::VehicleInPedestrianZone => P::VehicleInPedestrianZone(VehicleParams {
                classes: w.classes.clone(),
                include_bicycles: w.include_bicycles,
            }),
            EventType::Crowd => P::Crowd(CrowdParams {
                classes: w.classes.clone(),
                min_count: w.min_count,
                max_density_per_m2: w.max_density_per_m2,
            }),
            EventType::AbandonedObject => {
                P::AbandonedObject(AbandonedObjectParams { min_area_px: w.min_area_px, require_owner: w.require_owner })
            }
            EventType::Graffiti => P::Graffiti(GraffitiParams { min_area_px: w.min_area_px }),
            EventType::WrongWay => P::WrongWay(WrongWayParams {
                classes: w.classes.clone(),
                min_distance_m: w.min_distance_m,
                min_distance_px: w.min_distance_px,
            }),
            EventType::Intrusion => P::Intrusion(IntrusionParams { classes: w.classes.clone() }),
            EventType::PersonDown => P::PersonDown(PersonDownParams {
                classes: w.classes.clone(),
                lying_aspect: w.lying_aspect,
                max_lying_height_m: w.max_lying_height_m,
            }),
        };
        let t = w.event_type;
        let misplaced = [
            ("classes", w.classes.is_some()),
            ("min_count", w.min_count.is_some()),
            ("max_density_per_m2", w.max_density_per_m2.is_some()),
            ("include_bicycles", w.include_bicycles.is_some()),
            ("min_distance_m", w.min_distance_m.is_some()),
            ("min_distance_px", w.min_distance_px.is_some()),
            ("min_area_px", w.min_area_px.is_some()),
            ("require_owner", w.require_owner.is_some()),
            ("lying_aspect", w.lying_aspect.is_some()),
            ("max_lying_height_m", w.max_lying_height_m.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| (set && !takes(t, k)).then_some(k))
        .collect();
        RuleConfig {
            id: w.id,
            zone: w.zone,
            enabled: w.enabled,
            legal_basis: w.legal_basis,
            version: w.version,
            min_duration_s: w.min_duration_s,
            cooldown_s: w.cooldown_s,
            hysteresis_s: w.hysteresis_s,
            schedule: w.schedule,
            params,
            misplaced,
        }
    }
}

impl From<RuleConfig> for RuleSpec {
    fn from(r: RuleConfig) -> Self {
        let mut w = RuleSpec {
            id: r.id,
            event_type: r.params.event_type(),
            zone: r.zone,
            enabled: r.enabled,
            legal_basis: r.legal_basis,
            version: r.version,
            classes: None,
            min_duration_s: r.min_duration_s,
            min_count: None,
            max_density_per_m2: None,
            cooldown_s: r.cooldown_s,
            hysteresis_s: r.hysteresis_s,
            schedule: r.schedule,
            include_bicycles: None,
            min_distance_m: None,
            min_distance_px: None,
            min_area_px: None,
            require_owner: None,
            lying_aspect: None,
            max_lying_height_m: None,
        };
        match r.params {
            RuleParams::VehicleInPedestrianZone(p) => {
                w.classes = p.classes;
                w.include_bicycles = p.include_bicycles;
            }
            RuleParams::Crowd(p) => {
                w.classes = p.classes;
                w.min_count = p.min_count;
                w.max_density_per_m2 = p.max_density_per_m2;
            }
            RuleParams::AbandonedObject(p) => {
                w.min_area_px = p.min_area_px;
                w.require_owner = p.require_owner;
            }
            RuleParams::Graffiti(p) => w.min_area_px = p.min_area_px,
            RuleParams::WrongWay(p) => {
                w.classes = p.classes;
                w.min_distance_m = p.min_distance_m;
                w.min_distance_px = p.min_distance_px;
            }
            RuleParams::Intrusion(p) => w.classes = p.classes,
            RuleParams::PersonDown(p) => {
                w.classes = p.classes;
                w.lying_aspect = p.lying_aspect;
                w.max_lying_height_m = p.max_lying_height_m;
            }
        }
        w
    }
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}

/// The top-level `[events]` section: city-wide switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Event types switched off for every camera, whatever the cameras' rules say.
    #[serde(default)]
    pub disabled: Vec<EventType>,
    /// IANA time zone in which rule schedules are read.
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self { disabled: Vec::new(), timezone: default_timezone() }
    }
}

impl EventsConfig {
    pub fn is_disabled(&self, t: EventType) -> bool {
        self.disabled.contains(&t)
    }

    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, ConfigError> {
        jiff::tz::TimeZone::get(&self.timezone).map_err(|_| {
            ConfigError::new(
                "events.timezone",
                format!("unknown time zone \"{}\"; use an IANA name such as \"Europe/Paris\"", self.timezone),
            )
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.time_zone()?;
        Ok(())
    }
}

/// The durations a rule runs with, its config's gaps filled with the type's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleTiming {
    pub min_duration_s: f64,
    pub cooldown_s: f64,
    pub hysteresis_s: f64,
}

// The class groups are shared with search's text parser (the abandoned-object model does not
// mask bags out; bicycles join the vehicles on request).
pub use vigie_core::classes::{BAG_CLASSES, MOVER_CLASSES, VEHICLE_CLASSES};

/// Seconds the graffiti rule waits after the person left before comparing the wall, so the
/// short-term background has forgotten them.
pub const GRAFFITI_SETTLE_S: f64 = 2.0;
/// Seconds the wall change must persist before the alert.
pub const GRAFFITI_PERSIST_S: f64 = 1.0;

impl RuleConfig {
    /// An enabled rule with every parameter at its type's default.
    pub fn new(id: &str, event_type: EventType, zone: &str, legal_basis: &str) -> Self {
        RuleConfig {
            id: id.into(),
            zone: zone.into(),
            enabled: true,
            legal_basis: Some(legal_basis.into()),
            version: 1,
            min_duration_s: None,
            cooldown_s: None,
            hysteresis_s: None,
            schedule: Vec::new(),
            params: RuleParams::defaults(event_type),
            misplaced: Vec::new(),
        }
    }

    pub fn event_type(&self) -> EventType {
        self.params.event_type()
    }

    /// Keys written for this rule that its type does not take.
    pub(crate) fn misplaced_keys(&self) -> &[&'static str] {
        &self.misplaced
    }

    /// The detector classes the rule looks at: those written, or the type's defaults.
    pub fn classes(&self) -> Vec<String> {
        if let Some(c) = self.params.classes() {
            return c.clone();
        }
        match &self.params {
            RuleParams::VehicleInPedestrianZone(p) => {
                let mut c: Vec<String> = VEHICLE_CLASSES.iter().map(|s| s.to_string()).collect();
                if p.include_bicycles == Some(true) {
                    c.push("bicycle".into());
                }
                c
            }
            RuleParams::WrongWay(_) => MOVER_CLASSES.iter().map(|s| s.to_string()).collect(),
            _ => vec!["person".to_string()],
        }
    }

    /// The durations the rule runs with.
    pub fn timing(&self) -> RuleTiming {
        use EventType::*;
        let t = self.event_type();
        RuleTiming {
            min_duration_s: self.min_duration_s.unwrap_or(match t {
                VehicleInPedestrianZone => 5.0,
                Crowd => 10.0,
                AbandonedObject => 30.0,
                Graffiti => 8.0,
                WrongWay => 3.0,
                Intrusion => 1.0,
                PersonDown => 10.0,
            }),
            cooldown_s: self.cooldown_s.unwrap_or(match t {
                Graffiti | AbandonedObject => 60.0,
                _ => 30.0,
            }),
            hysteresis_s: self.hysteresis_s.unwrap_or(match t {
                Crowd => 5.0,
                _ => 3.0,
            }),
        }
    }

    /// Seconds between the start of the situation (as scenarios annotate it) and the earliest
    /// moment the rule may alert: its own minimum duration.
    pub fn alert_floor_s(&self) -> f64 {
        match self.event_type() {
            EventType::Graffiti => GRAFFITI_SETTLE_S + GRAFFITI_PERSIST_S,
            // Without a duration asked for, wrong way triggers on distance alone.
            EventType::WrongWay if self.min_duration_s.is_none() => 0.0,
            _ => self.timing().min_duration_s,
        }
    }
}

/// Which zone kinds a rule type may be bound to.
pub fn zone_kinds_for(t: EventType) -> &'static [ZoneKind] {
    use ZoneKind::*;
    match t {
        EventType::VehicleInPedestrianZone => &[PedestrianStreet, Square],
        EventType::Graffiti => &[Wall],
        EventType::WrongWay => &[Lane],
        EventType::Intrusion => &[Forbidden],
        EventType::Crowd | EventType::AbandonedObject | EventType::PersonDown => {
            &[PedestrianStreet, Square, Lane, Forbidden]
        }
    }
}

/// Longest duration any rule parameter may take: a day. Anything longer is a typo, and values
/// like 1e308 would overflow the engine's time arithmetic.
pub const MAX_DURATION_S: f64 = 86_400.0;
/// Most people a crowd rule may count.
pub const MAX_COUNT: u32 = 10_000;
/// Largest image coordinate accepted in a zone (the recorder's largest frame side).
pub const MAX_PIXEL: f64 = 65_535.0;

/// Detector classes the camera's active rules look at, so the pipeline may run the tracker on
/// those only. The abandoned-object model wants people, vehicles and bags (it masks out what
/// moves and keeps bags).
pub fn classes_needed(rules: &[RuleConfig], events: &EventsConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules.iter().filter(|r| r.enabled && !events.is_disabled(r.event_type())) {
        let mut c = r.classes();
        if r.event_type() == EventType::AbandonedObject {
            c.extend(MOVER_CLASSES.iter().chain(BAG_CLASSES.iter()).map(|s| s.to_string()));
        }
        for n in c {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// A zone's polygon in pixels of a `w`×`h` frame.
pub fn zone_polygon(z: &ZoneConfig, w: usize, h: usize) -> Polygon {
    crate::geometry::to_polygon(&to_pixels(&z.polygon, w, h))
}
