//! The operator view of a clip (`vigie analyze --privacy-out`) and how well it hides people
//! (`vigie eval privacy`), measured as issue 12 states it:
//!
//! - a ground-truth person is **hidden** when the correlation between the high-pass images of
//!   the original and the operator view inside the person's box is below [`HIDDEN_BELOW`]
//!   (pixelation or strong blur do that, re-encoding does not);
//! - a 32-pixel tile clear of every ground-truth person **keeps its detail** when that
//!   correlation is at least [`KEPT_FROM`].

use crate::MotRow;
use serde::Serialize;
use std::path::Path;
use vigie_core::{ClassMap, Detection, Frame, Polygon};
use vigie_decode::H264Decoder;
use vigie_footage::{ArchiveError, Mp4Writer};
use vigie_imaging::privacy::{decide, PrivacyClasses, PrivacyInputs};
use vigie_pipeline::FrameResult;
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

pub const HIDDEN_BELOW: f64 = 0.3;
pub const KEPT_FROM: f64 = 0.5;
pub const TILE: usize = 32;

/// Builds the operator view frame by frame from the pipeline's results, hiding what
/// `vigie_imaging::privacy::decide` decides, exactly as the node's pictures.
pub struct OperatorView {
    classes: PrivacyClasses,
    masks: Vec<Polygon>,
    fps: f64,
    writer: Option<Mp4Writer>,
    /// The last detector run's people and vehicles (frames the detector skipped keep them).
    last: (Vec<vigie_core::BBox>, Vec<vigie_core::BBox>),
    /// Frames pixelated whole (nothing could be decided: no motion background yet).
    pub pixelated_whole: u64,
}

impl OperatorView {
    pub fn new(classes: &ClassMap, fps: f64, masks: Vec<Polygon>) -> Self {
        Self {
            classes: PrivacyClasses::new(classes),
            masks,
            fps: if fps.is_finite() && fps > 0.0 { fps } else { 25.0 },
            writer: None,
            last: Default::default(),
            pixelated_whole: 0,
        }
    }

    pub fn push(&mut self, r: &FrameResult<'_>) -> Result<(), ArchiveError> {
        self.push_parts(r.frame, r.detections, r.tracks, r.motion, r.motion_ready)
    }

    pub fn push_parts(
        &mut self,
        frame: &Frame,
        detections: Option<&[Detection]>,
        tracks: &[vigie_core::TrackedObject],
        motion: &[vigie_core::BBox],
        motion_ready: bool,
    ) -> Result<(), ArchiveError> {
        if let Some(d) = detections {
            self.last = self.classes.detections(d);
        }
        let (mut people, mut vehicles) = self.classes.tracks(tracks);
        people.extend_from_slice(&self.last.0);
        vehicles.extend_from_slice(&self.last.1);
        let plan = decide(&PrivacyInputs {
            width: frame.width,
            height: frame.height,
            people: &people,
            vehicles: &vehicles,
            motion,
            masks: &self.masks,
            undecidable: (!motion_ready).then_some("the motion model has no background yet"),
        });
        self.pixelated_whole += plan.whole_frame.is_some() as u64;
        let mut shown = frame.clone();
        plan.apply_frame(&mut shown);
        let writer = match &mut self.writer {
            Some(w) => w,
            None => self.writer.insert(Mp4Writer::new(frame.width, frame.height, self.fps)?),
        };
        writer.push(&shown, frame.pts.as_secs_f64())
    }

    pub fn frames(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.frames)
    }

    /// The MP4 bytes (`None`: no frame was pushed).
    pub fn finish(self) -> Result<Option<Vec<u8>>, ArchiveError> {
        self.writer.map(Mp4Writer::finish).transpose()
    }
}

