//! Synthetic scenes where a careless tracker would lose or swap identities.

use std::time::Duration;
use vigie_core::{BBox, Detection, TrackedObject};
use vigie_track::{ByteTracker, OutputBox, TrackerConfig};

const PERSON: u16 = 0;
const CAR: u16 = 2;
const TRUCK: u16 = 7;

fn det(x: f32, y: f32, w: f32, h: f32, score: f32, class_id: u16) -> Detection {
    Detection { bbox: BBox::from_xywh(x, y, w, h), score, class_id }
}

fn at(frame: u32, fps: f64) -> Duration {
    Duration::from_secs_f64(frame as f64 / fps)
}

fn tracker(cfg: TrackerConfig) -> ByteTracker {
    ByteTracker::new(cfg, None).unwrap()
}

/// Reports only tracks matched in the frame, so that a missing report means a missing match.
fn seen_only() -> TrackerConfig {
    TrackerConfig { output_lost_max_frames: 0, ..Default::default() }
}

/// The reported track whose box overlaps `b` most, if any overlaps at all.
fn best(out: &[TrackedObject], b: &BBox) -> Option<TrackedObject> {
    out.iter().copied().filter(|o| o.bbox.iou(b) > 0.0).max_by(|x, y| x.bbox.iou(b).total_cmp(&y.bbox.iou(b)))
}

/// Small deterministic detector noise, in pixels.
fn jitter(frame: u32, salt: u32) -> f32 {
    let h = (frame.wrapping_mul(2654435761) ^ salt.wrapping_mul(40503)).rotate_left(7);
    (h % 5) as f32 - 2.0
}

#[test]
fn two_people_crossing_keep_their_ids() {
    let fps = 7.0;
    let mut tr = tracker(TrackerConfig::default());
    let (mut id_a, mut id_b) = (None, None);
    let (mut occluded_frames, mut checked_after) = (0, 0);
    let mut all_ids = Vec::new();
    for f in 0..60u32 {
        let xa = 100.0 + 8.0 * f as f32 + jitter(f, 1);
        let xb = 560.0 - 8.0 * f as f32 + jitter(f, 2);
        let a = det(xa, 200.0 + jitter(f, 3), 40.0, 100.0, 0.85, PERSON);
        // B walks slightly behind A; the detector misses B while A hides most of it.
        let b = det(xb, 190.0 + jitter(f, 4), 38.0, 96.0, 0.8, PERSON);
        let hidden = (xa - xb).abs() < 25.0;
        occluded_frames += hidden as u32;
        let dets: Vec<Detection> = if hidden { vec![a] } else { vec![a, b] };
        let out = tr.update(&dets, at(f, fps));
        all_ids.extend(out.iter().map(|o| o.track_id));
        // Identities are only unambiguous while the two are well apart.
        if (xa - xb).abs() > 60.0 {
            assert_eq!(out.len(), 2, "frame {f}: {out:?}");
            let got_a = best(&out, &a.bbox).expect("A reported");
            let got_b = best(&out, &b.bbox).expect("B reported");
            assert!(got_a.bbox.iou(&a.bbox) > 0.6 && got_b.bbox.iou(&b.bbox) > 0.6, "frame {f}: boxes off");
            assert_eq!(*id_a.get_or_insert(got_a.track_id), got_a.track_id, "A changed id at frame {f}");
            assert_eq!(*id_b.get_or_insert(got_b.track_id), got_b.track_id, "B changed id at frame {f}");
            checked_after += (xa > xb) as u32;
        } else {
            assert!(out.iter().any(|o| o.bbox.iou(&a.bbox) > 0.6), "frame {f}: A reported while crossing");
        }
    }
    assert!(occluded_frames >= 2, "the scene must hide B for a while ({occluded_frames} frames)");
    assert!(checked_after >= 10, "identities checked after the crossing");
    assert_ne!(id_a, id_b);
    all_ids.sort_unstable();
    all_ids.dedup();
    assert_eq!(all_ids, vec![1, 2], "no extra track was started, ids start at 1");
}

