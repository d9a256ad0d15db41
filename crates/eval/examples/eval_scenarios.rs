//! Runs scenarios end to end on this machine (decode → detect every frame → track → rules) and
//! prints the event report: a stand-in for `vigie eval events` while tuning rules.
//!
//! `cargo run --release -p vigie-eval --example eval_scenarios -- [-v] [--tracks DIR] [--snapshots DIR] scenarios/*`
//!
//! `--tracks` writes each clip's tracks (for annotating scenarios), `--snapshots` the evidence
//! JPEG of every alert.
//!
//! Detections are cached per clip under the system temp dir, so re-running after a rule change
//! costs only tracking and rules.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use vigie_core::{BBox, Detection, Event};
use vigie_decode::H264Decoder;
use vigie_eval::scenario::{score, Scenario};
use vigie_source::{Mp4FileSource, VideoSource};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cache_path(clip: &Path) -> PathBuf {
    let len = std::fs::metadata(clip).map(|m| m.len()).unwrap_or(0);
    let name = clip.file_name().unwrap().to_string_lossy();
    let parent =
        clip.parent().and_then(|p| p.file_name()).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    std::env::temp_dir().join("vigie-rules-detcache").join(format!("{parent}-{name}-{len}.txt"))
}

fn load_cache(p: &Path) -> Option<Vec<Vec<Detection>>> {
    let f = std::fs::File::open(p).ok()?;
    let mut frames: Vec<Vec<Detection>> = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        let line = line.ok()?;
        let v: Vec<&str> = line.split_whitespace().collect();
        let i: usize = v[0].parse().ok()?;
        while frames.len() <= i {
            frames.push(Vec::new());
        }
        if v.len() == 7 {
            let n: Vec<f32> = v[2..].iter().map(|s| s.parse().unwrap()).collect();
            frames[i].push(Detection {
                class_id: v[1].parse().ok()?,
                score: n[0],
                bbox: BBox::new(n[1], n[2], n[3], n[4]),
            });
        }
    }
    Some(frames)
}

fn main() -> anyhow::Result<()> {
    let mut verbose = false;
    let mut tracks_dir: Option<PathBuf> = None;
    let mut snap_dir: Option<PathBuf> = None;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" => verbose = true,
            "--tracks" => tracks_dir = args.next().map(PathBuf::from),
            "--snapshots" => snap_dir = args.next().map(PathBuf::from),
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    let scenarios = Scenario::load_all(&dirs)?;
    let mut cfg = vigie_detect::DetectorConfig::default();
    cfg.resolve_paths(&repo_root());
    let mut detector: Option<vigie_detect::Detector> = None;
    let classes = vigie_core::ClassMap::parse(&std::fs::read_to_string(&cfg.labels)?);
    let model_sha = "local-eval";
    let mut results = Vec::new();
    for sc in scenarios {
        let cp = cache_path(&sc.clip);
        let cached = load_cache(&cp);
        let mut fresh: Vec<Vec<Detection>> = Vec::new();
        let mut src = Mp4FileSource::open(&sc.clip, Default::default())?;
        let fps = src.info().fps;
        let mut dec = H264Decoder::new(&sc.name)?;
        let mut tracker = vigie_track::ByteTracker::new(Default::default(), fps)?;
        let mut engine = sc.engine(model_sha, &classes)?;
        let mut events: Vec<(f64, Event)> = Vec::new();
        let mut tr_out = match &tracks_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                Some(std::io::BufWriter::new(std::fs::File::create(d.join(format!("{}.txt", sc.name)))?))
            }
            None => None,
        };
        let mut idx = 0usize;
        while let Some(p) = src.next_packet()? {
            let Some(frame) = dec.decode(&p)? else { continue };
            let dets = match &cached {
                Some(c) => c.get(idx).cloned().unwrap_or_default(),
                None => {
                    let d = detector.get_or_insert_with(|| vigie_detect::Detector::new(&cfg).expect("detector"));
                    let v = d.detect(&frame)?;
                    fresh.push(v.clone());
                    v
                }
            };
            let tracks = tracker.update(&dets, frame.pts);
            let t = frame.pts.as_secs_f64();
            if let Some(w) = &mut tr_out {
                for tr in &tracks {
                    let b = tr.bbox;
                    writeln!(
                        w,
                        "{t:.2} {} {} {:.0} {:.0} {:.0} {:.0}",
                        tr.track_id,
                        classes.name(tr.class_id),
                        b.x1,
                        b.y1,
                        b.x2,
                        b.y2
                    )?;
                }
            }
            for e in engine.process(&frame, &tracks, sc.wall_clock(t)) {
                if verbose {
                    println!(
                        "  {} {:>6.2}s {:?} {} zone={} tracks={:?} peak={}={:.1} region={:?}",
                        sc.name, t, e.phase, e.event_type, e.zone, e.track_ids, e.peak.kind, e.peak.value, e.region
                    );
                }
                if let (Some(d), Some(j)) = (&snap_dir, &e.snapshot_jpeg) {
                    std::fs::create_dir_all(d)?;
                    std::fs::write(d.join(format!("{}-{:06.2}s-{}.jpg", sc.name, t, e.event_type)), j.as_slice())?;
                }
                events.push((t, e));
            }
            idx += 1;
        }
        if cached.is_none() {
            std::fs::create_dir_all(cp.parent().unwrap())?;
            let mut w = std::io::BufWriter::new(std::fs::File::create(&cp)?);
            for (i, ds) in fresh.iter().enumerate() {
                writeln!(w, "{i}")?;
                for d in ds {
                    let b = d.bbox;
                    writeln!(w, "{i} {} {} {} {} {} {}", d.class_id, d.score, b.x1, b.y1, b.x2, b.y2)?;
                }
            }
        }
        results.push((sc, events));
    }
    print!("{}", score(&results));
    Ok(())
}
