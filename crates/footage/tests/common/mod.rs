#![allow(dead_code)]

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{AuditAction, AuditError, AuditSink, Clock, Packet, SimClock, StreamInfo};
use vigie_footage::{Archive, ArchiveConfig, Recorder, SegmentRow};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

/// Audit trail kept in memory: (actor, action, target, details).
#[derive(Default)]
pub struct MemAudit(pub Mutex<Vec<(String, String, String, String)>>);

impl AuditSink for MemAudit {
    fn record(&self, actor: &str, action: AuditAction, target: &str, details: &str) -> Result<(), AuditError> {
        self.0.lock().push((actor.into(), action.as_str().into(), target.into(), details.into()));
        Ok(())
    }
}

impl MemAudit {
    pub fn with_action(&self, action: &str) -> Vec<serde_json::Value> {
        self.0
            .lock()
            .iter()
            .filter(|e| e.1 == action)
            .map(|e| serde_json::from_str(&e.3).expect("audit details are JSON"))
            .collect()
    }
}

pub fn clip(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video").join(name)
}

/// All packets of a bundled clip, with stream info.
pub fn packets(name: &str) -> (StreamInfo, Vec<Packet>) {
    let mut s = Mp4FileSource::open(clip(name), Mp4Options::default()).unwrap();
    let info = s.info().clone();
    let mut v = Vec::new();
    while let Some(p) = s.next_packet().unwrap() {
        v.push(p);
    }
    (info, v)
}

/// `seconds` of the clip looped, as received from a camera starting at `start`.
pub fn looped(info: &StreamInfo, pkts: &[Packet], start: SystemTime, seconds: f64) -> Vec<Packet> {
    let period = pkts.last().unwrap().pts + Duration::from_secs_f64(1.0 / info.fps.unwrap());
    let mut out = Vec::new();
    let mut k = 0u32;
    loop {
        for p in pkts {
            let mut q = p.clone();
            q.pts += period * k;
            if q.pts.as_secs_f64() >= seconds {
                return out;
            }
            q.seq = out.len() as u64 + 1;
            q.received_at = start + q.pts;
            out.push(q);
        }
        k += 1;
    }
}

pub fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// 2026-11-01T00:00:00Z
pub const T0: u64 = 1_793_491_200;

pub fn open(dir: &Path, cfg: ArchiveConfig, audit: Arc<MemAudit>) -> (Arc<Archive>, SimClock) {
    let clock = SimClock::new(t(T0));
    let c: Arc<dyn Clock> = Arc::new(clock.clone());
    (Archive::open(dir, cfg, c, audit).unwrap(), clock)
}

/// Records `seconds` of the highway clip for `camera` from `start`; returns the segments.
pub fn record(archive: &Arc<Archive>, camera: &str, start: SystemTime, seconds: f64) -> Vec<SegmentRow> {
    let (info, pkts) = packets("highway-cctv.mp4");
    let mut rec = Recorder::new(camera, &info, archive.clone()).unwrap();
    let mut rows = Vec::new();
    for p in looped(&info, &pkts, start, seconds) {
        if let Some(r) = rec.push(&p).unwrap() {
            rows.push(r);
        }
    }
    if let Some(r) = rec.finish().unwrap() {
        rows.push(r);
    }
    rows
}
