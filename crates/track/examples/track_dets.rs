//! Tuning harness: runs the tracker over a file of detections and prints MOTChallenge rows.
//!
//! usage: track_dets DETS [CONFIG.toml] [--fps F] [--classes 0,2,...] [--frames N]
//!
//! DETS: one detection a line, `frame,x1,y1,x2,y2,score,class` (1-based frames, full-frame
//! pixels); frames without a line have no detections. CONFIG.toml: a `TrackerConfig` (defaults when
//! absent). `--fps` (default 7, PETS09-S2L1) gives frame `n` the time `(n-1)/fps`. `--classes`
//! keeps only those detector classes. `--frames` runs that many frames (default: the last frame in DETS).
//! Output on stdout: `frame,id,x,y,w,h,score,-1,-1,-1`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;
use vigie_core::{BBox, Detection};
use vigie_track::{ByteTracker, TrackerConfig};

struct Args {
    dets: String,
    config: Option<String>,
    fps: f64,
    classes: Option<Vec<u16>>,
    frames: Option<u32>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut positional = Vec::new();
    let (mut fps, mut classes, mut frames) = (7.0, None, None);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--fps" => {
                let v = value("--fps")?;
                fps = v.parse().map_err(|_| format!("--fps: not a number: {v:?}"))?;
            }
            "--classes" => {
                let v = value("--classes")?;
                let list: Result<Vec<u16>, _> = v.split(',').map(|c| c.trim().parse::<u16>()).collect();
                classes = Some(list.map_err(|_| format!("--classes: expected class ids like 0,2, got {v:?}"))?);
            }
            "--frames" => {
                let v = value("--frames")?;
                frames = Some(v.parse().map_err(|_| format!("--frames: not a frame count: {v:?}"))?);
            }
            "-h" | "--help" => {
                return Err("usage: track_dets DETS [CONFIG.toml] [--fps F] [--classes 0,2] [--frames N]".into())
            }
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => positional.push(a),
        }
    }
    if positional.is_empty() || positional.len() > 2 {
        return Err("usage: track_dets DETS [CONFIG.toml] [--fps F] [--classes 0,2] [--frames N]".into());
    }
    let config = positional.get(1).cloned();
    Ok(Args { dets: positional.swap_remove(0), config, fps, classes, frames })
}

fn read_detections(path: &str) -> Result<BTreeMap<u32, Vec<Detection>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut by_frame: BTreeMap<u32, Vec<Detection>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| format!("{path}:{}: {what} in {line:?}", n + 1);
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 7 {
            return Err(bad("expected 7 fields frame,x1,y1,x2,y2,score,class"));
        }
        let frame: u32 = f[0].parse().map_err(|_| bad("bad frame number"))?;
        let num = |i: usize, name: &str| f[i].parse::<f32>().map_err(|_| bad(&format!("bad {name}")));
        let bbox = BBox::new(num(1, "x1")?, num(2, "y1")?, num(3, "x2")?, num(4, "y2")?);
        let score = num(5, "score")?;
        let class_id: u16 = f[6].parse().map_err(|_| bad("bad class id"))?;
        by_frame.entry(frame).or_default().push(Detection { bbox, score, class_id });
    }
    Ok(by_frame)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let cfg: TrackerConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
            toml::from_str(&text).map_err(|e| format!("{p}: {e}"))?
        }
        None => TrackerConfig::default(),
    };
    let mut tracker = ByteTracker::new(cfg, Some(args.fps)).map_err(|e| format!("tracker config: {e}"))?;
    let mut dets = read_detections(&args.dets)?;
    if let Some(keep) = &args.classes {
        for v in dets.values_mut() {
            v.retain(|d| keep.contains(&d.class_id));
        }
    }
    let last = args.frames.unwrap_or_else(|| dets.keys().next_back().copied().unwrap_or(0));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for frame in 1..=last {
        let t = Duration::from_secs_f64((frame - 1) as f64 / args.fps);
        let frame_dets = dets.get(&frame).map(Vec::as_slice).unwrap_or(&[]);
        for o in tracker.update(frame_dets, t) {
            let b = o.bbox;
            writeln!(
                out,
                "{frame},{},{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                o.track_id,
                b.x1,
                b.y1,
                b.x2 - b.x1,
                b.y2 - b.y1,
                o.score
            )
            .map_err(|e| format!("stdout: {e}"))?;
        }
    }
    out.flush().map_err(|e| format!("stdout: {e}"))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("track_dets: {e}");
        std::process::exit(2);
    }
}
