//! Per-frame cost of the rules engine and of the scene models at 768×576 with 20 zones, on
//! real decoded footage, for `vigie bench` and `examples/bench_rules.rs`.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};
use vigie_core::{BBox, ClassMap, EventType, Frame, TrackedObject};
use vigie_rules::scene::SceneModel;
use vigie_rules::{CameraRules, EventsConfig, RuleConfig, RuleParams, ZoneConfig, ZoneKind};

#[derive(Debug, Clone)]
pub struct RulesBench {
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    pub zones: usize,
    pub tracks_per_frame: usize,
    /// The whole engine (scene models included), µs per frame.
    pub engine_us: f64,
    /// The engine with track rules only (no abandoned/graffiti/person-down), µs per frame.
    pub track_rules_us: f64,
    /// The scene model's update alone (downscale, two backgrounds, chroma), µs per frame.
    pub scene_us: f64,
}

impl std::fmt::Display for RulesBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "rules engine, {}×{}, {} zones, {} tracks/frame, {} frames:",
            self.width, self.height, self.zones, self.tracks_per_frame, self.frames
        )?;
        writeln!(f, "  engine (all rule types, scene models included)  {:8.1} µs/frame", self.engine_us)?;
        writeln!(f, "  track rules only                                {:8.1} µs/frame", self.track_rules_us)?;
        writeln!(f, "  scene models (background update) alone          {:8.1} µs/frame", self.scene_us)
    }
}

/// Twenty zones tiling the frame: 4 intrusion, 3 crowd, 3 vehicle, 3 wrong way, 3 person down,
/// 2 abandoned object, 2 graffiti.
pub fn twenty_zones(scene_rules: bool) -> (Vec<ZoneConfig>, Vec<RuleConfig>) {
    let mut zones = Vec::new();
    let mut rules = Vec::new();
    let kinds: [(EventType, ZoneKind); 20] = [
        (EventType::Intrusion, ZoneKind::Forbidden),
        (EventType::Intrusion, ZoneKind::Forbidden),
        (EventType::Intrusion, ZoneKind::Forbidden),
        (EventType::Intrusion, ZoneKind::Forbidden),
        (EventType::Crowd, ZoneKind::Square),
        (EventType::Crowd, ZoneKind::Square),
        (EventType::Crowd, ZoneKind::Square),
        (EventType::VehicleInPedestrianZone, ZoneKind::PedestrianStreet),
        (EventType::VehicleInPedestrianZone, ZoneKind::PedestrianStreet),
        (EventType::VehicleInPedestrianZone, ZoneKind::PedestrianStreet),
        (EventType::WrongWay, ZoneKind::Lane),
        (EventType::WrongWay, ZoneKind::Lane),
        (EventType::WrongWay, ZoneKind::Lane),
        (EventType::PersonDown, ZoneKind::Square),
        (EventType::PersonDown, ZoneKind::Square),
        (EventType::PersonDown, ZoneKind::Square),
        (EventType::AbandonedObject, ZoneKind::Square),
        (EventType::AbandonedObject, ZoneKind::Square),
        (EventType::Graffiti, ZoneKind::Wall),
        (EventType::Graffiti, ZoneKind::Wall),
    ];
    for (i, (t, k)) in kinds.iter().enumerate() {
        let (cx, cy) = ((i % 5) as f64 * 0.2, (i / 5) as f64 * 0.25);
        let name = format!("z{i}");
        zones.push(ZoneConfig {
            name: name.clone(),
            kind: *k,
            // Overlapping pentagons, as real zones are drawn.
            polygon: vec![
                [cx + 0.02, cy + 0.02],
                [cx + 0.25, cy],
                [cx + 0.3, cy + 0.2],
                [(cx + 0.15).min(1.0), (cy + 0.3).min(1.0)],
                [cx, cy + 0.22],
            ]
            .into_iter()
            .map(|p| [p[0].min(1.0), p[1].min(1.0)])
            .collect(),
            direction: (*k == ZoneKind::Lane).then_some([1.0, 0.3]),
            points: Vec::new(),
            count: false,
        });
        let scene_type = matches!(t, EventType::AbandonedObject | EventType::Graffiti | EventType::PersonDown);
        let mut r = RuleConfig::new(&format!("r{i}"), *t, &name, "benchmark");
        r.enabled = scene_rules || !scene_type;
        if let RuleParams::Crowd(p) = &mut r.params {
            p.min_count = Some(4);
        }
        rules.push(r);
    }
    (zones, rules)
}