/// A target walking at constant speed disappears behind something for `gap` frames; returns its
/// id before and after.
fn disappears(gap: u32, moving: bool, fps: f64, lost_buffer_s: f64) -> (u64, u64) {
    let mut tr = tracker(TrackerConfig { lost_buffer_s, ..seen_only() });
    let speed = if moving { 4.0 } else { 0.0 };
    let mut ids = Vec::new();
    for f in 0..(20 + gap + 5) {
        let visible = !(20..20 + gap).contains(&f);
        let d = det(50.0 + speed * f as f32, 100.0, 40.0, 100.0, 0.9, PERSON);
        let dets = if visible { vec![d] } else { vec![] };
        let out = tr.update(&dets, at(f, fps));
        assert!(out.len() <= 1, "frame {f}: {out:?}");
        if !visible {
            assert!(out.is_empty(), "a lost track is not reported by default");
        }
        if f == 19 || f == 20 + gap + 4 {
            assert_eq!(out.len(), 1, "frame {f}");
            ids.push(out[0].track_id);
        }
    }
    (ids[0], ids[1])
}

#[test]
fn lost_buffer_keeps_ids_through_short_gaps_only() {
    // A 3 s buffer is 21 frames at 7 fps.
    let (before, after) = disappears(10, false, 7.0, 3.0);
    assert_eq!(before, after, "standing target missing 10 frames keeps its id");
    let (before, after) = disappears(10, true, 7.0, 3.0);
    assert_eq!(before, after, "walking target missing 10 frames keeps its id");
    let (before, after) = disappears(30, false, 7.0, 3.0);
    assert_ne!(before, after, "target missing 30 frames (4.3 s) gets a new id");
    // The buffer is in seconds: at 25 fps, 2 s (50 frames) is kept and 4 s (100 frames) is not.
    let (before, after) = disappears(50, false, 25.0, 3.0);
    assert_eq!(before, after);
    let (before, after) = disappears(100, false, 25.0, 3.0);
    assert_ne!(before, after);
    // The default buffer (6 s) bridges the 4.3 s gap.
    let (before, after) = disappears(30, true, 7.0, TrackerConfig::default().lost_buffer_s);
    assert_eq!(before, after);
}

#[test]
fn weak_detections_extend_tracks_but_never_start_them() {
    let mut tr = tracker(TrackerConfig::default());
    for f in 0..40u32 {
        let x = 100.0 + 3.0 * f as f32;
        let score = if (5..25).contains(&f) { 0.2 } else { 0.9 };
        let out = tr.update(&[det(x, 100.0, 40.0, 100.0, score, PERSON)], at(f, 7.0));
        assert_eq!(out.len(), 1, "frame {f}");
        assert_eq!(out[0].track_id, 1, "frame {f}");
        assert_eq!(out[0].frames_since_update, 0);
        assert_eq!(out[0].score, score);
    }

    // Weak detections alone, never confirmed, even with a single hit required.
    for min_hits in [1, 2] {
        let mut tr = tracker(TrackerConfig { min_hits_to_confirm: min_hits, ..Default::default() });
        for f in 0..30u32 {
            let out = tr.update(&[det(300.0, 100.0, 40.0, 100.0, 0.2, PERSON)], at(f, 7.0));
            assert!(out.is_empty(), "frame {f}: {out:?}");
        }
    }

    // Weak detections do not revive a lost track (second stage is for followed tracks only)…
    let mut tr = tracker(seen_only());
    let d = |s| det(100.0, 100.0, 40.0, 100.0, s, PERSON);
    for f in 0..5 {
        assert_eq!(tr.update(&[d(0.9)], at(f, 7.0)).len(), 1);
    }
    assert!(tr.update(&[], at(5, 7.0)).is_empty());
    for f in 6..10 {
        assert!(tr.update(&[d(0.2)], at(f, 7.0)).is_empty(), "frame {f}");
    }
    // …but a confident one does, with the same id.
    let out = tr.update(&[d(0.9)], at(10, 7.0));
    assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![1]);
}

