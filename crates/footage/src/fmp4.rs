//! H.264 byte-stream helpers and a reader for the fragmented MP4 segments the recorder writes.
//!
//! Segments are written with `muxide`'s fragmented muxer. They are read back here rather than
//! with the `mp4` crate because its fragment support reads every sample of a `traf` from the
//! same offset and guesses sync samples from their position, which returns wrong data for
//! these files. The reader also reports how many bytes form complete fragments, which is what
//! salvaging a segment cut short by a crash needs.

use bytes::Bytes;
use std::time::{Duration, SystemTime};
use vigie_core::Packet;

pub const NAL_SPS: u8 = 7;
pub const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;

/// NAL units of an Annex-B access unit, without their start codes.
pub fn annexb_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(_, begin)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |s| s.0);
        // A four-byte start code leaves its leading zero at the end of the previous unit.
        while end > begin && data[end - 1] == 0 {
            end -= 1;
        }
        if end > begin {
            out.push(&data[begin..end]);
        }
    }
    out
}

pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// First SPS and PPS carried in an access unit.
pub fn parameter_sets(data: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let nals = annexb_nals(data);
    let sps = nals.iter().copied().find(|n| nal_type(n) == NAL_SPS);
    let pps = nals.iter().copied().find(|n| nal_type(n) == NAL_PPS);
    (sps, pps)
}

/// Annex-B → 4-byte length-prefixed (what MP4 stores). Access-unit delimiters are dropped;
/// in-band SPS/PPS are kept so each key frame stays decodable exactly as the camera sent it.
pub fn annexb_to_avcc(data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    for nal in annexb_nals(data) {
        if nal_type(nal) == NAL_AUD {
            continue;
        }
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
}

/// Length-prefixed → Annex-B, prepending `sps`/`pps` to a key frame that lacks them.
pub fn avcc_to_annexb(
    sample: &[u8],
    length_size: usize,
    key: bool,
    sps: &[u8],
    pps: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    let mut nals = Vec::new();
    let mut i = 0;
    while i < sample.len() {
        if i + length_size > sample.len() {
            return Err(format!("NAL length field cut at offset {i}"));
        }
        let n = sample[i..i + length_size].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        i += length_size;
        if n == 0 || i + n > sample.len() {
            return Err(format!("NAL unit of {n} bytes at offset {i} overruns the {}-byte sample", sample.len()));
        }
        nals.push(&sample[i..i + n]);
        i += n;
    }
    if key && !nals.iter().any(|n| nal_type(n) == NAL_SPS) && !sps.is_empty() {
        for ps in [sps, pps] {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(ps);
        }
    }
    for n in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(n);
    }
    Ok(())
}

/// One sample of a parsed segment: where its bytes are and when it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRef {
    /// Decode time in the track's timescale, from the start of the segment's media timeline.
    pub dts: u64,
    pub duration: u32,
    pub key: bool,
    pub offset: usize,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct ParsedSegment {
    pub timescale: u32,
    pub width: u32,
    pub height: u32,
    pub sps: Vec<u8>,
    pub pps: Vec<u8>,
    pub length_size: usize,
    pub samples: Vec<SampleRef>,
    /// Bytes from the start of the file to the end of the last complete fragment.
    pub complete_len: usize,
    pub fragments: usize,
    /// The file ends in the middle of a box (writer interrupted).
    pub truncated: bool,
}

impl ParsedSegment {
    /// Media time of sample `i` from the first sample's decode time.
    pub fn offset_of(&self, i: usize) -> Duration {
        let s = &self.samples[i];
        let d = s.dts.saturating_sub(self.samples.first().map_or(0, |f| f.dts));
        Duration::from_nanos((d as u128 * 1_000_000_000 / self.timescale.max(1) as u128) as u64)
    }

    /// Duration from the first sample's start to the last sample's end.
    pub fn duration(&self) -> Duration {
        match (self.samples.first(), self.samples.last()) {
            (Some(f), Some(l)) => {
                let d = (l.dts + l.duration as u64).saturating_sub(f.dts);
                Duration::from_nanos((d as u128 * 1_000_000_000 / self.timescale.max(1) as u128) as u64)
            }
            _ => Duration::ZERO,
        }
    }

