//! Playback and export of a time range of one camera as a single MP4 file.
//!
//! Without blurring, the packets of the covered segments are remuxed untouched (no re-encode),
//! starting at the key frame at or before `from` so the first picture decodes, unless the camera
//! has privacy masks, which even an unmask never reveals. With blurring (the default for anyone
//! but a supervisor who gives a reason), frames are decoded, and what to hide is decided by
//! `vigie_imaging::privacy::decide` like every other picture leaving the node: the people found
//! by the caller's detector and the moving regions of a motion model run over the decoded
//! frames; a frame the detector fails on is pixelated whole (fail closed). The result is
//! re-encoded with OpenH264.
//!
//! The output is a plain (non-fragmented, fast-start) MP4 so that any player, and the tools a
//! court or the police use, can open it. `muxide` assembles it in memory, which is why one
//! export is capped at `archive.max_export_s`. A viewing ([`Archive::export_to_memory`]) is
//! served from that memory and leaves no file; only a copy kept on purpose ([`Archive::export`])
//! is written under `exports/`, and it expires with the footage it holds.

use crate::archive::{Archive, ArchiveError};
use crate::catalog::{SegmentRow, SegmentState};
use crate::fmp4::{parse_segment, ParsedSegment};
use openh264::encoder::{
    Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, QpRange, RateControlMode, UsageType,
};
use openh264::formats::YUVSlices;
use openh264::OpenH264API;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use vigie_core::{BBox, Frame, Packet, StopToken, UnixMs};
use vigie_decode::H264Decoder;
use vigie_imaging::privacy::{decide, HidePlan, PrivacyInputs};
use vigie_motion::{MotionConfig, MotionGate};

/// A stretch of the requested range with no footage, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// Reads the packets of one camera over a time range, segment by segment.
pub struct RangeReader<'a> {
    archive: &'a Archive,
    from_ms: UnixMs,
    to_ms: UnixMs,
    segments: VecDeque<SegmentRow>,
    current: Option<(SegmentRow, Vec<u8>, ParsedSegment, usize)>,
    started: bool,
    seq: u64,
    prev_end_ms: Option<UnixMs>,
    /// Holes met so far (missing files, unreadable segments, recording gaps).
    pub gaps: Vec<Gap>,
}

impl Archive {
    /// Packets of `camera` from the key frame at or before `from_ms` up to `to_ms`, in order.
    /// Segments whose file has disappeared are marked missing and reported in `gaps`.
    pub fn read_range(&self, camera: &str, from_ms: UnixMs, to_ms: UnixMs) -> Result<RangeReader<'_>, ArchiveError> {
        let mut segs = self.catalog().range(camera, from_ms, to_ms)?;
        // Every segment starts with a key frame: a later one starting by `from` gives a later
        // (closer) key frame than anything in the earlier ones.
        while segs.len() > 1 && segs[1].start_ms <= from_ms && segs[1].state == SegmentState::Ok {
            segs.remove(0);
        }
        Ok(RangeReader {
            archive: self,
            from_ms,
            to_ms,
            segments: segs.into(),
            current: None,
            started: false,
            seq: 0,
            prev_end_ms: None,
            gaps: Vec::new(),
        })
    }
}

