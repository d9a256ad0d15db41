//! Records one camera's H.264 packets, as received, into fragmented-MP4 segment files.
//!
//! Write path: a segment is written under a partial name, one fragment (about a second) at a
//! time, with its SHA-256 computed on the way; at the first key frame after `segment_s` it is
//! fsynced, renamed to its final name (directory fsynced), and only then indexed. So the index
//! never names a file that is not complete on disk, and a crash loses at most the segment being
//! written — less in practice, since [`crate::reconcile`] salvages its complete fragments.

use crate::archive::{segment_key, Archive, ArchiveError};
use crate::catalog::{NewSegment, SegmentRow};
use crate::fmp4::{annexb_to_avcc, parameter_sets};
use crate::status::{RecorderState, RecorderStatus};
use crate::store::SegmentWriter;
use muxide::fragmented::{FragmentConfig, FragmentedMuxer};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{Packet, StreamInfo, UnixMs, VideoCodec};

/// Media timescale of segment files (the usual 90 kHz of video).
pub const TIMESCALE: u32 = 90_000;
/// Target fragment length: what a crash can cost beyond the salvaged part of a segment.
const FRAGMENT_TICKS: u64 = TIMESCALE as u64;
/// A jump in presentation time larger than this (or backwards) is a new stream: the camera
/// reconnected. The segment is closed there rather than stretched over the gap.
const MAX_GAP: Duration = Duration::from_secs(10);

struct OpenSegment {
    key: String,
    writer: Box<dyn SegmentWriter>,
    hasher: Sha256,
    bytes: u64,
    muxer: FragmentedMuxer,
    start_ms: UnixMs,
    first_pts: Duration,
    last_pts: Duration,
    last_dts: Option<u64>,
    prev_dts_step: u64,
    frag_first_dts: Option<u64>,
    frames: u64,
    sps: Vec<u8>,
    pps: Vec<u8>,
}

impl OpenSegment {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(buf)?;
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn flush_fragment(&mut self) -> std::io::Result<()> {
        if let Some(frag) = self.muxer.flush_segment() {
            self.write(&frag)?;
        }
        self.frag_first_dts = None;
        Ok(())
    }
}

pub struct Recorder {
    camera: String,
    width: u32,
    height: u32,
    fps: Option<f64>,
    archive: Arc<Archive>,
    current: Option<OpenSegment>,
    /// Parameter sets seen last, for key frames that do not repeat them.
    sps: Vec<u8>,
    pps: Vec<u8>,
    stopped_until: Option<SystemTime>,
    status: RecorderStatus,
    avcc: Vec<u8>,
}

impl Recorder {
    pub fn new(camera: &str, info: &StreamInfo, archive: Arc<Archive>) -> Result<Self, ArchiveError> {
        if info.codec != VideoCodec::H264 {
            return Err(ArchiveError::BadRequest(format!(
                "camera {camera}: only H.264 streams are recorded, this one is {}",
                info.codec
            )));
        }
        if info.width == 0 || info.height == 0 || info.width > 65535 || info.height > 65535 {
            return Err(ArchiveError::BadRequest(format!(
                "camera {camera}: picture size {}x{} cannot be recorded",
                info.width, info.height
            )));
        }
        let status = RecorderStatus {
            camera: camera.to_string(),
            recording: false,
            state: RecorderState::WaitingForKeyFrame,
            last_error: None,
            error_since_ms: None,
            segments_written: 0,
            bytes_written: 0,
            last_segment_end_ms: None,
            packets_dropped: 0,
            write_errors: 0,
        };
        archive.set_recorder_status(&status);
        Ok(Self {
            camera: camera.to_string(),
            width: info.width,
            height: info.height,
            fps: info.fps,
            archive,
            current: None,
            sps: Vec::new(),
            pps: Vec::new(),
            stopped_until: None,
            status,
            avcc: Vec::new(),
        })
    }

    pub fn status(&self) -> &RecorderStatus {
        &self.status
    }

