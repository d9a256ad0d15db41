use super::*;
use crate::{classes_needed, validate_camera};
use vigie_core::{ConfigError, ConfigErrors};

fn zones() -> Vec<ZoneConfig> {
    let mut lane = zone("voie", ZoneKind::Lane, &rect(0.0, 0.5, 0.5, 1.0));
    lane.direction = Some([0.0, 1.0]);
    vec![
        zone("square", ZoneKind::Square, &rect(0.1, 0.1, 0.9, 0.9)),
        lane,
        zone("mur", ZoneKind::Wall, &rect(0.0, 0.0, 1.0, 0.2)),
    ]
}

fn err(z: &[ZoneConfig], r: &[RuleConfig]) -> String {
    validate_camera("plaza", z, r, None, &EventsConfig::default()).unwrap_err().to_string()
}

/// The one error reported.
fn only(e: ConfigErrors) -> ConfigError {
    assert_eq!(e.len(), 1, "{e}");
    e.into_vec().remove(0)
}

#[test]
fn enabled_rule_without_legal_basis_is_refused_and_named() {
    let mut r = rule("crowd-square", EventType::Crowd, "square");
    crowd_params(&mut r).min_count = Some(10);
    r.legal_basis = None;
    assert_eq!(
        err(&zones(), &[r.clone()]),
        "cameras.plaza.rules.crowd-square.legal_basis: rule is enabled but has no legal basis; state the decision or article that authorises it"
    );
    r.legal_basis = Some("   ".into());
    assert!(err(&zones(), &[r.clone()]).contains("crowd-square.legal_basis"));
    r.enabled = false;
    validate_camera("plaza", &zones(), &[r], None, &EventsConfig::default()).expect("a disabled rule needs no basis");
}

#[test]
fn calibration_rules_need_a_legal_basis_and_round_trip_through_the_file() {
    let r: RuleConfig =
        toml::from_str("id = \"r1\"\ntype = \"crowd\"\nzone = \"square\"\nmode = \"calibration\"\nmin_count = 3")
            .unwrap();
    assert_eq!(r.mode, vigie_core::RuleMode::Calibration);
    assert_eq!(
        err(&zones(), std::slice::from_ref(&r)),
        "cameras.plaza.rules.r1.legal_basis: rule is in calibration mode but has no legal basis; state the decision or article that authorises it"
    );
    let mut r = r;
    r.legal_basis = Some("Arrêté 2025-17".into());
    let written = toml::to_string(&r).unwrap();
    assert!(written.contains("mode = \"calibration\""), "{written}");
    assert_eq!(toml::from_str::<RuleConfig>(&written).unwrap(), r);
    // Live is the default and is not written, so files without calibration keep their shape.
    r.mode = vigie_core::RuleMode::Live;
    assert!(!toml::to_string(&r).unwrap().contains("mode"));
    let bad = toml::from_str::<RuleConfig>("id = \"r1\"\ntype = \"crowd\"\nzone = \"square\"\nmode = \"test\"");
    assert!(bad.unwrap_err().to_string().contains("unknown variant `test`"));
}