#[test]
fn single_frame_false_positive_is_not_confirmed() {
    let person = |f: u32| det(100.0 + 2.0 * f as f32, 100.0, 40.0, 100.0, 0.9, PERSON);
    let ghost = det(500.0, 300.0, 30.0, 80.0, 0.9, PERSON);
    for min_hits in [2, 1] {
        let mut tr = tracker(TrackerConfig { min_hits_to_confirm: min_hits, ..Default::default() });
        let mut ids = Vec::new();
        for f in 0..20u32 {
            let dets = if f == 5 { vec![person(f), ghost] } else { vec![person(f)] };
            let out = tr.update(&dets, at(f, 7.0));
            ids.extend(out.iter().map(|o| o.track_id));
            let ghost_seen = out.iter().any(|o| o.bbox.iou(&ghost.bbox) > 0.5);
            // Confirmed at once, the ghost is then reported at its prediction for two frames.
            assert_eq!(ghost_seen, min_hits == 1 && (5..8).contains(&f), "min_hits {min_hits}, frame {f}");
        }
        ids.sort_unstable();
        ids.dedup();
        let expected: Vec<u64> = if min_hits == 1 { vec![1, 2] } else { vec![1] };
        assert_eq!(ids, expected, "ids are consecutive from 1: unconfirmed tracks use none");
    }

    // On the very first frame every confident detection is reported at once (ByteTrack), and a
    // track appearing later needs its second frame.
    let mut tr = tracker(TrackerConfig::default());
    assert_eq!(tr.update(&[person(0)], at(0, 7.0)).len(), 1);
    let late = |f: u32| det(400.0, 100.0 + f as f32, 40.0, 100.0, 0.8, PERSON);
    assert_eq!(tr.update(&[person(1), late(1)], at(1, 7.0)).len(), 1);
    let out = tr.update(&[person(2), late(2)], at(2, 7.0));
    assert_eq!(out.iter().map(|o| (o.track_id, o.age)).collect::<Vec<_>>(), vec![(1, 3), (2, 2)]);
}

#[test]
fn held_frames_keep_a_standing_object() {
    let mut tr = tracker(seen_only());
    let d = det(200.0, 150.0, 40.0, 100.0, 0.8, PERSON);
    for f in 0..10 {
        tr.update(&[d], at(f, 7.0));
    }
    let before = tr.update(&[d], at(10, 7.0));
    assert_eq!(before.len(), 1);
    for f in 11..111 {
        let out = tr.hold(at(f, 7.0));
        assert_eq!(out.len(), 1, "held frame {f}");
        assert_eq!(out[0].track_id, before[0].track_id);
        assert_eq!(out[0].bbox, before[0].bbox, "no drift while held");
        assert_eq!(out[0].frames_since_update, 0);
        assert_eq!(out[0].age, before[0].age + (f - 10));
    }
    let out = tr.update(&[d], at(111, 7.0));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].track_id, before[0].track_id);

    // Held frames do not count toward deleting a lost track: lost 15 frames, held 100, lost 5
    // more (20 < 21 frames of buffer at 7 fps), then seen again with the same id.
    let mut f = 112;
    for _ in 0..15 {
        assert!(tr.update(&[], at(f, 7.0)).is_empty());
        f += 1;
    }
    for _ in 0..100 {
        assert!(tr.hold(at(f, 7.0)).is_empty());
        f += 1;
    }
    for _ in 0..5 {
        tr.update(&[], at(f, 7.0));
        f += 1;
    }
    let out = tr.update(&[d], at(f, 7.0));
    assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![before[0].track_id]);
}

#[test]
fn skipped_frames_are_predicted_across() {
    // 15 px per frame with a 30 px wide box: after a 4-frame jump the box has moved two widths, so
    // a single prediction step would leave no overlap at all.
    let d = |f: u32| det(20.0 + 15.0 * f as f32, 100.0, 30.0, 90.0, 0.9, PERSON);
    let mut tr = tracker(TrackerConfig::default());
    for f in 0..10 {
        tr.update(&[d(f)], at(f, 7.0));
    }
    let out = tr.update(&[d(14)], at(14, 7.0));
    assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![1]);
    let (vx, vy) = out[0].velocity;
    assert!((vx - 15.0 * 7.0).abs() < 5.0 && vy.abs() < 5.0, "velocity in px/s: {vx} {vy}");
    // Jittery timestamps (±30 % of the interval) still count as single frames.
    let mut tr = tracker(TrackerConfig::default());
    for f in 0..40u32 {
        let t = Duration::from_secs_f64((1.0 + f as f64 + 0.3 * (jitter(f, 9) as f64 / 2.0)) / 25.0);
        let out = tr.update(&[d(f)], t);
        assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![1], "frame {f}");
    }
    assert!((tr.frame_interval_s() - 0.04).abs() < 0.005, "{}", tr.frame_interval_s());
}

