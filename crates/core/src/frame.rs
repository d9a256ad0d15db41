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
/// scores and boxes reproducible.
const fn term(x: i32, k: i32) -> i32 {
    ((x << 3) * k) >> 16
}

/// The five per-component terms, tabulated: a conversion is then five loads and three adds.
struct YuvTables {
    y: [i32; 256],
    rv: [i32; 256],
    gu: [i32; 256],
    gv: [i32; 256],
    bu: [i32; 256],
}

const TABLES: YuvTables = {
    let mut t = YuvTables { y: [0; 256], rv: [0; 256], gu: [0; 256], gv: [0; 256], bu: [0; 256] };
    let mut i = 0;
    while i < 256 {
        let c = i as i32 - 128;
        t.y[i] = term(i as i32 - 16, 0x253f);
        t.rv[i] = term(c, 0x3312);
        t.gu[i] = term(c, -0x0c8b);
        t.gv[i] = term(c, -0x1a04);
        t.bu[i] = term(c, 0x4093);
        i += 1;
    }
    t
};

#[inline(always)]
fn clamp8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[inline(always)]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let t = &TABLES;
    let l = t.y[y as usize];
    [clamp8(l + t.rv[v as usize]), clamp8(l + t.gu[u as usize] + t.gv[v as usize]), clamp8(l + t.bu[u as usize])]
}

/// Converts one row: `y` has the row's luma, `u`/`v` its (horizontally halved) chroma; writes
/// interleaved RGB into `out` (3 bytes a pixel).
pub fn yuv_row_to_rgb(y: &[u8], u: &[u8], v: &[u8], out: &mut [u8]) {
    let t = &TABLES;
    for (i, (px2, luma2)) in out.chunks_mut(6).zip(y.chunks(2)).enumerate() {
        let (cu, cv) = (u[i] as usize, v[i] as usize);
        let (r, g, b) = (t.rv[cv], t.gu[cu] + t.gv[cv], t.bu[cu]);
        for (px, &l) in px2.chunks_exact_mut(3).zip(luma2) {
            let l = t.y[l as usize];
            px[0] = clamp8(l + r);
            px[1] = clamp8(l + g);
            px[2] = clamp8(l + b);
        }
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
