use bytes::Bytes;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    /// Anything else the camera offers; carried so the error can name it.
    Other(String),
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VideoCodec::H264 => f.write_str("H.264"),
            VideoCodec::Other(s) => f.write_str(s),
        }
    }
}

/// What a source knows about its stream before the first packet.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    /// Nominal frame rate, when the container or SDP states one.
    pub fps: Option<f64>,
    /// Number of frames, for files.
    pub frame_count: Option<u64>,
}

/// One encoded access unit as received from the camera, before decoding.
#[derive(Debug, Clone)]
pub struct Packet {
    /// 1-based position in decode order since the source was opened (or since the file looped).
    pub seq: u64,
    /// Presentation time since the start of the stream.
    pub pts: Duration,
    /// Wall-clock time at which the packet was received (or, for files, paced to).
    pub received_at: SystemTime,
    pub keyframe: bool,
    /// H.264 Annex-B byte stream (start codes); key frames carry their SPS/PPS in front.
    pub data: Bytes,
    /// Where the packet came from, for error messages (`"sample 17 at byte 123456"`, `"rtp seq 4411"`).
    pub position: String,
}

/// A decoded picture in planar YUV 4:2:0 (BT.601 limited range), rows tightly packed.
#[derive(Clone)]
pub struct Frame {
    pub seq: u64,
    pub pts: Duration,
    pub captured_at: SystemTime,
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("seq", &self.seq)
            .field("pts", &self.pts)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// BT.601 limited-range YUV → RGB, computed the way FFmpeg's SIMD converter does (13-bit
/// coefficients, each term floored separately). OpenCV decodes through that path, and the
/// detector's reference detections were made on OpenCV frames: matching it to the bit keeps
/// scores and boxes reproducible. Plain arithmetic rather than lookup tables, so the row
/// loops below vectorise.
#[inline(always)]
const fn term(x: i32, k: i32) -> i32 {
    ((x << 3) * k) >> 16
}

/// The chroma terms `(r, g, b)` shared by the two pixels of a 4:2:0 chroma sample.
#[inline(always)]
fn chroma_terms(u: u8, v: u8) -> (i32, i32, i32) {
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    (term(e, 0x3312), term(d, -0x0c8b) + term(e, -0x1a04), term(d, 0x4093))
}

#[inline(always)]
fn luma_term(y: u8) -> i32 {
    term(y as i32 - 16, 0x253f)
}

#[inline(always)]
fn clamp8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[inline(always)]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (r, g, b) = chroma_terms(u, v);
    let l = luma_term(y);
    [clamp8(l + r), clamp8(l + g), clamp8(l + b)]
}

/// Converts one row: `y` has the row's luma, `u`/`v` its (horizontally halved) chroma; writes
/// interleaved RGB into `out` (3 bytes a pixel).
pub fn yuv_row_to_rgb(y: &[u8], u: &[u8], v: &[u8], out: &mut [u8]) {
    for (((px2, luma2), &cu), &cv) in out.chunks_mut(6).zip(y.chunks(2)).zip(u).zip(v) {
        let (r, g, b) = chroma_terms(cu, cv);
        for (px, &l) in px2.chunks_exact_mut(3).zip(luma2) {
            let l = luma_term(l);
            px[0] = clamp8(l + r);
            px[1] = clamp8(l + g);
            px[2] = clamp8(l + b);
        }
    }
}

/// Same conversion into three planes (`b`, `g`, `r`), the layout the detector's resize works in.
pub fn yuv_row_to_planar_bgr(y: &[u8], u: &[u8], v: &[u8], b: &mut [u8], g: &mut [u8], r: &mut [u8]) {
    let n = y.len().min(b.len()).min(g.len()).min(r.len());
    let pairs = (n / 2).min(u.len()).min(v.len());
    for j in 0..pairs {
        let (rc, gc, bc) = chroma_terms(u[j], v[j]);
        for i in [2 * j, 2 * j + 1] {
            let l = luma_term(y[i]);
            r[i] = clamp8(l + rc);
            g[i] = clamp8(l + gc);
            b[i] = clamp8(l + bc);
        }
    }
    if n % 2 == 1 && pairs < u.len() {
        let i = n - 1;
        let [rr, gg, bb] = yuv_to_rgb(y[i], u[pairs], v[pairs]);
        (r[i], g[i], b[i]) = (rr, gg, bb);
    }
}

impl Frame {
    pub fn chroma_width(&self) -> usize {
        self.width.div_ceil(2)
    }

    pub fn chroma_height(&self) -> usize {
        self.height.div_ceil(2)
    }

    /// A frame of one flat colour, for tests and placeholders.
    pub fn solid(width: usize, height: usize, yuv: [u8; 3]) -> Frame {
        let cw = width.div_ceil(2);
        let ch = height.div_ceil(2);
        Frame {
            seq: 0,
            pts: Duration::ZERO,
            captured_at: SystemTime::UNIX_EPOCH,
            width,
            height,
            y: vec![yuv[0]; width * height],
            u: vec![yuv[1]; cw * ch],
            v: vec![yuv[2]; cw * ch],
        }
    }

