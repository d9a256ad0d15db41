use crate::{avcc_to_annexb, SourceError, VideoSource};
use bytes::Bytes;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{Clock, Packet, StreamInfo, SystemClock, VideoCodec};

/// How fast a file is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// As fast as the consumer pulls (analysis, benchmarks).
    AsFastAsPossible,
    /// At the file's own frame times, so the file stands in for a live camera.
    RealTime,
}

#[derive(Debug, Clone)]
pub struct Mp4Options {
    pub pacing: Pacing,
    /// Start again from the first frame at the end, continuing timestamps and sequence numbers.
    pub looping: bool,
    /// Name used in errors and health (the camera id); defaults to the file path.
    pub name: Option<String>,
}

impl Default for Mp4Options {
    fn default() -> Self {
        Self { pacing: Pacing::AsFastAsPossible, looping: false, name: None }
    }
}

/// An H.264 track of an MP4 file, read sample by sample.
pub struct Mp4FileSource {
    path: PathBuf,
    name: String,
    reader: mp4::Mp4Reader<BufReader<File>>,
    track_id: u32,
    timescale: u64,
    sample_count: u32,
    next_sample: u32,
    length_size: usize,
    sps: Vec<u8>,
    pps: Vec<u8>,
    info: StreamInfo,
    opts: Mp4Options,
    clock: Arc<dyn Clock>,
    /// Clock reading and media time of the first packet of the current pass, for pacing.
    pace_origin: Option<Duration>,
    /// Media time and sequence offsets accumulated by previous loops.
    loop_pts: Duration,
    loop_seq: u64,
    last_pts: Duration,
    started_wall: Option<SystemTime>,
    scratch: Vec<u8>,
}

fn open_err(name: &str, reason: impl Into<String>) -> SourceError {
    SourceError::Open { source_name: name.to_string(), reason: reason.into() }
}

/// Runs a call into the `mp4` crate, turning its panics on damaged tables (it unwraps lookups
/// such as a sample's time in `stts`) into an error naming them.
fn unwound<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("damaged index ({msg})")
    })
}

/// Bytes before the first child box, for the boxes whose payload holds boxes (the ones the `mp4`
/// crate walks).
fn children_offset(kind: &[u8; 4]) -> Option<usize> {
    Some(match kind {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"dinf" | b"mvex" | b"udta" | b"ilst" => 8,
        // Full box header and an entry count.
        b"stsd" | b"dref" => 16,
        b"meta" => 12,
        // Visual sample entry fields come before avcC/btrt/pasp.
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" => 86,
        b"mp4a" => 36,
        _ => return None,
    })
}

/// Checks that every box in the index lies within its parent and has a usable size. The `mp4`
/// crate loops forever on a box of size 0 inside `moov` (it seeks back to the same header), so a
/// damaged index is refused here first, naming the box and its byte offset.
fn check_boxes(
    buf: &[u8],
    start: usize,
    end: usize,
    parent: &[u8; 4],
    file_offset: u64,
    depth: u32,
) -> Result<(), String> {
    let mut pos = start;
    while pos + 8 <= end {
        let kind: [u8; 4] = buf[pos + 4..pos + 8].try_into().unwrap();
        let name = String::from_utf8_lossy(&kind).escape_debug().to_string();
        let (mut size, mut header) = (u32::from_be_bytes(buf[pos..pos + 4].try_into().unwrap()) as u64, 8);
        if size == 1 && pos + 16 <= end {
            size = u64::from_be_bytes(buf[pos + 8..pos + 16].try_into().unwrap());
            header = 16;
        }
        let left = (end - pos) as u64;
        if size < header as u64 || size > left {
            return Err(format!(
                "damaged index: box '{name}' at byte {} has size {size} ({left} bytes left in its parent)",
                file_offset + pos as u64
            ));
        }
        let size = size as usize;
        let off = match &kind {
            // A QuickTime `meta` has no version and flags: its first child follows the header.
            b"meta" if size >= 12 && buf[pos + 8..pos + 12] != [0; 4] => Some(8),
            // Metadata items hold their `data` boxes.
            _ if parent == b"ilst" => Some(8),
            _ => children_offset(&kind),
        };
        if let Some(off) = off.filter(|&o| o <= size && depth < 16) {
            check_boxes(buf, pos + off, pos + size, &kind, file_offset, depth + 1)?;
        }
        pos += size;
    }
    Ok(())
}

