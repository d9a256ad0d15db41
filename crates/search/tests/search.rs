//! Track index and search on a real `tracks.db`, checked against a brute-force filter.

use std::time::SystemTime;
use vigie_core::UnixMs;
use vigie_core::{AuditSink, ClassMap};
use vigie_search::bench::Rng;
use vigie_search::*;

/// Audit trail kept in memory: (actor, action, target, details).
#[derive(Default)]
struct MemAudit(parking_lot::Mutex<Vec<(String, String, String, String)>>);

impl AuditSink for MemAudit {
    fn record(
        &self,
        actor: &str,
        action: vigie_core::AuditAction,
        target: &str,
        details: &str,
    ) -> Result<(), vigie_core::AuditError> {
        self.0.lock().push((actor.into(), action.as_str().into(), target.into(), details.into()));
        Ok(())
    }
}

impl MemAudit {
    fn with_action(&self, action: &str) -> Vec<serde_json::Value> {
        self.0
            .lock()
            .iter()
            .filter(|e| e.1 == action)
            .map(|e| serde_json::from_str(&e.3).expect("audit details are JSON"))
            .collect()
    }
}

const BASE: i64 = 1_795_996_800_000 - 86_400_000; // 2026-11-29T00:00:00Z

fn zones_of(cam: &str) -> Vec<String> {
    match cam {
        "cam-a" => vec!["rue piétonne".into(), "parvis".into()],
        "cam-b" => vec!["rue piétonne".into(), "quai".into()],
        _ => vec!["entrée".into()],
    }
}

fn setup(n: usize) -> (tempfile::TempDir, TrackIndex, Vec<(i64, TrackRecord)>) {
    let dir = tempfile::tempdir().unwrap();
    let ix = TrackIndex::open(dir.path().join("tracks.db")).unwrap();
    ix.register_classes(&ClassMap::new(
        ["person", "bicycle", "car", "motorcycle", "bus", "truck"].iter().map(|s| s.to_string()).collect(),
    ))
    .unwrap();
    for c in ["cam-a", "cam-b", "cam-c", "cam-d"] {
        ix.register_camera(c, &zones_of(c)).unwrap();
    }
    let mut rng = Rng::new(3);
    let mut recs = Vec::new();
    for i in 0..n {
        let cam = ["cam-a", "cam-b", "cam-c"][rng.below(3) as usize];
        let class = ["person", "person", "car", "car", "truck", "bicycle", "bus"][rng.below(7) as usize];
        // Some tracks share a start instant, to exercise ordering ties.
        let start = BASE + (i as i64 / 2) * 40_000 + rng.below(3) as i64 * 1000;
        let dur = 1000 + rng.below(600_000) as i64;
        let mut zones = Vec::new();
        for z in zones_of(cam) {
            if rng.f64() < 0.5 {
                zones.push(ZoneVisit {
                    zone: z,
                    enter_ms: UnixMs(start),
                    dwell_s: (rng.below(dur as u64) as f64) / 1000.0,
                });
            }
        }
        let person = class == "person";
        recs.push(TrackRecord {
            camera: cam.into(),
            track_id: i as u64 + 1,
            class: class.into(),
            start_ms: UnixMs(start),
            end_ms: UnixMs(start + dur),
            zones,
            direction: (rng.f64() < 0.9).then(|| Direction::ALL[rng.below(8) as usize]),
            displacement_px: 50.0,
            // The index must drop a colour given for a person.
            color: (rng.f64() < 0.9).then(|| NamedColor::ALL[rng.below(10) as usize]),
            mean_width: 40.0,
            mean_height: 80.0,
            observations: 10,
            event_ids: if rng.f64() < 0.1 { vec![format!("ev-{i}")] } else { vec![] },
            descriptor: (!person).then(|| Descriptor {
                colors: {
                    let mut c = [0u8; 10];
                    c[rng.below(10) as usize] = 200;
                    c
                },
                aspect: 1.5,
            }),
            thumbnail_jpeg: (i % 5 == 0).then(|| vec![0xFF, 0xD8, i as u8, 0xFF, 0xD9]),
        });
    }
    let ids = ix.insert_batch(&recs[..n / 2]).unwrap();
    let mut ids2 = Vec::new();
    for r in &recs[n / 2..] {
        ids2.push(ix.insert(r).unwrap());
    }
    let all = ids.into_iter().chain(ids2).zip(recs).collect();
    (dir, ix, all)
}

