//! Pictures shown to people: evidence snapshots, live views, search thumbnails.
//!
//! Anonymisation lives here so every picture leaving the system goes through the same code:
//! people are pixelated with blocks sized to the person, which (unlike a light Gaussian blur)
//! cannot be undone by sharpening and leaves no face or gait detail to recognise.

pub mod privacy;

use vigie_core::{BBox, Frame};

/// Interleaved 8-bit RGB image.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

#[derive(Debug)]
pub struct ImageError(pub String);

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImageError {}

impl RgbImage {
    pub fn new(width: usize, height: usize) -> Self {
        Self { width, height, data: vec![0; width * height * 3] }
    }

    pub fn from_frame(frame: &Frame) -> Self {
        Self { width: frame.width, height: frame.height, data: frame.to_rgb() }
    }

    /// Decodes a JPEG (still-image tests, uploaded references).
    pub fn decode_jpeg(bytes: &[u8]) -> Result<Self, ImageError> {
        let img = turbojpeg::decompress(bytes, turbojpeg::PixelFormat::RGB)
            .map_err(|e| ImageError(format!("not a readable JPEG: {e}")))?;
        let (w, h, pitch) = (img.width, img.height, img.pitch);
        let data = if pitch == w * 3 {
            img.pixels
        } else {
            img.pixels.chunks(pitch).take(h).flat_map(|r| r[..w * 3].iter().copied()).collect()
        };
        Ok(Self { width: w, height: h, data })
    }

    pub fn encode_jpeg(&self, quality: u8) -> Vec<u8> {
        let image = turbojpeg::Image {
            pixels: &self.data[..],
            width: self.width,
            pitch: self.width * 3,
            height: self.height,
            format: turbojpeg::PixelFormat::RGB,
        };
        turbojpeg::compress(image, quality.clamp(1, 100) as i32, turbojpeg::Subsamp::Sub2x2)
            .expect("libjpeg-turbo cannot fail on a well-formed RGB buffer")
            .to_vec()
    }

    #[inline]
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    #[inline]
    pub fn put(&mut self, x: usize, y: usize, c: [u8; 3]) {
        let i = (y * self.width + x) * 3;
        self.data[i..i + 3].copy_from_slice(&c);
    }

    /// Integer pixel rectangle `[x0,x1) × [y0,y1)` of a box, clipped to the image.
    pub fn clip(&self, b: &BBox) -> Option<(usize, usize, usize, usize)> {
        let x0 = b.x1.floor().max(0.0) as usize;
        let y0 = b.y1.floor().max(0.0) as usize;
        let x1 = (b.x2.ceil().max(0.0) as usize).min(self.width);
        let y1 = (b.y2.ceil().max(0.0) as usize).min(self.height);
        (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    }

    pub fn crop(&self, b: &BBox) -> Option<RgbImage> {
        let (x0, y0, x1, y1) = self.clip(b)?;
        let mut out = RgbImage::new(x1 - x0, y1 - y0);
        for y in y0..y1 {
            let src = &self.data[(y * self.width + x0) * 3..(y * self.width + x1) * 3];
            out.data[(y - y0) * out.width * 3..(y - y0 + 1) * out.width * 3].copy_from_slice(src);
        }
        Some(out)
    }

    /// Bilinear resize; used for thumbnails and low-rate live views, where quality matters little.
    pub fn resize(&self, w: usize, h: usize) -> RgbImage {
        let mut out = RgbImage::new(w.max(1), h.max(1));
        let sx = self.width as f32 / out.width as f32;
        let sy = self.height as f32 / out.height as f32;
        for y in 0..out.height {
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (self.height - 1) as f32);
            let y0 = fy as usize;
            let y1 = (y0 + 1).min(self.height - 1);
            let wy = fy - y0 as f32;
            for x in 0..out.width {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (self.width - 1) as f32);
                let x0 = fx as usize;
                let x1 = (x0 + 1).min(self.width - 1);
                let wx = fx - x0 as f32;
                let (a, b, c, d) = (self.pixel(x0, y0), self.pixel(x1, y0), self.pixel(x0, y1), self.pixel(x1, y1));
                let mut px = [0u8; 3];
                for k in 0..3 {
                    let top = a[k] as f32 * (1.0 - wx) + b[k] as f32 * wx;
                    let bot = c[k] as f32 * (1.0 - wx) + d[k] as f32 * wx;
                    px[k] = (top * (1.0 - wy) + bot * wy).round() as u8;
                }
                out.put(x, y, px);
            }
        }
        out
    }

    /// Scales to fit within `max_w` × `max_h`, keeping the aspect ratio (never enlarges).
    pub fn fit(&self, max_w: usize, max_h: usize) -> RgbImage {
        let s = (max_w as f32 / self.width as f32).min(max_h as f32 / self.height as f32).min(1.0);
        if s >= 1.0 {
            return self.clone();
        }
        self.resize((self.width as f32 * s).round() as usize, (self.height as f32 * s).round() as usize)
    }

    /// Pixelates the box (slightly enlarged so edges of the person do not escape) with blocks of
    /// about a sixth of the person's height, at least 6 px: enough to hide face, clothing
    /// detail and gait while keeping the silhouette an operator needs to understand the scene.
    pub fn anonymise(&mut self, b: &BBox) {
        let pad_x = b.width() * 0.08;
        let pad_y = b.height() * 0.05;
        let grown = BBox::new(b.x1 - pad_x, b.y1 - pad_y, b.x2 + pad_x, b.y2 + pad_y);
        let Some((x0, y0, x1, y1)) = self.clip(&grown) else { return };
        let block = ((b.height() / 6.0).round() as usize).max(6);
        let mut by = y0;
        while by < y1 {
            let ey = (by + block).min(y1);
            let mut bx = x0;
            while bx < x1 {
                let ex = (bx + block).min(x1);
                let mut sum = [0u32; 3];
                for y in by..ey {
                    for x in bx..ex {
                        let p = self.pixel(x, y);
                        for k in 0..3 {
                            sum[k] += p[k] as u32;
                        }
                    }
                }
                let n = ((ey - by) * (ex - bx)) as u32;
                let avg = [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8];
                for y in by..ey {
                    for x in bx..ex {
                        self.put(x, y, avg);
                    }
                }
                bx = ex;
            }
            by = ey;
        }
    }

    pub fn draw_rect(&mut self, b: &BBox, color: [u8; 3], thickness: usize) {
        let Some((x0, y0, x1, y1)) = self.clip(b) else { return };
        for t in 0..thickness {
            for x in x0..x1 {
                if y0 + t < y1 {
                    self.put(x, y0 + t, color);
                }
                if y1 > t + 1 && y1 - 1 - t >= y0 {
                    self.put(x, y1 - 1 - t, color);
                }
            }
            for y in y0..y1 {
                if x0 + t < x1 {
                    self.put(x0 + t, y, color);
                }
                if x1 > t + 1 && x1 - 1 - t >= x0 {
                    self.put(x1 - 1 - t, y, color);
                }
            }
        }
    }

    /// Draws a line with Bresenham's algorithm, `thickness` pixels wide (square pen).
    pub fn draw_line(&mut self, a: (f32, f32), b: (f32, f32), color: [u8; 3], thickness: usize) {
        let (mut x0, mut y0) = (a.0.round() as i64, a.1.round() as i64);
        let (x1, y1) = (b.0.round() as i64, b.1.round() as i64);
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let mut err = dx + dy;
        let r = (thickness as i64 - 1) / 2;
        loop {
            for oy in -r..=r + (thickness as i64 - 1) % 2 {
                for ox in -r..=r + (thickness as i64 - 1) % 2 {
                    let (px, py) = (x0 + ox, y0 + oy);
                    if px >= 0 && py >= 0 && (px as usize) < self.width && (py as usize) < self.height {
                        self.put(px as usize, py as usize, color);
                    }
                }
            }
            if x0 == x1 && y0 == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }

    pub fn draw_polygon(&mut self, pts: &[(f32, f32)], color: [u8; 3], thickness: usize) {
        for i in 0..pts.len() {
            self.draw_line(pts[i], pts[(i + 1) % pts.len()], color, thickness);
        }
    }
}