/// Every frame of an H.264 MP4, in order (at most `limit`).
pub fn decode_frames(path: &Path, limit: Option<usize>) -> anyhow::Result<Vec<Frame>> {
    let mut src = Mp4FileSource::open(path, Mp4Options::default())?;
    let mut dec = H264Decoder::new(&path.display().to_string())?;
    let mut out = Vec::new();
    while let Some(p) = src.next_packet()? {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        if let Some(f) = dec.decode(&p)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// The measure's figures over the frames that have ground truth.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PrivacyFigures {
    pub frames: usize,
    pub people: usize,
    pub people_hidden: usize,
    pub tiles: usize,
    pub tiles_kept: usize,
    /// Tiles without any detail to keep (flat in the original), left out of `tiles`.
    pub tiles_flat: usize,
}

impl PrivacyFigures {
    pub fn hidden_share(&self) -> f64 {
        self.people_hidden as f64 / self.people.max(1) as f64
    }

    pub fn kept_share(&self) -> f64 {
        self.tiles_kept as f64 / self.tiles.max(1) as f64
    }
}

/// Luma minus its 3×3 mean: the fine detail of a frame.
fn high_pass(f: &Frame) -> Vec<f32> {
    let (w, h) = (f.width, f.height);
    let mut out = vec![0.0; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let mut s = 0u32;
            for yy in y - 1..=y + 1 {
                for xx in x - 1..=x + 1 {
                    s += f.y[yy * w + xx] as u32;
                }
            }
            out[y * w + x] = f.y[y * w + x] as f32 - s as f32 / 9.0;
        }
    }
    out
}

/// Pearson correlation of two high-pass images over `[x0, x1) × [y0, y1)`; `None` when the
/// original has no detail there at all.
fn correlation(a: &[f32], b: &[f32], w: usize, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> Option<f64> {
    let (mut sa, mut sb, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in y0..y1 {
        for x in x0..x1 {
            sa += a[y * w + x] as f64;
            sb += b[y * w + x] as f64;
            n += 1.0;
        }
    }
    if n < 4.0 {
        return None;
    }
    let (ma, mb) = (sa / n, sb / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let (da, db) = (a[y * w + x] as f64 - ma, b[y * w + x] as f64 - mb);
            cov += da * db;
            va += da * da;
            vb += db * db;
        }
    }
    if va / n < 0.25 {
        return None;
    }
    // A view with no detail at all there correlates with nothing.
    Some(if vb <= 1e-9 { 0.0 } else { cov / (va * vb).sqrt() })
}

/// Measures the operator view against the original, frame `i` (0-based) being ground-truth
/// frame `i + 1`; frames after the last annotated one are not measured.
pub fn measure(original: &[Frame], view: &[Frame], gt: &[MotRow]) -> Result<PrivacyFigures, String> {
    if original.len() != view.len() {
        return Err(format!("the operator view has {} frames, the original {}", view.len(), original.len()));
    }
    let last = gt.iter().map(|r| r.frame as usize).max().unwrap_or(0).min(original.len());
    let mut fig = PrivacyFigures { frames: last, ..Default::default() };
    for i in 0..last {
        let (o, v) = (&original[i], &view[i]);
        if (o.width, o.height) != (v.width, v.height) {
            return Err(format!(
                "frame {}: {}×{} in the view, {}×{} in the original",
                i + 1,
                v.width,
                v.height,
                o.width,
                o.height
            ));
        }
        let (w, h) = (o.width, o.height);
        let (ho, hv) = (high_pass(o), high_pass(v));
        let inner = |x0: f64, y0: f64, x1: f64, y1: f64| {
            let c = |v: f64, max: usize| (v.round().max(1.0) as usize).min(max - 1);
            (c(x0, w), c(y0, h), c(x1, w), c(y1, h))
        };
        let boxes: Vec<(f64, f64, f64, f64)> =
            gt.iter().filter(|r| r.frame as usize == i + 1).map(|r| (r.x, r.y, r.x + r.w, r.y + r.h)).collect();
        for &(x0, y0, x1, y1) in &boxes {
            let r = inner(x0, y0, x1, y1);
            if r.2 <= r.0 + 2 || r.3 <= r.1 + 2 {
                continue; // out of the picture
            }
            fig.people += 1;
            if correlation(&ho, &hv, w, r).is_none_or(|c| c < HIDDEN_BELOW) {
                fig.people_hidden += 1;
            }
        }
        for ty in 0..h / TILE {
            for tx in 0..w / TILE {
                let (x0, y0) = ((tx * TILE) as f64, (ty * TILE) as f64);
                let (x1, y1) = (x0 + TILE as f64, y0 + TILE as f64);
                if boxes.iter().any(|b| b.0 < x1 && b.2 > x0 && b.1 < y1 && b.3 > y0) {
                    continue;
                }
                match correlation(&ho, &hv, w, inner(x0, y0, x1, y1)) {
                    None => fig.tiles_flat += 1,
                    Some(c) => {
                        fig.tiles += 1;
                        fig.tiles_kept += (c >= KEPT_FROM) as usize;
                    }
                }
            }
        }
    }
    Ok(fig)
}