/// Tracks walking across the frame (people, a few cars), deterministic.
fn tracks_at(i: usize, n: usize, w: f32, h: f32, classes: &ClassMap) -> Vec<TrackedObject> {
    let person = classes.id("person").unwrap_or(0);
    let car = classes.id("car").unwrap_or(2);
    (0..n)
        .map(|k| {
            let speed = 2.0 + (k % 5) as f32;
            let x = (k as f32 * 97.0 + speed * i as f32) % w;
            let y = 120.0 + (k as f32 * 53.0) % (h - 140.0);
            let is_car = k % 6 == 0;
            let (bw, bh) = if is_car { (90.0, 55.0) } else { (28.0, 80.0) };
            TrackedObject {
                track_id: k as u64 + 1,
                bbox: BBox::new(x - bw / 2.0, y - bh, x + bw / 2.0, y),
                score: 0.8,
                class_id: if is_car { car } else { person },
                age: 10,
                frames_since_update: 0,
                velocity: (speed * 7.0, 0.0),
            }
        })
        .collect()
}

fn time_engine(mut e: CameraRules, frames: &[Frame], n: usize, tracks: usize, classes: &ClassMap) -> f64 {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_719_828_000);
    let (w, h) = (frames[0].width as f32, frames[0].height as f32);
    let mut total = Duration::ZERO;
    for i in 0..n {
        let f = &frames[i % frames.len()];
        let tr = tracks_at(i, tracks, w, h, classes);
        let now = start + Duration::from_secs_f64(i as f64 / 7.0);
        let t0 = Instant::now();
        let ev = e.process(f, &tr, now);
        total += t0.elapsed();
        std::hint::black_box(ev);
    }
    total.as_secs_f64() * 1e6 / n as f64
}

/// Measures on `n` frames of the PETS clip (768×576) under `repo_root`.
pub fn run(repo_root: &Path, n: usize) -> anyhow::Result<RulesBench> {
    let (frames, _) = crate::scenario_gen::read_clip(&repo_root.join("assets/video/pets09-s2l1.mp4"), 0.0, 30.0)?;
    let classes = ClassMap::parse(&std::fs::read_to_string(repo_root.join("assets/models/coco80_labels.txt"))?);
    let (w, h) = (frames[0].width, frames[0].height);
    let tracks = 15;
    let ev = EventsConfig::default();
    let build = |scene_rules: bool| -> anyhow::Result<CameraRules> {
        let (z, r) = twenty_zones(scene_rules);
        Ok(CameraRules::new("bench", &z, &r, None, &ev, (w, h), "bench", &classes)?)
    };
    let engine_us = time_engine(build(true)?, &frames, n, tracks, &classes);
    let track_rules_us = time_engine(build(false)?, &frames, n, tracks, &classes);
    let mut scene = SceneModel::new(w, h, true);
    let mut total = Duration::ZERO;
    for i in 0..n {
        let t0 = Instant::now();
        scene.update(&frames[i % frames.len()], 1.0 / 7.0);
        total += t0.elapsed();
    }
    Ok(RulesBench {
        frames: n,
        width: w,
        height: h,
        zones: 20,
        tracks_per_frame: tracks,
        engine_us,
        track_rules_us,
        scene_us: total.as_secs_f64() * 1e6 / n as f64,
    })
}