/// Crops a region straight from a frame's YUV planes (no full-frame conversion).
pub fn crop_frame(frame: &Frame, b: &BBox) -> Option<RgbImage> {
    let b = b.clamp(frame.width as f32, frame.height as f32);
    let (x0, y0) = (b.x1.floor() as usize, b.y1.floor() as usize);
    let (x1, y1) = ((b.x2.ceil() as usize).min(frame.width), (b.y2.ceil() as usize).min(frame.height));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut out = RgbImage::new(x1 - x0, y1 - y0);
    for y in y0..y1 {
        for x in x0..x1 {
            out.put(x - x0, y - y0, frame.rgb_at(x, y));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(w: usize, h: usize) -> RgbImage {
        let mut img = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let v = if (x + y) % 2 == 0 { 255 } else { 0 };
                img.put(x, y, [v, v, v]);
            }
        }
        img
    }

    #[test]
    fn anonymise_removes_detail_inside_and_keeps_outside() {
        let mut img = checker(100, 100);
        let b = BBox::new(20.0, 20.0, 50.0, 80.0);
        img.anonymise(&b);
        // Inside: neighbouring pixels of a block are equal (detail gone), mean preserved.
        let (p, q) = (img.pixel(30, 40), img.pixel(31, 40));
        assert_eq!(p, q);
        assert!((p[0] as i32 - 127).abs() < 10, "{p:?}");
        // Far outside: untouched.
        assert_eq!(img.pixel(90, 90), [255, 255, 255]);
        assert_eq!(img.pixel(91, 90), [0, 0, 0]);
    }

    #[test]
    fn jpeg_round_trip() {
        let mut img = RgbImage::new(64, 48);
        img.draw_rect(&BBox::new(8.0, 8.0, 40.0, 30.0), [255, 0, 0], 3);
        let jpg = img.encode_jpeg(90);
        assert_eq!(&jpg[..2], &[0xFF, 0xD8]);
        let back = RgbImage::decode_jpeg(&jpg).unwrap();
        assert_eq!((back.width, back.height), (64, 48));
        let p = back.pixel(9, 20);
        assert!(p[0] > 180 && p[1] < 90, "{p:?}");
        assert!(RgbImage::decode_jpeg(b"not a jpeg").is_err());
    }

    #[test]
    fn crop_and_fit() {
        let img = checker(200, 100);
        let c = img.crop(&BBox::new(-10.0, 10.0, 50.0, 20.0)).unwrap();
        assert_eq!((c.width, c.height), (50, 10));
        assert!(img.crop(&BBox::new(300.0, 0.0, 400.0, 10.0)).is_none());
        let t = img.fit(64, 64);
        assert_eq!((t.width, t.height), (64, 32));
    }

    #[test]
    fn frame_crop_matches_full_conversion() {
        let mut rgb = vec![0u8; 16 * 8 * 3];
        for (i, v) in rgb.iter_mut().enumerate() {
            *v = (i * 7 % 251) as u8;
        }
        let f = Frame::from_rgb(16, 8, &rgb);
        let full = RgbImage::from_frame(&f);
        let b = BBox::new(3.0, 2.0, 11.0, 7.0);
        assert_eq!(crop_frame(&f, &b).unwrap(), full.crop(&b).unwrap());
    }
}