/// Byte offset just past the `moov` box, found by walking top-level box headers. Lets a file
/// whose `mdat` was cut short still be opened (the `mp4` crate rejects a box larger than the file).
fn moov_end(f: &mut File, len: u64) -> std::io::Result<Option<u64>> {
    let mut pos = 0u64;
    let mut hdr = [0u8; 16];
    while pos + 8 <= len {
        f.seek(SeekFrom::Start(pos))?;
        f.read_exact(&mut hdr[..8])?;
        let mut size = u32::from_be_bytes(hdr[0..4].try_into().unwrap()) as u64;
        let kind: [u8; 4] = hdr[4..8].try_into().unwrap();
        if size == 1 {
            f.read_exact(&mut hdr[8..16])?;
            size = u64::from_be_bytes(hdr[8..16].try_into().unwrap());
        } else if size == 0 {
            size = len - pos;
        }
        if size < 8 {
            return Ok(None);
        }
        if &kind == b"moov" {
            if pos + size > len {
                return Ok(None);
            }
            let mut buf = vec![0u8; size as usize];
            f.seek(SeekFrom::Start(pos))?;
            f.read_exact(&mut buf)?;
            check_boxes(&buf, 0, buf.len(), b"file", pos, 0)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            return Ok(Some(pos + size));
        }
        pos += size;
    }
    Ok(None)
}

impl Mp4FileSource {
    pub fn open(path: impl AsRef<Path>, opts: Mp4Options) -> Result<Self, SourceError> {
        Self::open_with_clock(path, opts, Arc::new(SystemClock::default()))
    }

