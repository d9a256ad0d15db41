//! `vigie.toml`: the whole node declared in one file, Vector-style: each component has its own
//! section and config struct, and every error names the file and the dotted key at fault.

use crate::settings::{asset_root, parse_toml};
use anyhow::anyhow;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use vigie_core::{ConfigError, ConfigErrors};
use vigie_detect::DetectorConfig;
use vigie_motion::MotionConfig;
use vigie_rules::{Calibration, EventsConfig, RuleConfig, ZoneConfig};
use vigie_server::config::{NotifyConfig, ServerConfig};
use vigie_track::TrackerConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VigieConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub detector: DetectorConfig,
    #[serde(default)]
    pub tracker: TrackerConfig,
    #[serde(default)]
    pub motion: MotionConfig,
    #[serde(default)]
    pub events: EventsConfig,
    #[serde(default)]
    pub archive: vigie_footage::ArchiveConfig,
    #[serde(default)]
    pub pipeline: PipelineConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    #[serde(default)]
    pub cameras: Vec<CameraConfig>,
    #[serde(default)]
    pub stats: StatsConfig,
}

/// `[stats]`: the anonymous counts of counting lines and areas.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatsConfig {
    /// Days the per-minute counts are kept, independently of footage; years are fine, since
    /// they hold nobody (no track, picture or position).
    pub retention_days: u32,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self { retention_days: 730 }
    }
}

/// Longest statistics retention accepted: a century (anything longer is a typo).
pub const MAX_STATS_RETENTION_DAYS: u32 = 36_525;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Seconds between signed checkpoints of the audit trail's head (written to
    /// `DATA/checkpoints/` and sent as `audit.checkpoint` notifications); one is also made at
    /// start and at stop.
    pub checkpoint_interval_s: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { checkpoint_interval_s: 3600 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Detector sessions shared by all cameras (one CPU thread each).
    pub detector_workers: usize,
    /// Frames that may wait for the detector before cameras skip detection.
    pub queue_depth: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self { detector_workers: 2, queue_depth: 4 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Stable identifier used in alerts, footage and audit (letters, digits, `-`, `_`).
    pub id: String,
    /// Name shown to operators.
    #[serde(default)]
    pub name: Option<String>,
    /// `rtsp://host/path` (credentials may be given in the URL or below) or an MP4 file path.
    pub url: String,
    /// RTSP credentials; the password may instead come from the environment variable named here.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// Files only: loop forever (a file standing in for a live camera).
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// Files only: play at the clip's frame rate (default) or as fast as possible.
    #[serde(default = "yes")]
    pub realtime: bool,
    /// Keep this camera's footage in the archive.
    #[serde(default = "yes")]
    pub record: bool,
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

fn yes() -> bool {
    true
}

impl CameraConfig {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

fn within<T>(r: Result<T, ConfigError>, parent: &str) -> Result<T, ConfigError> {
    r.map_err(|e| e.within(parent))
}

impl VigieConfig {
    /// Reads, parses and validates a config file; relative paths in it are relative to the file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow!("config {}: cannot read: {e}", path.display()))?;
        let mut cfg: VigieConfig = parse_toml(&text, path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.resolve_paths(&dir);
        cfg.validate().map_err(|e| anyhow!("config {}: {e}", path.display()))?;
        Ok(cfg)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let defaults = DetectorConfig::default();
        let resolve = |p: &mut PathBuf, default: &Path| {
            if p.is_relative() {
                let base =
                    if p.as_path() == default || !dir.join(&*p).exists() { asset_root() } else { dir.to_path_buf() };
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.detector.model, &defaults.model);
        resolve(&mut self.detector.labels, &defaults.labels);
        for c in &mut self.cameras {
            let is_url = c.url.contains("://") && !c.url.starts_with("file://");
            if !is_url {
                let p = PathBuf::from(c.url.strip_prefix("file://").unwrap_or(&c.url));
                if p.is_relative() {
                    let base = if dir.join(&p).exists() { dir.to_path_buf() } else { asset_root() };
                    c.url = base.join(p).display().to_string();
                }
            }
        }
    }

    /// Checks the whole file and reports every mistake, each with its key, not only the first.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errs = ConfigErrors::new();
        if let Err(e) = self.server.validate("server") {
            e.into_iter().for_each(|e| errs.push(e));
        }
        if let Err(e) = self.notify.validate("notify") {
            e.into_iter().for_each(|e| errs.push(e));
        }
        errs.check(within(self.detector.validate(), "detector"));
        errs.check(within(self.tracker.validate(), "tracker"));
        errs.check(within(self.motion.validate(), "motion"));
        errs.check(self.events.validate());
        errs.check(self.archive.validate_at("archive"));
        if self.pipeline.detector_workers == 0 || self.pipeline.detector_workers > 64 {
            errs.push(ConfigError::new("pipeline.detector_workers", "must be between 1 and 64"));
        }
        if !(60..=86_400).contains(&self.audit.checkpoint_interval_s) {
            errs.push(ConfigError::new(
                "audit.checkpoint_interval_s",
                format!(
                    "{} is out of range: between 60 (a minute) and 86400 (a day)",
                    self.audit.checkpoint_interval_s
                ),
            ));
        }
        if !(1..=MAX_STATS_RETENTION_DAYS).contains(&self.stats.retention_days) {
            errs.push(ConfigError::new(
                "stats.retention_days",
                format!(
                    "{} is out of range: between 1 and {MAX_STATS_RETENTION_DAYS} days (the counts hold nobody, so \
                     years are fine: 730 is two)",
                    self.stats.retention_days
                ),
            ));
        }
        if self.pipeline.queue_depth == 0 {
            errs.push(ConfigError::new("pipeline.queue_depth", "must be at least 1"));
        }
        let mut seen = HashSet::new();
        for (i, c) in self.cameras.iter().enumerate() {
            let at = format!("cameras[{i}]");
            if c.id.is_empty() || !c.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
                errs.push(ConfigError::new(
                    format!("{at}.id"),
                    "must be letters, digits, '-' or '_' (used in file names and URLs)",
                ));
                continue;
            }
            if !seen.insert(&c.id) {
                errs.push(ConfigError::new(format!("cameras.{}.id", c.id), "is used by two cameras"));
                continue;
            }
            let key = format!("cameras.{}", c.id);
            let is_rtsp = c.url.starts_with("rtsp://") || c.url.starts_with("rtsps://");
            if c.url.trim().is_empty() {
                errs.push(ConfigError::new(format!("{key}.url"), "is empty"));
            } else if c.url.contains("://") && !is_rtsp && !c.url.starts_with("file://") {
                errs.push(ConfigError::new(format!("{key}.url"), "must be an rtsp:// URL or an MP4 file path"));
            }
            if let Some(var) = &c.password_env {
                if std::env::var_os(var).is_none() {
                    errs.push(ConfigError::new(
                        format!("{key}.password_env"),
                        format!("environment variable {var} is not set"),
                    ));
                }
            }
            errs.absorb(vigie_rules::validate_camera(&c.id, &c.zones, &c.rules, c.calibration.as_ref(), &self.events));
        }
        errs.into_result()
    }
}
