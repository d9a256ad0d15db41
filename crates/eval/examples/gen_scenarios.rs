//! Generates the semi-synthetic scenario clips under `scenarios/` (seeded, deterministic):
//! `cargo run --release -p vigie-eval --example gen_scenarios [-- NAME...]`.
//!
//! Each clip is a stretch of bundled real footage with something composited in at a known
//! time; the positions and times match real people of the footage (their tracks), and the
//! scenario.toml next to each clip states the expected events.

use anyhow::Result;
use std::path::{Path, PathBuf};
use vigie_core::{BBox, Frame, Polygon};
use vigie_eval::scenario_gen::{
    dumped_sprite, lying_person, person_cutout, read_clip, relight, soft_mask, Dumped, Mp4H264Writer, Rng, Tag,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn video(name: &str) -> PathBuf {
    root().join("assets/video").join(name)
}

fn write(name: &str, frames: &[Frame], fps: f64, bitrate: u32) -> Result<()> {
    let dir = root().join("scenarios").join(name);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("clip.mp4");
    let mut w = Mp4H264Writer::create(&path, frames[0].width, frames[0].height, fps, bitrate)?;
    for f in frames {
        w.push(f)?;
    }
    w.finish()?;
    println!("{}: {} frames, {} bytes", path.display(), frames.len(), std::fs::metadata(&path)?.len());
    Ok(())
}

/// Opacity ramping from 0 at `t0` to 1 at `t0 + fade`.
fn ramp(t: f64, t0: f64, fade: f64) -> f32 {
    ((t - t0) / fade).clamp(0.0, 1.0) as f32
}

/// A dumped object appearing at the feet of a real passer-by of the PETS clip.
struct Dump {
    name: &'static str,
    /// Stretch of the source clip, seconds.
    from: f64,
    to: f64,
    kind: Dumped,
    size: (usize, usize),
    top_left: (i64, i64),
    /// When it appears, seconds into the new clip.
    at_s: f64,
    seed: u64,
}

fn dumping(d: Dump) -> Result<()> {
    let (mut frames, fps) = read_clip(&video("pets09-s2l1.mp4"), d.from, d.to)?;
    let sprite = dumped_sprite(d.kind, d.size.0, d.size.1, &mut Rng::new(d.seed));
    for (i, f) in frames.iter_mut().enumerate() {
        let a = ramp(i as f64 / fps, d.at_s, 0.4);
        if a > 0.0 {
            sprite.draw(f, d.top_left.0, d.top_left.1, a, &|_, _| true);
        }
    }
    write(d.name, &frames, fps, 450_000)
}

/// Paint drawn on the wall next to a real person standing at it, hidden where they stand in
/// front (pixels that differ from the empty room).
fn tagging(name: &str, from: f64, to: f64, area: BBox, colour: [u8; 3], draw: (f64, f64), seed: u64) -> Result<()> {
    let clip = video("indoor-people-one-by-one.mp4");
    let (clean, _) = read_clip(&clip, 2.0, 2.2)?;
    let clean = clean.into_iter().next().expect("a frame of the empty room");
    let (mut frames, fps) = read_clip(&clip, from, to)?;
    let tag = Tag::random(area, 7, colour, 7.0, &mut Rng::new(seed));
    for (i, f) in frames.iter_mut().enumerate() {
        let t = i as f64 / fps;
        let share = ((t - draw.0) / (draw.1 - draw.0)).clamp(0.0, 1.0) as f32;
        if t >= draw.0 {
            let snapshot = f.y.clone();
            let w = f.width;
            let keep = |x: usize, y: usize| (snapshot[y * w + x] as i32 - clean.y[y * w + x] as i32).abs() < 25;
            tag.draw(f, share, &keep);
        }
    }
    write(name, &frames, fps, 350_000)
}

fn main() -> Result<()> {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |n: &str| only.is_empty() || only.iter().any(|o| o == n);

    // A man stands at (309, 289) from 58 s to 64 s, then walks off to the right: the bag is
    // put down at his left foot at 61 s (11 s into the clip).
    if want("gen-pets-rubbish-bag") {
        dumping(Dump {
            name: "gen-pets-rubbish-bag",
            from: 50.0,
            to: 88.0,
            kind: Dumped::RubbishBag,
            size: (44, 30),
            top_left: (258, 266),
            at_s: 11.0,
            seed: 11,
        })?;
    }
    // The same man stands at (656, 410) from 79 s to 88 s and walks away up the plaza: a
    // mattress is left at his right at 82 s (7 s into the clip).
    if want("gen-pets-mattress") {
        dumping(Dump {
            name: "gen-pets-mattress",
            from: 75.0,
            to: 113.0,
            kind: Dumped::Mattress,
            size: (78, 26),
            top_left: (668, 404),
            at_s: 7.0,
            seed: 12,
        })?;
    }
    // A box left on the plaza by a woman walking through at 66 s (id 19 in the tracks).
    if want("gen-pets-box") {
        dumping(Dump {
            name: "gen-pets-box",
            from: 56.0,
            to: 94.0,
            kind: Dumped::Box,
            size: (30, 24),
            top_left: (500, 296),
            at_s: 10.0,
            seed: 13,
        })?;
    }
    // Tags drawn left of the man at the table (23–44 s) and right of the man at 75–86 s.
    if want("gen-indoor-tag-red") {
        tagging(
            "gen-indoor-tag-red",
            18.0,
            50.0,
            BBox::new(255.0, 50.0, 365.0, 170.0),
            [200, 25, 35],
            (9.0, 20.0),
            21,
        )?;
    }
    if want("gen-indoor-tag-black") {
        tagging(
            "gen-indoor-tag-black",
            70.0,
            93.0,
            BBox::new(575.0, 45.0, 660.0, 150.0),
            [25, 25, 35],
            (6.0, 13.0),
            22,
        )?;
    }
    // Dusk: the whole picture dims to 60 % between 8 s and 24 s, people keep walking.
    if want("gen-pets-dusk") {
        let (mut frames, fps) = read_clip(&video("pets09-s2l1.mp4"), 0.0, 38.0)?;
        for (i, f) in frames.iter_mut().enumerate() {
            let g = 1.0 - 0.4 * ramp(i as f64 / fps, 8.0, 16.0);
            relight(f, &|_, _| g);
        }
        write("gen-pets-dusk", &frames, fps, 450_000)?;
    }
    // A cloud's shadow settles over part of the plaza (soft edge) between 10 s and 16 s.
    if want("gen-pets-cloud-shadow") {
        let (mut frames, fps) = read_clip(&video("pets09-s2l1.mp4"), 38.0, 76.0)?;
        let poly = Polygon::new(vec![(120.0, 200.0), (460.0, 190.0), (560.0, 330.0), (200.0, 300.0)]);
        let (w, h) = (frames[0].width, frames[0].height);
        let mask = soft_mask(&poly, w, h, 30.0);
        for (i, f) in frames.iter_mut().enumerate() {
            let k = 0.35 * ramp(i as f64 / fps, 10.0, 6.0);
            relight(f, &|x, y| 1.0 - k * mask[y * w + x]);
        }
        write("gen-pets-cloud-shadow", &frames, fps, 450_000)?;
    }
    // A man walks across the grass below the plaza (3–8 s) and collapses at 8 s: a real
    // passer-by near the camera at 90 s (box 352,395–409,543), cut out against the empty spot
    // at 60 s, moved along a path and then laid down.
    if want("gen-pets-person-down") {
        let clip = video("pets09-s2l1.mp4");
        let (a, _) = read_clip(&clip, 90.0, 90.2)?;
        let (b, _) = read_clip(&clip, 60.0, 60.2)?;
        let cut = BBox::new(352.0, 395.0, 409.0, 543.0);
        let upright = person_cutout(&a[0], &b[0], &cut);
        let lying = lying_person(&a[0], &b[0], &cut);
        let (mut frames, fps) = read_clip(&clip, 0.0, 38.0)?;
        for (i, f) in frames.iter_mut().enumerate() {
            let t = i as f64 / fps;
            if (3.0..8.0).contains(&t) {
                let k = (t - 3.0) / 5.0;
                let (x, y) = (100.0 + 140.0 * k, 380.0 + 30.0 * k);
                upright.draw(f, x as i64, y as i64, 1.0, &|_, _| true);
            } else if t >= 8.0 {
                lying.draw(f, 250, 500, 1.0, &|_, _| true);
            }
        }
        write("gen-pets-person-down", &frames, fps, 450_000)?;
    }
    // Contraflow: one carriageway is played backwards, so its traffic drives against the
    // lane's direction; the rest of the picture runs forwards.
    if want("gen-highway-contraflow") {
        let poly = vec![(20.0, 240.0), (243.0, 37.0), (315.0, 37.0), (300.0, 140.0), (285.0, 240.0)];
        contraflow("gen-highway-contraflow", poly)?;
    }
    if want("gen-highway-contraflow-inbound") {
        contraflow("gen-highway-contraflow-inbound", vec![(0.0, 70.0), (150.0, 30.0), (225.0, 30.0), (0.0, 190.0)])?;
    }
    // A second fall, on the plaza: a man of 52 s (box 457,244–496,343) cut out against the
    // empty spot at 100 s walks from 4 s and collapses at 9 s.
    if want("gen-pets-person-down-plaza") {
        let clip = video("pets09-s2l1.mp4");
        let (a, _) = read_clip(&clip, 52.0, 52.2)?;
        let (b, _) = read_clip(&clip, 100.0, 100.2)?;
        let cut = BBox::new(457.0, 244.0, 496.0, 343.0);
        let upright = person_cutout(&a[0], &b[0], &cut);
        let lying = lying_person(&a[0], &b[0], &cut);
        let (mut frames, fps) = read_clip(&clip, 38.0, 76.0)?;
        for (i, f) in frames.iter_mut().enumerate() {
            let t = i as f64 / fps;
            if (4.0..9.0).contains(&t) {
                let k = (t - 4.0) / 5.0;
                upright.draw(f, (540.0 + 80.0 * k) as i64, (300.0 + 30.0 * k) as i64, 1.0, &|_, _| true);
            } else if t >= 9.0 {
                lying.draw(f, 610, 395, 1.0, &|_, _| true);
            }
        }
        write("gen-pets-person-down-plaza", &frames, fps, 450_000)?;
    }
    Ok(())
}

fn contraflow(name: &str, region: Vec<(f32, f32)>) -> Result<()> {
    let (frames, fps) = read_clip(&video("highway-cctv.mp4"), 0.0, 29.9)?;
    let (w, h) = (frames[0].width, frames[0].height);
    let mask = soft_mask(&Polygon::new(region), w, h, 3.0);
    let n = frames.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut f = frames[i].clone();
        let r = &frames[n - 1 - i];
        let cw = f.chroma_width();
        for y in 0..h {
            for x in 0..w {
                let m = mask[y * w + x];
                if m <= 0.0 {
                    continue;
                }
                let j = y * w + x;
                f.y[j] = (f.y[j] as f32 * (1.0 - m) + r.y[j] as f32 * m).round() as u8;
                if x % 2 == 0 && y % 2 == 0 {
                    let c = (y / 2) * cw + x / 2;
                    f.u[c] = (f.u[c] as f32 * (1.0 - m) + r.u[c] as f32 * m).round() as u8;
                    f.v[c] = (f.v[c] as f32 * (1.0 - m) + r.v[c] as f32 * m).round() as u8;
                }
            }
        }
        out.push(f);
    }
    write(name, &out, fps, 300_000)
}
