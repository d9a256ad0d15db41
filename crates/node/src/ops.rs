//! What the node reports on `/metrics` and `/readyz`: its cameras, the shared detector and its
//! storage. Everything but the archive's usage is read from memory (health records, atomic
//! counters, `statvfs`), so a scrape never waits on a database the pipeline is writing.

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use vigie_footage::Archive;
use vigie_pipeline::{CameraCounters, DetectorStats};
use vigie_server::metrics::{Labels, MetricsText, NodeOps, ReadyCheck, NO_LABELS};
use vigie_source::{CameraState, Health, HealthSnapshot};

/// One camera as metrics see it.
pub struct CameraProbe {
    pub id: String,
    pub health: Health,
    pub counters: Arc<CameraCounters>,
}

pub struct NodeMetrics {
    cameras: Vec<CameraProbe>,
    detector: Arc<DetectorStats>,
    archive: Arc<Archive>,
    data_dir: PathBuf,
    /// Footage bytes in the archive at the last read of its catalogue, for the storage check.
    footage_bytes: Mutex<Option<u64>>,
}

impl NodeMetrics {
    pub fn new(cameras: Vec<CameraProbe>, detector: Arc<DetectorStats>, archive: Arc<Archive>) -> NodeMetrics {
        let data_dir = archive.data_dir().to_path_buf();
        NodeMetrics { cameras, detector, archive, data_dir, footage_bytes: Mutex::new(None) }
    }
}

/// Size and free space (for this process) of the volume holding `dir`.
fn volume(dir: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a NUL-terminated path and `st` an out-parameter of the right type.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // The field types differ between platforms.
    #[allow(clippy::unnecessary_cast)]
    let (blocks, avail, size) = (st.f_blocks as u64, st.f_bavail as u64, st.f_frsize as u64);
    Some((blocks.saturating_mul(size), avail.saturating_mul(size)))
}

/// One sample per camera, labelled with its id.
fn per_camera<'a>(labels: &'a [[(&'a str, &'a str); 1]], f: &dyn Fn(usize) -> f64) -> Vec<(Labels<'a>, f64)> {
    labels.iter().enumerate().map(|(i, l)| (&l[..], f(i))).collect()
}

fn connected(h: &HealthSnapshot) -> bool {
    h.state == CameraState::Connected
}

fn state_name(s: &CameraState) -> &'static str {
    match s {
        CameraState::Connecting => "connecting",
        CameraState::Connected => "connected",
        CameraState::Retrying { .. } => "retrying",
        CameraState::Ended => "ended",
        CameraState::Failed => "failed",
    }
}

impl NodeOps for NodeMetrics {
    fn live_metrics(&self, m: &mut MetricsText) {
        let snaps: Vec<HealthSnapshot> = self.cameras.iter().map(|c| c.health.snapshot()).collect();
        let recorders = self.archive.recorder_statuses();
        let labels: Vec<[(&str, &str); 1]> = self.cameras.iter().map(|c| [("camera", c.id.as_str())]).collect();
        let per = |f: &dyn Fn(usize) -> f64| per_camera(&labels, f);
        let counts = |i: usize| &*self.cameras[i].counters;
        m.gauge(
            "vigie_camera_up",
            "1 while the camera's stream is connected and delivering.",
            per(&|i| connected(&snaps[i]) as u8 as f64),
        );
        m.counter("vigie_camera_frames_total", "Frames received and decoded.", per(&|i| snaps[i].frames as f64));
        m.gauge("vigie_camera_frames_per_second", "Frames decoded per second lately.", per(&|i| snaps[i].fps));
        m.counter(
            "vigie_camera_decode_errors_total",
            "Frames the decoder could not decode.",
            per(&|i| snaps[i].decode_errors as f64),
        );
        m.counter(
            "vigie_camera_reconnects_total",
            "Times the stream was lost and connection attempts started again.",
            per(&|i| snaps[i].reconnects as f64),
        );
        m.counter(
            "vigie_camera_detector_runs_total",
            "Frames the detector ran on.",
            per(&|i| counts(i).detector_runs.load(Relaxed) as f64),
        );
        m.gauge(
            "vigie_camera_detector_runs_per_second",
            "Detection rate achieved over the last 10 s (detector runs per second, after rate, motion and overload skips).",
            per(&|i| self.cameras[i].counters.detection_rate()),
        );
        m.gauge(
            "vigie_camera_detect_fps_target",
            "Detection rate asked for (detect_fps, at most the stream's frame rate).",
            per(&|i| self.cameras[i].counters.detect_fps_target()),
        );
        m.counter(
            "vigie_camera_rate_skips_total",
            "Frames not sent to the detector because the camera's detect_fps did not call for them (tracks predicted).",
            per(&|i| counts(i).rate_skipped.load(Relaxed) as f64),
        );
        m.counter(
            "vigie_camera_motion_skips_total",
            "Frames not sent to the detector because nothing moved (tracks held).",
            per(&|i| counts(i).motion_skipped.load(Relaxed) as f64),
        );
        m.counter(
            "vigie_camera_overload_skips_total",
            "Frames offered to the detector that no session took before the next frame (tracks predicted).",
            per(&|i| counts(i).detector_skipped_busy.load(Relaxed) as f64),
        );
        m.counter(
            "vigie_camera_detector_errors_total",
            "Detector runs that failed.",
            per(&|i| counts(i).detector_errors.load(Relaxed) as f64),
        );
        m.gauge(
            "vigie_camera_recording",
            "1 while the camera's footage is being written to the archive.",
            per(&|i| recorders.iter().any(|r| r.camera == self.cameras[i].id && r.recording) as u8 as f64),
        );

        let d = &self.detector;
        m.gauge(
            "vigie_detector_queue_depth",
            "Frames waiting for a detector session.",
            [(NO_LABELS, d.queued() as f64)],
        );
        m.gauge(
            "vigie_detector_queue_capacity",
            "Frames that can wait for the detector at once: one per camera (a newer frame replaces a waiting one).",
            [(NO_LABELS, d.queue_capacity() as f64)],
        );
        m.gauge(
            "vigie_detector_sessions",
            "Detector sessions shared by all cameras.",
            [(NO_LABELS, d.sessions as f64)],
        );
        m.histogram(
            "vigie_detector_inference_seconds",
            "Time of one detector run: preprocessing, inference and box decoding.",
            [(NO_LABELS, d.inference.snapshot())],
        );

        let vol = volume(&self.data_dir);
        m.gauge(
            "vigie_data_volume_size_bytes",
            "Size of the volume holding the data folder.",
            vol.map(|v| (NO_LABELS, v.0 as f64)),
        );
        m.gauge(
            "vigie_data_volume_free_bytes",
            "Free space on the data folder's volume, as available to the node.",
            vol.map(|v| (NO_LABELS, v.1 as f64)),
        );
        let cfg = self.archive.config();
        m.gauge(
            "vigie_archive_reserve_bytes",
            "Free space kept on the data volume for the catalogue ([archive] reserve_mb); footage gives way below it.",
            [(NO_LABELS, cfg.reserve_bytes() as f64)],
        );
        m.gauge(
            "vigie_archive_limit_bytes",
            "Footage kept at most, all cameras together ([archive] max_total_bytes; absent when unlimited).",
            cfg.max_total_bytes.map(|b| (NO_LABELS, b as f64)),
        );
    }