#[test]
fn rate_skipped_frames_move_tracks_on_and_end_none() {
    // A walker at 2 px per frame (a box width and a quarter a second), 25 fps, detected on one
    // frame in five (detect_fps = 5).
    let d = |f: u32| det(20.0 + 2.0 * f as f32, 100.0, 40.0, 100.0, 0.9, PERSON);
    let mut tr = tracker(seen_only());
    for f in 0..100u32 {
        let out = if f % 5 == 0 { tr.update(&[d(f)], at(f, 25.0)) } else { tr.predict(at(f, 25.0)) };
        if f < 10 {
            continue;
        }
        // Reported on every frame, matched or predicted, under one id, where the walker is.
        assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![1], "frame {f}");
        assert_eq!(out[0].frames_since_update, 0, "frame {f}: predicted frames are not misses");
        if f < 40 {
            continue;
        }
        // Once the velocity is learnt, predicted boxes follow the walker.
        let dx = out[0].bbox.x1 - d(f).bbox.x1;
        assert!(dx.abs() < 3.0, "frame {f}: box {:?} is {dx} px from the walker", out[0].bbox);
        let vx = out[0].velocity.0;
        assert!((vx - 50.0).abs() < 10.0, "frame {f}: velocity {vx} px/s, not 50");
    }
    // Once gone, the track is deleted after lost_buffer_s of frames, predicted ones included:
    // the time a lost track is kept for is real time.
    let frames = (TrackerConfig::default().lost_buffer_s * 25.0).round() as u32;
    let mut tr = tracker(TrackerConfig::default());
    for f in 0..20u32 {
        tr.update(&[d(f)], at(f, 25.0));
    }
    let mut ended = None;
    for f in 20..20 + 3 * frames {
        let out = if f % 5 == 0 { tr.update(&[], at(f, 25.0)) } else { tr.predict(at(f, 25.0)) };
        if out.is_empty() && ended.is_none() {
            ended = Some(f);
        }
    }
    let gone = tr.update(&[d(20 + 3 * frames)], at(20 + 3 * frames, 25.0));
    assert!(ended.is_some());
    assert!(gone.iter().all(|o| o.track_id != 1), "a track lost for three buffers came back: {gone:?}");
}

#[test]
fn class_groups_let_vehicles_flip_but_never_mix_people_and_cars() {
    let mut tr = tracker(TrackerConfig::default());
    let v = |f: u32, class| det(100.0 + 5.0 * f as f32, 300.0, 120.0, 60.0, 0.8, class);
    for f in 0..5 {
        tr.update(&[v(f, CAR)], at(f, 7.0));
    }
    for f in 5..9 {
        let out = tr.update(&[v(f, TRUCK)], at(f, 7.0));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].track_id, 1, "car→truck flip keeps the id");
        assert_eq!(out[0].class_id, CAR, "class is the majority of matches (5 car vs {} truck)", f - 4);
    }
    let out = tr.update(&[v(9, TRUCK)], at(9, 7.0));
    assert_eq!((out[0].track_id, out[0].class_id), (1, CAR), "a 5–5 tie keeps the class");
    let out = tr.update(&[v(10, TRUCK)], at(10, 7.0));
    assert_eq!((out[0].track_id, out[0].class_id), (1, TRUCK), "majority moved to truck");

    // A person whose detection turns into a "car" at the same place: the person track is lost,
    // and a separate car track starts (a duplicate of a lost track of another class is no duplicate).
    let mut tr = tracker(seen_only());
    let p = |class| det(300.0, 100.0, 40.0, 100.0, 0.9, class);
    for f in 0..5 {
        tr.update(&[p(PERSON)], at(f, 7.0));
    }
    let out = tr.update(&[p(CAR)], at(5, 7.0));
    assert!(out.is_empty(), "person track not matched to a car, car not yet confirmed: {out:?}");
    let out = tr.update(&[p(CAR)], at(6, 7.0));
    assert_eq!(out.iter().map(|o| (o.track_id, o.class_id)).collect::<Vec<_>>(), vec![(2, CAR)]);
    let out = tr.update(&[p(PERSON)], at(7, 7.0));
    assert_eq!(out.iter().map(|o| (o.track_id, o.class_id)).collect::<Vec<_>>(), vec![(1, PERSON)]);

    // Classes outside every group associate only with themselves, even vehicles.
    let mut tr = tracker(TrackerConfig { class_groups: vec![], ..seen_only() });
    for f in 0..5 {
        tr.update(&[v(f, CAR)], at(f, 7.0));
    }
    tr.update(&[v(5, TRUCK)], at(5, 7.0));
    let out = tr.update(&[v(6, TRUCK)], at(6, 7.0));
    assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn one_vehicle_seen_as_car_and_truck_gives_one_track() {
    // Class-aware NMS keeps both boxes; without merging them the second would start a track.
    let mut tr = tracker(TrackerConfig::default());
    for f in 0..10u32 {
        let x = 100.0 + 4.0 * f as f32;
        let dets = [det(x, 300.0, 120.0, 60.0, 0.8, CAR), det(x + 2.0, 301.0, 118.0, 60.0, 0.75, TRUCK)];
        let out = tr.update(&dets, at(f, 7.0));
        assert_eq!(out.iter().map(|o| o.track_id).collect::<Vec<_>>(), vec![1], "frame {f}");
    }
}