    pub fn open_with_clock(
        path: impl AsRef<Path>,
        opts: Mp4Options,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SourceError> {
        let path = path.as_ref().to_path_buf();
        let name = opts.name.clone().unwrap_or_else(|| path.display().to_string());
        let mut file = File::open(&path).map_err(|e| open_err(&name, format!("{}: {e}", path.display())))?;
        let len = file.metadata().map_err(|e| open_err(&name, e.to_string()))?.len();
        let header_end = moov_end(&mut file, len)
            .map_err(|e| open_err(&name, format!("{} is not a readable MP4 file: {e}", path.display())))?
            .ok_or_else(|| {
                open_err(
                    &name,
                    format!("{} is not an MP4 file or is truncated: no complete 'moov' box", path.display()),
                )
            })?;
        file.seek(SeekFrom::Start(0)).map_err(|e| open_err(&name, e.to_string()))?;
        let reader = unwound(|| mp4::Mp4Reader::read_header(BufReader::new(file), header_end))
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|e| open_err(&name, format!("{} is not a valid MP4 file: {e}", path.display())))?;

        let mut video = None;
        let mut others = Vec::new();
        for (id, t) in reader.tracks() {
            match t.media_type() {
                Ok(mp4::MediaType::H264) => video = Some(*id),
                Ok(other) => others.push(other.to_string()),
                Err(_) => others.push(t.box_type().map(|b| b.to_string()).unwrap_or_else(|_| "unknown".into())),
            }
        }
        let track_id = match video {
            Some(id) => id,
            None => {
                return Err(SourceError::Unsupported {
                    source_name: name,
                    reason: if others.is_empty() {
                        "no video track".into()
                    } else {
                        format!("no H.264 video track (found: {}); Vigie decodes H.264 only", others.join(", "))
                    },
                })
            }
        };
        let track = &reader.tracks()[&track_id];
        let avc = track.trak.mdia.minf.stbl.stsd.avc1.as_ref().ok_or_else(|| SourceError::Unsupported {
            source_name: name.clone(),
            reason: "H.264 track without an avc1 sample entry".into(),
        })?;
        let length_size = avc.avcc.length_size_minus_one as usize + 1;
        let sps = avc.avcc.sequence_parameter_sets.first().map(|n| n.bytes.clone()).unwrap_or_default();
        let pps = avc.avcc.picture_parameter_sets.first().map(|n| n.bytes.clone()).unwrap_or_default();
        if sps.is_empty() || pps.is_empty() {
            return Err(SourceError::Unsupported { source_name: name, reason: "H.264 track without SPS/PPS".into() });
        }
        // The mp4 crate divides by it (frame rate, duration): a damaged 0 would panic.
        if track.timescale() == 0 {
            return Err(open_err(&name, format!("{}: damaged index: media timescale is 0", path.display())));
        }
        let fps = track.frame_rate();
        let info = StreamInfo {
            codec: VideoCodec::H264,
            width: track.width() as u32,
            height: track.height() as u32,
            fps: (fps.is_finite() && fps > 0.0).then_some(fps),
            frame_count: Some(track.sample_count() as u64),
        };
        let timescale = track.timescale().max(1) as u64;
        let sample_count = track.sample_count();
        Ok(Self {
            path,
            name,
            reader,
            track_id,
            timescale,
            sample_count,
            next_sample: 1,
            length_size,
            sps,
            pps,
            info,
            opts,
            clock,
            pace_origin: None,
            loop_pts: Duration::ZERO,
            loop_seq: 0,
            last_pts: Duration::ZERO,
            started_wall: None,
            scratch: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn restart(&mut self) {
        // The next pass starts one nominal frame after the last one so time keeps increasing.
        let frame = self.info.fps.map(|f| Duration::from_secs_f64(1.0 / f)).unwrap_or(Duration::from_millis(40));
        self.loop_pts = self.last_pts + frame;
        self.loop_seq += (self.next_sample - 1) as u64;
        self.next_sample = 1;
    }
}

impl VideoSource for Mp4FileSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, SourceError> {
        if self.next_sample > self.sample_count {
            if !self.opts.looping || self.sample_count == 0 {
                return Ok(None);
            }
            self.restart();
        }
        let n = self.next_sample;
        self.next_sample += 1;
        let position = format!("sample {n} of {}", self.path.display());
        let (reader, track) = (&mut self.reader, self.track_id);
        let read = unwound(|| reader.read_sample(track, n)).and_then(|r| r.map_err(|e| e.to_string()));
        let sample = match read {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(SourceError::Corrupt {
                    source_name: self.name.clone(),
                    position,
                    reason: "sample missing from the index".into(),
                })
            }
            Err(e) => {
                // A truncated mdat makes every following sample unreadable too: stop there
                // (or loop) instead of reporting one error per missing frame.
                let err = SourceError::Corrupt {
                    source_name: self.name.clone(),
                    position,
                    reason: format!("cannot read sample (file truncated?): {e}"),
                };
                self.sample_count = n - 1;
                return Err(err);
            }
        };
        let pts_media = Duration::from_nanos(
            ((sample.start_time as i128 + sample.rendering_offset as i128).max(0) as u128 * 1_000_000_000
                / self.timescale as u128) as u64,
        );
        let pts = self.loop_pts + pts_media;
        self.last_pts = pts;
        let keyframe = sample.is_sync;
        let prefix: Vec<&[u8]> = if keyframe { vec![&self.sps, &self.pps] } else { vec![] };
        if let Err(reason) = avcc_to_annexb(&sample.bytes, self.length_size, &prefix, &mut self.scratch) {
            return Err(SourceError::Corrupt { source_name: self.name.clone(), position, reason });
        }
        let data = Bytes::copy_from_slice(&self.scratch);

        if self.opts.pacing == Pacing::RealTime {
            let now = self.clock.monotonic();
            let origin = *self.pace_origin.get_or_insert(now - pts.min(now));
            let due = origin + pts;
            if due > now {
                self.clock.sleep(due - now);
            }
        }
        let started = *self.started_wall.get_or_insert_with(|| self.clock.now());
        let received_at = match self.opts.pacing {
            Pacing::RealTime => self.clock.now(),
            Pacing::AsFastAsPossible => started + pts,
        };
        Ok(Some(Packet { seq: self.loop_seq + n as u64, pts, received_at, keyframe, data, position }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::SimClock;

    fn clip(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video").join(name)
    }

    #[test]
    fn reads_every_sample_of_a_bundled_clip() {
        let mut s = Mp4FileSource::open(clip("highway-cctv.mp4"), Mp4Options::default()).unwrap();
        assert_eq!((s.info().width, s.info().height), (320, 240));
        let mut n = 0;
        let mut keys = 0;
        let mut last = None;
        while let Some(p) = s.next_packet().unwrap() {
            n += 1;
            assert_eq!(p.seq, n);
            assert_eq!(&p.data[..4], &[0, 0, 0, 1]);
            if p.keyframe {
                keys += 1;
                assert_eq!(p.data[4] & 0x1f, 7, "key frames start with their SPS");
            }
            if let Some(l) = last {
                assert!(p.pts > l);
            }
            last = Some(p.pts);
        }
        assert_eq!(n, 748);
        assert!(keys >= 1);
    }

    #[test]
    fn loops_with_increasing_time_and_sequence() {
        let opts = Mp4Options { looping: true, ..Default::default() };
        let mut s = Mp4FileSource::open(clip("parking-lot-top-down.mp4"), opts).unwrap();
        let total = s.info().frame_count.unwrap();
        let mut last = Duration::ZERO;
        for i in 1..=total + 5 {
            let p = s.next_packet().unwrap().unwrap();
            assert_eq!(p.seq, i);
            assert!(i == 1 || p.pts > last);
            last = p.pts;
        }
    }

    #[test]
    fn real_time_pacing_sleeps_on_the_injected_clock() {
        let clock = SimClock::new(SystemTime::UNIX_EPOCH);
        let opts = Mp4Options { pacing: Pacing::RealTime, ..Default::default() };
        let mut s = Mp4FileSource::open_with_clock(clip("pets09-s2l1.mp4"), opts, Arc::new(clock.clone())).unwrap();
        for _ in 0..15 {
            s.next_packet().unwrap().unwrap();
        }
        // 15 frames at 7 fps: the 15th is due 2 s after the first.
        let t = clock.monotonic().as_secs_f64();
        assert!((t - 2.0).abs() < 0.01, "clock advanced {t} s");
    }

    #[test]
    fn missing_and_non_mp4_files_are_named_in_the_error() {
        let e = Mp4FileSource::open("/nonexistent/cam.mp4", Mp4Options::default()).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/cam.mp4") && e.contains("cannot open"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.mp4");
        std::fs::write(&p, b"this is not a video file at all").unwrap();
        let e = Mp4FileSource::open(&p, Mp4Options::default()).err().unwrap().to_string();
        assert!(e.contains("notes.mp4") && e.contains("moov"), "{e}");
    }

    /// Found by `vigie bench fuzz`: a box of size 0 inside the index made the `mp4` crate seek
    /// back to the same header forever, so the camera never opened and a core spun at 100 %.
    #[test]
    fn a_box_of_size_zero_in_the_index_is_refused_not_looped_on() {
        let mut data = std::fs::read(clip("parking-lot-top-down.mp4")).unwrap();
        data.truncate(70_000);
        let dir = tempfile::tempdir().unwrap();
        for (kind, size) in [(b"stts", 0u32), (b"stsz", 0), (b"avcC", 3), (b"hdlr", 0), (b"\xa9too", 0), (b"data", 0)] {
            let mut d = data.clone();
            let at = d.windows(4).position(|w| w == kind).unwrap() - 4;
            d[at..at + 4].copy_from_slice(&size.to_be_bytes());
            let p = dir.path().join("damaged.mp4");
            std::fs::write(&p, &d).unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(Mp4FileSource::open(&p, Mp4Options::default()).err().map(|e| e.to_string()));
            });
            let name = String::from_utf8_lossy(kind).to_string();
            let e = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("open hung on a '{name}' box of size {size}"))
                .unwrap_or_else(|| panic!("a '{name}' box of size {size} was accepted"));
            assert!(e.contains(&format!("damaged index: box '{name}' at byte {at} has size {size}")), "{e}");
        }
    }

