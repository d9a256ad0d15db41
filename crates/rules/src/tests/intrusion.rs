use super::*;
use vigie_imaging::RgbImage;

fn setup(classes: Option<Vec<&str>>) -> Sim {
    let z = zone("voie", ZoneKind::Forbidden, &[[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]);
    let mut r = rule("intrusion-voie", EventType::Intrusion, "voie");
    r.min_duration_s = Some(1.0);
    intrusion_params(&mut r).classes = classes.map(|c| c.into_iter().map(String::from).collect());
    Sim::new(&[z], &[r], None, (640, 480))
}

#[test]
fn person_in_normalised_zone_alerts_after_min_duration() {
    let mut s = setup(None);
    s.run(0.95, |_| vec![trk(4, "person", at(400.0, 300.0, 30.0, 80.0))]);
    assert!(s.opened().is_empty());
    s.run(5.0, |_| vec![trk(4, "person", at(400.0, 300.0, 30.0, 80.0))]);
    assert_eq!(s.opened().len(), 1);
    // Outside the zone (normalised 0.5–1 → x ≥ 320, y ≥ 240): nothing.
    let mut s = setup(None);
    s.run(10.0, |_| vec![trk(4, "person", at(200.0, 300.0, 30.0, 80.0))]);
    assert!(s.opened().is_empty());
}

#[test]
fn class_filter() {
    let mut s = setup(None);
    s.run(5.0, |_| vec![trk(1, "car", at(400.0, 300.0, 80.0, 50.0))]);
    assert!(s.opened().is_empty(), "default class is person");
    let mut s = setup(Some(vec!["car", "truck"]));
    s.run(5.0, |_| vec![trk(1, "car", at(400.0, 300.0, 80.0, 50.0)), trk(2, "person", at(450.0, 300.0, 30.0, 80.0))]);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].1.track_ids, vec![1]);
}

#[test]
fn second_intruder_updates_the_open_event_without_a_new_alert() {
    let mut s = setup(None);
    s.run(3.0, |_| vec![trk(1, "person", at(400.0, 300.0, 30.0, 80.0))]);
    s.run(5.0, |_| {
        vec![trk(1, "person", at(400.0, 300.0, 30.0, 80.0)), trk(2, "person", at(500.0, 400.0, 30.0, 80.0))]
    });
    assert_eq!(s.opened().len(), 1);
    let u = s.phases(EventPhase::Updated);
    assert!(u.iter().any(|(_, e)| e.track_ids == vec![1, 2]), "{u:?}");
}

fn textured(w: usize, h: usize) -> Frame {
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let v = if (x / 2 + y / 2) % 2 == 0 { 230 } else { 20 };
            rgb[(y * w + x) * 3..][..3].copy_from_slice(&[v, v, v]);
        }
    }
    Frame::from_rgb(w, h, &rgb)
}

fn detail(img: &RgbImage, b: &BBox) -> f64 {
    // Mean absolute difference between horizontal neighbours: high for a sharp pattern.
    let (x0, y0, x1, y1) = img.clip(b).unwrap();
    let mut s = 0.0;
    let mut n = 0.0;
    for y in y0 + 4..y1 - 4 {
        for x in x0 + 4..x1 - 5 {
            s += (img.pixel(x, y)[1] as f64 - img.pixel(x + 1, y)[1] as f64).abs();
            n += 1.0;
        }
    }
    s / n
}

#[test]
fn snapshot_blurs_every_person_but_the_subject() {
    let mut s = setup(None);
    s.frame = textured(640, 480);
    let subject = at(450.0, 400.0, 40.0, 100.0);
    let bystander = at(100.0, 300.0, 40.0, 100.0);
    s.run(2.0, |_| vec![trk(1, "person", subject), trk(2, "person", bystander)]);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    let img = RgbImage::decode_jpeg(o[0].1.snapshot_jpeg.as_ref().unwrap()).unwrap();
    let (ds, db) = (detail(&img, &subject), detail(&img, &bystander));
    assert!(ds > 40.0, "subject left sharp: {ds}");
    assert!(db < 15.0, "bystander pixelated: {db}");
}
