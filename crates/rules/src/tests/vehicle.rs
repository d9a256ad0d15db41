use super::*;

fn setup(extra: impl FnOnce(&mut RuleConfig)) -> Sim {
    let z = zone("rue", ZoneKind::PedestrianStreet, &rect(100.0, 100.0, 500.0, 400.0));
    let mut r = rule("vehicles-rue", EventType::VehicleInPedestrianZone, "rue");
    r.min_duration_s = Some(5.0);
    extra(&mut r);
    Sim::new(&[z], &[r], None, (640, 480))
}

#[test]
fn opens_once_after_min_duration_then_closes_after_hysteresis() {
    let mut s = setup(|_| {});
    let car = |_t: f64| vec![trk(7, "car", at(300.0, 300.0, 80.0, 50.0))];
    s.run(4.9, car);
    assert!(s.opened().is_empty(), "4.9 s < 5 s: no alert");
    s.run(25.0, car);
    let o = s.opened();
    assert_eq!(o.len(), 1, "one alert for one parked car, however long: {o:?}");
    assert!((o[0].0 - 5.0).abs() < 0.15, "opens at 5 s: {}", o[0].0);
    let e = &o[0].1;
    assert_eq!((e.camera.as_str(), e.zone.as_str(), e.rule.as_str()), ("cam", "rue", "vehicles-rue"));
    assert_eq!(e.track_ids, vec![7]);
    assert_eq!(e.model_sha256, "sha-test");
    assert_eq!(e.legal_basis, "Arrêté municipal n° 2024-117, art. 3");
    // The picture is asked for once, on opening, showing the car.
    assert_eq!(s.evidence.len(), 1);
    assert_eq!((s.evidence[0].event_id.as_str(), s.evidence[0].subjects.as_slice()), (e.id.as_str(), &[7][..]));
    assert!(s.evidence[0].region.is_some() && !s.evidence[0].blur_all);
    let updates = s.phases(EventPhase::Updated);
    assert!(!updates.is_empty() && updates.len() <= 6, "dwell updates are rate-limited: {}", updates.len());
    assert!(updates.iter().all(|(_, u)| u.id == e.id && u.snapshot_jpeg.is_none()));
    // Leaves: closed 3 s (hysteresis) after the last time it was there.
    let left_at = s.t;
    s.run(10.0, |_| vec![]);
    let c = s.phases(EventPhase::Closed);
    assert_eq!(c.len(), 1);
    assert!((c[0].0 - left_at - 3.0).abs() < 0.15, "closed {} s after leaving", c[0].0 - left_at);
    assert_eq!(c[0].1.id, e.id);
    assert!(c[0].1.peak.kind == "dwell_s" && c[0].1.peak.value > 29.0, "{:?}", c[0].1.peak);
    let want_end = e.started_at_ms.0 as f64 + (left_at - 0.1 - o[0].0) * 1000.0;
    assert!((c[0].1.ended_at_ms.unwrap().0 as f64 - want_end).abs() <= 2.0, "ends at the last frame it was seen");
}

#[test]
fn ground_point_decides_not_the_box() {
    let mut s = setup(|_| {});
    // Box overlaps the zone but its wheels are below it.
    s.run(20.0, |_| vec![trk(1, "car", at(300.0, 430.0, 80.0, 60.0))]);
    assert!(s.opened().is_empty());
}

#[test]
fn people_and_bicycles_are_not_vehicles_unless_asked() {
    let mut s = setup(|_| {});
    s.run(20.0, |_| {
        vec![trk(1, "person", at(300.0, 300.0, 30.0, 80.0)), trk(2, "bicycle", at(200.0, 300.0, 40.0, 40.0))]
    });
    assert!(s.opened().is_empty());
    let mut s = setup(|r| vehicle_params(r).include_bicycles = Some(true));
    s.run(20.0, |_| vec![trk(2, "bicycle", at(200.0, 300.0, 40.0, 40.0))]);
    assert_eq!(s.opened().len(), 1);
}

#[test]
fn only_during_the_schedule() {
    // Starts at 09:59:50 Paris; the street is pedestrian from 10:00.
    let z = zone("rue", ZoneKind::PedestrianStreet, &rect(100.0, 100.0, 500.0, 400.0));
    let mut r = rule("v", EventType::VehicleInPedestrianZone, "rue");
    r.min_duration_s = Some(5.0);
    r.schedule = vec!["10:00-19:00".into()];
    let mut s = Sim::with(&[z], &[r], None, &EventsConfig::default(), (640, 480), NOON_PARIS - 2 * 3600 - 10);
    s.run(30.0, |_| vec![trk(3, "truck", at(300.0, 300.0, 90.0, 60.0))]);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    // Parked since 09:59:50, but dwell only counts from 10:00:00.
    assert!((o[0].0 - 15.0).abs() < 0.15, "opens 5 s into the schedule: {}", o[0].0);
}

#[test]
fn a_short_exit_does_not_restart_the_clock_but_a_long_one_does() {
    let mut s = setup(|_| {});
    s.run(3.0, |_| vec![trk(1, "car", at(300.0, 300.0, 80.0, 50.0))]);
    s.run(0.5, |_| vec![]);
    s.run(2.0, |_| vec![trk(1, "car", at(300.0, 300.0, 80.0, 50.0))]);
    assert_eq!(s.opened().len(), 1, "3 s + 0.5 s gap + 2 s ≥ 5 s");
    let mut s = setup(|_| {});
    s.run(3.0, |_| vec![trk(1, "car", at(300.0, 300.0, 80.0, 50.0))]);
    s.run(2.0, |_| vec![]);
    s.run(4.0, |_| vec![trk(1, "car", at(300.0, 300.0, 80.0, 50.0))]);
    assert!(s.opened().is_empty(), "the clock restarted after 2 s away");
}
