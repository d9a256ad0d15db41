//! The counter on synthetic tracks: crossings both ways, jitter on the line, walking round its
//! end, area entries and occupancy, minutes and what leaves the counter.

use vigie_core::{BBox, ClassMap, TrackedObject, UnixMs};
use vigie_rules::{ZoneConfig, ZoneKind};
use vigie_stats::{CountKind, Counter};

fn coco() -> ClassMap {
    ClassMap::parse(include_str!("../../../assets/models/coco80_labels.txt"))
}

/// A `class` track whose foot point (bottom centre) is at `(x, y)`, 100 px tall.
fn trk(id: u64, class: &str, x: f32, y: f32) -> TrackedObject {
    TrackedObject {
        track_id: id,
        bbox: BBox::new(x - 20.0, y - 100.0, x + 20.0, y),
        score: 0.9,
        class_id: coco().id(class).unwrap(),
        age: 10,
        frames_since_update: 0,
        velocity: (0.0, 0.0),
    }
}

/// 10 frames a second from this minute on (2026-12-01T10:00:00Z).
const T0: i64 = 1_796_119_200_000;

fn at(frame: i64) -> UnixMs {
    UnixMs(T0 + frame * 100)
}

/// A horizontal line across a 640×480 picture at y = 240, drawn left to right: its left is the
/// upper half of the picture, so walking down is `in`.
fn counter() -> Counter {
    let mut square = ZoneConfig::area(
        "fountain",
        ZoneKind::Square,
        &[[100.0, 300.0], [300.0, 300.0], [300.0, 450.0], [100.0, 450.0]],
    );
    square.count = true;
    let zones = vec![
        ZoneConfig::line("north", &[[20.0, 240.0], [620.0, 240.0]]),
        square,
        // Neither a line nor counted: ignored.
        ZoneConfig::area("street", ZoneKind::PedestrianStreet, &[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]),
    ];
    Counter::new("plaza", &zones, (640, 480), &coco()).unwrap()
}

/// Runs tracks `paths[i](frame) -> Option<(x, y)>` for `frames` frames; returns the counter.
/// A track: its id, its class, and where its foot point is at each frame (`None`: not seen).
type Path<'a> = (u64, &'a str, &'a dyn Fn(i64) -> Option<(f32, f32)>);

fn run(c: &mut Counter, frames: i64, paths: &[Path]) {
    for f in 0..frames {
        let tracks: Vec<TrackedObject> =
            paths.iter().filter_map(|(id, class, p)| p(f).map(|(x, y)| trk(*id, class, x, y))).collect();
        c.observe(at(f), &tracks);
    }
}

#[test]
fn crossings_are_counted_once_per_direction_and_class() {
    let mut c = counter();
    assert_eq!(c.classes(), ["person", "bicycle", "car", "motorcycle", "bus", "truck"]);
    assert_eq!(c.zones().collect::<Vec<_>>(), [("north", CountKind::Line), ("fountain", CountKind::Area)]);
    // A person walking down (left side to right side: in), a car driving up (out), a person
    // walking along the line without crossing it, a bicycle down then, later, back up.
    run(
        &mut c,
        80,
        &[
            (1, "person", &|f| Some((100.0, 150.0 + 4.0 * f as f32))),
            (2, "car", &|f| Some((400.0, 400.0 - 5.0 * f as f32))),
            (3, "person", &|f| Some((50.0 + 5.0 * f as f32, 200.0))),
            (4, "bicycle", &|f| {
                Some((500.0, if f < 40 { 180.0 + 4.0 * f as f32 } else { 340.0 - 4.0 * (f - 40) as f32 }))
            }),
        ],
    );
    c.flush();
    let t = c.totals();
    let n = |class: &str| {
        let x = t.get("north", class).unwrap();
        (x.crossings_in, x.crossings_out)
    };
    assert_eq!(n("person"), (1, 0));
    assert_eq!(n("car"), (0, 1));
    assert_eq!(n("bicycle"), (1, 1));
    assert_eq!(t.line("north"), (2, 2));
    assert_eq!(t.observed_ms, 79 * 100);
}

#[test]
fn jitter_on_the_line_counts_one_crossing_at_most() {
    let mut c = counter();
    // Walks down to the line, lingers on it for 6 s with the foot point jumping ±8 px across it
    // (inside the band: a tenth of the 100 px box), then goes on down: one `in`.
    let jitter = |f: i64| {
        let y = match f {
            0..20 => 180.0 + 3.0 * f as f32,
            20..80 => 240.0 + if f % 2 == 0 { 8.0 } else { -8.0 },
            _ => 240.0 + 3.0 * (f - 80) as f32,
        };
        Some((300.0, y))
    };
    run(&mut c, 110, &[(1, "person", &jitter)]);
    // Another one swings wider than the band (±15 px) for 1 s, then walks back up where they came
    // from: they crossed back and forth within the bounce time, nothing counted.
    let back = |f: i64| {
        let y = match f {
            0..20 => 180.0 + 3.0 * f as f32,
            20..30 => 240.0 + if f % 2 == 0 { 15.0 } else { -15.0 },
            _ => 225.0 - 3.0 * (f - 30) as f32,
        };
        Some((200.0, y))
    };
    let mut d = counter();
    run(&mut d, 60, &[(2, "person", &back)]);
    c.flush();
    d.flush();
    assert_eq!(c.totals().line("north"), (1, 0));
    assert_eq!(d.totals().line("north"), (0, 0));
}