    /// Records one packet. Returns the segment indexed when this packet closed one.
    ///
    /// Never panics on I/O: a write error abandons the segment being written, stops recording
    /// for `recording_retry_s` (visible in [`RecorderStatus`]) and is returned once; packets
    /// pushed while stopped are dropped quietly, so the caller's analysis carries on.
    pub fn push(&mut self, pkt: &Packet) -> Result<Option<SegmentRow>, ArchiveError> {
        if let Some(until) = self.stopped_until {
            if pkt.received_at < until || !pkt.keyframe {
                self.status.packets_dropped += 1;
                return Ok(None);
            }
            self.stopped_until = None;
        }
        if self.current.is_none() && pkt.keyframe && !self.room_for_footage() {
            self.status.packets_dropped += 1;
            return Err(self.fail(self.reserve_error(), pkt.received_at));
        }
        let (sps, pps) = if pkt.keyframe { parameter_sets(&pkt.data) } else { (None, None) };
        let mut closed = None;
        if let Some(seg) = &self.current {
            let gap = pkt.pts < seg.last_pts || pkt.pts - seg.last_pts > MAX_GAP;
            let due = pkt.keyframe
                && (pkt.pts.saturating_sub(seg.first_pts)
                    >= Duration::from_secs(self.archive.config().segment_s as u64)
                    || sps.is_some_and(|s| s != seg.sps.as_slice())
                    || pps.is_some_and(|p| p != seg.pps.as_slice()));
            if gap || due {
                closed = self.close_current(pkt.received_at)?;
            }
        }
        if self.current.is_none() {
            if !pkt.keyframe {
                self.status.packets_dropped += 1;
                return Ok(closed);
            }
            if let (Some(s), Some(p)) = (sps, pps) {
                self.sps = s.to_vec();
                self.pps = p.to_vec();
            }
            if self.sps.is_empty() || self.pps.is_empty() {
                // Cannot describe the stream in the file header without its parameter sets.
                self.status.packets_dropped += 1;
                return Ok(closed);
            }
            if let Err(e) = self.open(pkt) {
                return Err(self.fail(e, pkt.received_at));
            }
        }
        if let Err(e) = self.append(pkt) {
            return Err(self.fail(e, pkt.received_at));
        }
        Ok(closed)
    }

    /// Closes the segment being written (at shutdown).
    pub fn finish(mut self) -> Result<Option<SegmentRow>, ArchiveError> {
        let now = self.archive.clock().now();
        self.close_current(now)
    }

    fn open(&mut self, pkt: &Packet) -> Result<(), ArchiveError> {
        let start_ms = UnixMs::from(pkt.received_at);
        let key = segment_key(&self.camera, start_ms);
        let mut cfg = FragmentConfig::new(self.width, self.height, TIMESCALE);
        cfg.sps = self.sps.clone();
        cfg.pps = self.pps.clone();
        let mut muxer =
            FragmentedMuxer::new(cfg).map_err(|e| ArchiveError::Media(format!("camera {}: {e}", self.camera)))?;
        let init = muxer.init_segment();
        let writer = self.archive.store().create(&key).map_err(ArchiveError::io(format!("creating segment {key}")))?;
        let mut seg = OpenSegment {
            key,
            writer,
            hasher: Sha256::new(),
            bytes: 0,
            muxer,
            start_ms,
            first_pts: pkt.pts,
            last_pts: pkt.pts,
            last_dts: None,
            prev_dts_step: 0,
            frag_first_dts: None,
            frames: 0,
            sps: self.sps.clone(),
            pps: self.pps.clone(),
        };
        if let Err(e) = seg.write(&init) {
            let key = seg.key.clone();
            seg.writer.abort();
            return Err(ArchiveError::Io { context: format!("writing segment {key}"), source: e });
        }
        self.current = Some(seg);
        self.status.state = RecorderState::Recording;
        self.status.recording = true;
        self.publish();
        Ok(())
    }

    fn append(&mut self, pkt: &Packet) -> Result<(), ArchiveError> {
        let seg = self.current.as_mut().expect("segment open");
        let rel = pkt.pts.saturating_sub(seg.first_pts);
        let mut dts = (rel.as_nanos() * TIMESCALE as u128 / 1_000_000_000) as u64;
        if let Some(last) = seg.last_dts {
            // Decode times must increase; equal or jittered timestamps are nudged forward.
            if dts <= last {
                dts = last + 1;
            }
            seg.prev_dts_step = dts - last;
        }
        if let Some(first) = seg.frag_first_dts {
            if dts - first >= FRAGMENT_TICKS {
                if !self.room_for_footage() {
                    // Keep what is written (a complete segment up to here), then wait for room.
                    let at = pkt.received_at;
                    self.close_current(at)?;
                    return Err(self.reserve_error());
                }
                let seg = self.current.as_mut().expect("segment open");
                seg.flush_fragment().map_err(ArchiveError::io(format!("writing segment {}", seg.key)))?;
            }
        }
        let seg = self.current.as_mut().expect("segment open");
        annexb_to_avcc(&pkt.data, &mut self.avcc);
        if self.avcc.is_empty() {
            return Ok(());
        }
        seg.muxer
            .write_video(dts, dts, &self.avcc, pkt.keyframe)
            .map_err(|e| ArchiveError::Media(format!("camera {}: {e}", self.camera)))?;
        seg.frag_first_dts.get_or_insert(dts);
        seg.last_dts = Some(dts);
        seg.last_pts = pkt.pts;
        seg.frames += 1;
        Ok(())
    }