#[test]
fn recently_lost_tracks_can_be_reported_at_their_prediction() {
    // Someone walks behind a lamp post for 3 frames.
    let d = |f: u32| det(100.0 + 6.0 * f as f32, 100.0, 40.0, 100.0, 0.9, PERSON);
    let run = |n: u32| -> Vec<Vec<TrackedObject>> {
        let mut tr = tracker(TrackerConfig { output_lost_max_frames: n, ..Default::default() });
        (0..20u32)
            .map(|f| {
                let dets = if (10..13).contains(&f) || f >= 16 { vec![] } else { vec![d(f)] };
                tr.update(&dets, at(f, 7.0))
            })
            .collect()
    };
    let plain = run(0);
    assert!(plain[10..13].iter().all(Vec::is_empty));
    let bridged = run(2);
    for (f, out) in bridged.iter().enumerate() {
        let f = f as u32;
        let expect_since = match f {
            10 | 11 => Some(f - 9),
            12 => None,
            16 | 17 => Some(f - 15),
            18 | 19 => None,
            _ => Some(0),
        };
        assert_eq!(out.first().map(|o| o.frames_since_update), expect_since, "frame {f}");
        if let Some(o) = out.first() {
            assert_eq!(o.track_id, 1);
            assert!(o.bbox.iou(&d(f).bbox) > 0.7, "frame {f}: prediction follows the walk");
        }
    }
}

#[test]
fn output_box_choice() {
    let d = |f: u32| det(100.0 + 6.0 * f as f32 + jitter(f, 5), 100.0, 40.0, 100.0, 0.9, PERSON);
    let mut raw = tracker(TrackerConfig { output_box: OutputBox::Detection, ..Default::default() });
    let mut filtered = tracker(TrackerConfig::default());
    let mut differs = false;
    for f in 0..15 {
        let a = raw.update(&[d(f)], at(f, 7.0));
        let b = filtered.update(&[d(f)], at(f, 7.0));
        assert_eq!(a[0].bbox, d(f).bbox);
        assert!(b[0].bbox.iou(&d(f).bbox) > 0.8);
        differs |= b[0].bbox != d(f).bbox;
    }
    assert!(differs, "the filtered box is the Kalman state, not a copy of the detection");
}

#[test]
fn invalid_settings_are_refused_with_their_key() {
    let e = ByteTracker::new(TrackerConfig { high_thresh: 1.5, ..Default::default() }, None).unwrap_err();
    assert_eq!(e.key, "high_thresh");
    assert!(e.to_string().starts_with("high_thresh: must be in (0,1]"), "{e}");
    let e = ByteTracker::new(TrackerConfig::default(), Some(0.0)).unwrap_err();
    assert_eq!(e.key, "fps");
}

#[test]
fn degenerate_detections_are_ignored() {
    let mut tr = tracker(TrackerConfig::default());
    let bad = [
        det(10.0, 10.0, 0.0, 50.0, 0.9, PERSON),
        det(10.0, 10.0, 50.0, 0.0, 0.9, PERSON),
        det(f32::NAN, 10.0, 50.0, 50.0, 0.9, PERSON),
        det(10.0, 10.0, 3.0, 3.0, 0.9, PERSON),
        det(10.0, 10.0, 50.0, 50.0, f32::NAN, PERSON),
    ];
    for f in 0..5 {
        assert!(tr.update(&bad, at(f, 7.0)).is_empty());
    }
}
