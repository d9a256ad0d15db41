//! Synthetic pictures for the scene-model tests: a textured background, people and objects as
//! textured rectangles, paint strokes.

use vigie_core::{BBox, Frame};

pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub rgb: Vec<u8>,
}

fn hash(x: usize, y: usize, seed: u64) -> u8 {
    let mut k = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ seed;
    k ^= k >> 29;
    k = k.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    k ^= k >> 32;
    (k & 0xFF) as u8
}

impl Canvas {
    /// Pavement below `horizon`, a light wall above it, both with fine texture.
    pub fn background(w: usize, h: usize, horizon: usize) -> Canvas {
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let n = hash(x / 2, y / 2, 1) as i32 / 16 - 8;
                let c = if y < horizon { [205, 200, 190] } else { [110, 105, 100] };
                let p = [(c[0] + n) as u8, (c[1] + n) as u8, (c[2] + n) as u8];
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&p);
            }
        }
        Canvas { w, h, rgb }
    }

    /// A textured block (a person, a bag) of base colour `c`.
    pub fn block(&mut self, b: &BBox, c: [u8; 3], seed: u64) {
        let (x0, y0) = (b.x1.max(0.0) as usize, b.y1.max(0.0) as usize);
        let (x1, y1) = ((b.x2 as usize).min(self.w), (b.y2 as usize).min(self.h));
        for y in y0..y1 {
            for x in x0..x1 {
                let n = hash(x, y, seed) as i32 / 8 - 16;
                let p = [
                    (c[0] as i32 + n).clamp(0, 255) as u8,
                    (c[1] as i32 + n).clamp(0, 255) as u8,
                    (c[2] as i32 + n).clamp(0, 255) as u8,
                ];
                self.rgb[(y * self.w + x) * 3..][..3].copy_from_slice(&p);
            }
        }
    }

    /// A paint stroke from `a` to `b`, `t` pixels wide.
    pub fn stroke(&mut self, a: (f32, f32), b: (f32, f32), t: f32, c: [u8; 3]) {
        let n = ((b.0 - a.0).hypot(b.1 - a.1) * 2.0).ceil() as usize + 1;
        for i in 0..=n {
            let f = i as f32 / n as f32;
            let (cx, cy) = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
            for dy in -(t as i32)..=t as i32 {
                for dx in -(t as i32)..=t as i32 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    if (dx * dx + dy * dy) as f32 <= t * t / 4.0
                        && x >= 0
                        && y >= 0
                        && (x as usize) < self.w
                        && (y as usize) < self.h
                    {
                        self.rgb[(y as usize * self.w + x as usize) * 3..][..3].copy_from_slice(&c);
                    }
                }
            }
        }
    }

    pub fn scaled(&self, gain: f32) -> Canvas {
        Canvas { w: self.w, h: self.h, rgb: self.rgb.iter().map(|&v| (v as f32 * gain).min(255.0) as u8).collect() }
    }

    pub fn frame(&self) -> Frame {
        Frame::from_rgb(self.w, self.h, &self.rgb)
    }
}