    fn close_current(&mut self, now: SystemTime) -> Result<Option<SegmentRow>, ArchiveError> {
        let Some(mut seg) = self.current.take() else { return Ok(None) };
        if seg.frames == 0 {
            seg.writer.abort();
            return Ok(None);
        }
        if let Err(e) = seg.flush_fragment() {
            let key = seg.key.clone();
            seg.writer.abort();
            return Err(self.fail(ArchiveError::Io { context: format!("writing segment {key}"), source: e }, now));
        }
        let (key, bytes, frames, start_ms) = (seg.key.clone(), seg.bytes, seg.frames, seg.start_ms);
        // The last sample lasts as long as the one before it (what the muxer writes).
        let step = if seg.frames > 1 {
            seg.prev_dts_step
        } else {
            self.fps.map_or(TIMESCALE as u64 / 25, |f| (TIMESCALE as f64 / f.max(1.0)) as u64)
        };
        let media_ticks = seg.last_dts.unwrap_or(0) + step;
        let end_ms = UnixMs(start_ms.0 + (media_ticks * 1000 / TIMESCALE as u64) as i64);
        let sha256 = hex::encode(seg.hasher.finalize_reset());
        if let Err(e) = seg.writer.commit() {
            return Err(self.fail(ArchiveError::Io { context: format!("committing segment {key}"), source: e }, now));
        }
        let new = NewSegment {
            camera: self.camera.clone(),
            start_ms,
            end_ms,
            frames,
            bytes,
            sha256,
            path: key.clone(),
            width: self.width,
            height: self.height,
        };
        let id = match self.archive.catalog().insert(&new) {
            Ok(id) => id,
            // The file is complete and stays; the startup check indexes it.
            Err(e) => return Err(self.fail(e.into(), now)),
        };
        self.status.segments_written += 1;
        self.status.bytes_written += bytes;
        self.status.last_segment_end_ms = Some(end_ms);
        if self.status.last_error.is_some() && self.status.state != RecorderState::Stopped {
            self.status.last_error = None;
            self.status.error_since_ms = None;
        }
        self.status.state = RecorderState::WaitingForKeyFrame;
        self.publish();
        let row = SegmentRow {
            id,
            camera: new.camera,
            start_ms,
            end_ms,
            frames,
            bytes,
            sha256: new.sha256,
            path: key,
            state: crate::catalog::SegmentState::Ok,
            width: self.width,
            height: self.height,
        };
        if let Err(e) = self.archive.enforce_limits(Some(id)) {
            tracing::error!(camera = %self.camera, "storage limit enforcement failed: {e}");
        }
        Ok(Some(row))
    }

    /// Whether footage may be written: free space on the data volume is above the reserve,
    /// after evicting the oldest footage if it was not.
    fn room_for_footage(&self) -> bool {
        if !self.archive.under_reserve() {
            return true;
        }
        if let Err(e) = self.archive.enforce_limits(None) {
            tracing::error!(camera = %self.camera, "freeing space for the reserve failed: {e}");
        }
        !self.archive.under_reserve()
    }

    fn reserve_error(&self) -> ArchiveError {
        ArchiveError::Io {
            context: format!(
                "camera {}: free space under the {} MiB reserve kept for alerts and the audit trail, \
                 and no older footage left to evict",
                self.camera,
                self.archive.config().reserve_mb
            ),
            source: std::io::ErrorKind::StorageFull.into(),
        }
    }

    /// Abandons the open segment and stops recording until the retry time.
    fn fail(&mut self, e: ArchiveError, at: SystemTime) -> ArchiveError {
        if let Some(seg) = self.current.take() {
            seg.writer.abort();
        }
        if e.is_storage_full() {
            // Whatever filled the disk, the catalogue needs room more than old footage does.
            if let Err(e) = self.archive.enforce_limits(None) {
                tracing::error!(camera = %self.camera, "freeing space after a full disk failed: {e}");
            }
        }
        let retry = Duration::from_secs(self.archive.config().recording_retry_s as u64);
        self.stopped_until = Some(at + retry);
        let msg = if e.is_storage_full() { format!("disk full: {e}") } else { e.to_string() };
        tracing::error!(camera = %self.camera, "recording stopped: {msg}");
        self.status.recording = false;
        self.status.state = RecorderState::Stopped;
        if self.status.error_since_ms.is_none() {
            self.status.error_since_ms = Some(UnixMs::from(at));
        }
        self.status.last_error = Some(msg);
        self.status.write_errors += 1;
        self.publish();
        e
    }

    fn publish(&self) {
        self.archive.set_recorder_status(&self.status);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.current.is_some() {
            let now = self.archive.clock().now();
            if let Err(e) = self.close_current(now) {
                tracing::error!(camera = %self.camera, "closing the last segment failed: {e}");
            }
        }
    }
}
