//! Semi-synthetic scenarios: real footage with things composited in at known times (a rubbish
//! bag left by a real passer-by, paint appearing on a wall while a real person stands there, a
//! dimming sky, a shadow, a lane played backwards), re-encoded to H.264 in MP4 so they go
//! through the same decoder as camera footage. Deterministic: the same seed and source give the
//! same pictures (the H.264 encoder is deterministic too).

use anyhow::{anyhow, Context, Result};
use openh264::encoder::{BitRate, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, QpRange, RateControlMode};
use openh264::formats::YUVSlices;
use openh264::OpenH264API;
use std::io::BufWriter;
use std::path::Path;
use vigie_core::{BBox, Frame, Polygon};
use vigie_decode::H264Decoder;
use vigie_source::{Mp4FileSource, VideoSource};

/// SplitMix64: a few lines, and its sequence never changes with a dependency update, which a
/// generator whose output is committed needs.
pub use vigie_core::rng::Rng;

/// Decodes `[from_s, to_s)` of a clip. Returns the frames and the clip's frame rate.
pub fn read_clip(path: &Path, from_s: f64, to_s: f64) -> Result<(Vec<Frame>, f64)> {
    let mut src = Mp4FileSource::open(path, Default::default()).with_context(|| format!("{}", path.display()))?;
    let fps = src.info().fps.unwrap_or(25.0);
    let mut dec = H264Decoder::new("gen")?;
    let mut out = Vec::new();
    while let Some(p) = src.next_packet()? {
        if let Some(f) = dec.decode(&p)? {
            let t = f.pts.as_secs_f64();
            if t >= to_s - 1e-6 {
                break;
            }
            if t >= from_s - 1e-6 {
                out.push(f);
            }
        }
    }
    Ok((out, fps))
}

/// Writes frames as H.264 (OpenH264) into an MP4 file that [`Mp4FileSource`] reads back.
pub struct Mp4H264Writer {
    encoder: Encoder,
    mp4: mp4::Mp4Writer<BufWriter<std::fs::File>>,
    width: usize,
    height: usize,
    timescale: u32,
    frame_ticks: u32,
    next_time: u64,
    track_added: bool,
}

impl Mp4H264Writer {
    pub fn create(path: &Path, width: usize, height: usize, fps: f64, bitrate_bps: u32) -> Result<Self> {
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(anyhow!("H.264 needs even dimensions, got {width}×{height}"));
        }
        let cfg = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            // The bitrate target is not enforced without frame skipping; a QP floor keeps clips small.
            .qp(QpRange::new(30, 42))
            .skip_frames(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames((fps * 4.0).round() as u32))
            .num_threads(1);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), cfg)?;
        let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
        let config = mp4::Mp4Config {
            major_brand: "isom".parse().expect("fourcc"),
            minor_version: 512,
            compatible_brands: ["isom", "iso2", "avc1", "mp41"].iter().map(|b| b.parse().expect("fourcc")).collect(),
            timescale: 1000,
        };
        let mp4 = mp4::Mp4Writer::write_start(BufWriter::new(file), &config)?;
        // Track timescale = fps × 1000 so every frame lasts exactly 1000 ticks (7, 12.5, 25 fps).
        Ok(Self {
            encoder,
            mp4,
            width,
            height,
            timescale: (fps * 1000.0).round() as u32,
            frame_ticks: 1000,
            next_time: 0,
            track_added: false,
        })
    }

    pub fn push(&mut self, f: &Frame) -> Result<()> {
        if f.width != self.width || f.height != self.height {
            return Err(anyhow!("frame {}×{} in a {}×{} clip", f.width, f.height, self.width, self.height));
        }
        let cw = f.chroma_width();
        let yuv = YUVSlices::new((&f.y, &f.u, &f.v), (f.width, f.height), (f.width, cw, cw));
        let bs = self.encoder.encode(&yuv)?;
        let mut nals: Vec<Vec<u8>> = Vec::new();
        for l in 0..bs.num_layers() {
            let layer = bs.layer(l).expect("layer index in range");
            for n in 0..layer.nal_count() {
                let nal = layer.nal_unit(n).expect("nal index in range");
                let body = strip_start_code(nal);
                if !body.is_empty() {
                    nals.push(body.to_vec());
                }
            }
        }
        if !self.track_added {
            let sps = nals.iter().find(|n| n[0] & 0x1F == 7).ok_or_else(|| anyhow!("first frame has no SPS"))?;
            let pps = nals.iter().find(|n| n[0] & 0x1F == 8).ok_or_else(|| anyhow!("first frame has no PPS"))?;
            let track = mp4::TrackConfig {
                track_type: mp4::TrackType::Video,
                timescale: self.timescale,
                language: "und".into(),
                media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                    width: self.width as u16,
                    height: self.height as u16,
                    seq_param_set: sps.clone(),
                    pic_param_set: pps.clone(),
                }),
            };
            self.mp4.add_track(&track)?;
            self.track_added = true;
        }
        let mut data = Vec::new();
        let mut sync = false;
        for n in nals.iter().filter(|n| !matches!(n[0] & 0x1F, 7 | 8)) {
            sync |= n[0] & 0x1F == 5;
            data.extend_from_slice(&(n.len() as u32).to_be_bytes());
            data.extend_from_slice(n);
        }
        if data.is_empty() {
            return Err(anyhow!("the encoder produced no picture for frame {}", f.seq));
        }
        self.mp4.write_sample(
            1,
            &mp4::Mp4Sample {
                start_time: self.next_time,
                duration: self.frame_ticks,
                rendering_offset: 0,
                is_sync: sync,
                bytes: bytes::Bytes::from(data),
            },
        )?;
        self.next_time += self.frame_ticks as u64;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.mp4.write_end()?;
        Ok(())
    }
}

