use super::*;
use crate::Calibration;

fn people(n: usize, id0: u64) -> Vec<TrackedObject> {
    (0..n).map(|i| trk(id0 + i as u64, "person", at(120.0 + 30.0 * i as f32, 300.0, 20.0, 60.0))).collect()
}

fn setup(min_count: u32) -> Sim {
    let z = zone("place", ZoneKind::Square, &rect(100.0, 200.0, 600.0, 400.0));
    let mut r = rule("crowd-place", EventType::Crowd, "place");
    crowd_params(&mut r).min_count = Some(min_count);
    r.min_duration_s = Some(10.0);
    r.hysteresis_s = Some(5.0);
    r.cooldown_s = Some(30.0);
    Sim::new(&[z], &[r], None, (640, 480))
}

#[test]
fn count_threshold_and_duration_edges() {
    let mut s = setup(8);
    s.run(60.0, |_| people(7, 1));
    assert!(s.opened().is_empty(), "7 < 8 people");
    let mut s = setup(8);
    s.run(9.85, |_| people(8, 1));
    assert!(s.opened().is_empty(), "not yet 10 s");
    s.run(1.0, |_| people(8, 1));
    assert_eq!(s.opened().len(), 1);
}

#[test]
fn reports_the_peak_count_and_blurs_everyone() {
    let mut s = setup(8);
    s.run(12.0, |_| people(8, 1));
    s.run(5.0, |_| people(12, 1));
    s.run(5.0, |_| people(9, 1));
    s.run(8.0, |_| people(2, 1));
    let c = s.phases(EventPhase::Closed);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1.peak.kind, "count");
    assert_eq!(c[0].1.peak.value, 12.0);
    assert_eq!(s.opened().len(), 1);
}

#[test]
fn short_dips_do_not_restart_the_clock() {
    let mut s = setup(8);
    s.run(5.0, |_| people(8, 1));
    s.run(0.5, |_| people(6, 1));
    s.run(5.0, |_| people(8, 1));
    assert_eq!(s.opened().len(), 1, "a 0.5 s dip is tolerated");
    let mut s = setup(8);
    s.run(5.0, |_| people(8, 1));
    s.run(2.0, |_| people(6, 1));
    s.run(6.0, |_| people(8, 1));
    assert!(s.opened().is_empty(), "a 2 s dip restarts the 10 s");
}

#[test]
fn hysteresis_and_cooldown_prevent_duplicate_alerts() {
    let mut s = setup(8);
    s.run(12.0, |_| people(8, 1));
    s.run(3.0, |_| people(2, 1)); // disperses less than the 5 s hysteresis
    s.run(12.0, |_| people(8, 100)); // regroups (new track ids)
    assert_eq!(s.opened().len(), 1, "same gathering: one alert");
    assert!(s.phases(EventPhase::Closed).is_empty());
    s.run(7.0, |_| vec![]); // gone longer than the hysteresis: closed
    assert_eq!(s.phases(EventPhase::Closed).len(), 1);
    let closed_at = s.phases(EventPhase::Closed)[0].0;
    s.run(15.0, |_| people(8, 200)); // regroups within the 30 s cooldown
    assert_eq!(s.opened().len(), 1, "cooldown holds the second alert back");
    s.run(20.0, |_| people(8, 200));
    let o = s.opened();
    assert_eq!(o.len(), 2, "after the cooldown a new alert");
    assert!(o[1].0 >= closed_at + 30.0 - 0.15, "{} vs closed {}", o[1].0, closed_at);
    assert_ne!(o[0].1.id, o[1].1.id);
}

#[test]
fn density_uses_the_ground_calibration() {
    // Image trapezoid = a 10 m × 10 m square on the ground (100 m²).
    let calib = Calibration {
        image: vec![[200.0, 200.0], [440.0, 200.0], [600.0, 450.0], [40.0, 450.0]],
        ground_m: vec![[0.0, 10.0], [10.0, 10.0], [10.0, 0.0], [0.0, 0.0]],
    };
    let z = zone("place", ZoneKind::Square, &[[200.0, 200.0], [440.0, 200.0], [600.0, 450.0], [40.0, 450.0]]);
    let mut r = rule("density", EventType::Crowd, "place");
    crowd_params(&mut r).max_density_per_m2 = Some(0.1);
    r.min_duration_s = Some(2.0);
    let crowd = |n: usize| -> Vec<TrackedObject> {
        (0..n).map(|i| trk(i as u64, "person", at(250.0 + 14.0 * i as f32, 400.0, 10.0, 40.0))).collect()
    };
    let mut s = Sim::new(std::slice::from_ref(&z), std::slice::from_ref(&r), Some(&calib), (640, 480));
    s.run(10.0, |_| crowd(9));
    assert!(s.opened().is_empty(), "9 people on 100 m² = 0.09/m²");
    let mut s = Sim::new(&[z], &[r], Some(&calib), (640, 480));
    s.run(10.0, |_| crowd(10));
    assert_eq!(s.opened().len(), 1, "10 people on 100 m² = 0.1/m²");
}