#[test]
fn errors_name_the_zone_or_rule_and_key() {
    let mut z = zones();
    z[1].direction = None;
    assert!(err(&z, &[]).starts_with("cameras.plaza.zones.voie.direction: a lane needs"));
    let mut z = zones();
    z[0].direction = Some([1.0, 0.0]);
    assert!(err(&z, &[]).starts_with("cameras.plaza.zones.square.direction: only lanes"));
    let mut z = zones();
    z[0].polygon = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
    assert!(err(&z, &[]).starts_with("cameras.plaza.zones.square.polygon: the polygon crosses itself"));
    let mut z = zones();
    z[2].name = "square".into();
    assert!(err(&z, &[]).starts_with("cameras.plaza.zones.square.name: another zone"));

    let r = rule("r1", EventType::Intrusion, "nowhere");
    assert!(err(&zones(), &[r]).starts_with("cameras.plaza.rules.r1.zone: no zone named \"nowhere\""));
    let r = rule("r1", EventType::Graffiti, "square");
    assert!(err(&zones(), &[r]).contains("rules.r1.zone: graffiti rules apply to wall zones"));
    let r: RuleConfig =
        toml::from_str("id = \"r1\"\ntype = \"person_down\"\nzone = \"square\"\nlegal_basis = \"x\"\nmin_count = 3")
            .unwrap();
    assert_eq!(err(&zones(), &[r]), "cameras.plaza.rules.r1.min_count: does not apply to person_down rules");
    let r = rule("r1", EventType::Crowd, "square");
    assert!(err(&zones(), &[r]).starts_with("cameras.plaza.rules.r1.min_count: a crowd rule needs"));
    let mut r = rule("r1", EventType::Crowd, "square");
    crowd_params(&mut r).max_density_per_m2 = Some(2.0);
    assert!(err(&zones(), &[r]).starts_with("cameras.plaza.rules.r1.max_density_per_m2: measures in metres need"));
    let mut r = rule("r1", EventType::VehicleInPedestrianZone, "square");
    r.schedule = vec!["10:00-19:00".into(), "10h-19h".into()];
    assert!(err(&zones(), &[r]).starts_with("cameras.plaza.rules.r1.schedule: entry 2 \"10h-19h\""));
    let mut r = rule("r1", EventType::VehicleInPedestrianZone, "square");
    r.min_duration_s = Some(-1.0);
    assert!(err(&zones(), &[r]).starts_with("cameras.plaza.rules.r1.min_duration_s: must be a number ≥ 0"));
    let a = rule("dup", EventType::VehicleInPedestrianZone, "square");
    assert!(err(&zones(), &[a.clone(), a]).starts_with("cameras.plaza.rules.dup.id: another rule"));
}

/// Out-of-range numbers (huge, negative, not a number, infinite) are refused by key, with the
/// range; the largest sane values pass.
#[test]
fn numeric_parameters_have_sane_ranges() {
    let crowd = |f: &dyn Fn(&mut RuleConfig)| {
        let mut r = rule("r1", EventType::Crowd, "square");
        crowd_params(&mut r).min_count = Some(3);
        f(&mut r);
        validate_camera("plaza", &zones(), &[r], None, &EventsConfig::default()).map_err(only)
    };
    for (v, shown) in
        [(1e308, "1e308"), (86_400.5, "86400.5"), (-0.5, "-0.5"), (f64::NAN, "NaN"), (f64::INFINITY, "inf")]
    {
        let e = crowd(&|r| r.min_duration_s = Some(v)).unwrap_err();
        assert_eq!(e.key, "cameras.plaza.rules.r1.min_duration_s", "{e}");
        assert!(e.message.contains("86400") && e.message.contains(shown), "{e}");
        let e = crowd(&|r| r.cooldown_s = Some(v)).unwrap_err();
        assert_eq!(e.key, "cameras.plaza.rules.r1.cooldown_s", "{e}");
        let e = crowd(&|r| r.hysteresis_s = Some(v)).unwrap_err();
        assert_eq!(e.key, "cameras.plaza.rules.r1.hysteresis_s", "{e}");
    }
    crowd(&|r| {
        r.min_duration_s = Some(86_400.0);
        r.cooldown_s = Some(0.0);
        crowd_params(r).min_count = Some(crate::config::MAX_COUNT);
    })
    .expect("the bounds themselves are accepted");
    let e = crowd(&|r| crowd_params(r).min_count = Some(crate::config::MAX_COUNT + 1)).unwrap_err();
    assert_eq!(e.to_string(), "cameras.plaza.rules.r1.min_count: must be between 1 and 10000, got 10001");
    let e = crowd(&|r| crowd_params(r).min_count = Some(0)).unwrap_err();
    assert_eq!(e.key, "cameras.plaza.rules.r1.min_count");

    let mut r = rule("down", EventType::PersonDown, "square");
    person_down_params(&mut r).lying_aspect = Some(1e9);
    let e = only(validate_camera("plaza", &zones(), &[r], None, &EventsConfig::default()).unwrap_err());
    assert_eq!(e.key, "cameras.plaza.rules.down.lying_aspect", "{e}");
    let mut r = rule("tag", EventType::Graffiti, "mur");
    graffiti_params(&mut r).min_area_px = Some(f64::MAX);
    let e = only(validate_camera("plaza", &zones(), &[r], None, &EventsConfig::default()).unwrap_err());
    assert_eq!(e.key, "cameras.plaza.rules.tag.min_area_px", "{e}");
    let mut r = rule("ww", EventType::WrongWay, "voie");
    wrong_way_params(&mut r).min_distance_px = Some(-3.0);
    let e = only(validate_camera("plaza", &zones(), &[r], None, &EventsConfig::default()).unwrap_err());
    assert_eq!(e.key, "cameras.plaza.rules.ww.min_distance_px", "{e}");

    let mut z = zones();
    z[0].polygon = vec![[0.0, 0.0], [1e12, 0.0], [1e12, 1e12]];
    let e = only(validate_camera("plaza", &z, &[], None, &EventsConfig::default()).unwrap_err());
    assert_eq!(e.key, "cameras.plaza.zones.square.polygon", "{e}");
    assert!(e.message.contains("beyond any camera picture"), "{e}");
}