    #[inline(always)]
    pub fn rgb_at(&self, x: usize, y: usize) -> [u8; 3] {
        let cw = self.chroma_width();
        let ci = (y / 2) * cw + x / 2;
        yuv_to_rgb(self.y[y * self.width + x], self.u[ci], self.v[ci])
    }

    /// Interleaved RGB24 of the whole frame (for snapshots and colour analysis; the detector
    /// samples the YUV planes directly).
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.width * self.height * 3];
        for (yy, row) in out.chunks_exact_mut(self.width * 3).enumerate() {
            let (u, v) = self.chroma_rows(yy);
            yuv_row_to_rgb(&self.y[yy * self.width..(yy + 1) * self.width], u, v, row);
        }
        out
    }

    /// The chroma rows that go with luma row `y`.
    pub fn chroma_rows(&self, y: usize) -> (&[u8], &[u8]) {
        let cw = self.chroma_width();
        let c = (y / 2) * cw;
        (&self.u[c..c + cw], &self.v[c..c + cw])
    }

    /// Builds a frame from interleaved RGB24 (used for still images and synthetic tests).
    pub fn from_rgb(width: usize, height: usize, rgb: &[u8]) -> Frame {
        assert_eq!(rgb.len(), width * height * 3, "RGB buffer size does not match {width}x{height}");
        let cw = width.div_ceil(2);
        let ch = height.div_ceil(2);
        let mut f = Frame::solid(width, height, [0, 128, 128]);
        let mut usum = vec![0u32; cw * ch];
        let mut vsum = vec![0u32; cw * ch];
        let mut cnt = vec![0u32; cw * ch];
        for y in 0..height {
            for x in 0..width {
                let p = &rgb[(y * width + x) * 3..][..3];
                let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
                let yy = 16.0 + 0.256_79 * r + 0.504_13 * g + 0.097_91 * b;
                let u = 128.0 - 0.148_22 * r - 0.290_99 * g + 0.439_21 * b;
                let v = 128.0 + 0.439_21 * r - 0.367_79 * g - 0.071_42 * b;
                f.y[y * width + x] = yy.round().clamp(0.0, 255.0) as u8;
                let ci = (y / 2) * cw + x / 2;
                usum[ci] += u.round().clamp(0.0, 255.0) as u32;
                vsum[ci] += v.round().clamp(0.0, 255.0) as u32;
                cnt[ci] += 1;
            }
        }
        for i in 0..cw * ch {
            f.u[i] = ((usum[i] + cnt[i] / 2) / cnt[i].max(1)) as u8;
            f.v[i] = ((vsum[i] + cnt[i] / 2) / cnt[i].max(1)) as u8;
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_round_trip_is_close() {
        let (w, h) = (4, 2);
        let rgb: Vec<u8> = [[200u8, 30, 40]; 8].concat();
        let f = Frame::from_rgb(w, h, &rgb);
        for px in f.to_rgb().chunks(3) {
            for (a, b) in px.iter().zip([200u8, 30, 40]) {
                assert!((*a as i32 - b as i32).abs() <= 3, "{px:?}");
            }
        }
    }

    #[test]
    fn planar_rows_match_pixel_conversion() {
        let y: Vec<u8> = (0..=254).collect();
        let u: Vec<u8> = (0..128).map(|i| (i * 2) as u8).collect();
        let v: Vec<u8> = (0..128).map(|i| 255 - (i * 2) as u8).collect();
        let (mut b, mut g, mut r) = (vec![0u8; 255], vec![0u8; 255], vec![0u8; 255]);
        yuv_row_to_planar_bgr(&y, &u, &v, &mut b, &mut g, &mut r);
        for x in 0..255 {
            assert_eq!([r[x], g[x], b[x]], yuv_to_rgb(y[x], u[x / 2], v[x / 2]), "pixel {x}");
        }
    }

    #[test]
    fn row_conversion_matches_pixel_conversion() {
        let y: Vec<u8> = (0..=255).collect();
        let u: Vec<u8> = (0..128).map(|i| (i * 2) as u8).collect();
        let v: Vec<u8> = (0..128).map(|i| 255 - (i * 2) as u8).collect();
        let mut out = vec![0u8; 256 * 3];
        yuv_row_to_rgb(&y, &u, &v, &mut out);
        for x in 0..256 {
            assert_eq!(&out[x * 3..x * 3 + 3], &yuv_to_rgb(y[x], u[x / 2], v[x / 2]));
        }
    }

    #[test]
    fn limited_range_extremes() {
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        // FFmpeg's floors give 254 for nominal white; OpenCV frames read the same.
        assert_eq!(yuv_to_rgb(235, 128, 128), [254, 254, 254]);
    }
}
