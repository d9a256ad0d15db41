//! Per-camera zones, rules and calibration, and the city-wide `[events]` switches, as written in
//! `vigie.toml`. Validation names the key at fault (`cameras.plaza.rules.crowd-square.legal_basis`).

use crate::geometry::{is_normalised, polygon_area, to_pixels, Homography};
use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};
use vigie_core::config::key;
use vigie_core::{ConfigError, EventType, Polygon};

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
}

impl ZoneKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ZoneKind::PedestrianStreet => "pedestrian_street",
            ZoneKind::Square => "square",
            ZoneKind::Wall => "wall",
            ZoneKind::Lane => "lane",
            ZoneKind::Forbidden => "forbidden",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub name: String,
    pub kind: ZoneKind,
    /// Vertices in image coordinates: pixels, or normalised 0–1 when every value is ≤ 1.
    pub polygon: Vec<[f64; 2]>,
    /// Lanes only: the legal direction of travel in the image, `[dx, dy]` (any length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<[f64; 2]>,
}

/// Four image points and where they lie on the ground, in metres (any planar frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Pixels, or normalised 0–1 like zone polygons.
    pub image: Vec<[f64; 2]>,
    pub ground_m: Vec<[f64; 2]>,
}

fn default_true() -> bool {
    true
}

fn default_version() -> u32 {
    1
}

/// One rule: an event type bound to a zone, with its parameters. Parameters left out take the
/// type's defaults ([`RuleParams`]); a parameter that does not apply to the type is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub zone: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The decision or article that authorises this processing; required to enable the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// Bumped by whoever edits the rule; carried by every event so decisions can be traced.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Detector class names (COCO) the rule looks at; defaults depend on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_density_per_m2: Option<f64>,
    /// After an event closes, no new event opens for this rule for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<f64>,
    /// An open event closes only once its condition has been false for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis_s: Option<f64>,
    /// Local-time windows when the rule is in force (`"10:00-19:00"`, `"mon-fri 07:00-09:00"`);
    /// empty = always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<String>,
    /// vehicle_in_pedestrian_zone: count bicycles as vehicles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_bicycles: Option<bool>,
    /// wrong_way: distance travelled against the lane, in metres (needs calibration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_distance_m: Option<f64>,
    /// wrong_way: distance travelled against the lane, in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_distance_px: Option<f64>,
    /// abandoned_object, graffiti: smallest object or changed region, in full-frame pixels².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_area_px: Option<f64>,
    /// abandoned_object: only objects someone was seen bringing (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_owner: Option<bool>,
    /// person_down: box width/height at or above which a person counts as lying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lying_aspect: Option<f64>,
    /// person_down (calibrated cameras): box height, in ground metres, under which a person counts as lying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lying_height_m: Option<f64>,
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

