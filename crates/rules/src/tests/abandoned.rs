use super::paint::Canvas;
use super::*;

const W: usize = 320;
const H: usize = 240;
const OBJECT: BBox = BBox::new(164.0, 184.0, 188.0, 200.0);

fn setup(require_owner: bool) -> Sim {
    let z = zone("trottoir", ZoneKind::Square, &rect(0.0, 80.0, 320.0, 240.0));
    let mut r = rule("depot", EventType::AbandonedObject, "trottoir");
    r.min_duration_s = Some(8.0);
    abandoned_params(&mut r).require_owner = Some(require_owner);
    Sim::new(&[z], &[r], None, (W, H))
}

/// Walks in from the left, stops at x = 150 from 5 s to 8 s, walks back out to the left.
fn walker(t: f64) -> Option<BBox> {
    let x = if t < 5.0 {
        20.0 + 26.0 * t
    } else if t < 8.0 {
        150.0
    } else {
        150.0 - 30.0 * (t - 8.0)
    };
    (x > -10.0).then(|| at(x as f32, 200.0, 20.0, 50.0))
}

/// Runs `secs` of synthetic video: background, optional object, optional person (tracked as
/// track 5 unless `tracked` says otherwise), with a global gain.
fn film(
    s: &mut Sim,
    secs: f64,
    object: impl Fn(f64) -> bool,
    person: impl Fn(f64) -> Option<BBox>,
    tracked: impl Fn(f64) -> bool,
    gain: impl Fn(f64) -> f32,
) {
    let one = |t: f64| person(t).map(|b| (tracked(t).then_some(5), b));
    film_lit(s, secs, object, &[&one], gain);
}

#[test]
fn object_left_behind_alerts_after_its_owner_has_been_gone_for_the_duration() {
    let mut s = setup(true);
    film(&mut s, 40.0, |t| t >= 6.5, walker, |_| true, |_| 1.0);
    let o = s.opened();
    assert_eq!(o.len(), 1, "{:?}", s.events.iter().map(|(t, e)| (*t, e.phase)).collect::<Vec<_>>());
    // The owner is out of reach from about 8.7 s: alert 8 s later.
    assert!(o[0].0 >= 16.0 && o[0].0 <= 18.5, "alert at {}", o[0].0);
    let e = &o[0].1;
    assert_eq!(e.track_ids, vec![5], "the person who brought it");
    let r = e.region.expect("region of the object");
    assert!(r.iou(&OBJECT) > 0.5, "{r:?}");
    // Taken away at 40 s: the event closes.
    film(&mut s, 10.0, |_| false, |_| None, |_| true, |_| 1.0);
    assert_eq!(s.phases(EventPhase::Closed).len(), 1);
    assert_eq!(s.opened().len(), 1);
}

#[test]
fn object_that_appears_with_nobody_near_needs_require_owner_off() {
    let mut s = setup(true);
    film(&mut s, 30.0, |t| t >= 3.0, |_| None, |_| true, |_| 1.0);
    assert!(s.opened().is_empty(), "nobody brought it: a shadow or a glitch, not a dumping");
    let mut s = setup(false);
    film(&mut s, 30.0, |t| t >= 3.0, |_| None, |_| true, |_| 1.0);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert!(o[0].0 >= 3.0 + 8.0 && o[0].0 < 3.0 + 8.0 + 4.0, "alert at {}", o[0].0);
}

#[test]
fn light_change_and_a_person_passing_do_not_alert() {
    let mut s = setup(true);
    film(&mut s, 40.0, |_| false, walker, |_| true, |t| 1.0 + 0.4 * ((t - 5.0) / 5.0).clamp(0.0, 1.0) as f32);
    assert!(s.opened().is_empty());
}

#[test]
fn a_person_standing_still_is_not_an_object_even_when_the_detector_loses_them() {
    let mut s = setup(true);
    let still = |_t: f64| Some(at(150.0, 200.0, 20.0, 50.0));
    film(&mut s, 60.0, |_| false, still, |t| t < 30.0, |_| 1.0);
    assert!(s.opened().is_empty(), "{:?}", s.opened());
}

