//! Letterbox pre-processing straight from the decoder's YUV planes into the model's planar BGR
//! float tensor.
//!
//! Hand-written rather than `fast_image_resize`: the model was validated with OpenCV's
//! `INTER_LINEAR` (two taps per axis, no anti-aliasing on downscale), while a convolution resizer
//! widens its kernel when shrinking and feeds the model a blurrier picture. Doing the colour
//! conversion row by row inside the resize also saves converting the whole frame to RGB.

use vigie_core::frame::yuv_row_to_planar_bgr;
use vigie_core::Frame;

/// Value of the padding around the letterboxed image, as in YOLOX training.
pub const PAD_VALUE: f32 = 114.0;
const COEF_BITS: i32 = 11;
const COEF_ONE: i32 = 1 << COEF_BITS;

/// Source index and fixed-point weights for one output coordinate, following OpenCV's
/// `resize` with `INTER_LINEAR` (half-pixel centres, clamped at the borders).
#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: usize,
    i1: usize,
    w0: i32,
    w1: i32,
}

fn taps(src: usize, dst: usize) -> Vec<Tap> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let f = (d as f64 + 0.5) * scale - 0.5;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f64;
            if s < 0 {
                s = 0;
                frac = 0.0;
            }
            if s >= src as i64 - 1 {
                s = src as i64 - 1;
                frac = 0.0;
            }
            let w1 = (frac * COEF_ONE as f64).round() as i32;
            let s = s as usize;
            Tap { i0: s, i1: (s + 1).min(src - 1), w0: COEF_ONE - w1, w1 }
        })
        .collect()
}

/// Reusable letterbox geometry and scratch rows for one input size and frame size.
pub struct Letterbox {
    pub input_w: usize,
    pub input_h: usize,
    pub src_w: usize,
    pub src_h: usize,
    /// Scale from frame to model input (`r` in YOLOX).
    pub ratio: f32,
    pub scaled_w: usize,
    pub scaled_h: usize,
    xt: Vec<Tap>,
    yt: Vec<Tap>,
    /// Horizontally resized rows (×2048) for the two source rows in use: `[slot][channel]`,
    /// channels in the model's B, G, R order.
    rows: [[Vec<i32>; 3]; 2],
    row_ids: [usize; 2],
    /// One source row converted to planar B, G, R.
    src_row: [Vec<u8>; 3],
}

impl Letterbox {
    pub fn new(input_w: usize, input_h: usize, src_w: usize, src_h: usize) -> Self {
        let ratio = (input_h as f32 / src_h as f32).min(input_w as f32 / src_w as f32);
        let scaled_w = ((src_w as f32 * ratio) as usize).clamp(1, input_w);
        let scaled_h = ((src_h as f32 * ratio) as usize).clamp(1, input_h);
        Self {
            input_w,
            input_h,
            src_w,
            src_h,
            ratio,
            scaled_w,
            scaled_h,
            xt: taps(src_w, scaled_w),
            yt: taps(src_h, scaled_h),
            rows: std::array::from_fn(|_| std::array::from_fn(|_| vec![0; scaled_w])),
            row_ids: [usize::MAX; 2],
            src_row: std::array::from_fn(|_| vec![0; src_w]),
        }
    }

    /// Fills `out` (planar B, G, R; `3 × input_h × input_w`) from a frame of the size given to `new`.
    pub fn fill_from_frame(&mut self, frame: &Frame, out: &mut [f32]) {
        assert_eq!((frame.width, frame.height), (self.src_w, self.src_h), "frame size changed without a new Letterbox");
        self.fill(out, |y, [b, g, r]| {
            let (u, v) = frame.chroma_rows(y);
            yuv_row_to_planar_bgr(&frame.y[y * frame.width..(y + 1) * frame.width], u, v, b, g, r);
        });
    }

    /// Same from an interleaved RGB image (still pictures).
    pub fn fill_from_rgb(&mut self, rgb_data: &[u8], out: &mut [f32]) {
        let w = self.src_w;
        self.fill(out, |y, [b, g, r]| {
            for (x, px) in rgb_data[y * w * 3..(y + 1) * w * 3].chunks_exact(3).enumerate() {
                (r[x], g[x], b[x]) = (px[0], px[1], px[2]);
            }
        });
    }