    /// Sample `i` as the packet the camera sent, stamped from the segment's wall-clock start.
    pub fn packet(
        &self,
        file: &[u8],
        i: usize,
        start: SystemTime,
        seq: u64,
        position: String,
    ) -> Result<Packet, String> {
        let s = &self.samples[i];
        let raw = file.get(s.offset..s.offset + s.size).ok_or_else(|| format!("sample {i} lies outside the file"))?;
        let mut data = Vec::with_capacity(s.size + 64);
        avcc_to_annexb(raw, self.length_size, s.key, &self.sps, &self.pps, &mut data)?;
        let off = self.offset_of(i);
        Ok(Packet { seq, pts: off, received_at: start + off, keyframe: s.key, data: Bytes::from(data), position })
    }
}

struct BoxRef<'a> {
    kind: [u8; 4],
    body: &'a [u8],
    start: usize,
    end: usize,
}

/// Splits `buf` (which starts at file offset `base`) into boxes. Returns the boxes and whether a
/// box was cut short by the end of the buffer.
fn boxes(buf: &[u8], base: usize) -> (Vec<BoxRef<'_>>, bool) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        if pos + 8 > buf.len() {
            return (out, true);
        }
        let mut size = u32::from_be_bytes(buf[pos..pos + 4].try_into().unwrap()) as u64;
        let kind: [u8; 4] = buf[pos + 4..pos + 8].try_into().unwrap();
        let mut header = 8usize;
        if size == 1 {
            if pos + 16 > buf.len() {
                return (out, true);
            }
            size = u64::from_be_bytes(buf[pos + 8..pos + 16].try_into().unwrap());
            header = 16;
        } else if size == 0 {
            size = (buf.len() - pos) as u64;
        }
        if size < header as u64 {
            return (out, true);
        }
        let end = pos as u64 + size;
        if end > buf.len() as u64 {
            return (out, true);
        }
        let end = end as usize;
        out.push(BoxRef { kind, body: &buf[pos + header..end], start: base + pos, end: base + end });
        pos = end;
    }
    (out, false)
}

fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(body, 0).0.into_iter().find(|b| &b.kind == kind).map(|b| b.body)
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes(s.try_into().unwrap())).ok_or_else(|| "box too short".to_string())
}

fn be64(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 8).map(|s| u64::from_be_bytes(s.try_into().unwrap())).ok_or_else(|| "box too short".to_string())
}

#[derive(Default, Clone, Copy)]
struct TrackDefaults {
    track_id: u32,
    duration: u32,
    size: u32,
    flags: u32,
}

struct VideoTrack {
    defaults: TrackDefaults,
    timescale: u32,
    width: u32,
    height: u32,
    sps: Vec<u8>,
    pps: Vec<u8>,
    length_size: usize,
}