impl RangeReader<'_> {
    fn gap(&mut self, from: UnixMs, to: UnixMs, reason: impl Into<String>) {
        self.gaps.push(Gap { from: from.rfc3339(), to: to.rfc3339(), reason: reason.into() });
    }

    fn load_next(&mut self) -> bool {
        while let Some(seg) = self.segments.pop_front() {
            if let Some(prev) = self.prev_end_ms {
                if seg.start_ms.ms_since(prev) > 2000 {
                    self.gap(prev, seg.start_ms, "not recorded");
                }
            }
            self.prev_end_ms = Some(seg.end_ms);
            if seg.state == SegmentState::Missing {
                self.gap(seg.start_ms, seg.end_ms, format!("segment file {} missing", seg.path));
                continue;
            }
            let bytes = match self.archive.store().read(&seg.path) {
                Ok(b) => b,
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        tracing::warn!("segment file {} deleted behind the archive's back", seg.path);
                        let _ = self.archive.catalog().set_state(seg.id, SegmentState::Missing);
                    }
                    self.gap(seg.start_ms, seg.end_ms, format!("segment file {}: {e}", seg.path));
                    continue;
                }
            };
            match parse_segment(&bytes) {
                Ok(p) if !p.samples.is_empty() => {
                    let start = if self.started {
                        0
                    } else {
                        // Last key frame at or before `from` (or the segment's first sample).
                        let mut k = 0;
                        for (i, s) in p.samples.iter().enumerate() {
                            if seg.start_ms.saturating_add(p.offset_of(i)) > self.from_ms {
                                break;
                            }
                            if s.key {
                                k = i;
                            }
                        }
                        k
                    };
                    self.current = Some((seg, bytes, p, start));
                    return true;
                }
                Ok(_) => self.gap(seg.start_ms, seg.end_ms, format!("segment {} holds no frames", seg.path)),
                Err(e) => self.gap(seg.start_ms, seg.end_ms, format!("segment {} unreadable: {e}", seg.path)),
            }
        }
        false
    }
}

impl Iterator for RangeReader<'_> {
    type Item = Result<Packet, ArchiveError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.current.is_none() && !self.load_next() {
                return None;
            }
            let (seg, bytes, p, i) = self.current.as_mut().expect("loaded");
            if *i >= p.samples.len() {
                self.current = None;
                continue;
            }
            let t = seg.start_ms.saturating_add(p.offset_of(*i));
            if t > self.to_ms {
                self.current = None;
                self.segments.clear();
                return None;
            }
            let idx = *i;
            *i += 1;
            self.seq += 1;
            let start = seg.start_ms.to_system_time();
            let position = format!("sample {} of segment {}", idx + 1, seg.path);
            let pkt = p.packet(bytes, idx, start, self.seq, position).map_err(ArchiveError::Media);
            self.started = true;
            return Some(pkt);
        }
    }
}

/// Who asks for which footage, and how it is to be anonymised.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub camera: String,
    pub from_ms: UnixMs,
    pub to_ms: UnixMs,
    /// Pixelate people (default). Turning it off is an unmask: supervisors only (checked by
    /// the caller), and it needs `unmask_reason`.
    pub blur_people: bool,
    pub unmask_reason: Option<String>,
    /// User name written to the audit trail.
    pub actor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportResult {
    /// The kept copy ([`Archive::export`]); `None` for one served from memory.
    pub path: Option<PathBuf>,
    pub sha256: String,
    pub bytes: u64,
    pub frames: u64,
    /// First and last frame actually in the file (the start may be a little before the
    /// requested `from`: the key frame it needs).
    pub from: String,
    pub to: String,
    pub duration_s: f64,
    pub blurred: bool,
    pub gaps: Vec<Gap>,
    /// Frames pixelated whole because what to hide could not be decided (detector errors).
    pub pixelated_whole: u64,
}

/// What the caller's detector found in a decoded frame: the people to hide, and the vehicles
/// whose own motion stays clear.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    pub people: Vec<BBox>,
    pub vehicles: Vec<BBox>,
}

/// The caller's detector over a decoded frame; an error makes that frame pixelated whole.
pub type PeopleBoxes<'a> = &'a mut dyn FnMut(&Frame) -> Result<Seen, String>;

/// H.264 encoder of decoded frames, for exports and `vigie analyze --privacy-out`.
pub struct Reencoder {
    encoder: Encoder,
    even: (usize, usize),
    scratch: (Vec<u8>, Vec<u8>, Vec<u8>),
    out: Vec<u8>,
}

