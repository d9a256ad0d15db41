//! The search benchmark: a deterministic generator that fills `tracks.db` with a realistic
//! city's worth of tracks, and a timed query mix reporting p50/p95 per query type.
//!
//! `cargo run --release -p vigie-search --example bench_search -- [DIR] [N]`

use crate::colour::NamedColor;
use crate::index::TrackIndex;
use crate::query::{SearchParams, SearchQuery};
use crate::summarize::Descriptor;
use rusqlite::params;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use vigie_core::{ClassMap, UnixMs};

pub use vigie_core::rng::Rng;

trait Pick {
    fn pick<'a, T>(&mut self, weighted: &'a [(T, f64)]) -> &'a T;
}

impl Pick for Rng {
    fn pick<'a, T>(&mut self, weighted: &'a [(T, f64)]) -> &'a T {
        let total: f64 = weighted.iter().map(|w| w.1).sum();
        let mut x = self.f64() * total;
        for (v, w) in weighted {
            if x < *w {
                return v;
            }
            x -= w;
        }
        &weighted.last().expect("non-empty").0
    }
}

pub const CAMERAS: usize = 50;
pub const DAYS: i64 = 30;
/// End of the generated month: 2026-11-30T00:00:00Z.
pub const GEN_END_MS: i64 = 1_795_996_800_000;

const CLASSES: &[(&str, f64)] = &[
    ("person", 55.0),
    ("car", 28.0),
    ("bicycle", 5.0),
    ("truck", 4.0),
    ("motorcycle", 2.5),
    ("bus", 1.5),
    ("backpack", 1.5),
    ("handbag", 1.0),
    ("suitcase", 1.0),
    ("dog", 0.5),
];

const COLORS: &[(NamedColor, f64)] = &[
    (NamedColor::White, 24.0),
    (NamedColor::Black, 20.0),
    (NamedColor::Grey, 22.0),
    (NamedColor::Blue, 10.0),
    (NamedColor::Red, 9.0),
    (NamedColor::Green, 4.0),
    (NamedColor::Brown, 4.0),
    (NamedColor::Yellow, 3.0),
    (NamedColor::Orange, 2.0),
    (NamedColor::Purple, 2.0),
];

const STREETS: &[&str] = &[
    "rue piétonne",
    "parvis de la gare",
    "place du marché",
    "quai nord",
    "quai sud",
    "carrefour central",
    "avenue jean jaurès",
    "rue de la république",
    "place de l'hôtel de ville",
    "passage couvert",
    "piste cyclable est",
    "piste cyclable ouest",
    "arrêt de bus mairie",
    "entrée du parc",
    "sortie du parc",
    "parking relais",
    "rue victor hugo",
    "boulevard gambetta",
    "pont neuf",
    "esplanade",
    "galerie marchande",
    "cour de l'école",
    "rue des halles",
    "square pasteur",
    "allée des tilleuls",
];

/// Zone names of camera `i` (0-based): each name is on two or three cameras.
pub fn zones_of(i: usize) -> Vec<String> {
    vec![STREETS[i / 2 % STREETS.len()].to_string(), format!("trottoir {}", i / 3 + 1), format!("traversée {}", i + 1)]
}

pub fn camera_name(i: usize) -> String {
    format!("cam-{:02}", i + 1)
}

#[derive(Debug, Clone)]
pub struct GenerateReport {
    pub tracks: u64,
    pub zone_visits: u64,
    pub seconds: f64,
    pub bytes: u64,
}