fn parse_moov(moov: &[u8]) -> Result<VideoTrack, String> {
    let mut trex = Vec::new();
    if let Some(mvex) = child(moov, b"mvex") {
        for b in boxes(mvex, 0).0.into_iter().filter(|b| &b.kind == b"trex") {
            trex.push(TrackDefaults {
                track_id: be32(b.body, 4)?,
                duration: be32(b.body, 12)?,
                size: be32(b.body, 16)?,
                flags: be32(b.body, 20)?,
            });
        }
    }
    for trak in boxes(moov, 0).0.into_iter().filter(|b| &b.kind == b"trak") {
        let tkhd = child(trak.body, b"tkhd").ok_or("trak without tkhd")?;
        let track_id = if tkhd.first() == Some(&1) { be32(tkhd, 20)? } else { be32(tkhd, 12)? };
        let Some(mdia) = child(trak.body, b"mdia") else { continue };
        let mdhd = child(mdia, b"mdhd").ok_or("mdia without mdhd")?;
        let timescale = if mdhd.first() == Some(&1) { be32(mdhd, 20)? } else { be32(mdhd, 12)? };
        let Some(stsd) = child(mdia, b"minf").and_then(|m| child(m, b"stbl")).and_then(|s| child(s, b"stsd")) else {
            continue;
        };
        let entries = stsd.get(8..).ok_or("stsd too short")?;
        let Some(avc1) = boxes(entries, 0).0.into_iter().find(|b| &b.kind == b"avc1" || &b.kind == b"avc3") else {
            continue;
        };
        let v = avc1.body;
        if v.len() < 78 {
            return Err("avc1 sample entry too short".into());
        }
        let width = u16::from_be_bytes([v[24], v[25]]) as u32;
        let height = u16::from_be_bytes([v[26], v[27]]) as u32;
        let avcc = child(&v[78..], b"avcC").ok_or("avc1 without avcC")?;
        if avcc.len() < 7 {
            return Err("avcC too short".into());
        }
        let length_size = (avcc[4] & 3) as usize + 1;
        let mut p = 5;
        let read_sets = |count_mask: u8, p: &mut usize| -> Result<Vec<Vec<u8>>, String> {
            let n = (*avcc.get(*p).ok_or("avcC cut")? & count_mask) as usize;
            *p += 1;
            let mut sets = Vec::new();
            for _ in 0..n {
                let len = avcc.get(*p..*p + 2).map(|s| u16::from_be_bytes([s[0], s[1]]) as usize).ok_or("avcC cut")?;
                *p += 2;
                sets.push(avcc.get(*p..*p + len).ok_or("avcC cut")?.to_vec());
                *p += len;
            }
            Ok(sets)
        };
        let sps = read_sets(0x1f, &mut p)?.into_iter().next().unwrap_or_default();
        let pps = read_sets(0xff, &mut p)?.into_iter().next().unwrap_or_default();
        let defaults = trex
            .iter()
            .copied()
            .find(|t| t.track_id == track_id)
            .unwrap_or(TrackDefaults { track_id, ..Default::default() });
        return Ok(VideoTrack { defaults, timescale, width, height, sps, pps, length_size });
    }
    Err("no H.264 video track in moov".into())
}

fn parse_moof(
    moof: &BoxRef<'_>,
    track: &VideoTrack,
    out: &mut Vec<SampleRef>,
    next_dts: &mut u64,
) -> Result<(), String> {
    for traf in boxes(moof.body, moof.start + 8).0.into_iter().filter(|b| &b.kind == b"traf") {
        let tfhd = child(traf.body, b"tfhd").ok_or("traf without tfhd")?;
        let flags = be32(tfhd, 0)? & 0xff_ffff;
        if be32(tfhd, 4)? != track.defaults.track_id {
            continue;
        }
        let mut at = 8;
        let mut base = moof.start as u64;
        if flags & 0x1 != 0 {
            base = be64(tfhd, at)?;
            at += 8;
        }
        if flags & 0x2 != 0 {
            at += 4;
        }
        let mut d = track.defaults;
        if flags & 0x8 != 0 {
            d.duration = be32(tfhd, at)?;
            at += 4;
        }
        if flags & 0x10 != 0 {
            d.size = be32(tfhd, at)?;
            at += 4;
        }
        if flags & 0x20 != 0 {
            d.flags = be32(tfhd, at)?;
        }
        let mut dts = match child(traf.body, b"tfdt") {
            Some(t) if t.first() == Some(&1) => be64(t, 4)?,
            Some(t) => be32(t, 4)? as u64,
            None => *next_dts,
        };
        let mut data_pos: Option<u64> = None;
        for trun in boxes(traf.body, 0).0.into_iter().filter(|b| &b.kind == b"trun") {
            let t = trun.body;
            let tf = be32(t, 0)? & 0xff_ffff;
            let count = be32(t, 4)? as usize;
            let mut at = 8;
            if tf & 0x1 != 0 {
                let off = be32(t, at)? as i32 as i64;
                data_pos = Some((base as i64 + off) as u64);
                at += 4;
            }
            let mut pos = data_pos.unwrap_or(base);
            let first_flags = if tf & 0x4 != 0 {
                at += 4;
                Some(be32(t, at - 4)?)
            } else {
                None
            };
            for k in 0..count {
                let mut dur = d.duration;
                let mut size = d.size;
                let mut sflags = if k == 0 { first_flags.unwrap_or(d.flags) } else { d.flags };
                if tf & 0x100 != 0 {
                    dur = be32(t, at)?;
                    at += 4;
                }
                if tf & 0x200 != 0 {
                    size = be32(t, at)?;
                    at += 4;
                }
                if tf & 0x400 != 0 {
                    sflags = be32(t, at)?;
                    at += 4;
                }
                if tf & 0x800 != 0 {
                    at += 4;
                }
                let key = sflags & 0x0001_0000 == 0;
                out.push(SampleRef { dts, duration: dur, key, offset: pos as usize, size: size as usize });
                pos += size as u64;
                dts += dur as u64;
            }
            data_pos = Some(pos);
        }
        *next_dts = dts;
    }
    Ok(())
}