#[test]
fn walking_round_the_end_of_a_line_is_no_crossing() {
    let mut c = counter();
    // From above the line to below it, passing beyond its right end (x > 620).
    let around = |f: i64| {
        Some(match f {
            0..20 => (560.0 + 4.0 * f as f32, 200.0),
            20..40 => (630.0, 200.0 + 4.0 * (f - 20) as f32),
            _ => (630.0 - 4.0 * (f - 40) as f32, 280.0),
        })
    };
    run(&mut c, 60, &[(1, "person", &around)]);
    c.flush();
    assert_eq!(c.totals().line("north"), (0, 0));
}

#[test]
fn a_track_lost_just_after_crossing_is_still_counted() {
    let mut c = counter();
    // Crosses, and disappears 4 px past the line (inside the band).
    run(&mut c, 12, &[(1, "person", &|f| (f < 12).then_some((300.0, 200.0 + 4.0 * f as f32)))]);
    c.flush();
    assert_eq!(c.totals().line("north"), (1, 0));
    // Same, but the counter keeps running: forgotten after FORGET_MS, then settled.
    let mut c = counter();
    run(&mut c, 60, &[(1, "person", &|f| (f < 12).then_some((300.0, 200.0 + 4.0 * f as f32)))]);
    assert_eq!(c.totals().line("north"), (1, 0));
}

#[test]
fn area_entries_and_mean_occupancy() {
    let mut c = counter();
    // Person 1 walks into the fountain area at frame ~15 and stays; person 2 is inside from the
    // start (no entry, but occupancy); person 3 enters, leaves and comes back 1 s later (one
    // entry); a car enters (counted under its class).
    run(
        &mut c,
        100,
        &[
            (1, "person", &|f| Some((200.0, (250.0 + 4.0 * f as f32).min(400.0)))),
            (2, "person", &|_| Some((150.0, 350.0))),
            (3, "person", &|f| {
                Some((
                    if (40..50).contains(&f) { 340.0 } else { 250.0 },
                    if f < 20 { 200.0 + 8.0 * f as f32 } else { 380.0 },
                ))
            }),
            (4, "car", &|f| (f >= 50).then(|| (120.0 + 2.0 * (f - 50) as f32, 420.0 - 50.0 + f as f32))),
        ],
    );
    c.flush();
    let t = c.totals();
    let p = t.get("fountain", "person").unwrap();
    assert_eq!(p.entries, 2, "{p:?}");
    assert_eq!(t.get("fountain", "car").unwrap().entries, 0, "the car starts inside");
    // Person 2 all the time, person 1 from ~frame 15, person 3 from ~13 except 40..50: about 2.6.
    let occ = t.mean_occupancy("fountain", "person");
    assert!((2.5..2.8).contains(&occ), "{occ}");
    assert_eq!(t.get("fountain", "person").unwrap().crossings_in, 0);
}

#[test]
fn minutes_hold_only_aggregates_and_close_after_a_grace() {
    let mut c = counter();
    // 130 s at 10 fps: a person crosses in every 10 s, each a new track.
    let mut out = Vec::new();
    for f in 0..1300i64 {
        let k = f / 100;
        let y = 200.0 + 0.8 * (f % 100) as f32;
        c.observe(at(f), &[trk(100 + k as u64, "person", 300.0, y)]);
        let drained = c.drain_minutes(at(f));
        if f == 1240 {
            // 2:04 after T0: the second minute ended GRACE_MS ago.
            assert_eq!((out.len(), drained.len()), (1, 1), "{out:?}");
        } else if !drained.is_empty() {
            assert!(f == 640, "minute drained at frame {f}");
        }
        out.extend(drained);
    }
    assert_eq!(out.len(), 2, "{out:?}");
    out.extend(c.flush());
    assert_eq!(out.len(), 3);
    assert_eq!(out.iter().map(|m| m.minute.as_i64() - T0).collect::<Vec<_>>(), [0, 60_000, 120_000]);
    assert_eq!(out[0].observed_ms, 60_000);
    assert_eq!(out[2].observed_ms, 9_900);
    let ins: Vec<u32> = out.iter().map(|m| m.counts.iter().map(|r| r.crossings_in).sum()).collect();
    assert_eq!(ins, [6, 6, 1]);
    // Nothing in a minute but camera, minute, observed time, and zone/class counts.
    let text = format!("{:?}", out[0]);
    assert!(!text.contains("track") && !text.contains("bbox"), "{text}");
}

#[test]
fn bad_zones_are_refused_by_key() {
    let e = Counter::new("plaza", &[ZoneConfig::line("north", &[[20.0, 240.0]])], (640, 480), &coco()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cameras.plaza.zones.north.points: a counting line needs at least 2 points [[x, y], …], got 1"
    );
    let e = Counter::new("plaza", &[ZoneConfig::line("north", &[[20.0, 240.0], [900.0, 240.0]])], (640, 480), &coco())
        .unwrap_err();
    assert_eq!(e.to_string(), "cameras.plaza.zones.north.points: point 2 (900, 240) is outside the 640×480 frame");
}