/// The parameters a rule runs with, its config's gaps filled with the type's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleParams {
    pub classes: Vec<String>,
    pub min_duration_s: f64,
    pub min_count: Option<u32>,
    pub max_density_per_m2: Option<f64>,
    pub cooldown_s: f64,
    pub hysteresis_s: f64,
    pub min_distance_m: Option<f64>,
    pub min_distance_px: Option<f64>,
    /// wrong_way: whether `min_duration_s` was asked for (otherwise only distance counts).
    pub use_duration: bool,
    pub min_area_px: f64,
    pub require_owner: bool,
    pub lying_aspect: f64,
    pub max_lying_height_m: f64,
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
            event_type,
            zone: zone.into(),
            enabled: true,
            legal_basis: Some(legal_basis.into()),
            version: 1,
            classes: None,
            min_duration_s: None,
            min_count: None,
            max_density_per_m2: None,
            cooldown_s: None,
            hysteresis_s: None,
            schedule: Vec::new(),
            include_bicycles: None,
            min_distance_m: None,
            min_distance_px: None,
            min_area_px: None,
            require_owner: None,
            lying_aspect: None,
            max_lying_height_m: None,
        }
    }

    /// Which optional keys are meaningful for this rule's type.
    fn applicable(&self, k: &str) -> bool {
        use EventType::*;
        match k {
            "classes" => !matches!(self.event_type, AbandonedObject | Graffiti),
            "min_count" | "max_density_per_m2" => self.event_type == Crowd,
            "include_bicycles" => self.event_type == VehicleInPedestrianZone,
            "min_distance_m" | "min_distance_px" => self.event_type == WrongWay,
            "min_area_px" => matches!(self.event_type, AbandonedObject | Graffiti),
            "require_owner" => self.event_type == AbandonedObject,
            "lying_aspect" | "max_lying_height_m" => self.event_type == PersonDown,
            _ => true,
        }
    }

    fn set_keys(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |k: &'static str, set: bool| {
            if set {
                v.push(k)
            }
        };
        add("classes", self.classes.is_some());
        add("min_count", self.min_count.is_some());
        add("max_density_per_m2", self.max_density_per_m2.is_some());
        add("include_bicycles", self.include_bicycles.is_some());
        add("min_distance_m", self.min_distance_m.is_some());
        add("min_distance_px", self.min_distance_px.is_some());
        add("min_area_px", self.min_area_px.is_some());
        add("require_owner", self.require_owner.is_some());
        add("lying_aspect", self.lying_aspect.is_some());
        add("max_lying_height_m", self.max_lying_height_m.is_some());
        v
    }

    /// The parameters this rule runs with.
    pub fn params(&self) -> RuleParams {
        use EventType::*;
        let t = self.event_type;
        let default_classes: Vec<String> = match t {
            VehicleInPedestrianZone => {
                let mut c: Vec<String> = VEHICLE_CLASSES.iter().map(|s| s.to_string()).collect();
                if self.include_bicycles == Some(true) {
                    c.push("bicycle".into());
                }
                c
            }
            WrongWay => MOVER_CLASSES.iter().map(|s| s.to_string()).collect(),
            _ => vec!["person".to_string()],
        };
        let min_duration_s = self.min_duration_s.unwrap_or(match t {
            VehicleInPedestrianZone => 5.0,
            Crowd => 10.0,
            AbandonedObject => 30.0,
            Graffiti => 8.0,
            WrongWay => 3.0,
            Intrusion => 1.0,
            PersonDown => 10.0,
        });
        let (min_distance_m, min_distance_px) = match (self.min_distance_m, self.min_distance_px) {
            (None, None) if t == WrongWay && self.min_duration_s.is_none() => (None, Some(80.0)),
            other => other,
        };
        RuleParams {
            classes: self.classes.clone().unwrap_or(default_classes),
            min_duration_s,
            min_count: self.min_count,
            max_density_per_m2: self.max_density_per_m2,
            cooldown_s: self.cooldown_s.unwrap_or(match t {
                Graffiti | AbandonedObject => 60.0,
                _ => 30.0,
            }),
            hysteresis_s: self.hysteresis_s.unwrap_or(match t {
                Crowd => 5.0,
                _ => 3.0,
            }),
            min_distance_m,
            min_distance_px,
            use_duration: t == WrongWay && self.min_duration_s.is_some(),
            min_area_px: self.min_area_px.unwrap_or(match t {
                Graffiti => 150.0,
                _ => 300.0,
            }),
            require_owner: self.require_owner.unwrap_or(true),
            lying_aspect: self.lying_aspect.unwrap_or(1.2),
            max_lying_height_m: self.max_lying_height_m.unwrap_or(1.0),
        }
    }

    /// Seconds between the start of the situation (as scenarios annotate it) and the earliest
    /// moment the rule may alert: its own minimum duration.
    pub fn alert_floor_s(&self) -> f64 {
        let p = self.params();
        match self.event_type {
            EventType::Graffiti => GRAFFITI_SETTLE_S + GRAFFITI_PERSIST_S,
            EventType::WrongWay if !p.use_duration => 0.0,
            _ => p.min_duration_s,
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

fn check_polygon(points: &[[f64; 2]], k: &str) -> Result<(), ConfigError> {
    if points.len() < 3 {
        return Err(ConfigError::new(k, format!("a zone needs at least 3 points, got {}", points.len())));
    }
    if let Some((i, _)) = points.iter().enumerate().find(|(_, p)| !p[0].is_finite() || !p[1].is_finite()) {
        return Err(ConfigError::new(k, format!("point {} is not a finite number", i + 1)));
    }
    if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p[0] < 0.0 || p[1] < 0.0) {
        return Err(ConfigError::new(
            k,
            format!("point {} [{}, {}] is negative; image coordinates start at 0", i + 1, p[0], p[1]),
        ));
    }
    if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p[0] > MAX_PIXEL || p[1] > MAX_PIXEL) {
        return Err(ConfigError::new(
            k,
            format!("point {} [{}, {}] is beyond any camera picture (at most {MAX_PIXEL})", i + 1, p[0], p[1]),
        ));
    }
    let pts: Vec<(f64, f64)> = points.iter().map(|p| (p[0], p[1])).collect();
    if !crate::geometry::to_polygon(&pts).is_simple() {
        return Err(ConfigError::new(k, "the polygon crosses itself; list its points in order around the zone"));
    }
    let min_area = if is_normalised(points) { 1e-6 } else { 1.0 };
    if polygon_area(&pts) < min_area {
        return Err(ConfigError::new(k, "the polygon has no area (points on a line or repeated)"));
    }
    Ok(())
}