fn brute(all: &[(i64, TrackRecord)], q: &SearchQuery) -> Vec<i64> {
    let (from, to) = (q.from_ms.unwrap(), q.to_ms.unwrap());
    let dwell_ms = q.min_dwell_s.map(|s| (s * 1000.0).round() as i64);
    let mut v: Vec<(UnixMs, i64)> = all
        .iter()
        .filter(|(_, r)| {
            let color = if r.class == "person" { None } else { r.color };
            r.start_ms <= to
                && r.end_ms >= from
                && (q.cameras.is_empty() || q.cameras.contains(&r.camera))
                && (q.classes.is_empty() || q.classes.contains(&r.class))
                && (q.colors.is_empty() || color.is_some_and(|c| q.colors.contains(&c)))
                && q.direction.is_none_or(|d| r.direction == Some(d))
                && q.event_linked.is_none_or(|e| e != r.event_ids.is_empty())
                && if q.zones.is_empty() {
                    dwell_ms.is_none_or(|d| r.end_ms.ms_since(r.start_ms) >= d)
                } else {
                    r.zones.iter().any(|z| {
                        q.zones.contains(&z.zone) && dwell_ms.is_none_or(|d| (z.dwell_s * 1000.0).round() as i64 >= d)
                    })
                }
        })
        .map(|(id, r)| (r.start_ms, *id))
        .collect();
    v.sort_unstable();
    v.into_iter().map(|x| x.1).collect()
}

#[test]
fn every_filter_combination_matches_a_brute_force_scan() {
    let (_dir, ix, all) = setup(600);
    assert_eq!(ix.len(), 600);
    let mut rng = Rng::new(11);
    let mut nonempty = 0;
    for round in 0..400 {
        let from = BASE + rng.below(10 * 3_600_000) as i64;
        let to = from + 60_000 + rng.below(6 * 3_600_000) as i64;
        let mut q = SearchQuery {
            from_ms: Some(UnixMs(from)),
            to_ms: Some(UnixMs(to)),
            limit: Some(1000),
            ..Default::default()
        };
        if rng.f64() < 0.4 {
            q.cameras = vec![["cam-a", "cam-b", "cam-c"][rng.below(3) as usize].to_string()];
            if rng.f64() < 0.3 {
                q.cameras.push("cam-c".into());
                q.cameras.dedup();
            }
        }
        if rng.f64() < 0.4 {
            let names: Vec<String> = if q.cameras.iter().any(|c| c == "cam-c") {
                vec!["entrée".into()]
            } else {
                vec!["rue piétonne".into(), "parvis".into(), "quai".into()]
            };
            let z = names[rng.below(names.len() as u64) as usize].clone();
            if q.cameras.is_empty() || q.cameras.iter().any(|c| zones_of(c).contains(&z)) {
                q.zones = vec![z];
                // Two zones of one camera: tracks crossing both must appear (and count) once.
                if q.cameras.is_empty() && rng.f64() < 0.4 {
                    q.zones = vec!["rue piétonne".into(), "parvis".into()];
                }
            }
        }
        if rng.f64() < 0.5 {
            q.classes = vec![["person", "car", "truck", "bicycle", "bus"][rng.below(5) as usize].to_string()];
        }
        if rng.f64() < 0.4 {
            q.colors = vec![NamedColor::ALL[rng.below(10) as usize]];
            if rng.f64() < 0.3 {
                q.colors.push(NamedColor::ALL[rng.below(10) as usize]);
            }
        }
        if rng.f64() < 0.2 {
            q.direction = Some(Direction::ALL[rng.below(8) as usize]);
        }
        if rng.f64() < 0.3 {
            q.min_dwell_s = Some(rng.below(300) as f64);
        }
        if rng.f64() < 0.15 {
            q.event_linked = Some(rng.f64() < 0.7);
        }
        let expect = brute(&all, &q);
        let got = ix.search(&q).unwrap();
        let ids: Vec<i64> = got.tracks.iter().map(|h| h.id).collect();
        assert_eq!(ids, expect, "round {round}: {q:?}");
        assert_eq!(got.total, expect.len() as u64, "round {round}: {q:?} {got:?}");
        assert!(!got.has_more && !got.total_is_lower_bound);
        if !expect.is_empty() {
            nonempty += 1;
        }
        // Paging walks the same list.
        if expect.len() > 3 {
            let page = ix.search(&SearchQuery { limit: Some(2), offset: Some(1), ..q.clone() }).unwrap();
            assert_eq!(page.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), expect[1..3].to_vec(), "round {round}");
            assert_eq!(page.has_more, expect.len() > 3);
        }
    }
    assert!(nonempty > 80, "the random queries mostly find something ({nonempty})");
}

