use super::*;

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

#[test]
fn the_evidence_names_the_subject_and_not_the_bystander() {
    // The pictures themselves (subject clear, bystander pixelated) are the node's evidence
    // stage's business: crates/node/src/evidence.rs tests them from this same scene.
    let mut s = setup(None);
    let subject = at(450.0, 400.0, 40.0, 100.0);
    let bystander = at(100.0, 300.0, 40.0, 100.0);
    s.run(2.0, |_| vec![trk(1, "person", subject), trk(2, "person", bystander)]);
    let o = s.opened();
    assert_eq!(o.len(), 1);
    assert_eq!(s.evidence.len(), 1);
    let ev = &s.evidence[0];
    assert_eq!((ev.event_id.as_str(), ev.frame_seq), (o[0].1.id.as_str(), o[0].1.frame_seq));
    assert_eq!(ev.subjects, vec![1]);
    assert_eq!(ev.region, Some(subject));
    assert!(!ev.blur_all);
    assert_eq!(ev.zone.points.len(), 4);
}