impl Reencoder {
    pub fn new(width: usize, height: usize, fps: f64) -> Result<Self, ArchiveError> {
        // Quality mode within QP 16-22 and no frame skipping: an export must keep every frame
        // (OpenH264 can only hold a bitrate by dropping some), and footage handed over as
        // evidence must stay legible. People are pixelated before encoding anyway. (OpenH264
        // warns once that it cannot hold a bitrate without skipping frames: intended.)
        let cfg = EncoderConfig::new()
            .usage_type(UsageType::CameraVideoRealTime)
            .rate_control_mode(RateControlMode::Quality)
            .qp(QpRange::new(16, 22))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .skip_frames(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames((fps * 2.0).round().max(1.0) as u32));
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), cfg)
            .map_err(|e| ArchiveError::Media(format!("cannot start the H.264 encoder: {e}")))?;
        Ok(Self { encoder, even: (width & !1, height & !1), scratch: Default::default(), out: Vec::new() })
    }

    /// Encodes one frame; returns the Annex-B access unit and whether it is a key frame.
    pub fn encode(&mut self, f: &Frame) -> Result<Option<(&[u8], bool)>, ArchiveError> {
        let (w, h) = self.even;
        let (cw, ch) = (w / 2, h / 2);
        let yuv = if (w, h) == (f.width, f.height) {
            YUVSlices::new((&f.y, &f.u, &f.v), (w, h), (w, cw, cw))
        } else {
            // The encoder takes even sizes only: drop the odd last row/column.
            let (y, u, v) = &mut self.scratch;
            y.clear();
            u.clear();
            v.clear();
            for r in 0..h {
                y.extend_from_slice(&f.y[r * f.width..r * f.width + w]);
            }
            let fcw = f.chroma_width();
            for r in 0..ch {
                u.extend_from_slice(&f.u[r * fcw..r * fcw + cw]);
                v.extend_from_slice(&f.v[r * fcw..r * fcw + cw]);
            }
            YUVSlices::new((y, u, v), (w, h), (w, cw, cw))
        };
        let bs = self.encoder.encode(&yuv).map_err(|e| ArchiveError::Media(format!("H.264 encoding failed: {e}")))?;
        let key = matches!(bs.frame_type(), FrameType::IDR | FrameType::I);
        self.out.clear();
        bs.write_vec(&mut self.out);
        if self.out.is_empty() {
            return Ok(None);
        }
        Ok(Some((&self.out, key)))
    }
}

/// Decoded frames to a plain H.264 MP4 in memory, one sample per frame pushed (the operator
/// view of `vigie analyze --privacy-out`).
pub struct Mp4Writer {
    mux: muxide::api::Muxer<Vec<u8>>,
    encoder: Reencoder,
    last_pts: Option<f64>,
    pub frames: u64,
}

impl Mp4Writer {
    pub fn new(width: usize, height: usize, fps: f64) -> Result<Self, ArchiveError> {
        let mux = muxide::api::MuxerBuilder::new(Vec::new())
            .video(muxide::api::VideoCodec::H264, (width & !1) as u32, (height & !1) as u32, fps)
            .with_fast_start(true)
            .build()
            .map_err(|e| ArchiveError::Media(format!("mp4: {e}")))?;
        Ok(Self { mux, encoder: Reencoder::new(width, height, fps)?, last_pts: None, frames: 0 })
    }