/// Fills a fresh `tracks.db` at `path` with `n` deterministic tracks over 50 cameras and 30
/// days (busier by day, people 55 %, cars 28 %, ...; about 0.8 zone visit per track, a few
/// percent of loiterers, 0.3 % linked to events). Thumbnails are left out: they live in their
/// own table and no search reads them.
pub fn generate_index(path: &Path, n: u64, seed: u64) -> Result<GenerateReport, crate::DbError> {
    let t0 = Instant::now();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    {
        let ix = TrackIndex::open(path)?;
        let classes = ClassMap::new(CLASSES.iter().map(|c| c.0.to_string()).collect());
        ix.register_classes(&classes)?;
        for i in 0..CAMERAS {
            ix.register_camera(&camera_name(i), &zones_of(i))?;
        }
    }
    let db = path.display().to_string();
    let e = crate::db::sql_err(&db);
    let mut rng = Rng::new(seed);
    let mut visits = 0u64;
    {
        // A connection of its own: switching the journal off for the bulk load needs the
        // database to itself.
        let mut c = rusqlite::Connection::open(path).map_err(&e)?;
        let zone_ids: Vec<Vec<i64>> = (0..CAMERAS)
            .map(|i| {
                zones_of(i)
                    .iter()
                    .map(|z| {
                        c.query_row(
                            "SELECT z.id FROM zones z JOIN cameras c ON c.id = z.camera_id WHERE c.name = ?1 AND z.name = ?2",
                            params![camera_name(i), z],
                            |r| r.get(0),
                        )
                    })
                    .collect::<Result<Vec<i64>, _>>()
            })
            .collect::<Result<_, _>>()
            .map_err(&e)?;
        let cam_ids: Vec<i64> = (0..CAMERAS)
            .map(|i| c.query_row("SELECT id FROM cameras WHERE name = ?1", [camera_name(i)], |r| r.get(0)))
            .collect::<Result<_, _>>()
            .map_err(&e)?;
        let class_ids: Vec<i64> = CLASSES
            .iter()
            .map(|(name, _)| c.query_row("SELECT id FROM classes WHERE name = ?1", [name], |r| r.get(0)))
            .collect::<Result<_, _>>()
            .map_err(&e)?;
        let saved_indexes: Vec<(String, String)> = {
            let mut st = c
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('tracks', 'zone_visits') AND sql IS NOT NULL")
                .map_err(&e)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)?
        };
        c.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;
             CREATE TEMP TABLE zv_load (zone_id INTEGER, start_ms INTEGER, track INTEGER, end_ms INTEGER, dwell_ms INTEGER, class_id INTEGER, color_id INTEGER);",
        )
        .map_err(&e)?;
        for (name, _) in &saved_indexes {
            c.execute_batch(&format!("DROP INDEX {name}")).map_err(&e)?;
        }
        let tx = c.transaction().map_err(&e)?;
        let mut counts: HashMap<(i64, i64), i64> = HashMap::new();
        let mut max_len = 0i64;
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO tracks (id, camera_id, track_id, class_id, color_id, start_ms, end_ms, direction, disp_px,
                        width, height, zones, event_ids, observations, descriptor)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(&e)?;
            let mut zv = tx.prepare("INSERT INTO zv_load VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(&e)?;
            // Hourly weights: quiet nights, busy days, rush hours.
            let weight = |h: i64| match h % 24 {
                0..=5 => 0.15,
                6 => 0.5,
                7..=9 => 1.6,
                10..=15 => 1.1,
                16..=19 => 1.7,
                20..=22 => 0.7,
                _ => 0.3,
            };
            let hours = DAYS * 24;
            let wsum: f64 = (0..hours).map(weight).sum();
            let start0 = GEN_END_MS - DAYS * 86_400_000;
            let mut made = 0u64;
            let mut carry = 0.0f64;
            let mut offsets = Vec::new();
            let mut track_no = vec![0u64; CAMERAS];
            for h in 0..hours {
                let exact = n as f64 * weight(h) / wsum + carry;
                let mut count = exact.floor() as u64;
                carry = exact - count as f64;
                if h == hours - 1 {
                    count = n - made;
                }
                offsets.clear();
                offsets.extend((0..count).map(|_| rng.below(3_600_000) as i64));
                offsets.sort_unstable();
                for off in &offsets {
                    made += 1;
                    let id = made as i64;
                    let start = start0 + h * 3_600_000 + off;
                    let cam = rng.below(CAMERAS as u64) as usize;
                    track_no[cam] += 1;
                    let ci = {
                        let idx: Vec<(usize, f64)> = CLASSES.iter().enumerate().map(|(i, c)| (i, c.1)).collect();
                        *rng.pick(&idx)
                    };
                    let person = ci == 0;
                    let vehicle = (1..=5).contains(&ci);
                    let color = if person { 0 } else { rng.pick(COLORS).id() as i64 };
                    let loiter = rng.f64() < if person { 0.03 } else { 0.005 };
                    let dur_s = if loiter {
                        120.0 + rng.f64() * 1080.0
                    } else if person {
                        5.0 + rng.f64().powi(2) * 90.0
                    } else if vehicle {
                        2.0 + rng.f64().powi(2) * 25.0
                    } else {
                        10.0 + rng.f64() * 300.0
                    };
                    let dur = (dur_s * 1000.0) as i64;
                    max_len = max_len.max(dur);
                    let (w, hgt) = match ci {
                        0 => (30.0 + rng.f64() * 30.0, 80.0 + rng.f64() * 90.0),
                        1 | 4 => (50.0 + rng.f64() * 40.0, 60.0 + rng.f64() * 40.0),
                        2 | 3 | 5 => (120.0 + rng.f64() * 200.0, 80.0 + rng.f64() * 120.0),
                        _ => (20.0 + rng.f64() * 30.0, 20.0 + rng.f64() * 40.0),
                    };
                    let direction = (rng.f64() > 0.08).then(|| rng.below(8) as i64);
                    let disp = if direction.is_some() { 20.0 + rng.f64() * 500.0 } else { rng.f64() * 10.0 };
                    let mut zones = Vec::new();
                    for (k, p) in [0.35, 0.25, 0.15].iter().enumerate() {
                        if loiter && k == 0 || rng.f64() < *p {
                            let dwell = (dur as f64 * (0.2 + 0.8 * rng.f64())) as i64;
                            zones.push((zone_ids[cam][k], dwell));
                        }
                    }
                    for (z, d) in &zones {
                        zv.execute(params![z, start, id, start + dur, d, class_ids[ci], color]).map_err(&e)?;
                        visits += 1;
                    }
                    let zones_txt = (!zones.is_empty())
                        .then(|| zones.iter().map(|(z, d)| format!("{z}:{d}")).collect::<Vec<_>>().join(";"));
                    let events = (rng.f64() < 0.003).then(|| format!("[\"ev-{id}\"]"));
                    let descriptor = (!person).then(|| {
                        let mut colors = [0u8; 10];
                        let main = NamedColor::from_id(color as u8).unwrap_or(NamedColor::Grey);
                        colors[main as usize] = 120 + rng.below(100) as u8;
                        colors[NamedColor::Black as usize] = colors[NamedColor::Black as usize].saturating_add(40);
                        colors[rng.below(10) as usize] = colors[rng.below(10) as usize].saturating_add(30);
                        Descriptor { colors, aspect: (w / hgt) as f32 }.to_bytes()
                    });
                    let cam_id = cam_ids[cam];
                    let class_id = class_ids[ci];
                    ins.execute(params![
                        id,
                        cam_id,
                        track_no[cam] as i64,
                        class_id,
                        color,
                        start,
                        start + dur,
                        direction,
                        disp,
                        w,
                        hgt,
                        zones_txt,
                        events,
                        (dur_s * 7.0) as i64,
                        descriptor
                    ])
                    .map_err(&e)?;
                    *counts.entry((0, cam_id)).or_default() += 1;
                    *counts.entry((1, class_id * 16 + color)).or_default() += 1;
                }
            }
            let mut cnt = tx.prepare("INSERT OR REPLACE INTO counts (kind, key, n) VALUES (?1, ?2, ?3)").map_err(&e)?;
            for ((k, key), v) in &counts {
                cnt.execute(params![k, key, v]).map_err(&e)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('max_track_ms', ?1), ('gen_end_ms', ?2)",
                params![max_len, GEN_END_MS],
            )
            .map_err(&e)?;
        }
        tx.execute_batch(
            "INSERT INTO zone_visits SELECT * FROM zv_load ORDER BY zone_id, start_ms, track; DROP TABLE zv_load;",
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        for (_, sql) in &saved_indexes {
            c.execute_batch(sql).map_err(&e)?;
        }
        c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;").map_err(&e)?;
    }
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(GenerateReport { tracks: n, zone_visits: visits, seconds: t0.elapsed().as_secs_f64(), bytes })
}