/// Parses a segment (or the readable prefix of one cut short).
pub fn parse_segment(file: &[u8]) -> Result<ParsedSegment, String> {
    let (top, truncated) = boxes(file, 0);
    let mut track = None;
    let mut samples = Vec::new();
    let mut complete_len = 0;
    let mut fragments = 0;
    let mut next_dts = 0u64;
    let mut i = 0;
    while i < top.len() {
        let b = &top[i];
        match &b.kind {
            b"moov" => {
                track = Some(parse_moov(b.body)?);
                complete_len = b.end;
            }
            b"moof" => {
                let Some(t) = track.as_ref() else { return Err("moof before moov".into()) };
                // A fragment counts once its mdat is complete too.
                let Some(mdat) = top.get(i + 1).filter(|m| &m.kind == b"mdat") else { break };
                let mut frag = Vec::new();
                parse_moof(b, t, &mut frag, &mut next_dts)?;
                if frag.iter().any(|s| s.offset + s.size > mdat.end || s.offset < mdat.start) {
                    return Err(format!("fragment {} points outside its mdat", fragments + 1));
                }
                samples.extend(frag);
                fragments += 1;
                complete_len = mdat.end;
                i += 1;
            }
            _ => {
                if track.is_some() && fragments == 0 && b.kind != *b"mdat" {
                    complete_len = b.end;
                }
            }
        }
        i += 1;
    }
    let t = track.ok_or("no moov box: not an MP4 segment")?;
    let truncated = truncated || complete_len < file.len();
    Ok(ParsedSegment {
        timescale: t.timescale,
        width: t.width,
        height: t.height,
        sps: t.sps,
        pps: t.pps,
        length_size: t.length_size,
        samples,
        complete_len,
        fragments,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb_splits_three_and_four_byte_start_codes() {
        let au = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 9, 9];
        let nals = annexb_nals(&au);
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x09, 0xf0], &[0x65, 9, 9]]);
        let (sps, pps) = parameter_sets(&au);
        assert_eq!((sps.unwrap(), pps.unwrap()), (&[0x67, 1, 2][..], &[0x68, 3][..]));
        let mut avcc = Vec::new();
        annexb_to_avcc(&au, &mut avcc);
        assert_eq!(avcc, vec![0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 3, 0x65, 9, 9], "AUD dropped");
        let mut back = Vec::new();
        avcc_to_annexb(&avcc, 4, true, &[], &[], &mut back).unwrap();
        assert_eq!(back, vec![0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9]);
    }

    #[test]
    fn key_frames_without_parameter_sets_get_them_from_the_sample_entry() {
        let mut out = Vec::new();
        avcc_to_annexb(&[0, 0, 0, 2, 0x65, 7], 4, true, &[0x67, 1], &[0x68, 2], &mut out).unwrap();
        assert_eq!(out, vec![0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 7]);
        assert!(avcc_to_annexb(&[0, 0, 0, 9, 0x65], 4, false, &[], &[], &mut out).unwrap_err().contains("overruns"));
    }

    #[test]
    fn garbage_is_not_a_segment() {
        assert!(parse_segment(b"definitely not an mp4 file").is_err());
        assert!(parse_segment(&[]).is_err());
    }
}