#[test]
fn calibration_and_timezone_errors() {
    let bad =
        Calibration { image: vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [5.0, 0.0]], ground_m: vec![[0.0, 0.0]; 4] };
    let e = only(validate_camera("plaza", &zones(), &[], Some(&bad), &EventsConfig::default()).unwrap_err());
    assert_eq!(e.key, "cameras.plaza.calibration.image");
    let three = Calibration { image: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], ground_m: vec![[0.0, 0.0]; 4] };
    let e = only(validate_camera("plaza", &zones(), &[], Some(&three), &EventsConfig::default()).unwrap_err());
    assert_eq!(e.to_string(), "cameras.plaza.calibration.image: needs exactly 4 points, got 3");
    let ev = EventsConfig { timezone: "Europe/Lutece".into(), ..Default::default() };
    let e = only(validate_camera("plaza", &zones(), &[], None, &ev).unwrap_err());
    assert_eq!(e.key, "events.timezone");
}

#[test]
fn engine_checks_classes_and_frame_bounds() {
    let mut r = rule("r1", EventType::Intrusion, "zone");
    intrusion_params(&mut r).classes = Some(vec!["unicorn".into()]);
    let z = zone("zone", ZoneKind::Forbidden, &rect(10.0, 10.0, 100.0, 100.0));
    let e =
        CameraRules::new("c", std::slice::from_ref(&z), &[r], None, &EventsConfig::default(), (640, 480), "", &coco())
            .err()
            .unwrap();
    assert!(e.to_string().starts_with("cameras.c.rules.r1.classes: \"unicorn\" is not a class of the detector"), "{e}");
    let big = zone("zone", ZoneKind::Forbidden, &rect(10.0, 10.0, 1000.0, 100.0));
    let e = CameraRules::new("c", &[big], &[], None, &EventsConfig::default(), (640, 480), "", &coco()).err().unwrap();
    assert!(
        e.to_string().starts_with("cameras.c.zones.zone.polygon: point 2 (1000, 10) is outside the 640×480 frame"),
        "{e}"
    );
}

#[test]
fn city_wide_switch_disables_a_type_everywhere() {
    let z = zone("zone", ZoneKind::Forbidden, &rect(0.0, 0.0, 640.0, 480.0));
    let r = rule("intr", EventType::Intrusion, "zone");
    let off = EventsConfig { disabled: vec![EventType::Intrusion], ..Default::default() };
    let mut s = Sim::with(std::slice::from_ref(&z), std::slice::from_ref(&r), None, &off, (640, 480), NOON_PARIS);
    assert!(s.rules.active_rules().is_empty());
    s.run(10.0, |_| vec![trk(1, "person", at(300.0, 300.0, 30.0, 80.0))]);
    assert!(s.events.is_empty());
    assert!(classes_needed(std::slice::from_ref(&r), &off).is_empty());
    assert_eq!(classes_needed(&[r], &EventsConfig::default()), vec!["person".to_string()]);
}

