//! Checks of a camera's zones, rules and calibration against the city-wide switches, made before
//! anything runs. Every mistake is reported, each under its key
//! (`cameras.plaza.rules.crowd-square.min_count`), so an operator fixes a file or a console edit
//! in one pass rather than one reload per mistake.

use crate::config::{
    zone_kinds_for, Calibration, EventsConfig, RuleConfig, RuleParams, ZoneConfig, ZoneKind, MAX_COUNT, MAX_DURATION_S,
    MAX_PIXEL,
};
use crate::geometry::{is_normalised, polygon_area, to_pixels, Homography};
use crate::schedule::Schedule;
use vigie_core::config::key;
use vigie_core::{ConfigError, ConfigErrors};

/// A zone's polygon: enough finite points within any picture, not crossing itself, with an
/// area. One message for the key: the first fault found.
fn check_polygon(points: &[[f64; 2]], k: &str) -> Result<(), ConfigError> {
    if points.len() < 3 {
        return Err(ConfigError::new(k, format!("a zone needs at least 3 points, got {}", points.len())));
    }
    check_points(points, k)?;
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

/// A counting line: at least two finite points within any picture, and some length.
fn check_line(points: &[[f64; 2]], k: &str) -> Result<(), ConfigError> {
    if points.len() < 2 {
        return Err(ConfigError::new(
            k,
            format!("a counting line needs at least 2 points [[x, y], …], got {}", points.len()),
        ));
    }
    check_points(points, k)?;
    if points.windows(2).all(|w| w[0] == w[1]) {
        return Err(ConfigError::new(k, "the line has no length (all its points are the same)"));
    }
    Ok(())
}

/// Every point finite, not negative, within the largest picture.
fn check_points(points: &[[f64; 2]], k: &str) -> Result<(), ConfigError> {
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
    Ok(())
}

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

/// Validates one camera's zones, rules and calibration against the city-wide switches, and
/// reports every error. Keys: `cameras.<id>.zones.<name>.<key>`, `cameras.<id>.rules.<rule
/// id>.<key>` (`zones[i]`, `rules[i]` when the name or id is missing), `cameras.<id>.calibration.<key>`,
/// `events.<key>`. Frame-dependent checks (pixel zones inside the frame, class names known to the
/// detector) happen in [`crate::CameraRules::new`].
pub fn validate_camera(
    camera_id: &str,
    zones: &[ZoneConfig],
    rules: &[RuleConfig],
    calibration: Option<&Calibration>,
    events: &EventsConfig,
) -> Result<(), ConfigErrors> {
    let mut errs = ConfigErrors::new();
    errs.check(events.validate());
    let cam = format!("cameras.{camera_id}");
    for (i, z) in zones.iter().enumerate() {
        check_zone(z, &zones[..i], i, &cam, &mut errs);
    }
    if let Some(c) = calibration {
        // Normalised points are checked on the unit square; pixel points are taken as they are.
        errs.check(calibration_homography(c, 1, 1, &format!("{cam}.calibration")));
    }
    for (i, r) in rules.iter().enumerate() {
        check_rule(r, &rules[..i], i, zones, calibration.is_some(), &cam, &mut errs);
    }
    errs.into_result()
}

/// `before`: the camera's zones listed earlier, for duplicate names.
fn check_zone(z: &ZoneConfig, before: &[ZoneConfig], i: usize, cam: &str, errs: &mut ConfigErrors) {
    let zk = if z.name.trim().is_empty() {
        errs.push(ConfigError::new(format!("{cam}.zones[{i}].name"), "a zone needs a name"));
        format!("{cam}.zones[{i}]")
    } else {
        if before.iter().any(|o| o.name == z.name) {
            errs.push(ConfigError::new(
                format!("{cam}.zones.{}.name", z.name),
                "another zone of this camera has the same name",
            ));
        }
        format!("{cam}.zones.{}", z.name)
    };
    if z.kind.is_area() {
        errs.check(check_polygon(&z.polygon, &key(&zk, "polygon")));
        if !z.points.is_empty() {
            errs.push(ConfigError::new(
                key(&zk, "points"),
                format!(
                    "only counting lines (kind = \"line\") have points; this zone is a {}: give its polygon",
                    z.kind.as_str()
                ),
            ));
        }
    } else {
        errs.check(check_line(&z.points, &key(&zk, "points")));
        if !z.polygon.is_empty() {
            errs.push(ConfigError::new(
                key(&zk, "polygon"),
                "a counting line has points = [[x, y], …] (a polyline), not a polygon",
            ));
        }
        if z.count {
            errs.push(ConfigError::new(key(&zk, "count"), "lines always count crossings; count = true is for areas"));
        }
    }
    let direction = key(&zk, "direction");
    match (z.kind, z.direction) {
        (ZoneKind::Lane, None) => errs.push(ConfigError::new(
            direction,
            "a lane needs its legal direction of travel in the image, e.g. direction = [0, 1]",
        )),
        (ZoneKind::Lane, Some(d)) => {
            if !(d[0].is_finite() && d[1].is_finite()) || d[0].hypot(d[1]) < 1e-9 {
                errs.push(ConfigError::new(direction, "must be a non-zero vector [dx, dy]"));
            }
        }
        (k, Some(_)) => errs
            .push(ConfigError::new(direction, format!("only lanes have a direction; this zone is a {}", k.as_str()))),
        (_, None) => {}
    }
}

/// `before`: the camera's rules listed earlier, for duplicate ids.
fn check_rule(
    r: &RuleConfig,
    before: &[RuleConfig],
    i: usize,
    zones: &[ZoneConfig],
    calibrated: bool,
    cam: &str,
    errs: &mut ConfigErrors,
) {
    let t = r.event_type();
    let rk = if r.id.trim().is_empty() {
        errs.push(ConfigError::new(format!("{cam}.rules[{i}].id"), "a rule needs an id"));
        format!("{cam}.rules[{i}]")
    } else {
        format!("{cam}.rules.{}", r.id)
    };
    let at = |k: &str| key(&rk, k);
    if !r.id.trim().is_empty() && before.iter().any(|o| o.id == r.id) {
        errs.push(ConfigError::new(at("id"), "another rule of this camera has the same id"));
    }
    match zones.iter().find(|z| z.name == r.zone) {
        None => {
            let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
            errs.push(ConfigError::new(
                at("zone"),
                format!("no zone named \"{}\" on this camera (zones: {})", r.zone, names.join(", ")),
            ));
        }
        Some(zone) if zone.kind == ZoneKind::Line => errs.push(ConfigError::new(
            at("zone"),
            format!("\"{}\" is a counting line; {t} rules need an area zone (a polygon)", zone.name),
        )),
        Some(zone) => {
            let kinds = zone_kinds_for(t);
            if !kinds.contains(&zone.kind) {
                let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                errs.push(ConfigError::new(
                    at("zone"),
                    format!(
                        "{t} rules apply to {} zones; \"{}\" is a {}",
                        allowed.join(" or "),
                        zone.name,
                        zone.kind.as_str()
                    ),
                ));
            }
        }
    }
    if r.enabled && r.legal_basis.as_deref().is_none_or(|s| s.trim().is_empty()) {
        errs.push(ConfigError::new(
            at("legal_basis"),
            "rule is enabled but has no legal basis; state the decision or article that authorises it",
        ));
    }
    if r.version == 0 {
        errs.push(ConfigError::new(at("version"), "versions start at 1"));
    }
    for k in r.misplaced_keys() {
        errs.push(ConfigError::new(at(k), format!("does not apply to {t} rules")));
    }
    if let Some(c) = r.params.classes() {
        if c.is_empty() {
            errs.push(ConfigError::new(at("classes"), "list at least one class, or leave the key out"));
        } else if let Some(bad) = c.iter().find(|s| s.trim().is_empty()) {
            errs.push(ConfigError::new(at("classes"), format!("empty class name \"{bad}\"")));
        }
    }
    for (k, v) in [("min_duration_s", r.min_duration_s), ("cooldown_s", r.cooldown_s), ("hysteresis_s", r.hysteresis_s)]
    {
        errs.check(check_range(v, &at(k), false, MAX_DURATION_S, " s"));
    }
    // Measures in metres, which need the ground calibration.
    let mut metric: Vec<(&str, bool)> = Vec::new();
    match &r.params {
        RuleParams::Crowd(p) => {
            errs.check(check_range(p.max_density_per_m2, &at("max_density_per_m2"), true, 20.0, " people/m²"));
            if let Some(n) = p.min_count.filter(|n| !(1..=MAX_COUNT).contains(n)) {
                errs.push(ConfigError::new(at("min_count"), format!("must be between 1 and {MAX_COUNT}, got {n}")));
            }
            if p.min_count.is_none() && p.max_density_per_m2.is_none() {
                errs.push(ConfigError::new(
                    at("min_count"),
                    "a crowd rule needs min_count (people) or max_density_per_m2 (with calibration)",
                ));
            }
            metric.push(("max_density_per_m2", p.max_density_per_m2.is_some()));
        }
        RuleParams::WrongWay(p) => {
            errs.check(check_range(p.min_distance_m, &at("min_distance_m"), true, 10_000.0, " m"));
            errs.check(check_range(p.min_distance_px, &at("min_distance_px"), true, MAX_PIXEL * 2.0, " px"));
            metric.push(("min_distance_m", p.min_distance_m.is_some()));
        }
        RuleParams::AbandonedObject(p) => {
            errs.check(check_range(p.min_area_px, &at("min_area_px"), true, MAX_PIXEL * MAX_PIXEL, " px²"));
        }
        RuleParams::Graffiti(p) => {
            errs.check(check_range(p.min_area_px, &at("min_area_px"), true, MAX_PIXEL * MAX_PIXEL, " px²"));
        }
        RuleParams::PersonDown(p) => {
            errs.check(check_range(p.lying_aspect, &at("lying_aspect"), true, 20.0, ""));
            errs.check(check_range(p.max_lying_height_m, &at("max_lying_height_m"), true, 10.0, " m"));
            metric.push(("max_lying_height_m", p.max_lying_height_m.is_some()));
        }
        RuleParams::VehicleInPedestrianZone(_) | RuleParams::Intrusion(_) => {}
    }
    if !calibrated {
        for (k, _) in metric.into_iter().filter(|(_, set)| *set) {
            errs.push(ConfigError::new(
                at(k),
                format!("measures in metres need the camera's ground calibration ({cam}.calibration)"),
            ));
        }
    }
    if let Err(m) = Schedule::parse(&r.schedule) {
        errs.push(ConfigError::new(at("schedule"), m));
    }
}
