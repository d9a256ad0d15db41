//! Scoring of raised alerts against the expected events of scenarios.

use std::time::UNIX_EPOCH;
use vigie_core::{Event, EventPhase, EventType, PeakMeasure};
use vigie_eval::scenario::{score, Expected, Scenario, ScenarioCamera};
use vigie_rules::{CrowdParams, EventsConfig, RuleConfig, RuleParams, ZoneConfig, ZoneKind};

fn zone(name: &str, kind: ZoneKind, poly: &[[f64; 2]]) -> ZoneConfig {
    ZoneConfig::area(name, kind, poly)
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

fn rule(id: &str, t: EventType, zone: &str) -> RuleConfig {
    RuleConfig::new(id, t, zone, "Arrêté municipal n° 2024-117, art. 3")
}

fn scenario(name: &str, expected: Vec<Expected>, duration_s: f64) -> Scenario {
    let mut r = rule("intr", EventType::Intrusion, "z");
    r.min_duration_s = Some(2.0);
    let mut c = rule("crowd", EventType::Crowd, "z");
    c.params = RuleParams::Crowd(CrowdParams { min_count: Some(3), ..Default::default() });
    c.min_duration_s = Some(5.0);
    Scenario {
        name: name.into(),
        dir: "/tmp".into(),
        description: String::new(),
        clip: "/tmp/x.mp4".into(),
        events: EventsConfig::default(),
        camera: ScenarioCamera {
            id: "cam".into(),
            zones: vec![zone("z", ZoneKind::Forbidden, &rect(0.0, 0.0, 1.0, 1.0))],
            rules: vec![r, c],
            calibration: None,
        },
        expected,
        start: UNIX_EPOCH,
        duration_s,
        fps: 10.0,
        frame_size: (640, 480),
    }
}

fn exp(t: EventType, a: f64, b: f64) -> Expected {
    Expected { event_type: t, zone: "z".into(), start_s: a, end_s: b }
}

fn alert(t: EventType, phase: EventPhase) -> Event {
    Event {
        id: "x".into(),
        event_type: t,
        phase,
        camera: "cam".into(),
        zone: "z".into(),
        rule: "r".into(),
        rule_version: 1,
        legal_basis: "b".into(),
        started_at_ms: vigie_core::UnixMs(0),
        ended_at_ms: None,
        frame_seq: 0,
        track_ids: vec![],
        peak: PeakMeasure { kind: "count".into(), value: 1.0 },
        region: None,
        model_sha256: String::new(),
        snapshot_jpeg: None,
    }
}

#[test]
fn matching_duplicates_misses_and_report_lines() {
    use EventPhase::*;
    use EventType::*;
    let a = scenario("a", vec![exp(Intrusion, 10.0, 20.0), exp(Intrusion, 40.0, 50.0), exp(Crowd, 5.0, 30.0)], 60.0);
    let a_events = vec![
        (12.5, alert(Intrusion, Opened)),
        (13.0, alert(Intrusion, Updated)), // not an alert
        (15.0, alert(Intrusion, Opened)),  // duplicate of the first situation
        (11.0, alert(Crowd, Opened)),
        (58.0, alert(Intrusion, Opened)), // outside every window (50 + 5 tolerance)
    ];
    let neg = scenario("quiet", vec![], 1800.0);
    let neg_events = vec![(100.0, alert(Intrusion, Opened))];
    let rep = score(&[(a, a_events), (neg, neg_events)]);
    let i = &rep.per_type[&Intrusion];
    assert_eq!((i.tp, i.fp, i.fn_), (1, 3, 1));
    assert_eq!(i.delays_s, vec![2.5]);
    assert_eq!(i.delays_after_min_s, vec![0.5]);
    let c = &rep.per_type[&Crowd];
    assert_eq!((c.tp, c.fp, c.fn_), (1, 0, 0));
    let text = rep.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    assert_eq!(lines[n - 1], "overall precision=0.400 recall=0.667 false_alarms_per_camera_hour=2.00");
    assert_eq!(lines[n - 3], "intrusion tp=1 fp=3 fn=1 precision=0.250 recall=0.500 delay_p50_s=2.50");
    assert_eq!(lines[n - 7], "crowd tp=1 fp=0 fn=0 precision=1.000 recall=1.000 delay_p50_s=6.00");
    assert_eq!(lines[n - 8], "vehicle_in_pedestrian_zone tp=0 fp=0 fn=0 precision=n/a recall=n/a delay_p50_s=n/a");
    let order: Vec<&str> = lines[n - 8..n - 1].iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        order,
        [
            "vehicle_in_pedestrian_zone",
            "crowd",
            "abandoned_object",
            "graffiti",
            "wrong_way",
            "intrusion",
            "person_down"
        ]
    );
    assert!(text.contains("duplicate alert intrusion/z at 15.0 s"), "{text}");
    assert!(text.contains("missed intrusion/z 40.0–50.0 s"), "{text}");
    assert!(text.contains("scenario quiet: expected=0 alerts=1 tp=0 fp=1 fn=0 (negative)"), "{text}");
}