#[test]
fn toml_schema_parses_and_refuses_unknown_keys() {
    #[derive(serde::Deserialize)]
    struct Cam {
        zones: Vec<ZoneConfig>,
        rules: Vec<RuleConfig>,
        calibration: Option<Calibration>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        events: EventsConfig,
        cameras: Vec<Cam>,
    }
    let text = r#"
        [events]
        disabled = ["graffiti"]
        timezone = "Europe/Paris"

        [[cameras]]
        [cameras.calibration]
        image = [[0.2, 0.5], [0.8, 0.5], [1.0, 1.0], [0.0, 1.0]]
        ground_m = [[0, 20], [12, 20], [12, 0], [0, 0]]

        [[cameras.zones]]
        name = "square"
        kind = "square"
        polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]

        [[cameras.zones]]
        name = "lane-north"
        kind = "lane"
        polygon = [[0.0, 0.6], [0.3, 0.6], [0.3, 1.0], [0.0, 1.0]]
        direction = [0, -1]

        [[cameras.rules]]
        id = "crowd-square"
        type = "crowd"
        zone = "square"
        legal_basis = "Arrêté municipal 2024-117, art. 3"
        min_count = 8
        max_density_per_m2 = 2.0
        min_duration_s = 10
        cooldown_s = 120
        schedule = ["10:00-19:00"]
    "#;
    let f: File = toml::from_str(text).unwrap();
    let c = &f.cameras[0];
    validate_camera("plaza", &c.zones, &c.rules, c.calibration.as_ref(), &f.events).unwrap();
    assert_eq!(c.rules[0].timing().cooldown_s, 120.0);
    assert_eq!(c.rules[0].timing().hysteresis_s, 5.0, "crowd default");
    assert!(f.events.is_disabled(EventType::Graffiti));
    let bad = text.replace("min_count = 8", "min_cnt = 8");
    let e = toml::from_str::<File>(&bad).err().unwrap().to_string();
    assert!(e.contains("min_cnt"), "{e}");
    let bad = text.replace("type = \"crowd\"", "type = \"crowds\"");
    assert!(toml::from_str::<File>(&bad).is_err());
}

/// A camera with many mistakes gets every one reported, each under its key, in one pass.
#[test]
fn every_mistake_is_reported_with_its_key() {
    let mut z = zones();
    z[1].direction = None;
    z.push(zone("", ZoneKind::Square, &rect(0.1, 0.1, 0.2, 0.2)));
    let mut no_basis = rule("crowd", EventType::Crowd, "square");
    crowd_params(&mut no_basis).min_count = Some(0);
    no_basis.legal_basis = None;
    no_basis.min_duration_s = Some(-1.0);
    let mut bad_schedule = rule("tag", EventType::Graffiti, "nowhere");
    bad_schedule.schedule = vec!["10h-19h".into()];
    let misplaced: RuleConfig = toml::from_str(
        "id = \"ww\"\ntype = \"wrong_way\"\nzone = \"voie\"\nlegal_basis = \"x\"\nmin_count = 3\nrequire_owner = false",
    )
    .unwrap();
    let nameless = rule(" ", EventType::VehicleInPedestrianZone, "square");
    let errs =
        validate_camera("plaza", &z, &[no_basis, bad_schedule, misplaced, nameless], None, &EventsConfig::default())
            .unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "cameras.plaza.zones.voie.direction",
            "cameras.plaza.zones[3].name",
            "cameras.plaza.rules.crowd.legal_basis",
            "cameras.plaza.rules.crowd.min_duration_s",
            "cameras.plaza.rules.crowd.min_count",
            "cameras.plaza.rules.tag.zone",
            "cameras.plaza.rules.tag.schedule",
            "cameras.plaza.rules.ww.min_count",
            "cameras.plaza.rules.ww.require_owner",
            "cameras.plaza.rules[3].id",
        ],
        "{errs}"
    );
    assert_eq!(errs.to_string().lines().count(), keys.len());
    assert!(errs[4].message.contains("between 1 and 10000, got 0"), "{errs}");
    assert_eq!(errs[8].message, "does not apply to wrong_way rules");
}

/// A rule reads into the parameters of its type and writes back exactly the keys it was given,
/// in the file's order: the console and the file write-back see the same table.
#[test]
fn rules_read_into_their_type_and_write_back_unchanged() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct File {
        rules: Vec<RuleConfig>,
    }
    let text = r#"[[rules]]