#[test]
fn hits_carry_what_the_console_shows() {
    let (_dir, ix, all) = setup(100);
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE)),
        to_ms: Some(UnixMs(BASE + 86_400_000)),
        limit: Some(1000),
        ..Default::default()
    };
    let res = ix.search(&q).unwrap();
    assert_eq!(res.tracks.len(), 100);
    for h in &res.tracks {
        let r = &all.iter().find(|(id, _)| *id == h.id).unwrap().1;
        assert_eq!(
            (h.camera.as_str(), h.class.as_str(), h.track_id),
            (r.camera.as_str(), r.class.as_str(), r.track_id)
        );
        assert_eq!((h.start_ms, h.end_ms), (r.start_ms, r.end_ms));
        assert_eq!(h.direction, r.direction);
        if r.class == "person" {
            assert_eq!(h.color, None, "no colour is ever stored for a person");
        } else {
            assert_eq!(h.color, r.color);
        }
        assert_eq!(h.zones.len(), r.zones.len());
        for (a, b) in h.zones.iter().zip(&r.zones) {
            assert_eq!(a.zone, b.zone);
            assert!((a.dwell_s - b.dwell_s).abs() < 0.001);
        }
        assert_eq!(h.event_ids, r.event_ids);
        assert_eq!(h.has_thumbnail, r.thumbnail_jpeg.is_some());
        assert_eq!(ix.thumbnail(h.id).unwrap(), r.thumbnail_jpeg);
        assert!(h.clip_from_ms < h.start_ms && h.clip_to_ms > h.end_ms);
        assert_eq!(h.start, h.start_ms.rfc3339());
    }
    let json = serde_json::to_value(&res).unwrap();
    assert!(json["tracks"][0]["start"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn bad_searches_name_what_is_wrong() {
    let (_dir, ix, _) = setup(20);
    let ok = SearchQuery { from_ms: Some(UnixMs(BASE)), to_ms: Some(UnixMs(BASE + 3_600_000)), ..Default::default() };
    let err = |q: SearchQuery| ix.search(&q).unwrap_err();
    assert!(
        matches!(err(SearchQuery { from_ms: ok.to_ms, to_ms: ok.from_ms, ..ok.clone() }), SearchError::TimeRange(m) if m.contains("reversed"))
    );
    assert!(matches!(err(SearchQuery { to_ms: None, ..ok.clone() }), SearchError::TimeRange(m) if m.contains("'to'")));
    assert!(
        matches!(err(SearchQuery { from_ms: None, ..ok.clone() }), SearchError::TimeRange(m) if m.contains("unbounded"))
    );
    let long = SearchQuery { to_ms: Some(UnixMs(BASE + 40 * 86_400_000)), ..ok.clone() };
    assert!(matches!(err(long), SearchError::TimeRange(m) if m.contains("31 days")));
    assert_eq!(
        err(SearchQuery { cameras: vec!["cam-z".into()], ..ok.clone() }),
        SearchError::UnknownCamera("cam-z".into())
    );
    assert_eq!(err(SearchQuery { zones: vec!["moon".into()], ..ok.clone() }), SearchError::UnknownZone("moon".into()));
    assert_eq!(
        err(SearchQuery { classes: vec!["unicorn".into()], ..ok.clone() }),
        SearchError::UnknownClass("unicorn".into())
    );
    let e = err(SearchQuery { cameras: vec!["cam-c".into()], zones: vec!["quai".into()], ..ok.clone() });
    assert!(e.to_string().contains("'quai' is not on camera(s) cam-c"), "{e}");
    assert!(
        matches!(err(SearchQuery { limit: Some(0), ..ok.clone() }), SearchError::BadParam { param, .. } if param == "limit")
    );
    assert!(err(SearchQuery { min_dwell_s: Some(-1.0), ..ok.clone() }).is_client_error());
    // Configured cameras and zones with no tracks yet are valid, just empty.
    let r = ix.search(&SearchQuery { cameras: vec!["cam-d".into()], ..ok.clone() }).unwrap();
    assert_eq!(r.total, 0);
    // Names match regardless of case and accents.
    let r = ix.search(&SearchQuery { zones: vec!["RUE PIETONNE".into()], ..ok }).unwrap();
    assert_eq!(r.filters.zones, vec!["rue piétonne".to_string()]);
}

fn at(ms: i64) -> SystemTime {
    UnixMs(ms).into()
}

#[test]
fn the_api_parameters_and_text_query_are_understood_and_audited() {
    let (_dir, ix, all) = setup(300);
    let audit = MemAudit::default();
    let utc = jiff::tz::TimeZone::UTC;
    let now = at(BASE + 86_400_000 + 10 * 3_600_000); // 2026-11-30 10:00, so "yesterday" is BASE's day
    let p =
        SearchParams { q: Some(r#"red car in "rue piétonne" after 02:00 yesterday"#.into()), ..Default::default() };
    let res = ix.search_params(&p, "alice", now, &utc, &audit).unwrap();
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE + 2 * 3_600_000)),
        to_ms: Some(UnixMs(BASE + 86_400_000)),
        zones: vec!["rue piétonne".into()],
        classes: vec!["car".into()],
        colors: vec![NamedColor::Red],
        ..Default::default()
    };
    assert_eq!(res.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), brute(&all, &q));
    assert_eq!(res.filters.classes, vec!["car".to_string()]);
    assert_eq!(res.filters.colors, vec![NamedColor::Red]);
    assert_eq!(res.filters.from, "2026-11-29T02:00:00Z");
    assert!(res.understood.iter().any(|u| u == "colour: red"), "{:?}", res.understood);
    let entries = audit.0.lock().clone();
    assert_eq!(entries.len(), 1);
    let (actor, action, _, details) = &entries[0];
    assert_eq!((actor.as_str(), action.as_str()), ("alice", "search"));
    let d: serde_json::Value = serde_json::from_str(details).unwrap();
    assert_eq!(d["results"], res.total);
    assert_eq!(d["filters"]["zones"][0], "rue piétonne");

    // Structured parameters, lists comma-separated, French class words accepted.
    let p = SearchParams {
        from: Some("2026-11-29T00:00:00Z".into()),
        to: Some("2026-11-29T06:00:00+00:00".into()),
        camera: vec!["cam-a,cam-b".into()],
        class: vec!["voiture".into()],
        color: vec!["bleu".into(), "white".into()],
        min_dwell_s: Some(10.0),
        ..Default::default()
    };
    let res = ix.search_params(&p, "bob", now, &utc, &audit).unwrap();
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE)),
        to_ms: Some(UnixMs(BASE + 6 * 3_600_000)),
        cameras: vec!["cam-a".into(), "cam-b".into()],
        classes: vec!["car".into()],
        colors: vec![NamedColor::Blue, NamedColor::White],
        min_dwell_s: Some(10.0),
        ..Default::default()
    };
    assert_eq!(res.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), brute(&all, &q));
    assert!(res.understood.is_empty());

    // Words it cannot read are ignored and named; a text of which nothing is understood is
    // refused (it would match everything), and nothing is searched (or audited).
    let p = SearchParams { q: Some("red zeppelin near the quai".into()), ..Default::default() };
    let res = ix.search_params(&p, "alice", now, &utc, &audit).unwrap();
    assert!(res.understood.contains(&"ignored: zeppelin".to_string()), "{:?}", res.understood);
    assert!(res.understood.contains(&"colour: red".to_string()) && res.understood.contains(&"zone: quai".to_string()));
    assert_eq!(audit.0.lock().len(), 3);
    let p = SearchParams { q: Some("zeppelin flurbs".into()), ..Default::default() };
    match ix.search_params(&p, "alice", now, &utc, &audit).unwrap_err() {
        SearchError::Unparsed { not_understood, .. } => {
            assert_eq!(not_understood, vec!["zeppelin".to_string(), "flurbs".to_string()])
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(audit.0.lock().len(), 3);
    // Without any time, text or parameters cover the whole index and say so.
    let res = ix
        .search_params(&SearchParams { q: Some("bus".into()), ..Default::default() }, "a", now, &utc, &audit)
        .unwrap();
    assert!(res.understood.iter().any(|u| u.contains("no time given")));
    let res = ix
        .search_params(&SearchParams { class: vec!["bus".into()], ..Default::default() }, "a", now, &utc, &audit)
        .unwrap();
    assert!(res.understood.iter().any(|u| u.contains("no time given")), "{:?}", res.understood);
    assert_eq!(res.filters.to, UnixMs::from(now).rfc3339());
    let e = ix.search_params(
        &SearchParams { from: Some("yesterday".into()), ..Default::default() },
        "a",
        now,
        &utc,
        &audit,
    );
    assert!(matches!(e, Err(SearchError::BadParam { ref param, .. }) if param == "from"), "{e:?}");
    let e =
        ix.search_params(&SearchParams { color: vec!["teal".into()], ..Default::default() }, "a", now, &utc, &audit);
    assert!(e.unwrap_err().to_string().contains("teal"));
}

#[test]
fn similar_objects_for_vehicles_never_for_people_and_events_link_later() {
    let (_dir, ix, all) = setup(200);
    let audit = MemAudit::default();
    let (car_id, car) = all.iter().find(|(_, r)| r.class == "car").unwrap();
    let hits = ix.similar(*car_id, UnixMs(BASE), UnixMs(BASE + 86_400_000), 5, "alice", &audit).unwrap();
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|h| h.class == "car" && h.id != *car_id));
    assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance));
    let best = &all.iter().find(|(id, _)| *id == hits[0].id).unwrap().1;
    assert_eq!(
        best.descriptor.as_ref().unwrap().colors,
        car.descriptor.as_ref().unwrap().colors,
        "closest has the same histogram"
    );
    let (person_id, _) = all.iter().find(|(_, r)| r.class == "person").unwrap();
    assert!(matches!(
        ix.similar(*person_id, UnixMs(BASE), UnixMs(BASE + 86_400_000), 5, "alice", &audit),
        Err(SearchError::NotComparable(_))
    ));
    assert_eq!(audit.with_action("search.similar").len(), 1);

    let (id, r) = all.iter().find(|(_, r)| r.event_ids.is_empty()).unwrap();
    assert!(ix.link_event(&r.camera, r.track_id, "ev-late").unwrap());
    let q = SearchQuery {
        from_ms: Some(r.start_ms),
        to_ms: Some(r.end_ms),
        event_linked: Some(true),
        ..Default::default()
    };
    let res = ix.search(&q).unwrap();
    let hit = res.tracks.iter().find(|h| h.id == *id).unwrap();
    assert_eq!(hit.event_ids, vec!["ev-late".to_string()]);
    assert!(!ix.link_event("cam-a", 999_999, "x").unwrap());
}

