use super::*;
use crate::Calibration;

fn setup(calib: Option<&Calibration>) -> Sim {
    let z = zone("place", ZoneKind::Square, &rect(0.0, 0.0, 640.0, 480.0));
    let mut r = rule("malaise", EventType::PersonDown, "place");
    r.min_duration_s = Some(10.0);
    Sim::new(&[z], &[r], calib, (640, 480))
}

#[test]
fn lying_for_the_duration_alerts_standing_does_not() {
    let mut s = setup(None);
    s.run(5.0, |_| vec![trk(1, "person", at(300.0, 400.0, 40.0, 110.0))]);
    s.run(9.5, |_| vec![trk(1, "person", at(300.0, 400.0, 110.0, 40.0))]);
    assert!(s.opened().is_empty(), "9.5 s lying < 10 s");
    s.run(2.0, |_| vec![trk(1, "person", at(300.0, 400.0, 110.0, 40.0))]);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].1.track_ids, vec![1]);
    let mut s = setup(None);
    s.run(60.0, |_| vec![trk(1, "person", at(300.0, 400.0, 40.0, 110.0))]);
    assert!(s.opened().is_empty());
}

#[test]
fn bending_down_briefly_is_not_lying() {
    let mut s = setup(None);
    for _ in 0..6 {
        s.run(5.0, |_| vec![trk(1, "person", at(300.0, 400.0, 40.0, 110.0))]);
        s.run(4.0, |_| vec![trk(1, "person", at(300.0, 400.0, 70.0, 55.0))]);
    }
    assert!(s.opened().is_empty());
}

#[test]
fn wide_but_tall_box_is_not_lying_without_calibration() {
    // A person seen standing at 110 px, then a wide box still 100 px tall (arms spread, two
    // people merged): aspect alone is not enough, the height must drop.
    let mut s = setup(None);
    s.run(3.0, |_| vec![trk(1, "person", at(300.0, 400.0, 40.0, 110.0))]);
    s.run(20.0, |_| vec![trk(1, "person", at(300.0, 400.0, 130.0, 100.0))]);
    assert!(s.opened().is_empty());
}

#[test]
fn calibrated_height_in_metres() {
    // 0.02 m/px: a 40 px tall box is 0.8 m (lying), a 60 px one 1.2 m (crouching, not lying).
    let calib = Calibration {
        image: vec![[0.0, 0.0], [640.0, 0.0], [640.0, 480.0], [0.0, 480.0]],
        ground_m: vec![[0.0, 9.6], [12.8, 9.6], [12.8, 0.0], [0.0, 0.0]],
    };
    let mut s = setup(Some(&calib));
    s.run(15.0, |_| vec![trk(1, "person", at(300.0, 400.0, 90.0, 60.0))]);
    assert!(s.opened().is_empty());
    let mut s = setup(Some(&calib));
    s.run(15.0, |_| vec![trk(1, "person", at(300.0, 400.0, 90.0, 40.0))]);
    assert_eq!(s.opened().len(), 1);
}

mod fallen_out_of_sight {
    use super::super::paint::Canvas;
    use super::*;

    const W: usize = 320;
    const H: usize = 240;

    /// Walks right along y = 200 until `fall_at`, then stays there, lying or standing, tracked
    /// or not (a small detector misses people lying down).
    fn film(s: &mut Sim, secs: f64, fall_at: f64, lying: bool, tracked_after: bool) {
        let bg = Canvas::background(W, H, 40);
        let end = s.t + secs - 1e-9;
        while s.t < end {
            let t = s.t;
            let mut c = bg.scaled(1.0);
            let mut tracks = Vec::new();
            let x = 60.0 + 20.0 * t.min(fall_at) as f32;
            if t < fall_at {
                let b = at(x, 200.0, 22.0, 60.0);
                c.block(&b, [40, 50, 70], 3);
                tracks.push(trk(3, "person", b));
            } else {
                let b = if lying { BBox::new(x - 30.0, 184.0, x + 30.0, 200.0) } else { at(x, 200.0, 22.0, 60.0) };
                c.block(&b, [40, 50, 70], 3);
                if tracked_after {
                    tracks.push(trk(3, "person", b));
                }
            }
            s.frame = c.frame();
            s.step(&tracks);
        }
    }

    fn setup() -> Sim {
        let z = zone("place", ZoneKind::Square, &rect(0.0, 0.0, 320.0, 240.0));
        let mut r = rule("malaise", EventType::PersonDown, "place");
        r.min_duration_s = Some(8.0);
        Sim::new(&[z], &[r], None, (W, H))
    }

    #[test]
    fn a_person_lost_where_a_lying_shape_stays_is_down() {
        let mut s = setup();
        film(&mut s, 25.0, 5.0, true, false);
        let o = s.opened();
        assert_eq!(o.len(), 1);
        assert!(o[0].0 >= 12.8 && o[0].0 <= 14.5, "fell at 5 s, alert at {}", o[0].0);
        assert_eq!(o[0].1.track_ids, vec![3]);
        let r = o[0].1.region.unwrap();
        assert!(r.width() > r.height(), "{r:?}");
    }

    #[test]
    fn a_lost_person_still_standing_is_not_down() {
        let mut s = setup();
        film(&mut s, 25.0, 5.0, false, false);
        assert!(s.opened().is_empty());
    }

    #[test]
    fn walking_out_of_the_picture_is_not_falling() {
        let mut s = setup();
        // Walks off the right edge at 13 s.
        let bg = Canvas::background(W, H, 40);
        s.run(0.0, |_| vec![]);
        while s.t < 20.0 {
            let x = 60.0 + 20.0 * s.t as f32;
            let mut c = bg.scaled(1.0);
            let b = at(x, 200.0, 22.0, 60.0);
            c.block(&b, [40, 50, 70], 3);
            s.frame = c.frame();
            let tr = if b.x2 < W as f32 { vec![trk(3, "person", b)] } else { vec![] };
            s.step(&tr);
        }
        assert!(s.opened().is_empty());
    }
}
