//! Letterbox pre-processing straight from the decoder's YUV planes into the model's planar BGR
//! float tensor.
//!
//! Hand-written rather than `fast_image_resize`: the model was validated with OpenCV's
//! `INTER_LINEAR` (two taps per axis, no anti-aliasing on downscale), while a convolution resizer
//! widens its kernel when shrinking and feeds the model a blurrier picture. Doing the colour
//! conversion row by row inside the resize also saves converting the whole frame to RGB.

use vigie_core::frame::yuv_row_to_rgb;
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
    /// Horizontally resized BGR rows (×2048) for the two source rows in use.
    rows: [Vec<i32>; 2],
    row_ids: [usize; 2],
    rgb_row: Vec<u8>,
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
            rows: [vec![0; scaled_w * 3], vec![0; scaled_w * 3]],
            row_ids: [usize::MAX; 2],
            rgb_row: vec![0; src_w * 3],
        }
    }

    /// Fills `out` (planar B, G, R; `3 × input_h × input_w`) from a frame of the size given to `new`.
    pub fn fill_from_frame(&mut self, frame: &Frame, out: &mut [f32]) {
        assert_eq!((frame.width, frame.height), (self.src_w, self.src_h), "frame size changed without a new Letterbox");
        self.fill(out, |y, rgb| {
            let (u, v) = frame.chroma_rows(y);
            yuv_row_to_rgb(&frame.y[y * frame.width..(y + 1) * frame.width], u, v, rgb);
        });
    }

    /// Same from an interleaved RGB image (still pictures).
    pub fn fill_from_rgb(&mut self, rgb_data: &[u8], out: &mut [f32]) {
        let w = self.src_w * 3;
        self.fill(out, |y, rgb| rgb.copy_from_slice(&rgb_data[y * w..(y + 1) * w]));
    }

    fn resize_row(&mut self, slot: usize, sy: usize, source_row: &mut impl FnMut(usize, &mut [u8])) {
        source_row(sy, &mut self.rgb_row);
        let dst = &mut self.rows[slot];
        let src = &self.rgb_row;
        for (d, xt) in dst.chunks_exact_mut(3).zip(&self.xt) {
            let (a, b) = (&src[xt.i0 * 3..xt.i0 * 3 + 3], &src[xt.i1 * 3..xt.i1 * 3 + 3]);
            // Stored as B, G, R to match the model's channel order.
            d[0] = a[2] as i32 * xt.w0 + b[2] as i32 * xt.w1;
            d[1] = a[1] as i32 * xt.w0 + b[1] as i32 * xt.w1;
            d[2] = a[0] as i32 * xt.w0 + b[0] as i32 * xt.w1;
        }
        self.row_ids[slot] = sy;
    }

    fn fill(&mut self, out: &mut [f32], mut source_row: impl FnMut(usize, &mut [u8])) {
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
                    b.copy_from_slice(a);
                    self.row_ids[1] = t.i1;
                } else {
                    self.resize_row(1, t.i1, &mut source_row);
                }
            }
            let (r0, r1) = (&self.rows[0], &self.rows[1]);
            let (w0, w1) = (t.w0, t.w1);
            let base = dy * self.input_w;
            let (ob, rest) = out.split_at_mut(plane);
            let (og, or) = rest.split_at_mut(plane);
            let (ob, og, or) = (
                &mut ob[base..base + self.scaled_w],
                &mut og[base..base + self.scaled_w],
                &mut or[base..base + self.scaled_w],
            );
            for (dx, (p0, p1)) in r0.chunks_exact(3).zip(r1.chunks_exact(3)).enumerate() {
                // OpenCV's vectorised vertical pass (16-bit high multiplies), whose rounding the
                // reference detections were produced with.
                let v = |c: usize| ((((p0[c] >> 4) * w0) >> 16) + (((p1[c] >> 4) * w1) >> 16) + 2) >> 2;
                ob[dx] = v(0).clamp(0, 255) as f32;
                og[dx] = v(1).clamp(0, 255) as f32;
                or[dx] = v(2).clamp(0, 255) as f32;
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