/// Longest duration any rule parameter may take: a day. Anything longer is a typo, and values
/// like 1e308 would overflow the engine's time arithmetic.
pub const MAX_DURATION_S: f64 = 86_400.0;
/// Most people a crowd rule may count.
pub const MAX_COUNT: u32 = 10_000;
/// Largest image coordinate accepted in a zone (the recorder's largest frame side).
pub const MAX_PIXEL: f64 = 65_535.0;

/// A finite number in `min..=max` (`min` itself excluded when `strictly_positive`), with the
/// range and the unit in the message.
fn check_range(v: Option<f64>, k: &str, strictly_positive: bool, max: f64, unit: &str) -> Result<(), ConfigError> {
    if let Some(x) = v {
        let low_ok = if strictly_positive { x > 0.0 } else { x >= 0.0 };
        if !x.is_finite() || !low_ok || x > max {
            let want = if strictly_positive { "a positive number" } else { "a number ≥ 0" };
            return Err(ConfigError::new(k, format!("must be {want} and ≤ {max}{unit}, got {x:?}")));
        }
    }
    Ok(())
}

/// The calibration's homography for a `w`×`h` frame (normalised points are scaled to it).
pub fn calibration_homography(c: &Calibration, w: usize, h: usize, parent: &str) -> Result<Homography, ConfigError> {
    let img = to_pixels(&c.image, w, h);
    let four = |v: &[(f64, f64)], k: &str| -> Result<[(f64, f64); 4], ConfigError> {
        v.try_into().map_err(|_| ConfigError::new(key(parent, k), format!("needs exactly 4 points, got {}", v.len())))
    };
    let src = four(&img, "image")?;
    let ground: Vec<(f64, f64)> = c.ground_m.iter().map(|p| (p[0], p[1])).collect();
    let dst = four(&ground, "ground_m")?;
    for (k, pts) in [("image", &src), ("ground_m", &dst)] {
        if pts.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return Err(ConfigError::new(key(parent, k), "points must be finite numbers"));
        }
    }
    Homography::from_points(&src, &dst).ok_or_else(|| {
        ConfigError::new(
            key(parent, "image"),
            "three of the four calibration points lie on one line (in the image or on the ground); \
             pick four corners of a ground rectangle",
        )
    })
}

