//! What recording costs per camera, measured on a bundled clip (`vigie bench` reports it).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// Measures what recording costs: CPU time of the recorder per second of camera footage, on a
/// clip held in memory (no decode, no source I/O), as a percentage of one core.
pub fn recording_cost(clip: &Path, loops: u32, dir: &Path) -> Result<RecordingCost, String> {
    use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};
    let mut src = Mp4FileSource::open(clip, Mp4Options::default()).map_err(|e| e.to_string())?;
    let info = src.info().clone();
    let mut pkts = Vec::new();
    while let Some(p) = src.next_packet().map_err(|e| e.to_string())? {
        pkts.push(p);
    }
    let clip_s = pkts.last().map(|p| p.pts.as_secs_f64()).unwrap_or(0.0) + 1.0 / info.fps.unwrap_or(25.0);
    let clock: std::sync::Arc<dyn vigie_core::Clock> =
        std::sync::Arc::new(vigie_core::SimClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000)));
    let archive = vigie_footage::Archive::open(
        dir,
        vigie_footage::ArchiveConfig::default(),
        clock,
        std::sync::Arc::new(vigie_core::NoAudit),
    )
    .map_err(|e| e.to_string())?;
    let mut rec = vigie_footage::Recorder::new("bench", &info, archive.clone()).map_err(|e| e.to_string())?;
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000);
    let cpu0 = cpu_time();
    let wall0 = Instant::now();
    let mut bytes = 0u64;
    for l in 0..loops {
        let off = Duration::from_secs_f64(clip_s * l as f64);
        for p in &pkts {
            let mut q = p.clone();
            q.pts += off;
            q.received_at = base + q.pts;
            bytes += q.data.len() as u64;
            rec.push(&q).map_err(|e| e.to_string())?;
        }
    }
    rec.finish().map_err(|e| e.to_string())?;
    let cpu = cpu_time().saturating_sub(cpu0).as_secs_f64();
    let video_s = clip_s * loops as f64;
    Ok(RecordingCost {
        width: info.width,
        height: info.height,
        fps: info.fps.unwrap_or(0.0),
        video_s,
        cpu_s: cpu,
        wall_s: wall0.elapsed().as_secs_f64(),
        percent_of_core: 100.0 * cpu / video_s,
        mbit_per_s: bytes as f64 * 8.0 / video_s / 1e6,
        segments: archive.catalog().all().map(|r| r.len()).unwrap_or(0),
    })
}

#[derive(Debug, Clone)]
pub struct RecordingCost {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub video_s: f64,
    pub cpu_s: f64,
    pub wall_s: f64,
    pub percent_of_core: f64,
    pub mbit_per_s: f64,
    pub segments: usize,
}

impl std::fmt::Display for RecordingCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "recording {}x{} @ {:.1} fps ({:.2} Mbit/s): {:.0} s of footage in {} segments, {:.3} s CPU ({:.2} s wall) = {:.3} % of one core per camera",
            self.width, self.height, self.fps, self.mbit_per_s, self.video_s, self.segments, self.cpu_s, self.wall_s, self.percent_of_core
        )
    }
}

/// User + system CPU time of this process (Linux `/proc/self/stat`, clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else { return Duration::ZERO };
    let Some(after) = s.rsplit_once(')').map(|x| x.1) else { return Duration::ZERO };
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