/// Latencies of one query type.
#[derive(Debug, Clone)]
pub struct BenchLine {
    pub name: String,
    pub runs: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub mean_results: f64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub tracks: u64,
    pub zone_visits: u64,
    pub db_bytes: u64,
    pub lines: Vec<BenchLine>,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "track index: {} tracks, {} zone visits, {:.2} GB on disk ({} cameras, {} days)",
            self.tracks,
            self.zone_visits,
            self.db_bytes as f64 / 1e9,
            CAMERAS,
            DAYS
        )?;
        writeln!(f, "{:<44} {:>5} {:>9} {:>9} {:>9} {:>9}", "query", "runs", "p50 ms", "p95 ms", "max ms", "matches")?;
        for l in &self.lines {
            writeln!(
                f,
                "{:<44} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
                l.name, l.runs, l.p50_ms, l.p95_ms, l.max_ms, l.mean_results
            )?;
        }
        Ok(())
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs the query mix `runs` times per type against an index made by [`generate_index`].
pub fn bench_search(path: &Path, runs: usize, seed: u64) -> Result<BenchReport, String> {
    let ix = TrackIndex::open(path).map_err(|e| e.to_string())?;
    let db_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let zone_visits: u64 = {
        let c = ix.writer();
        c.query_row("SELECT count(*) FROM zone_visits", [], |r| r.get::<_, i64>(0)).map_err(|e| e.to_string())? as u64
    };
    let start0 = GEN_END_MS - DAYS * 86_400_000;
    let mut rng = Rng::new(seed);
    let day = 86_400_000i64;
    type Query = Box<dyn Fn(&TrackIndex, &mut Rng) -> Result<u64, String>>;
    fn search(ix: &TrackIndex, q: SearchQuery) -> Result<u64, String> {
        ix.search(&q).map(|r| r.total).map_err(|e| e.to_string())
    }
    let mixes: Vec<(&str, Query)> = vec![
        (
            "camera + one day",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let d = start0 + r.below(DAYS as u64) as i64 * day;
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(d)),
                        to_ms: Some(UnixMs(d + day)),
                        cameras: vec![camera_name(r.below(CAMERAS as u64) as usize)],
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "class + colour over a week",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let d = start0 + r.below((DAYS - 7) as u64) as i64 * day;
                let class = ["car", "truck", "bus", "bicycle", "motorcycle"][r.below(5) as usize];
                let color = COLORS[r.below(COLORS.len() as u64) as usize].0;
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(d)),
                        to_ms: Some(UnixMs(d + 7 * day)),
                        classes: vec![class.into()],
                        colors: vec![color],
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "zone + min dwell 60 s over a week",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let d = start0 + r.below((DAYS - 7) as u64) as i64 * day;
                let cam = r.below(CAMERAS as u64) as usize;
                let zone = zones_of(cam)[r.below(3) as usize].clone();
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(d)),
                        to_ms: Some(UnixMs(d + 7 * day)),
                        zones: vec![zone],
                        min_dwell_s: Some(60.0),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "zone + min dwell 60 s over 30 days",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let cam = r.below(CAMERAS as u64) as usize;
                let zone = zones_of(cam)[r.below(3) as usize].clone();
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(start0)),
                        to_ms: Some(UnixMs(GEN_END_MS)),
                        zones: vec![zone],
                        min_dwell_s: Some(60.0),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "text: red car in \"<zone>\" after 14:00 yesterday",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let now = start0 + (1 + r.below((DAYS - 1) as u64) as i64) * day + 10 * 3_600_000;
                let cam = r.below(CAMERAS as u64) as usize;
                let zone = zones_of(cam)[0].clone();
                let p = SearchParams {
                    q: Some(format!("red car in \"{zone}\" after 14:00 yesterday")),
                    ..Default::default()
                };
                ix.search_params(&p, "bench", UnixMs(now).into(), &jiff::tz::TimeZone::UTC, &vigie_core::NoAudit)
                    .map(|r| r.total)
                    .map_err(|e| e.to_string())
            }),
        ),
        (
            "people, all cameras, one hour (broad)",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let t = start0 + r.below((DAYS * 24) as u64) as i64 * 3_600_000;
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(t)),
                        to_ms: Some(UnixMs(t + 3_600_000)),
                        classes: vec!["person".into()],
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "two cameras + bicycle over 3 days",
            Box::new(move |ix: &TrackIndex, r: &mut Rng| {
                let d = start0 + r.below((DAYS - 3) as u64) as i64 * day;
                search(
                    ix,
                    SearchQuery {
                        from_ms: Some(UnixMs(d)),
                        to_ms: Some(UnixMs(d + 3 * day)),
                        cameras: vec![camera_name(r.below(25) as usize), camera_name(25 + r.below(25) as usize)],
                        classes: vec!["bicycle".into()],
                        ..Default::default()
                    },
                )
            }),
        ),
    ];
    let mut lines = Vec::new();
    for (name, q) in &mixes {
        // Warm the page cache the way a running server's would be.
        for _ in 0..5 {
            q(&ix, &mut rng)?;
        }
        let mut times = Vec::with_capacity(runs);
        let mut results = 0u64;
        for _ in 0..runs {
            let t = Instant::now();
            results += q(&ix, &mut rng)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        lines.push(BenchLine {
            name: name.to_string(),
            runs,
            p50_ms: pct(&times, 0.5),
            p95_ms: pct(&times, 0.95),
            max_ms: *times.last().unwrap_or(&0.0),
            mean_results: results as f64 / runs.max(1) as f64,
        });
    }
    Ok(BenchReport { tracks: ix.len(), zone_visits, db_bytes, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_the_mix_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        let ra = generate_index(&a, 3000, 7).unwrap();
        generate_index(&b, 3000, 7).unwrap();
        assert_eq!(ra.tracks, 3000);
        let dump = |p: &Path| {
            let c = rusqlite::Connection::open(p).unwrap();
            let rows: Vec<(i64, i64, i64, i64)> = c
                .prepare("SELECT camera_id, class_id, color_id, start_ms FROM tracks ORDER BY id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows
        };
        let rows = dump(&a);
        assert_eq!(rows, dump(&b));
        assert_eq!(rows.len(), 3000);
        assert!(rows.windows(2).all(|w| w[0].3 <= w[1].3), "generated in time order");
        let ix = TrackIndex::open(&a).unwrap();
        assert_eq!(ix.len(), 3000, "counts maintained by the generator");
        let rep = bench_search(&a, 3, 1).unwrap();
        assert_eq!(rep.lines.len(), 7);
        assert!(rep.to_string().contains("p95"));
    }
}