    fn stored_metrics(&self, m: &mut MetricsText) -> Result<(), String> {
        let usage = self.archive.catalog().usage().map_err(|e| format!("archive.db: {e}"))?;
        let total: u64 = usage.iter().map(|u| u.bytes).sum();
        *self.footage_bytes.lock() = Some(total);
        m.gauge(
            "vigie_archive_used_bytes",
            "Footage in the archive, all cameras together.",
            [(NO_LABELS, total as f64)],
        );
        let labels: Vec<[(&str, &str); 1]> = usage.iter().map(|u| [("camera", u.camera.as_str())]).collect();
        m.gauge(
            "vigie_archive_camera_used_bytes",
            "Footage in the archive, per camera.",
            labels.iter().zip(&usage).map(|(l, u)| (&l[..], u.bytes as f64)),
        );
        Ok(())
    }

    /// Cameras: ready when at least one is connected (or none is configured). One camera down
    /// must not take a node's console out of a load balancer; which ones are down is in the
    /// detail and in `vigie_camera_up`.
    fn readiness(&self) -> Vec<ReadyCheck> {
        let snaps: Vec<HealthSnapshot> = self.cameras.iter().map(|c| c.health.snapshot()).collect();
        let up = snaps.iter().filter(|s| connected(s)).count();
        let down: Vec<String> = snaps
            .iter()
            .filter(|s| !connected(s))
            .map(|s| format!("{} ({})", s.camera, state_name(&s.state)))
            .collect();
        let mut detail = format!("{up} of {} connected", snaps.len());
        if !down.is_empty() {
            detail += &format!("; not connected: {}", down.join(", "));
        }
        let cameras = ReadyCheck::new("cameras", snaps.is_empty() || up > 0, detail);

        let cfg = self.archive.config();
        let mut problems = Vec::new();
        let free = volume(&self.data_dir).map(|v| v.1);
        let reserve = cfg.reserve_bytes();
        match free {
            Some(f) if reserve > 0 && f < reserve => problems.push(format!(
                "free space {} MiB is under the {} MiB reserve ([archive] reserve_mb)",
                f >> 20,
                cfg.reserve_mb
            )),
            None => problems.push("free space on the data volume unknown".to_string()),
            _ => {}
        }
        let footage = *self.footage_bytes.lock();
        if let (Some(used), Some(max)) = (footage, cfg.max_total_bytes) {
            if used > max {
                problems.push(format!("footage {used} bytes is over max_total_bytes ({max})"));
            }
        }
        let storage = if problems.is_empty() {
            let mut d = format!("{} MiB free", free.unwrap_or(0) >> 20);
            if let Some(used) = footage {
                d += &format!(", footage {} MiB", used >> 20);
            }
            ReadyCheck::new("storage", true, d)
        } else {
            ReadyCheck::new("storage", false, problems.join("; "))
        };
        vec![cameras, storage]
    }
}
