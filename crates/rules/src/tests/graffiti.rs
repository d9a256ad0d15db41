use super::paint::Canvas;
use super::*;

const W: usize = 320;
const H: usize = 240;

fn setup() -> Sim {
    let z = zone("mur", ZoneKind::Wall, &rect(20.0, 10.0, 300.0, 140.0));
    let mut r = rule("tags-mur", EventType::Graffiti, "mur");
    r.min_duration_s = Some(8.0);
    Sim::new(&[z], &[r], None, (W, H))
}

const PERSON: BBox = BBox::new(140.0, 60.0, 170.0, 190.0);

/// Paint progressively drawn right of the person between `from` and `to` seconds.
fn tag(c: &mut Canvas, t: f64, from: f64, to: f64) {
    let segs = [
        ((178.0, 100.0), (192.0, 70.0)),
        ((192.0, 70.0), (200.0, 104.0)),
        ((200.0, 104.0), (214.0, 72.0)),
        ((180.0, 88.0), (214.0, 90.0)),
    ];
    let n = (((t - from) / (to - from)).clamp(0.0, 1.0) * segs.len() as f64).ceil() as usize;
    for (a, b) in segs.iter().take(if t >= from { n.max(1) } else { 0 }) {
        c.stroke(*a, *b, 4.0, [200, 20, 30]);
    }
}

fn film(
    s: &mut Sim,
    secs: f64,
    person: impl Fn(f64) -> bool,
    paint: impl Fn(&mut Canvas, f64),
    gain: impl Fn(f64) -> f32,
) {
    let bg = Canvas::background(W, H, 140);
    let end = s.t + secs - 1e-9;
    while s.t < end {
        let t = s.t;
        let mut c = bg.scaled(1.0);
        paint(&mut c, t);
        let mut tracks = Vec::new();
        if person(t) {
            c.block(&PERSON, [40, 45, 60], 3);
            tracks.push(trk(11, "person", PERSON));
        }
        s.frame = c.scaled(gain(t)).frame();
        s.step(&tracks);
    }
}

#[test]
fn wall_changed_after_a_long_stay_alerts_with_the_changed_region() {
    let mut s = setup();
    film(&mut s, 30.0, |t| (2.0..16.0).contains(&t), |c, t| tag(c, t, 5.0, 14.0), |_| 1.0);
    let o = s.opened();
    assert_eq!(o.len(), 1, "{:?}", s.events.iter().map(|(t, e)| (*t, e.phase)).collect::<Vec<_>>());
    // Left at 16 s; settle 2 s and persist 1 s.
    assert!(o[0].0 >= 18.5 && o[0].0 <= 20.5, "alert at {}", o[0].0);
    let r = o[0].1.region.unwrap();
    let painted = BBox::new(176.0, 68.0, 216.0, 106.0);
    assert!(r.iou(&painted) > 0.4, "{r:?}");
    assert_eq!(o[0].1.track_ids, vec![11]);
    assert_eq!(o[0].1.peak.kind, "area_px");
    // The tag is now the wall: staying there again and leaving does not re-alert.
    film(&mut s, 60.0, |t| (40.0..55.0).contains(&t), |c, t| tag(c, t, 5.0, 14.0), |_| 1.0);
    assert_eq!(s.opened().len(), 1);
}

#[test]
fn standing_at_the_wall_without_painting_does_not_alert() {
    let mut s = setup();
    film(&mut s, 30.0, |t| (2.0..16.0).contains(&t), |_, _| {}, |_| 1.0);
    assert!(s.opened().is_empty());
}

#[test]
fn a_short_stay_does_not_count_even_if_the_wall_changed() {
    let mut s = setup();
    film(&mut s, 30.0, |t| (2.0..6.0).contains(&t), |c, t| tag(c, t, 3.0, 5.0), |_| 1.0);
    assert!(s.opened().is_empty());
}

#[test]
fn change_with_nobody_there_is_not_tagging() {
    let mut s = setup();
    film(&mut s, 30.0, |_| false, |c, t| tag(c, t, 5.0, 14.0), |_| 1.0);
    assert!(s.opened().is_empty());
}

#[test]
fn light_change_during_the_stay_is_not_paint() {
    let mut s = setup();
    film(
        &mut s,
        30.0,
        |t| (2.0..16.0).contains(&t),
        |_, _| {},
        |t| 1.0 - 0.3 * ((t - 4.0) / 8.0).clamp(0.0, 1.0) as f32,
    );
    assert!(s.opened().is_empty());
}
