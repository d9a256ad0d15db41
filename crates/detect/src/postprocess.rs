//! YOLOX output decoding and class-aware non-maximum suppression.

use vigie_core::{BBox, Detection};

/// Grid cell of each output row: `(gx, gy, stride)`, levels in order, each row-major.
pub fn grid(input_w: usize, input_h: usize, strides: &[usize]) -> Vec<(f32, f32, f32)> {
    let mut g = Vec::new();
    for &s in strides {
        for gy in 0..input_h / s {
            for gx in 0..input_w / s {
                g.push((gx as f32, gy as f32, s as f32));
            }
        }
    }
    g
}

/// Decodes rows `[tx, ty, tw, th, obj, cls...]` into frame-coordinate boxes scoring above
/// `threshold` (score = obj · best class), keeping only classes allowed by `keep`.
pub fn decode(
    output: &[f32],
    grid: &[(f32, f32, f32)],
    num_classes: usize,
    ratio: f32,
    threshold: f32,
    keep: &dyn Fn(u16) -> bool,
    out: &mut Vec<Detection>,
) {
    out.clear();
    let stride = 5 + num_classes;
    for (row, &(gx, gy, s)) in output.chunks_exact(stride).zip(grid) {
        let obj = row[4];
        // Class scores are ≤ 1, so a low objectness rules the row out before the class scan.
        if obj <= threshold {
            continue;
        }
        let (mut best, mut best_c) = (row[5], 0usize);
        for (c, &v) in row[6..].iter().enumerate() {
            if v > best {
                best = v;
                best_c = c + 1;
            }
        }
        let score = obj * best;
        if score <= threshold || !keep(best_c as u16) {
            continue;
        }
        let cx = (row[0] + gx) * s;
        let cy = (row[1] + gy) * s;
        let w = row[2].exp() * s;
        let h = row[3].exp() * s;
        let inv = 1.0 / ratio;
        out.push(Detection {
            bbox: BBox::new((cx - w * 0.5) * inv, (cy - h * 0.5) * inv, (cx + w * 0.5) * inv, (cy + h * 0.5) * inv),
            score,
            class_id: best_c as u16,
        });
    }
}

/// Greedy NMS within each class (boxes of different classes never suppress each other), highest
/// score first, as OpenCV's `NMSBoxesBatched`. Sorts `dets` by descending score and keeps survivors.
pub fn nms_per_class(dets: &mut Vec<Detection>, iou_threshold: f32) {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep = vec![true; dets.len()];
    for i in 0..dets.len() {
        if !keep[i] {
            continue;
        }
        for j in i + 1..dets.len() {
            if keep[j] && dets[j].class_id == dets[i].class_id && dets[i].bbox.iou(&dets[j].bbox) > iou_threshold {
                keep[j] = false;
            }
        }
    }
    let mut k = keep.iter();
    dets.retain(|_| *k.next().unwrap());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32, class_id: u16) -> Detection {
        Detection { bbox: BBox::new(x, 0.0, x + 10.0, 10.0), score, class_id }
    }

    #[test]
    fn nms_is_class_aware() {
        let mut d = vec![det(0.0, 0.5, 0), det(1.0, 0.9, 0), det(1.0, 0.8, 2), det(50.0, 0.3, 0)];
        nms_per_class(&mut d, 0.45);
        let got: Vec<(f32, u16)> = d.iter().map(|d| (d.score, d.class_id)).collect();
        assert_eq!(got, vec![(0.9, 0), (0.8, 2), (0.3, 0)]);
    }

    #[test]
    fn decode_applies_grid_stride_and_ratio() {
        let g = grid(64, 32, &[32]);
        assert_eq!(g, vec![(0.0, 0.0, 32.0), (1.0, 0.0, 32.0)]);
        let nc = 2;
        let mut out = vec![0f32; 2 * (5 + nc)];
        // Second cell: centre offset (0.5, 0.5), size exp(0) * 32 = 32, obj 0.9, class 1 at 0.5.
        out[7..14].copy_from_slice(&[0.5, 0.5, 0.0, 0.0, 0.9, 0.1, 0.5]);
        let mut dets = Vec::new();
        decode(&out, &g, nc, 0.5, 0.3, &|_| true, &mut dets);
        assert_eq!(dets.len(), 1);
        let d = dets[0];
        assert_eq!(d.class_id, 1);
        assert!((d.score - 0.45).abs() < 1e-6);
        // Centre at 48, 16 in input pixels, 32 wide → (32..64, 0..32) → /0.5.
        assert_eq!(d.bbox, BBox::new(64.0, 0.0, 128.0, 64.0));
        decode(&out, &g, nc, 0.5, 0.3, &|c| c != 1, &mut dets);
        assert!(dets.is_empty());
    }
}