#[test]
fn an_object_taken_away_leaves_a_ghost_that_is_not_an_object() {
    let mut s = setup(true);
    // The object is there from the start (part of the background), picked up at 7 s.
    film(&mut s, 40.0, |t| t < 7.0, walker, |_| true, |_| 1.0);
    assert!(s.opened().is_empty(), "{:?}", s.opened());
}

/// Where a person is at time t, and their track id then (`None`: not followed).
type Person<'a> = dyn Fn(f64) -> Option<(Option<u64>, BBox)> + 'a;

/// Like [`film`] with several people: each `(track id at time t, where at time t)`; an id of
/// `None` is a person the tracker does not follow at that moment.
fn film_people(s: &mut Sim, secs: f64, object: impl Fn(f64) -> bool, people: &[&Person]) {
    film_lit(s, secs, object, people, |_| 1.0);
}

fn film_lit(s: &mut Sim, secs: f64, object: impl Fn(f64) -> bool, people: &[&Person], gain: impl Fn(f64) -> f32) {
    let bg = Canvas::background(W, H, 60);
    let end = s.t + secs - 1e-9;
    while s.t < end {
        let t = s.t;
        let mut c = bg.scaled(1.0);
        if object(t) {
            c.block(&OBJECT, [200, 190, 60], 7);
        }
        let mut tracks = Vec::new();
        for p in people {
            if let Some((id, b)) = p(t) {
                c.block(&b, [40, 50, 70], 3);
                if let Some(id) = id {
                    tracks.push(trk(id, "person", b));
                }
            }
        }
        s.frame = c.scaled(gain(t)).frame();
        s.step(&tracks);
    }
}

/// The PETS 2006 / i-LIDS definition: the object is abandoned once the person who brought it is
/// away, whoever else walks by. A stranger waiting by the bag and pacing beside it, within a body
/// height, does not make it attended.
#[test]
fn a_stranger_lingering_by_the_object_does_not_keep_it() {
    let mut s = setup(true);
    let owner = |t: f64| walker(t).map(|b| (Some(5), b));
    // From 10 s a stranger walks up, waits by the bag (on the phone, say) for long stretches,
    // paces a few steps and waits again, never further than a body height from it.
    let stranger = |t: f64| {
        (t >= 10.0).then(|| {
            let x = if t < 12.0 {
                300.0 - 40.0 * (t - 10.0)
            } else {
                let phase = (t - 12.0) % 10.0;
                if phase < 6.0 {
                    220.0
                } else if phase < 8.0 {
                    220.0 + 8.0 * (phase - 6.0)
                } else {
                    236.0 - 8.0 * (phase - 8.0)
                }
            };
            (Some(9), at(x as f32, 205.0, 20.0, 50.0))
        })
    };
    film_people(&mut s, 40.0, |t| t >= 6.5, &[&owner, &stranger]);
    let o = s.opened();
    assert_eq!(o.len(), 1, "{:?}", s.events.iter().map(|(t, e)| (*t, e.phase)).collect::<Vec<_>>());
    assert!(o[0].0 >= 16.0 && o[0].0 <= 18.5, "alert at {}: the owner left at about 8.7 s", o[0].0);
    assert_eq!(o[0].1.track_ids, vec![5], "the owner, never the stranger");
}

/// Tracks break: the owner standing by the bag is lost for a moment and comes back under a new
/// id where they stood. That is still the owner (track continuity, no appearance): no alert
/// until they walk away, then one after the duration.
#[test]
fn the_owner_under_a_new_track_id_still_keeps_the_object() {
    let mut s = setup(true);
    let owner = |t: f64| {
        let x = if t < 5.0 {
            20.0 + 26.0 * t
        } else if t < 30.0 {
            150.0
        } else {
            150.0 - 30.0 * (t - 30.0)
        };
        let id = if t < 15.0 {
            Some(5)
        } else if t < 16.0 {
            None
        } else {
            Some(6)
        };
        (x > -10.0).then(|| (id, at(x as f32, 200.0, 20.0, 50.0)))
    };
    film_people(&mut s, 50.0, |t| t >= 6.5, &[&owner]);
    let o = s.opened();
    assert_eq!(o.len(), 1, "{:?}", s.events.iter().map(|(t, e)| (*t, e.phase)).collect::<Vec<_>>());
    assert!(o[0].0 >= 38.0 && o[0].0 <= 41.0, "alert at {}: the owner left at about 30.7 s", o[0].0);
}