    /// Found by `vigie bench fuzz`: an `stts` table covering fewer samples than the clip has made
    /// the `mp4` crate unwrap a missing entry (a panic in the camera's thread).
    /// Found by `vigie bench fuzz`: a media timescale of 0 made the `mp4` crate divide by zero.
    #[test]
    fn a_zero_timescale_is_refused() {
        let mut data = std::fs::read(clip("parking-lot-top-down.mp4")).unwrap();
        // mdhd (version 0): size, type, version/flags, created, modified, then the timescale.
        let at = data.windows(4).position(|w| w == b"mdhd").unwrap() + 16;
        data[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("zero-timescale.mp4");
        std::fs::write(&p, &data).unwrap();
        let e = Mp4FileSource::open(&p, Mp4Options::default()).err().unwrap().to_string();
        assert!(e.contains("damaged index: media timescale is 0"), "{e}");
    }

    #[test]
    fn a_time_table_shorter_than_the_samples_ends_the_clip_with_an_error() {
        let mut data = std::fs::read(clip("parking-lot-top-down.mp4")).unwrap();
        let at = data.windows(4).position(|w| w == b"stts").unwrap() + 12;
        assert_eq!(u32::from_be_bytes(data[at - 4..at].try_into().unwrap()), 1, "one stts entry");
        data[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("short-stts.mp4");
        std::fs::write(&p, &data).unwrap();
        let mut s = Mp4FileSource::open(&p, Mp4Options::default()).unwrap();
        assert!(s.next_packet().unwrap().is_some());
        let e = s.next_packet().unwrap_err().to_string();
        assert!(e.contains("sample 2") && e.contains("damaged index"), "{e}");
        assert!(s.next_packet().unwrap().is_none());
    }

    #[test]
    fn truncated_file_yields_frames_then_a_positioned_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.mp4");
        let bytes = std::fs::read(clip("highway-cctv.mp4")).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let mut s = Mp4FileSource::open(&p, Mp4Options::default()).unwrap();
        let mut good = 0;
        let err = loop {
            match s.next_packet() {
                Ok(Some(_)) => good += 1,
                Ok(None) => panic!("a truncated file must report an error"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(good > 100 && good < 748, "{good}");
        assert!(err.contains(&format!("sample {}", good + 1)), "{err}");
        assert!(s.next_packet().unwrap().is_none(), "stops after the cut");
    }
}