fn strip_start_code(nal: &[u8]) -> &[u8] {
    if nal.starts_with(&[0, 0, 0, 1]) {
        &nal[4..]
    } else if nal.starts_with(&[0, 0, 1]) {
        &nal[3..]
    } else {
        nal
    }
}

/// RGB → BT.601 limited-range YUV (the inverse of [`vigie_core::frame::yuv_to_rgb`]).
fn rgb_to_yuv(c: [f32; 3]) -> [f32; 3] {
    let (r, g, b) = (c[0], c[1], c[2]);
    [
        16.0 + 0.256_79 * r + 0.504_13 * g + 0.097_91 * b,
        128.0 - 0.148_22 * r - 0.290_99 * g + 0.439_21 * b,
        128.0 + 0.439_21 * r - 0.367_79 * g - 0.071_42 * b,
    ]
}

/// A picture with coverage: what gets composited.
#[derive(Debug, Clone)]
pub struct Sprite {
    pub w: usize,
    pub h: usize,
    pub rgb: Vec<[f32; 3]>,
    pub alpha: Vec<f32>,
}

impl Sprite {
    fn new(w: usize, h: usize) -> Self {
        Sprite { w, h, rgb: vec![[0.0; 3]; w * h], alpha: vec![0.0; w * h] }
    }

