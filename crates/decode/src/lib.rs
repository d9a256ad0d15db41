//! H.264 decoding.
//!
//! OpenH264 (Cisco's decoder, compiled from source by the `openh264` crate) is used rather than
//! FFmpeg: it needs no system libraries or bindgen, so the two README commands work on a bare
//! Debian machine, and at ~400 fps/core for 768×576 it is far from the bottleneck next to the
//! detector. The price is H.264 only (Constrained Baseline/Main without B-frames decode fully;
//! the bundled clips and typical city cameras are in that set).

use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;
use vigie_core::{Frame, Packet};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{camera}: cannot start the H.264 decoder: {reason}")]
    Init { camera: String, reason: String },
    /// The packet at `position` could not be decoded; frames resume at the next key frame.
    #[error("{camera}: corrupt H.264 at {position}: {reason}; skipping to the next key frame")]
    Corrupt { camera: String, position: String, reason: String },
}

/// Decodes one camera's packets in order. After an error it drops packets until the next
/// key frame, since the frames in between reference pictures that were never reconstructed.
pub struct H264Decoder {
    camera: String,
    decoder: Decoder,
    waiting_for_key: bool,
    /// Packets dropped while waiting for a key frame after an error.
    pub skipped: u64,
}

fn new_decoder() -> Result<Decoder, openh264::Error> {
    let cfg = DecoderConfig::new().flush_after_decode(Flush::Flush);
    Decoder::with_api_config(OpenH264API::from_source(), cfg)
}

impl H264Decoder {
    pub fn new(camera: &str) -> Result<Self, DecodeError> {
        let decoder =
            new_decoder().map_err(|e| DecodeError::Init { camera: camera.to_string(), reason: e.to_string() })?;
        Ok(Self { camera: camera.to_string(), decoder, waiting_for_key: true, skipped: 0 })
    }

    /// Decodes one access unit. `Ok(None)` when the packet yields no picture (parameter sets
    /// only, or skipped while resynchronising).
    pub fn decode(&mut self, pkt: &Packet) -> Result<Option<Frame>, DecodeError> {
        if self.waiting_for_key {
            if !pkt.keyframe {
                self.skipped += 1;
                return Ok(None);
            }
            self.waiting_for_key = false;
        }
        // Flush after every access unit: these streams carry no B-frames, but OpenH264 holds one
        // picture back for reordering when the SPS does not declare max_num_reorder_frames = 0,
        // which would shift every frame number by one against the ground truth.
        let res = self.decoder.decode_with_options(&pkt.data, DecodeOptions::new().flush_after_decode(Flush::Flush));
        match res {
            Ok(Some(yuv)) => Ok(Some(to_frame(&yuv, pkt))),
            Ok(None) => Ok(None),
            Err(e) => {
                self.waiting_for_key = true;
                // A fresh decoder forgets the damaged references instead of concealing errors
                // into the following frames.
                if let Ok(d) = new_decoder() {
                    self.decoder = d;
                }
                Err(DecodeError::Corrupt {
                    camera: self.camera.clone(),
                    position: pkt.position.clone(),
                    reason: e.to_string(),
                })
            }
        }
    }
}

fn to_frame(yuv: &openh264::decoder::DecodedYUV<'_>, pkt: &Packet) -> Frame {
    let (w, h) = yuv.dimensions();
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (sy, su, sv) = yuv.strides();
    let mut y = Vec::with_capacity(w * h);
    for row in yuv.y().chunks(sy).take(h) {
        y.extend_from_slice(&row[..w]);
    }
    let mut u = Vec::with_capacity(cw * ch);
    for row in yuv.u().chunks(su).take(ch) {
        u.extend_from_slice(&row[..cw]);
    }
    let mut v = Vec::with_capacity(cw * ch);
    for row in yuv.v().chunks(sv).take(ch) {
        v.extend_from_slice(&row[..cw]);
    }
    Frame { seq: pkt.seq, pts: pkt.pts, captured_at: pkt.received_at, width: w, height: h, y, u, v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

    fn clip(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video").join(name)
    }

    #[test]
    fn decodes_every_frame_of_pets() {
        let mut src = Mp4FileSource::open(clip("pets09-s2l1.mp4"), Mp4Options::default()).unwrap();
        let mut dec = H264Decoder::new("pets").unwrap();
        let mut n = 0;
        let mut sum_first = 0u64;
        while let Some(p) = src.next_packet().unwrap() {
            let f = dec.decode(&p).unwrap().expect("one picture per packet");
            assert_eq!((f.width, f.height), (768, 576));
            assert_eq!(f.seq, p.seq);
            if n == 0 {
                sum_first = f.y.iter().map(|&v| v as u64).sum();
            }
            n += 1;
        }
        assert_eq!(n, 795);
        let mean = sum_first as f64 / (768.0 * 576.0);
        assert!(mean > 40.0 && mean < 200.0, "plausible picture, mean luma {mean}");
    }

    #[test]
    fn corrupt_packet_is_reported_with_position_then_recovers_at_next_key_frame() {
        let mut src = Mp4FileSource::open(clip("highway-cctv.mp4"), Mp4Options::default()).unwrap();
        let mut pkts = Vec::new();
        while let Some(p) = src.next_packet().unwrap() {
            pkts.push(p);
        }
        let keys: Vec<usize> = pkts.iter().enumerate().filter(|(_, p)| p.keyframe).map(|(i, _)| i).collect();
        assert!(keys.len() >= 2, "clip has several key frames");
        // Garble a key frame's slice data (keep the parameter sets so the error is in the slice).
        let bad = keys[0];
        let mut data = pkts[bad].data.to_vec();
        let n = data.len();
        for b in &mut data[n / 3..] {
            *b = 0xFF;
        }
        pkts[bad].data = data.into();

        let mut dec = H264Decoder::new("highway").unwrap();
        let mut errors = Vec::new();
        let mut decoded = Vec::new();
        for p in &pkts {
            match dec.decode(p) {
                Ok(Some(f)) => decoded.push(f.seq),
                Ok(None) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        assert!(!errors.is_empty(), "garbage must not decode silently");
        // OpenH264 may conceal the damaged picture and fail on a following one of the same GOP.
        let at: usize = errors[0].split("at sample ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(errors[0].contains("highway") && at > bad && at <= keys[1], "{}", errors[0]);
        let next_key_seq = pkts[keys[1]].seq;
        assert!(decoded.contains(&next_key_seq), "decoding resumes at the next key frame");
        assert_eq!(*decoded.last().unwrap(), pkts.last().unwrap().seq);
    }
}
