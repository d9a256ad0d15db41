use super::*;

fn cfg(min: f64) -> (Vec<ZoneConfig>, Vec<RuleConfig>) {
    let z = zone("zone", ZoneKind::Forbidden, &rect(0.0, 0.0, 640.0, 480.0));
    let mut r = rule("intr", EventType::Intrusion, "zone");
    r.min_duration_s = Some(min);
    (vec![z], vec![r])
}

fn build(min: f64) -> CameraRules {
    let (z, r) = cfg(min);
    CameraRules::new("cam", &z, &r, None, &EventsConfig::default(), (640, 480), "sha", &coco()).unwrap()
}

#[test]
fn unchanged_rule_keeps_its_open_event_across_a_reload() {
    let mut s = Sim::new(&cfg(1.0).0, &cfg(1.0).1, None, (640, 480));
    let p = |_t: f64| vec![trk(1, "person", at(300.0, 300.0, 30.0, 80.0))];
    s.run(3.0, p);
    assert_eq!(s.opened().len(), 1);
    let old = std::mem::replace(&mut s.rules, build(1.0));
    let closed = s.rules.take_over(old, s.now());
    assert!(closed.is_empty());
    s.run(10.0, p);
    assert_eq!(s.opened().len(), 1, "no second alert for the same intruder");
}

#[test]
fn changed_rule_closes_the_old_event_and_starts_afresh() {
    let mut s = Sim::new(&cfg(1.0).0, &cfg(1.0).1, None, (640, 480));
    let p = |_t: f64| vec![trk(1, "person", at(300.0, 300.0, 30.0, 80.0))];
    s.run(3.0, p);
    let first = s.opened()[0].1.id.clone();
    let old = std::mem::replace(&mut s.rules, build(2.0));
    let closed = s.rules.take_over(old, s.now());
    assert_eq!(closed.len(), 1);
    assert_eq!((closed[0].id.as_str(), closed[0].phase), (first.as_str(), EventPhase::Closed));
    s.run(5.0, p);
    let o = s.opened();
    assert_eq!(o.len(), 2);
    assert_ne!(o[1].1.id, first, "ids stay unique across engines");
}

#[test]
fn a_bad_config_is_refused_so_the_caller_keeps_the_old_engine() {
    let (z, mut r) = cfg(1.0);
    r[0].legal_basis = None;
    assert!(CameraRules::new("cam", &z, &r, None, &EventsConfig::default(), (640, 480), "sha", &coco()).is_err());
}
