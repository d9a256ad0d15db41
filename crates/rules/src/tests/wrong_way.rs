use super::*;
use crate::Calibration;

fn lane(direction: [f64; 2]) -> ZoneConfig {
    let mut z = zone("voie-nord", ZoneKind::Lane, &rect(200.0, 0.0, 400.0, 480.0));
    z.direction = Some(direction);
    z
}

fn setup(f: impl FnOnce(&mut RuleConfig)) -> Sim {
    let mut r = rule("sens-interdit", EventType::WrongWay, "voie-nord");
    f(&mut r);
    Sim::new(&[lane([0.0, 1.0])], &[r], None, (640, 480))
}

/// A car whose ground point moves from y0 at `v` px/s.
fn car(y0: f32, v: f32) -> impl FnMut(f64) -> Vec<TrackedObject> {
    move |t| vec![trk(9, "car", at(300.0, y0 + v * t as f32, 60.0, 40.0))]
}

#[test]
fn against_the_lane_alerts_after_the_distance_with_the_lane_does_not() {
    let mut s = setup(|r| wrong_way_params(r).min_distance_px = Some(100.0));
    s.run(8.0, car(470.0, -50.0));
    let o = s.opened();
    assert_eq!(o.len(), 1);
    // 100 px at 50 px/s: 2 s, plus the speed window filling.
    assert!(o[0].0 >= 2.0 && o[0].0 <= 3.2, "alert at {}", o[0].0);
    assert_eq!(o[0].1.peak.kind, "distance_px");
    let mut s = setup(|r| wrong_way_params(r).min_distance_px = Some(100.0));
    s.run(8.0, car(50.0, 50.0));
    assert!(s.opened().is_empty(), "legal direction");
}

#[test]
fn parked_jitter_never_adds_up() {
    let mut s = setup(|r| wrong_way_params(r).min_distance_px = Some(60.0));
    let mut k = 0u64;
    s.run(300.0, |_| {
        k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = ((k >> 33) % 7) as f32 - 3.0;
        vec![trk(9, "car", at(300.0 + j, 300.0 + j, 60.0, 40.0))]
    });
    assert!(s.opened().is_empty());
}

#[test]
fn duration_criterion() {
    let mut s = setup(|r| {
        r.min_duration_s = Some(3.0);
    });
    // Slow (15 px/s): 3 s is only 45 px, under the default distance, so time decides.
    s.run(8.0, car(470.0, -15.0));
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert!(o[0].0 >= 3.0 && o[0].0 <= 4.2, "alert at {}", o[0].0);
}

#[test]
fn metres_with_calibration() {
    // 0.05 m per pixel everywhere (an affine calibration): 5 m = 100 px.
    let calib = Calibration {
        image: vec![[0.0, 0.0], [640.0, 0.0], [640.0, 480.0], [0.0, 480.0]],
        ground_m: vec![[0.0, 24.0], [32.0, 24.0], [32.0, 0.0], [0.0, 0.0]],
    };
    let mut r = rule("sens-interdit", EventType::WrongWay, "voie-nord");
    wrong_way_params(&mut r).min_distance_m = Some(5.0);
    let mut s = Sim::new(&[lane([0.0, 1.0])], &[r], Some(&calib), (640, 480));
    s.run(1.6, car(470.0, -50.0)); // 80 px = 4 m
    assert!(s.opened().is_empty());
    s.run(3.0, car(470.0, -50.0));
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].1.peak.kind, "distance_m");
    assert!(o[0].1.peak.value >= 5.0 && o[0].1.peak.value < 6.0, "{}", o[0].1.peak.value);
}

#[test]
fn people_count_by_default_and_class_filter_applies() {
    let mut s = setup(|r| wrong_way_params(r).min_distance_px = Some(50.0));
    s.run(4.0, |t| vec![trk(1, "person", at(300.0, 400.0 - 40.0 * t as f32, 20.0, 60.0))]);
    assert_eq!(s.opened().len(), 1);
    let mut s = setup(|r| {
        wrong_way_params(r).min_distance_px = Some(50.0);
        wrong_way_params(r).classes = Some(vec!["car".into()]);
    });
    s.run(4.0, |t| vec![trk(1, "person", at(300.0, 400.0 - 40.0 * t as f32, 20.0, 60.0))]);
    assert!(s.opened().is_empty());
}