    /// Encodes and muxes a frame shown at `pts_s` seconds (kept increasing).
    pub fn push(&mut self, frame: &Frame, pts_s: f64) -> Result<(), ArchiveError> {
        let pts = match self.last_pts {
            Some(prev) if pts_s <= prev => prev + 0.001,
            _ => pts_s,
        };
        if let Some((au, key)) = self.encoder.encode(frame)? {
            self.mux.write_video(pts, au, key).map_err(|e| ArchiveError::Media(format!("mp4: {e}")))?;
            self.last_pts = Some(pts);
            self.frames += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, ArchiveError> {
        self.mux.finish_in_place().map_err(|e| ArchiveError::Media(format!("mp4: {e}")))?;
        Ok(self.mux.into_writer())
    }
}

/// What [`Archive::render`] made: the MP4 bytes and what they hold.
struct Rendered {
    mp4: Vec<u8>,
    frames: u64,
    first_at: SystemTime,
    last_at: SystemTime,
    last_pts: f64,
    fps: f64,
    /// Start of the oldest segment the footage comes from: a kept copy expires with it.
    footage_start_ms: UnixMs,
    gaps: Vec<Gap>,
    pixelated_whole: u64,
}

/// Name of a kept export: it starts with the start of the footage it holds (UTC, to the second,
/// rounded down), which retention reads to delete the copy with that footage.
fn kept_export_name(req: &ExportRequest, footage_start_ms: UnixMs) -> String {
    let stamp = |UnixMs(ms): UnixMs| {
        jiff::Timestamp::from_millisecond(ms.div_euclid(1000) * 1000)
            .map(|t| t.strftime(EXPORT_STAMP).to_string())
            .unwrap_or_else(|_| ms.to_string())
    };
    format!(
        "{}_{}_{}_{}{}.mp4",
        stamp(footage_start_ms),
        crate::archive::escape_camera(&req.camera),
        stamp(req.from_ms),
        stamp(req.to_ms),
        if req.blur_people { "" } else { "_unmasked" }
    )
}

const EXPORT_STAMP: &str = "%Y%m%dT%H%M%SZ";

/// The footage start a kept export's name begins with, if it does.
pub(crate) fn kept_export_footage_start(file_name: &str) -> Option<SystemTime> {
    // The stamp is UTC: its 'Z' is a literal to the parser, which then has no offset of its own.
    let stamp = file_name.get(..16)?.strip_suffix('Z')?;
    let t = jiff::fmt::strtime::parse("%Y%m%dT%H%M%S", stamp).ok()?.to_datetime().ok()?;
    let t = t.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(UnixMs::from(t).to_system_time())
}

impl Archive {
    /// Exports `[from_ms, to_ms]` of a camera as an MP4 held in memory, for a viewer: nothing is
    /// left on disk. Audited (actor, range, blurring, reason, SHA-256). `stop` ends the work
    /// early (client gone, time budget spent) with [`ArchiveError::Stopped`].
    pub fn export_to_memory(
        &self,
        req: &ExportRequest,
        people_boxes: Option<PeopleBoxes<'_>>,
        stop: &StopToken,
    ) -> Result<(ExportResult, Vec<u8>), ArchiveError> {
        let r = self.render(req, people_boxes, stop)?;
        let res = self.export_result(req, &r, None);
        self.audit_export(req, &res)?;
        Ok((res, r.mp4))
    }

    /// Exports `[from_ms, to_ms]` of a camera as one MP4 kept under `<data>/exports/` (a copy
    /// handed over as evidence), audits it and returns where it is. The copy is named and dated
    /// after the start of its footage, so retention deletes it no later than that footage.
    pub fn export(
        &self,
        req: &ExportRequest,
        people_boxes: Option<PeopleBoxes<'_>>,
    ) -> Result<ExportResult, ArchiveError> {
        let r = self.render(req, people_boxes, &StopToken::never())?;
        let dir = self.exports_dir();
        std::fs::create_dir_all(&dir).map_err(ArchiveError::io(format!("creating {}", dir.display())))?;
        let name = kept_export_name(req, r.footage_start_ms);
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.partial"));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut f, &r.mp4)?;
            // Dated with its footage too, for tools that go by the file's date.
            f.set_modified(r.footage_start_ms.to_system_time())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(ArchiveError::io(format!("writing {}", path.display()))(e));
        }
        let res = self.export_result(req, &r, Some(path.clone()));
        if let Err(e) = self.audit_export(req, &res) {
            // An export nobody can account for must not be handed out.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(res)
    }

    fn export_result(&self, req: &ExportRequest, r: &Rendered, path: Option<PathBuf>) -> ExportResult {
        ExportResult {
            path,
            sha256: hex::encode(Sha256::digest(&r.mp4)),
            bytes: r.mp4.len() as u64,
            frames: r.frames,
            from: UnixMs::from(r.first_at).rfc3339(),
            to: UnixMs::from(r.last_at).rfc3339(),
            duration_s: r.last_pts + 1.0 / r.fps,
            blurred: req.blur_people,
            gaps: r.gaps.clone(),
            pixelated_whole: r.pixelated_whole,
        }
    }

    fn audit_export(&self, req: &ExportRequest, res: &ExportResult) -> Result<(), ArchiveError> {
        let reason = req.unmask_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let details = serde_json::json!({
            "camera": req.camera,
            "from": req.from_ms.rfc3339(),
            "to": req.to_ms.rfc3339(),
            "blurred": req.blur_people,
            "unmask_reason": reason,
            "sha256": res.sha256,
            "bytes": res.bytes,
            "frames": res.frames,
            "file": res.path.as_ref().map(|p| p.display().to_string()),
            "gaps": res.gaps,
            "pixelated_whole": res.pixelated_whole,
        });
        self.audit()
            .record(&req.actor, vigie_core::AuditAction::Export, &req.camera, &details.to_string())
            .map_err(|e| ArchiveError::Audit(e.to_string()))
    }

    /// Checks the request, then reads, (re-encodes,) and muxes the footage in memory.
    fn render(
        &self,
        req: &ExportRequest,
        people_boxes: Option<PeopleBoxes<'_>>,
        stop: &StopToken,
    ) -> Result<Rendered, ArchiveError> {
        if req.from_ms >= req.to_ms {
            return Err(ArchiveError::BadRequest(format!(
                "export: 'from' ({}) must be before 'to' ({})",
                req.from_ms.rfc3339(),
                req.to_ms.rfc3339()
            )));
        }
        let max = self.config().max_export_s as i64;
        // Checked: a client-sent range may span more than i64 milliseconds.
        let len_ms = req.to_ms.0.checked_sub(req.from_ms.0);
        if len_ms.is_none_or(|l| l > max * 1000) {
            return Err(ArchiveError::BadRequest(format!(
                "export: {} s requested, at most {max} s per export (archive.max_export_s); split the range",
                len_ms.map_or(u64::MAX, |l| l as u64 / 1000)
            )));
        }
        let reason = req.unmask_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if !req.blur_people && reason.is_none() {
            return Err(ArchiveError::BadRequest(
                "export: unblurred footage needs a reason (supervisor unmask), e.g. a case number".into(),
            ));
        }
        let mut people_boxes = people_boxes;
        if req.blur_people && people_boxes.is_none() {
            return Err(ArchiveError::BadRequest(
                "export: blurring people needs a people detector; none was given".into(),
            ));
        }
        if !self.cameras()?.contains(&req.camera) {
            return Err(ArchiveError::NotFound(format!("export: no footage recorded for camera '{}'", req.camera)));
        }
        let segs = self.catalog().range(&req.camera, req.from_ms, req.to_ms)?;
        let Some(first) = segs.first() else {
            return Err(ArchiveError::NotFound(format!(
                "export: no footage of camera '{}' between {} and {}",
                req.camera,
                req.from_ms.rfc3339(),
                req.to_ms.rfc3339()
            )));
        };
        let footage_start_ms = first.start_ms;
        let (width, height) = (first.width.max(2), first.height.max(2));
        let fps = segs
            .iter()
            .find(|s| s.frames > 1 && s.end_ms > s.start_ms)
            .map_or(25.0, |s| s.frames as f64 * 1000.0 / s.end_ms.ms_since(s.start_ms) as f64);

        let mut mux = muxide::api::MuxerBuilder::new(Vec::new())
            .video(muxide::api::VideoCodec::H264, width, height, fps)
            .with_fast_start(true)
            .build()
            .map_err(|e| ArchiveError::Media(format!("export: {e}")))?;

        let masks = self.privacy_masks(&req.camera);
        // Decoded, hidden and re-encoded unless nothing is to be hidden at all.
        let reencode = req.blur_people || !masks.is_empty();
        let mut motion = MotionGate::new(MotionConfig::default());
        motion.set_ignore(&masks);
        let mut pixelated_whole = 0u64;
        let mut reader = self.read_range(&req.camera, req.from_ms, req.to_ms)?;
        let mut decoder = if reencode {
            Some(H264Decoder::new(&req.camera).map_err(|e| ArchiveError::Media(e.to_string()))?)
        } else {
            None
        };
        let mut encoder = None;
        let mut t0: Option<SystemTime> = None;
        let mut last: Option<(SystemTime, f64)> = None;
        let mut frames = 0u64;
        let result: Result<(), ArchiveError> = (|| {
            for pkt in reader.by_ref() {
                // Between frames, so that a stop costs at most one frame's work.
                stop.check().map_err(ArchiveError::Stopped)?;
                let pkt = pkt?;
                let (data, key, at): (Vec<u8>, bool, SystemTime) = match decoder.as_mut() {
                    None => (pkt.data.to_vec(), pkt.keyframe, pkt.received_at),
                    Some(dec) => {
                        let frame = match dec.decode(&pkt) {
                            Ok(Some(f)) => f,
                            Ok(None) => continue,
                            Err(e) => {
                                tracing::warn!("export: {e}");
                                continue;
                            }
                        };
                        // Frames before the range teach the motion model the background.
                        let moving = motion.update(&frame, false);
                        if UnixMs::from(pkt.received_at) < req.from_ms {
                            continue; // decoded only as a reference for the frames in range
                        }
                        let mut frame = frame;
                        let plan = match people_boxes.as_mut() {
                            Some(detect) if req.blur_people => {
                                let seen = detect(&frame);
                                let undecidable = match &seen {
                                    Err(e) => Some(format!("detector: {e}")),
                                    Ok(_) if !moving.ready => Some("the motion model has no background yet".into()),
                                    Ok(_) => None,
                                };
                                if let (Err(e), 0) = (&seen, pixelated_whole) {
                                    // Once per export; the count goes to its audit record.
                                    tracing::warn!(camera = %req.camera, error = %e, "export: detector failed, frames pixelated whole");
                                }
                                let seen = seen.unwrap_or_default();
                                decide(&PrivacyInputs {
                                    width: frame.width,
                                    height: frame.height,
                                    people: &seen.people,
                                    vehicles: &seen.vehicles,
                                    motion: &moving.regions,
                                    masks: &masks,
                                    undecidable: undecidable.as_deref(),
                                })
                            }
                            _ => HidePlan::masks_only(frame.width, frame.height, &masks),
                        };
                        if plan.whole_frame.as_deref().is_some_and(|w| w.starts_with("detector: ")) {
                            pixelated_whole += 1;
                        }
                        plan.apply_frame(&mut frame);
                        if encoder.is_none() {
                            encoder = Some(Reencoder::new(frame.width, frame.height, fps)?);
                        }
                        match encoder.as_mut().expect("just set").encode(&frame)? {
                            Some((au, key)) => (au.to_vec(), key, pkt.received_at),
                            None => continue,
                        }
                    }
                };
                let start = *t0.get_or_insert(at);
                let mut pts = at.duration_since(start).unwrap_or(Duration::ZERO).as_secs_f64();
                if let Some((_, prev)) = last {
                    if pts <= prev {
                        pts = prev + 0.001;
                    }
                }
                mux.write_video(pts, &data, key).map_err(|e| ArchiveError::Media(format!("export: {e}")))?;
                last = Some((at, pts));
                frames += 1;
            }
            Ok(())
        })();
        result?;
        if frames == 0 {
            return Err(ArchiveError::NotFound(format!(
                "export: no readable footage of camera '{}' between {} and {}",
                req.camera,
                req.from_ms.rfc3339(),
                req.to_ms.rfc3339()
            )));
        }
        mux.finish_in_place().map_err(|e| ArchiveError::Media(format!("export: {e}")))?;
        let (first_at, (last_at, last_pts)) = (t0.expect("frames > 0"), last.expect("frames > 0"));
        Ok(Rendered {
            mp4: mux.into_writer(),
            frames,
            first_at,
            last_at,
            last_pts,
            fps,
            footage_start_ms,
            gaps: reader.gaps.clone(),
            pixelated_whole,
        })
    }
}