id = "crowd-square"
type = "crowd"
zone = "square"
enabled = true
legal_basis = "Arrêté 2024-117"
version = 3
min_duration_s = 10.0
min_count = 8
cooldown_s = 120.0
schedule = ["10:00-19:00"]

[[rules]]
id = "down"
type = "person_down"
zone = "square"
enabled = false
version = 1
classes = ["person"]
lying_aspect = 1.5

[[rules]]
id = "depot"
type = "abandoned_object"
zone = "square"
enabled = true
legal_basis = "x"
version = 1
min_area_px = 500.0
require_owner = false
"#;
    let mut f: File = toml::from_str(text).unwrap();
    assert_eq!(toml::to_string(&f).unwrap(), text);
    assert_eq!(f.rules[0].event_type(), EventType::Crowd);
    assert_eq!(
        f.rules[0].params,
        RuleParams::Crowd(CrowdParams { classes: None, min_count: Some(8), max_density_per_m2: None })
    );
    assert_eq!(f.rules[0].timing().hysteresis_s, 5.0, "crowd default");
    assert!(f.rules[0].misplaced_keys().is_empty());
    let RuleParams::PersonDown(p) = &f.rules[1].params else { panic!("{:?}", f.rules[1].params) };
    assert_eq!((p.lying_aspect(), p.max_lying_height_m()), (1.5, 1.0), "written, then default");
    let RuleParams::AbandonedObject(p) = &f.rules[2].params else { panic!("{:?}", f.rules[2].params) };
    assert_eq!((p.min_area_px(), p.require_owner()), (500.0, false));
    // A parameter set in code comes out under its key.
    abandoned_params(&mut f.rules[2]).require_owner = None;
    let out = toml::to_string(&f).unwrap();
    assert!(out.contains("min_area_px = 500.0\n") && !out.contains("require_owner"), "{out}");
}

/// Counting lines: a polyline of two points or more, never a polygon; areas never take points;
/// rules need areas. Every fault is reported under its key in one pass.
#[test]
fn counting_lines_are_checked_and_rules_refuse_them() {
    let line = ZoneConfig::line("north", &[[10.0, 300.0], [700.0, 320.0]]);
    let mut counted = zone("square", ZoneKind::Square, &rect(0.1, 0.1, 0.9, 0.9));
    counted.count = true;
    validate_camera("plaza", &[line.clone(), counted], &[], None, &EventsConfig::default()).expect("valid");

    let one = ZoneConfig::line("north", &[[10.0, 300.0]]);
    assert_eq!(
        err(&[one], &[]),
        "cameras.plaza.zones.north.points: a counting line needs at least 2 points [[x, y], …], got 1"
    );
    let same = ZoneConfig::line("north", &[[10.0, 300.0], [10.0, 300.0]]);
    assert!(err(&[same], &[]).starts_with("cameras.plaza.zones.north.points: the line has no length"));
    let mut both = line.clone();
    both.polygon = rect(0.0, 0.0, 10.0, 10.0);
    both.count = true;
    let e = validate_camera("plaza", &[both], &[], None, &EventsConfig::default()).unwrap_err();
    let keys: Vec<String> = e.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, ["cameras.plaza.zones.north.polygon", "cameras.plaza.zones.north.count"], "{e}");
    let mut area = zone("square", ZoneKind::Square, &rect(0.1, 0.1, 0.9, 0.9));
    area.points = vec![[0.0, 0.0], [1.0, 1.0]];
    assert!(err(&[area], &[]).starts_with("cameras.plaza.zones.square.points: only counting lines"));

    let r = rule("r1", EventType::Intrusion, "north");
    assert_eq!(
        err(std::slice::from_ref(&line), &[r]),
        "cameras.plaza.rules.r1.zone: \"north\" is a counting line; intrusion rules need an area zone (a polygon)"
    );

    // Written in TOML as an operator would.
    let z: ZoneConfig = toml::from_str("name = \"north\"\nkind = \"line\"\npoints = [[10, 300], [700, 320]]").unwrap();
    assert_eq!(z, line);
    let back = toml::to_string(&z).unwrap();
    assert!(!back.contains("polygon") && !back.contains("count"), "{back}");
}