#[test]
fn retention_deletes_old_tracks_and_keeps_counts_right() {
    let (_dir, ix, all) = setup(200);
    let cutoff = UnixMs(BASE + 2 * 3_600_000);
    let n = ix.delete_before(cutoff).unwrap();
    let expect = all.iter().filter(|(_, r)| r.start_ms < cutoff).count() as u64;
    assert_eq!(n, expect);
    assert_eq!(ix.len(), 200 - expect);
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE - 3_600_000)),
        to_ms: Some(UnixMs(BASE + 86_400_000)),
        limit: Some(1000),
        ..Default::default()
    };
    let res = ix.search(&q).unwrap();
    assert_eq!(res.total, 200 - expect);
    assert!(res.tracks.iter().all(|h| h.start_ms >= cutoff));
    let zq = SearchQuery { zones: vec!["rue piétonne".into()], ..q };
    assert!(ix.search(&zq).unwrap().tracks.iter().all(|h| h.start_ms >= cutoff));
}

#[test]
fn search_parameters_deserialise_from_one_value_or_a_list() {
    let p: SearchParams =
        serde_json::from_str(r#"{"camera": "cam-a,cam-b", "class": ["car", "bus"], "q": "red"}"#).unwrap();
    assert_eq!(p.camera, vec!["cam-a,cam-b".to_string()]);
    assert_eq!(p.class, vec!["car".to_string(), "bus".to_string()]);
    assert!(p.zone.is_empty() && p.from.is_none());
}

#[test]
fn search_parameters_refuse_unknown_names_and_audit_as_asked() {
    // A misspelt filter must not silently widen a search.
    assert!(serde_json::from_str::<SearchParams>(r#"{"colour": "red"}"#).is_err());
    let p: SearchParams = serde_json::from_str(r#"{"camera": "cam-a,cam-b", "class": ["car", "bus"]}"#).unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["camera"], "cam-a,cam-b");
    assert_eq!(v["class"], "car,bus");
    assert!(v["zone"].is_null() && v["limit"].is_null());
    assert_eq!(serde_json::from_value::<SearchParams>(v).unwrap().camera, p.camera);
}

/// `within_cameras` (the caller's sectors, set by the server): the answer, its total and its
/// pages hold those cameras only, whether or not the query names cameras; naming another
/// camera, in a parameter or in the text, is refused as an unknown camera.
#[test]
fn searches_keep_within_the_callers_cameras() {
    let (_dir, ix, all) = setup(300);
    let utc = jiff::tz::TimeZone::UTC;
    let now = at(BASE + 86_400_000 + 10 * 3_600_000);
    let audit = MemAudit::default();
    let within = Some(vec!["cam-a".to_string(), "cam-c".to_string()]);
    let p = SearchParams {
        from: Some("2026-11-29T00:00:00Z".into()),
        to: Some("2026-11-30T00:00:00Z".into()),
        limit: Some(5),
        within_cameras: within.clone(),
        ..Default::default()
    };
    let res = ix.search_params(&p, "c", now, &utc, &audit).unwrap();
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE)),
        to_ms: Some(UnixMs(BASE + 86_400_000)),
        cameras: vec!["cam-a".into(), "cam-c".into()],
        ..Default::default()
    };
    let want = brute(&all, &q);
    assert_eq!(res.total, want.len() as u64, "the total counts the caller's cameras only");
    assert_eq!(res.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), want[..5]);
    let named = SearchParams { camera: vec!["cam-a".into()], ..p.clone() };
    assert!(ix.search_params(&named, "c", now, &utc, &audit).unwrap().tracks.iter().all(|h| h.camera == "cam-a"));
    for refused in [
        SearchParams { camera: vec!["cam-a,cam-b".into()], ..p.clone() },
        SearchParams { q: Some("cars on camera cam-b".into()), from: None, to: None, ..p.clone() },
    ] {
        let e = ix.search_params(&refused, "c", now, &utc, &audit).unwrap_err();
        assert_eq!(e, SearchError::UnknownCamera("cam-b".into()), "{refused:?}");
    }
    let nothing = SearchParams { within_cameras: Some(vec![]), ..p.clone() };
    let res = ix.search_params(&nothing, "c", now, &utc, &audit).unwrap();
    assert_eq!((res.total, res.tracks.len()), (0, 0));
    // Not a query-string parameter: a client cannot widen (or set) it.
    let e = serde_json::from_value::<SearchParams>(serde_json::json!({"within_cameras": "cam-b"}));
    assert!(e.is_err());
}