    /// Blends the sprite onto the frame with its top-left corner at `(x0, y0)`, scaled by
    /// `opacity`, skipping pixels where `keep(x, y)` is false (occluders in front).
    pub fn draw(&self, f: &mut Frame, x0: i64, y0: i64, opacity: f32, keep: &dyn Fn(usize, usize) -> bool) {
        let cw = f.chroma_width();
        for sy in 0..self.h {
            for sx in 0..self.w {
                let a = self.alpha[sy * self.w + sx] * opacity;
                let (x, y) = (x0 + sx as i64, y0 + sy as i64);
                if a <= 0.0 || x < 0 || y < 0 || x as usize >= f.width || y as usize >= f.height {
                    continue;
                }
                let (x, y) = (x as usize, y as usize);
                if !keep(x, y) {
                    continue;
                }
                let yuv = rgb_to_yuv(self.rgb[sy * self.w + sx]);
                let yi = y * f.width + x;
                f.y[yi] = (f.y[yi] as f32 * (1.0 - a) + yuv[0] * a).round().clamp(0.0, 255.0) as u8;
                if x % 2 == 0 && y % 2 == 0 {
                    let ci = (y / 2) * cw + x / 2;
                    f.u[ci] = (f.u[ci] as f32 * (1.0 - a) + yuv[1] * a).round().clamp(0.0, 255.0) as u8;
                    f.v[ci] = (f.v[ci] as f32 * (1.0 - a) + yuv[2] * a).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// What kind of thing is dumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dumped {
    /// A black bin bag: irregular round outline, glossy highlights, folds.
    RubbishBag,
    /// A worn mattress lying flat: pale, quilted, stained.
    Mattress,
    /// A cardboard box: two visible faces, packing tape.
    Box,
}

/// Procedural object `w`×`h`, shaded and textured so it has the edges and texture of a real one.
pub fn dumped_sprite(kind: Dumped, w: usize, h: usize, rng: &mut Rng) -> Sprite {
    let mut s = Sprite::new(w, h);
    let phases: Vec<f32> = (0..4).map(|_| rng.range(0.0, std::f32::consts::TAU)).collect();
    let noise: Vec<f32> = (0..w * h).map(|_| rng.range(-1.0, 1.0)).collect();
    for y in 0..h {
        for x in 0..w {
            let (u, v) = ((x as f32 + 0.5) / w as f32 * 2.0 - 1.0, (y as f32 + 0.5) / h as f32 * 2.0 - 1.0);
            let n = noise[y * w + x];
            let i = y * w + x;
            match kind {
                Dumped::RubbishBag => {
                    let ang = v.atan2(u);
                    let r = (u * u + v * v).sqrt();
                    let edge = 0.92 + 0.06 * (3.0 * ang + phases[0]).sin() + 0.04 * (5.0 * ang + phases[1]).sin();
                    s.alpha[i] = ((edge - r) * 12.0).clamp(0.0, 1.0);
                    let shade = 0.55 + 0.45 * (1.0 - ((u + 0.4).powi(2) + (v + 0.5).powi(2)).sqrt()).clamp(0.0, 1.0);
                    let fold = 0.8 + 0.2 * (9.0 * u + 4.0 * v + phases[2]).sin();
                    let spec = (1.0 - (((u + 0.35).powi(2) + (v + 0.45).powi(2)) * 40.0)).max(0.0) * 120.0;
                    let g = 28.0 * shade * fold + spec + 4.0 * n;
                    s.rgb[i] = [g, g, g * 1.05];
                }
                Dumped::Mattress => {
                    let corner = ((u.abs() - 0.9).max(0.0).powi(2) + (v.abs() - 0.7).max(0.0).powi(2)).sqrt();
                    s.alpha[i] = ((0.12 - corner) * 40.0).clamp(0.0, 1.0);
                    let quilt = ((x as f32 / 6.0 + phases[0]).sin() * (y as f32 / 6.0 + phases[1]).sin()).abs();
                    let shade = 0.85 + 0.15 * (-v);
                    let stain = (1.0 - (((u - 0.3).powi(2) + (v + 0.1).powi(2)) * 6.0)).max(0.0) * 40.0;
                    // Blue-and-white ticking stripes, as on most old mattresses.
                    let stripe = ((x as f32 / 3.0).floor() as i32).rem_euclid(3) == 0;
                    let base = if stripe { [120.0, 135.0, 175.0] } else { [215.0, 210.0, 195.0] };
                    let k = shade * (0.88 + 0.12 * quilt);
                    s.rgb[i] = [
                        base[0] * k - stain + 6.0 * n,
                        base[1] * k - stain * 1.1 + 6.0 * n,
                        base[2] * k - stain * 1.4 + 6.0 * n,
                    ];
                }
                Dumped::Box => {
                    s.alpha[i] = 1.0;
                    let top = v < -0.35;
                    let base = if top { [190.0, 150.0, 100.0] } else { [150.0, 110.0, 70.0] };
                    let tape = (u.abs() < 0.1 && top) || (v.abs() < 0.06 && !top);
                    let c = if tape { [200.0, 180.0, 140.0] } else { base };
                    let k = 1.0 - 0.15 * (u + 1.0) / 2.0;
                    s.rgb[i] = [c[0] * k + 5.0 * n, c[1] * k + 5.0 * n, c[2] * k + 5.0 * n];
                }
            }
        }
    }
    s
}

/// Paint strokes inside `area`, drawn progressively: what share of the total length is visible.
#[derive(Debug, Clone)]
pub struct Tag {
    strokes: Vec<((f32, f32), (f32, f32))>,
    colour: [f32; 3],
    width: f32,
}

impl Tag {
    pub fn random(area: BBox, n: usize, colour: [u8; 3], width: f32, rng: &mut Rng) -> Tag {
        let mut strokes = Vec::new();
        let mut p = (rng.range(area.x1, area.x2), rng.range(area.y1, area.y2));
        for _ in 0..n {
            let q = (rng.range(area.x1, area.x2), rng.range(area.y1, area.y2));
            strokes.push((p, q));
            p = q;
        }
        Tag { strokes, colour: [colour[0] as f32, colour[1] as f32, colour[2] as f32], width }
    }

    /// Draws the first `share` (0–1) of the tag's length.
    pub fn draw(&self, f: &mut Frame, share: f32, keep: &dyn Fn(usize, usize) -> bool) {
        let total: f32 = self.strokes.iter().map(|(a, b)| (b.0 - a.0).hypot(b.1 - a.1)).sum();
        let mut left = total * share.clamp(0.0, 1.0);
        let r = self.width / 2.0;
        let ri = r.ceil() as i64;
        let mut dot = Sprite::new((2 * ri + 1) as usize, (2 * ri + 1) as usize);
        for y in 0..dot.h {
            for x in 0..dot.w {
                let d = ((x as f32 - ri as f32).powi(2) + (y as f32 - ri as f32).powi(2)).sqrt();
                dot.alpha[y * dot.w + x] = (r + 0.5 - d).clamp(0.0, 1.0) * 0.9;
                dot.rgb[y * dot.w + x] = self.colour;
            }
        }
        for (a, b) in &self.strokes {
            if left <= 0.0 {
                break;
            }
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let part = (left / len).min(1.0);
            left -= len;
            let steps = (len * part).ceil().max(1.0) as usize;
            for i in 0..=steps {
                let t = part * i as f32 / steps as f32;
                let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                dot.draw(f, x.round() as i64 - ri, y.round() as i64 - ri, 1.0, keep);
            }
        }
    }
}

/// Scales luma and chroma around their neutral points by `g` inside `weight(x, y)`.
pub fn relight(f: &mut Frame, g: &dyn Fn(usize, usize) -> f32) {
    let cw = f.chroma_width();
    for y in 0..f.height {
        for x in 0..f.width {
            let k = g(x, y);
            if (k - 1.0).abs() < 1e-4 {
                continue;
            }
            let i = y * f.width + x;
            f.y[i] = (16.0 + (f.y[i] as f32 - 16.0) * k).round().clamp(0.0, 255.0) as u8;
            if x % 2 == 0 && y % 2 == 0 {
                let ci = (y / 2) * cw + x / 2;
                f.u[ci] = (128.0 + (f.u[ci] as f32 - 128.0) * k).round().clamp(0.0, 255.0) as u8;
                f.v[ci] = (128.0 + (f.v[ci] as f32 - 128.0) * k).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Distance-based soft mask of a polygon: 1 inside, fading to 0 over `feather` pixels outside.
pub fn soft_mask(poly: &Polygon, w: usize, h: usize, feather: f32) -> Vec<f32> {
    let mut m = vec![0.0f32; w * h];
    let pts = &poly.points;
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            if poly.contains(px, py) {
                m[y * w + x] = 1.0;
                continue;
            }
            let mut d = f32::MAX;
            for i in 0..pts.len() {
                let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                let (vx, vy) = (b.0 - a.0, b.1 - a.1);
                let t = (((px - a.0) * vx + (py - a.1) * vy) / (vx * vx + vy * vy).max(1e-6)).clamp(0.0, 1.0);
                d = d.min((px - a.0 - t * vx).hypot(py - a.1 - t * vy));
            }
            m[y * w + x] = (1.0 - d / feather).max(0.0);
        }
    }
    m
}

/// Cuts a person out of `frame` inside `b` against the same box of `clean` (a frame where the
/// spot is empty), standing as they were.
pub fn person_cutout(frame: &Frame, clean: &Frame, b: &BBox) -> Sprite {
    let lying = lying_person(frame, clean, b);
    // Undo the quarter turn.
    let mut s = Sprite::new(lying.h, lying.w);
    for y in 0..s.h {
        for x in 0..s.w {
            let (lx, ly) = (lying.w - 1 - y, x);
            s.alpha[y * s.w + x] = lying.alpha[ly * lying.w + lx];
            s.rgb[y * s.w + x] = lying.rgb[ly * lying.w + lx];
        }
    }
    s
}

/// Cuts a person out of `frame` inside `b` against the same box of `clean` (a frame where the
/// spot is empty), rotated a quarter turn (lying), as a sprite.
pub fn lying_person(frame: &Frame, clean: &Frame, b: &BBox) -> Sprite {
    let b = b.clamp(frame.width as f32, frame.height as f32);
    let (x0, y0, x1, y1) = (b.x1 as usize, b.y1 as usize, b.x2 as usize, b.y2 as usize);
    let (bw, bh) = (x1 - x0, y1 - y0);
    let mut s = Sprite::new(bh, bw);
    for y in y0..y1 {
        for x in x0..x1 {
            let d = (frame.y[y * frame.width + x] as f32 - clean.y[y * clean.width + x] as f32).abs();
            let a = ((d - 12.0) / 12.0).clamp(0.0, 1.0);
            let c = frame.rgb_at(x, y);
            // Rotate clockwise: head (top) goes right.
            let (sx, sy) = (bh - 1 - (y - y0), x - x0);
            s.alpha[sy * s.w + sx] = a;
            s.rgb[sy * s.w + sx] = [c[0] as f32, c[1] as f32, c[2] as f32];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let va: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(va, vb);
        let mut r = Rng::new(1);
        let mean = (0..10_000).map(|_| r.f32()).sum::<f32>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn encoded_clip_reads_back_through_the_camera_path() {
        let (frames, fps) =
            read_clip(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video/highway-cctv.mp4"), 1.0, 3.0)
                .unwrap();
        assert_eq!(frames.len(), 50);
        let mut rng = Rng::new(3);
        let bag = dumped_sprite(Dumped::RubbishBag, 40, 30, &mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.mp4");
        let mut w = Mp4H264Writer::create(&path, 320, 240, fps, 600_000).unwrap();
        let mut edited = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let mut g = f.clone();
            if i >= 25 {
                bag.draw(&mut g, 100, 150, 1.0, &|_, _| true);
            }
            w.push(&g).unwrap();
            edited.push(g);
        }
        w.finish().unwrap();
        let mut src = Mp4FileSource::open(&path, Default::default()).unwrap();
        assert_eq!(src.info().frame_count, Some(50));
        assert!((src.info().fps.unwrap() - 25.0).abs() < 0.01, "{:?}", src.info().fps);
        assert_eq!((src.info().width, src.info().height), (320, 240));
        let mut dec = H264Decoder::new("t").unwrap();
        let mut n = 0;
        while let Some(p) = src.next_packet().unwrap() {
            let f = dec.decode(&p).unwrap().expect("one picture per sample");
            let want = &edited[n];
            let err: f64 =
                f.y.iter().zip(&want.y).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>() / f.y.len() as f64;
            assert!(err < 6.0, "frame {n}: mean luma error {err}");
            if n == 40 {
                // The dark bag is there in the decoded picture.
                let c = f.y[(165) * 320 + 120];
                assert!(c < 60, "bag luma {c}");
            }
            n += 1;
        }
        assert_eq!(n, 50);
    }
}