/// Validates one camera's zones, rules and calibration against the city-wide switches.
/// Errors name the key: `cameras.<id>.zones.<name>.<key>`, `cameras.<id>.rules.<rule id>.<key>`,
/// `cameras.<id>.calibration.<key>`, `events.<key>`. Frame-dependent checks (pixel zones inside
/// the frame, class names known to the detector) happen in [`crate::CameraRules::new`].
pub fn validate_camera(
    camera_id: &str,
    zones: &[ZoneConfig],
    rules: &[RuleConfig],
    calibration: Option<&Calibration>,
    events: &EventsConfig,
) -> Result<(), ConfigError> {
    events.validate()?;
    let cam = format!("cameras.{camera_id}");
    for (i, z) in zones.iter().enumerate() {
        if z.name.trim().is_empty() {
            return Err(ConfigError::new(format!("{cam}.zones[{i}].name"), "a zone needs a name"));
        }
        let zk = format!("{cam}.zones.{}", z.name);
        if zones[..i].iter().any(|o| o.name == z.name) {
            return Err(ConfigError::new(key(&zk, "name"), "another zone of this camera has the same name"));
        }
        check_polygon(&z.polygon, &key(&zk, "polygon"))?;
        match (z.kind, z.direction) {
            (ZoneKind::Lane, None) => {
                return Err(ConfigError::new(
                    key(&zk, "direction"),
                    "a lane needs its legal direction of travel in the image, e.g. direction = [0, 1]",
                ))
            }
            (ZoneKind::Lane, Some(d)) => {
                if !(d[0].is_finite() && d[1].is_finite()) || d[0].hypot(d[1]) < 1e-9 {
                    return Err(ConfigError::new(key(&zk, "direction"), "must be a non-zero vector [dx, dy]"));
                }
            }
            (k, Some(_)) => {
                return Err(ConfigError::new(
                    key(&zk, "direction"),
                    format!("only lanes have a direction; this zone is a {}", k.as_str()),
                ))
            }
            (_, None) => {}
        }
    }
    if let Some(c) = calibration {
        let ck = format!("{cam}.calibration");
        // Normalised points are checked on the unit square; pixel points are taken as they are.
        calibration_homography(c, 1, 1, &ck)?;
    }
    for (i, r) in rules.iter().enumerate() {
        if r.id.trim().is_empty() {
            return Err(ConfigError::new(format!("{cam}.rules[{i}].id"), "a rule needs an id"));
        }
        let rk = format!("{cam}.rules.{}", r.id);
        if rules[..i].iter().any(|o| o.id == r.id) {
            return Err(ConfigError::new(key(&rk, "id"), "another rule of this camera has the same id"));
        }
        let Some(zone) = zones.iter().find(|z| z.name == r.zone) else {
            let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
            return Err(ConfigError::new(
                key(&rk, "zone"),
                format!("no zone named \"{}\" on this camera (zones: {})", r.zone, names.join(", ")),
            ));
        };
        let kinds = zone_kinds_for(r.event_type);
        if !kinds.contains(&zone.kind) {
            let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(ConfigError::new(
                key(&rk, "zone"),
                format!(
                    "{} rules apply to {} zones; \"{}\" is a {}",
                    r.event_type,
                    allowed.join(" or "),
                    zone.name,
                    zone.kind.as_str()
                ),
            ));
        }
        if r.enabled && r.legal_basis.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(ConfigError::new(
                key(&rk, "legal_basis"),
                "rule is enabled but has no legal basis; state the decision or article that authorises it",
            ));
        }
        if r.version == 0 {
            return Err(ConfigError::new(key(&rk, "version"), "versions start at 1"));
        }
        for k in r.set_keys() {
            if !r.applicable(k) {
                return Err(ConfigError::new(key(&rk, k), format!("does not apply to {} rules", r.event_type)));
            }
        }
        if let Some(c) = &r.classes {
            if c.is_empty() {
                return Err(ConfigError::new(key(&rk, "classes"), "list at least one class, or leave the key out"));
            }
            if let Some(bad) = c.iter().find(|s| s.trim().is_empty()) {
                return Err(ConfigError::new(key(&rk, "classes"), format!("empty class name \"{bad}\"")));
            }
        }
        for (k, v) in
            [("min_duration_s", r.min_duration_s), ("cooldown_s", r.cooldown_s), ("hysteresis_s", r.hysteresis_s)]
        {
            check_range(v, &key(&rk, k), false, MAX_DURATION_S, " s")?;
        }
        check_range(r.max_density_per_m2, &key(&rk, "max_density_per_m2"), true, 20.0, " people/m²")?;
        check_range(r.min_distance_m, &key(&rk, "min_distance_m"), true, 10_000.0, " m")?;
        check_range(r.min_distance_px, &key(&rk, "min_distance_px"), true, MAX_PIXEL * 2.0, " px")?;
        check_range(r.min_area_px, &key(&rk, "min_area_px"), true, MAX_PIXEL * MAX_PIXEL, " px²")?;
        check_range(r.lying_aspect, &key(&rk, "lying_aspect"), true, 20.0, "")?;
        check_range(r.max_lying_height_m, &key(&rk, "max_lying_height_m"), true, 10.0, " m")?;
        if let Some(n) = r.min_count.filter(|n| !(1..=MAX_COUNT).contains(n)) {
            return Err(ConfigError::new(key(&rk, "min_count"), format!("must be between 1 and {MAX_COUNT}, got {n}")));
        }
        if r.event_type == EventType::Crowd && r.min_count.is_none() && r.max_density_per_m2.is_none() {
            return Err(ConfigError::new(
                key(&rk, "min_count"),
                "a crowd rule needs min_count (people) or max_density_per_m2 (with calibration)",
            ));
        }
        if calibration.is_none() {
            for (k, set) in [
                ("max_density_per_m2", r.max_density_per_m2.is_some()),
                ("min_distance_m", r.min_distance_m.is_some()),
                ("max_lying_height_m", r.max_lying_height_m.is_some()),
            ] {
                if set {
                    return Err(ConfigError::new(
                        key(&rk, k),
                        format!("measures in metres need the camera's ground calibration ({cam}.calibration)"),
                    ));
                }
            }
        }
        Schedule::parse(&r.schedule).map_err(|m| ConfigError::new(key(&rk, "schedule"), m))?;
    }
    Ok(())
}

/// Detector classes the camera's active rules look at, so the pipeline may run the tracker on
/// those only. The abandoned-object model wants people, vehicles and bags (it masks out what
/// moves and keeps bags).
pub fn classes_needed(rules: &[RuleConfig], events: &EventsConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules.iter().filter(|r| r.enabled && !events.is_disabled(r.event_type)) {
        let mut c = r.params().classes;
        if r.event_type == EventType::AbandonedObject {
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