    fn resize_row(&mut self, slot: usize, sy: usize, source_row: &mut impl FnMut(usize, [&mut [u8]; 3])) {
        let [b, g, r] = &mut self.src_row;
        source_row(sy, [b, g, r]);
        for (dst, src) in self.rows[slot].iter_mut().zip(&self.src_row) {
            for (d, xt) in dst.iter_mut().zip(&self.xt) {
                *d = src[xt.i0] as i32 * xt.w0 + src[xt.i1] as i32 * xt.w1;
            }
        }
        self.row_ids[slot] = sy;
    }

    fn fill(&mut self, out: &mut [f32], mut source_row: impl FnMut(usize, [&mut [u8]; 3])) {
        let plane = self.input_w * self.input_h;
        assert_eq!(out.len(), 3 * plane);
        // Only the padding needs the constant; the picture area is written below.
        for c in 0..3 {
            let p = &mut out[c * plane..(c + 1) * plane];
            for row in p.chunks_exact_mut(self.input_w).take(self.scaled_h) {
                row[self.scaled_w..].fill(PAD_VALUE);
            }
            p[self.scaled_h * self.input_w..].fill(PAD_VALUE);
        }
        self.row_ids = [usize::MAX; 2];
        for dy in 0..self.scaled_h {
            let t = self.yt[dy];
            if self.row_ids[0] != t.i0 {
                // Going down, the previous bottom row is often this top row.
                if self.row_ids[1] == t.i0 {
                    self.rows.swap(0, 1);
                    self.row_ids.swap(0, 1);
                } else {
                    self.resize_row(0, t.i0, &mut source_row);
                }
            }
            if self.row_ids[1] != t.i1 {
                if self.row_ids[0] == t.i1 {
                    let [a, b] = &mut self.rows;
                    for (d, s) in b.iter_mut().zip(a.iter()) {
                        d.copy_from_slice(s);
                    }
                    self.row_ids[1] = t.i1;
                } else {
                    self.resize_row(1, t.i1, &mut source_row);
                }
            }
            let (w0, w1) = (t.w0, t.w1);
            let base = dy * self.input_w;
            for c in 0..3 {
                let dst = &mut out[c * plane + base..c * plane + base + self.scaled_w];
                for ((o, &p0), &p1) in dst.iter_mut().zip(&self.rows[0][c]).zip(&self.rows[1][c]) {
                    // OpenCV's vectorised vertical pass (16-bit high multiplies), whose rounding
                    // the reference detections were produced with.
                    let v = ((((p0 >> 4) * w0) >> 16) + (((p1 >> 4) * w1) >> 16) + 2) >> 2;
                    *o = v.clamp(0, 255) as f32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_follow_opencv_half_pixel_rule() {
        // 4 → 2: output pixel 0 samples between source 0 and 1 equally.
        let t = taps(4, 2);
        assert_eq!((t[0].i0, t[0].i1, t[0].w0, t[0].w1), (0, 1, 1024, 1024));
        assert_eq!((t[1].i0, t[1].i1), (2, 3));
        // Upscale edges clamp.
        let t = taps(2, 4);
        assert_eq!((t[0].i0, t[0].w1), (0, 0));
        assert_eq!((t[3].i0, t[3].w1), (1, 0));
    }

    #[test]
    fn letterbox_places_image_top_left_and_pads() {
        let (w, h) = (64, 32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [10u8, 20, 30]).collect();
        let mut lb = Letterbox::new(32, 32, w, h);
        assert_eq!((lb.scaled_w, lb.scaled_h), (32, 16));
        let mut out = vec![0f32; 3 * 32 * 32];
        lb.fill_from_rgb(&rgb, &mut out);
        let plane = 32 * 32;
        // B, G, R order inside the image, 114 below it.
        assert_eq!((out[0], out[plane], out[2 * plane]), (30.0, 20.0, 10.0));
        assert_eq!(out[20 * 32 + 5], PAD_VALUE);
        assert_eq!(out[2 * plane + 31 * 32 + 31], PAD_VALUE);
    }

    #[test]
    fn frame_and_rgb_paths_agree() {
        let (w, h) = (40, 30);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 37) % 256) as u8).collect();
        let frame = Frame::from_rgb(w, h, &rgb);
        let back = frame.to_rgb();
        let mut a = vec![0f32; 3 * 16 * 16];
        let mut b = a.clone();
        Letterbox::new(16, 16, w, h).fill_from_frame(&frame, &mut a);
        Letterbox::new(16, 16, w, h).fill_from_rgb(&back, &mut b);
        assert_eq!(a, b);
    }
}