/// The console's own example, days as the city counts them, cameras by name (issue 14, point 9).
#[test]
fn places_by_everyday_words_days_in_the_city_and_cameras_by_name() {
    let (_dir, ix, all) = setup(300);
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let now = at(BASE + 86_400_000 + 20 * 3_600_000); // 2026-11-30 21:00 Paris
    let audit = MemAudit::default();
    let places = vec![
        PlaceCamera {
            id: "cam-a".into(),
            name: "Place de la Gare (PETS 2009)".into(),
            zones: vec![PlaceZone { name: "parvis".into(), kind: "square".into() }],
        },
        PlaceCamera { id: "cam-c".into(), name: "Hall".into(), zones: vec![] },
        PlaceCamera { id: "cam-z".into(), name: "Quiet corner".into(), zones: vec![] },
    ];
    let p = SearchParams {
        q: Some("show me a red car in the square after 18:00 please".into()),
        places: places.clone(),
        ..Default::default()
    };
    let res = ix.search_params(&p, "a", now, &paris, &audit).unwrap();
    assert_eq!(res.filters.zones, vec!["parvis".to_string()], "{:?}", res.understood);
    assert_eq!(res.filters.from, "2026-11-30T17:00:00Z", "18:00 in Paris");
    assert!(res.understood.iter().any(|u| u == "ignored: please"), "{:?}", res.understood);
    // The same on the day the tracks were made: exactly the red cars of that zone.
    let p = SearchParams {
        q: Some("red car in the square after 00:30".into()),
        places: places.clone(),
        ..Default::default()
    };
    let res = ix.search_params(&p, "a", at(BASE + 20 * 3_600_000), &paris, &audit).unwrap();
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE - 30 * 60_000)),
        to_ms: Some(UnixMs(BASE + 23 * 3_600_000)),
        zones: vec!["parvis".into()],
        classes: vec!["car".into()],
        colors: vec![NamedColor::Red],
        ..Default::default()
    };
    let want = brute(&all, &q);
    assert!(!want.is_empty());
    assert_eq!(res.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), want);

    // The camera's name, whole or before its brackets, in text or as the parameter.
    for text in ["people on Place de la Gare", "people at \"place de la gare (pets 2009)\""] {
        let p = SearchParams { q: Some(text.into()), places: places.clone(), ..Default::default() };
        let res = ix.search_params(&p, "a", now, &paris, &audit).unwrap();
        assert_eq!(res.filters.cameras, vec!["cam-a".to_string()], "{text}: {:?}", res.understood);
    }
    // A one-day range (from = to) is that whole day in Paris, not UTC midnight and not "reversed".
    let p = SearchParams {
        from: Some("2026-11-29".into()),
        to: Some("2026-11-29".into()),
        camera: vec!["Hall".into()],
        places: places.clone(),
        limit: Some(1000),
        ..Default::default()
    };
    let res = ix.search_params(&p, "a", now, &paris, &audit).unwrap();
    assert_eq!((res.filters.from.as_str(), res.filters.to.as_str()), ("2026-11-28T23:00:00Z", "2026-11-29T23:00:00Z"));
    assert_eq!(res.filters.cameras, vec!["cam-c".to_string()]);
    let q = SearchQuery {
        from_ms: Some(UnixMs(BASE - 3_600_000)),
        to_ms: Some(UnixMs(BASE + 23 * 3_600_000)),
        cameras: vec!["cam-c".into()],
        limit: Some(1000),
        ..Default::default()
    };
    assert_eq!(res.tracks.iter().map(|h| h.id).collect::<Vec<_>>(), brute(&all, &q));
    // A local date and time, and a camera of the node that has no track yet: no results, no error.
    let p = SearchParams {
        from: Some("2026-11-29T08:30".into()),
        camera: vec!["Quiet corner".into()],
        places,
        ..Default::default()
    };
    let res = ix.search_params(&p, "a", now, &paris, &audit).unwrap();
    assert_eq!(res.total, 0);
    assert!(res.understood.iter().any(|u| u.contains("cam-z has no recorded track")), "{:?}", res.understood);
    let e = ix.search_params(
        &SearchParams { from: Some("29/11/2026".into()), ..Default::default() },
        "a",
        now,
        &paris,
        &audit,
    );
    assert!(matches!(e, Err(SearchError::BadParam { ref param, .. }) if param == "from"), "{e:?}");
}
