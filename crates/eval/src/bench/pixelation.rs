//! What hiding people costs per frame: the one decision (`vigie_imaging::privacy`: people AND
//! motion, masks, on the YUV planes) against the previous path (people boxes only, each
//! converted to RGB, pixelated and converted back), on the same decoded frames.

use std::time::Instant;
use vigie_core::{BBox, ClassMap, Detection, Frame, Polygon};
use vigie_imaging::privacy::{decide, PrivacyClasses, PrivacyInputs};
use vigie_imaging::{crop_frame, RgbImage};
use vigie_motion::{MotionConfig, MotionGate};

#[derive(Debug, Clone)]
pub struct PixelationBench {
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    /// decide + apply, ms per frame.
    pub decide_apply_ms: f64,
    /// The previous per-box path, ms per frame.
    pub previous_ms: f64,
    /// Rectangles pixelated per frame by the decision (people and motion).
    pub hidden_per_frame: f64,
}

/// The previous export path, kept here only as the benchmark's reference.
fn previous(frame: &mut Frame, boxes: &[BBox]) {
    let (w, h) = (frame.width, frame.height);
    for b in boxes {
        let (px, py) = (b.width() * 0.08 + 2.0, b.height() * 0.05 + 2.0);
        let x0 = ((b.x1 - px).floor().max(0.0) as usize) & !1;
        let y0 = ((b.y1 - py).floor().max(0.0) as usize) & !1;
        let x1 = (((b.x2 + px).ceil().max(0.0) as usize + 1) & !1).min(w);
        let y1 = (((b.y2 + py).ceil().max(0.0) as usize + 1) & !1).min(h);
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let region = BBox::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32);
        let Some(mut img): Option<RgbImage> = crop_frame(frame, &region) else { continue };
        img.anonymise(&BBox::new(b.x1 - x0 as f32, b.y1 - y0 as f32, b.x2 - x0 as f32, b.y2 - y0 as f32));
        let patch = Frame::from_rgb(img.width, img.height, &img.data);
        for y in 0..patch.height {
            let dst = (y0 + y) * w + x0;
            frame.y[dst..dst + patch.width].copy_from_slice(&patch.y[y * patch.width..(y + 1) * patch.width]);
        }
        let (cw, pcw) = (frame.chroma_width(), patch.chroma_width());
        let n = pcw.min(cw - x0 / 2);
        for y in 0..patch.chroma_height().min(frame.chroma_height() - y0 / 2) {
            let dst = (y0 / 2 + y) * cw + x0 / 2;
            frame.u[dst..dst + n].copy_from_slice(&patch.u[y * pcw..y * pcw + n]);
            frame.v[dst..dst + n].copy_from_slice(&patch.v[y * pcw..y * pcw + n]);
        }
    }
}

/// `dets[i]`: the detections of `frames[i]`. Each path runs `passes` times over all frames.
pub fn pixelation_cost(
    frames: &[Frame],
    dets: &[Vec<Detection>],
    classes: &ClassMap,
    passes: usize,
) -> PixelationBench {
    let split = PrivacyClasses::new(classes);
    let mut gate = MotionGate::new(MotionConfig::default());
    let seen: Vec<_> = frames
        .iter()
        .zip(dets)
        .map(|(f, d)| {
            let m = gate.update(f, false);
            let (people, vehicles) = split.detections(d);
            (people, vehicles, m.regions, m.ready)
        })
        .collect();
    let masks: Vec<Polygon> = Vec::new();
    let mut scratch: Vec<Frame> = frames.to_vec();
    let (mut hidden, mut n) = (0usize, 0usize);
    let t0 = Instant::now();
    for _ in 0..passes.max(1) {
        for (f, (people, vehicles, motion, ready)) in scratch.iter_mut().zip(&seen) {
            let plan = decide(&PrivacyInputs {
                width: f.width,
                height: f.height,
                people,
                vehicles,
                motion,
                masks: &masks,
                undecidable: (!ready).then_some("no background yet"),
            });
            plan.apply_frame(f);
            hidden += plan.pixelate.len();
            n += 1;
        }
    }
    let decide_apply_ms = t0.elapsed().as_secs_f64() * 1000.0 / n.max(1) as f64;
    scratch = frames.to_vec();
    let t0 = Instant::now();
    for _ in 0..passes.max(1) {
        for (f, (people, ..)) in scratch.iter_mut().zip(&seen) {
            previous(f, people);
        }
    }
    let previous_ms = t0.elapsed().as_secs_f64() * 1000.0 / n.max(1) as f64;
    let (width, height) = frames.first().map_or((0, 0), |f| (f.width, f.height));
    PixelationBench {
        width,
        height,
        frames: frames.len(),
        decide_apply_ms,
        previous_ms,
        hidden_per_frame: hidden as f64 / n.max(1) as f64,
    }
}
