//! `vigie.toml`: the whole node declared in one file, Vector-style: each component has its own
//! section and config struct, and every error names the file and the dotted key at fault.

use crate::settings::{asset_root, parse_toml};
use anyhow::anyhow;
use serde::{Deserialize, Serialize};
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
    /// The city's sectors (`[[sectors]]`); cameras name theirs, users are assigned to some.
    #[serde(default)]
    pub sectors: Vec<SectorConfig>,
    #[serde(default)]
    pub stats: StatsConfig,
}

/// A part of the city with its own operators: they see only its cameras.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectorConfig {
    /// Stable identifier used by cameras and user assignments (letters, digits, `-`, `_`).
    pub id: String,
    /// Name shown to operators.
    #[serde(default)]
    pub name: Option<String>,
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
    /// No longer used (each camera now has at most one frame waiting for the detector); still
    /// accepted so that existing files load.
    pub queue_depth: usize,
    /// Frames analysed per second per camera unless the camera says otherwise
    /// (`[[cameras]] detect_fps`); tracks are predicted on the frames in between.
    pub detect_fps: f64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self { detector_workers: 2, queue_depth: 4, detect_fps: vigie_pipeline::DEFAULT_DETECT_FPS }
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
    /// RTSP cameras: how RTP is received. `auto` (the default): interleaved in the RTSP TCP
    /// connection, then UDP if the camera refuses that; `tcp` or `udp` to insist on one.
    #[serde(default)]
    pub rtsp_transport: Option<vigie_source::RtspTransport>,
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
    /// The `[[sectors]]` id this camera belongs to; none: only city-wide users see it.
    #[serde(default)]
    pub sector: Option<String>,
    /// Areas never shown nor analysed (windows and entrances of homes, a private garden: CSI
    /// L251-3): filled opaque in every picture leaving the node, unmasked evidence included.
    #[serde(default)]
    pub privacy_masks: Vec<PrivacyMaskConfig>,
    /// Frames analysed per second for this camera; default `[pipeline] detect_fps`. Above the
    /// stream's rate: every frame (with a warning).
    #[serde(default)]
    pub detect_fps: Option<f64>,
}

/// `[[cameras.privacy_masks]] name = "…" polygon = [[x, y], …]`, in main-stream pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyMaskConfig {
    pub name: String,
    pub polygon: Vec<[f64; 2]>,
}

impl PrivacyMaskConfig {
    pub fn to_polygon(&self) -> vigie_core::Polygon {
        vigie_core::Polygon::new(self.polygon.iter().map(|p| (p[0] as f32, p[1] as f32)).collect())
    }

    /// Every mistake of one mask, each under `at` (e.g. `cameras.cam1.privacy_masks[0]`). Whether
    /// the polygon lies inside the picture is checked against the stream's size, once known.
    pub fn validate(&self, at: &str) -> Vec<ConfigError> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() {
            errs.push(ConfigError::new(format!("{at}.name"), "is empty"));
        }
        let key = format!("{at}.polygon");
        if self.polygon.len() < 3 {
            errs.push(ConfigError::new(&key, format!("has {} points: a mask needs at least 3", self.polygon.len())));
            return errs;
        }
        if let Some((i, p)) = self.polygon.iter().enumerate().find(|(_, p)| !(p[0].is_finite() && p[1].is_finite())) {
            errs.push(ConfigError::new(format!("{key}[{i}]"), format!("{p:?} is not a number")));
            return errs;
        }
        for (i, p) in self.polygon.iter().enumerate() {
            if p[0] < 0.0 || p[1] < 0.0 {
                errs.push(ConfigError::new(
                    format!("{key}[{i}]"),
                    format!("[{}, {}] is negative: pixel coordinates start at 0", p[0], p[1]),
                ));
            }
        }
        let poly = self.to_polygon();
        if !poly.is_simple() {
            errs.push(ConfigError::new(&key, "crosses itself: draw the outline in order, without a bow-tie"));
        } else if poly.area() < 1.0 {
            errs.push(ConfigError::new(&key, "has no area (its points are on one line)"));
        }
        errs
    }

    /// The check that needs the picture: every point inside `width` × `height`.
    pub fn check_inside(&self, at: &str, width: usize, height: usize) -> Result<(), ConfigError> {
        match self.polygon.iter().enumerate().find(|(_, p)| p[0] > width as f64 || p[1] > height as f64) {
            Some((i, p)) => Err(ConfigError::new(
                format!("{at}.polygon[{i}]"),
                format!("[{}, {}] is outside the {width}×{height} picture", p[0], p[1]),
            )),
            None => Ok(()),
        }
    }
}

fn yes() -> bool {
    true
}

impl CameraConfig {
    /// Frames this camera analyses per second at most.
    pub fn detect_fps(&self, pipeline: &PipelineConfig) -> f64 {
        self.detect_fps.unwrap_or(pipeline.detect_fps)
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

fn unknown_sector(declared: &[SectorConfig], s: &str) -> String {
    let known: Vec<&str> = declared.iter().map(|k| k.id.as_str()).collect();
    if known.is_empty() {
        format!("unknown sector '{s}': the configuration declares no [[sectors]]")
    } else {
        format!("unknown sector '{s}': declared sectors are {}", known.join(", "))
    }
}

/// The `[[sectors]]` of a config file, read without the rest of it: `vigie user` checks sector
/// names against them from a shell that may lack what the cameras need (their passwords'
/// environment variables, the model files).
pub fn load_sectors(path: &Path) -> anyhow::Result<Vec<SectorConfig>> {
    #[derive(Deserialize)]
    struct OnlySectors {
        #[serde(default)]
        sectors: Vec<SectorConfig>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("config {}: cannot read: {e}", path.display()))?;
    let only: OnlySectors = parse_toml(&text, path)?;
    Ok(only.sectors)
}

/// Refuses sector ids (given for a user) that `declared` lacks, naming the first.
pub fn check_user_sectors(declared: &[SectorConfig], given: &[String]) -> Result<(), ConfigError> {
    match given.iter().find(|g| !declared.iter().any(|d| &d.id == *g)) {
        Some(g) => Err(ConfigError::new("sector", unknown_sector(declared, g))),
        None => Ok(()),
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

    /// Which camera is in which sector, as the console filters by it.
    pub fn sector_map(&self) -> vigie_server::SectorMap {
        vigie_server::SectorMap::new(
            self.sectors
                .iter()
                .map(|s| vigie_server::SectorInfo {
                    id: s.id.clone(),
                    name: s.name.clone().unwrap_or_else(|| s.id.clone()),
                })
                .collect(),
            self.cameras.iter().filter_map(|c| Some((c.id.clone(), c.sector.clone()?))),
        )
    }

    fn unknown_sector(&self, s: &str) -> String {
        unknown_sector(&self.sectors, s)
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
        if let Err(e) = vigie_pipeline::check_detect_fps(self.pipeline.detect_fps) {
            errs.push(ConfigError::new("pipeline.detect_fps", e));
        }
        let mut sector_ids = HashSet::new();
        for (i, s) in self.sectors.iter().enumerate() {
            if s.id.is_empty()
                || s.id.len() > 64
                || !s.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                errs.push(ConfigError::new(format!("sectors[{i}].id"), "must be 1 to 64 letters, digits, '-' or '_'"));
            } else if !sector_ids.insert(s.id.as_str()) {
                errs.push(ConfigError::new(format!("sectors.{}.id", s.id), "is used by two sectors"));
            }
            if s.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                errs.push(ConfigError::new(format!("sectors[{i}].name"), "is empty: give a name or leave it out"));
            }
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
            if c.rtsp_transport.is_some() && !is_rtsp {
                errs.push(ConfigError::new(
                    format!("{key}.rtsp_transport"),
                    "applies to rtsp:// cameras only: this camera's url is a file",
                ));
            }
            if let Some(var) = &c.password_env {
                if std::env::var_os(var).is_none() {
                    errs.push(ConfigError::new(
                        format!("{key}.password_env"),
                        format!("environment variable {var} is not set"),
                    ));
                }
            }
            if let Some(Err(e)) = c.detect_fps.map(vigie_pipeline::check_detect_fps) {
                errs.push(ConfigError::new(format!("{key}.detect_fps"), e));
            }
            if let Some(sector) = &c.sector {
                if !sector_ids.contains(sector.as_str()) {
                    errs.push(ConfigError::new(format!("{key}.sector"), self.unknown_sector(sector)));
                }
            }
            let mut mask_names = HashSet::new();
            for (m, mask) in c.privacy_masks.iter().enumerate() {
                let at = format!("{key}.privacy_masks[{m}]");
                mask.validate(&at).into_iter().for_each(|e| errs.push(e));
                if !mask.name.trim().is_empty() && !mask_names.insert(mask.name.as_str()) {
                    errs.push(ConfigError::new(format!("{at}.name"), format!("\"{}\" names two masks", mask.name)));
                }
            }
            errs.absorb(vigie_rules::validate_camera(&c.id, &c.zones, &c.rules, c.calibration.as_ref(), &self.events));
        }
        errs.into_result()
    }
}

#[cfg(test)]
mod sector_tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<VigieConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, text).unwrap();
        VigieConfig::load(&path)
    }

    const SECTORS: &str = r#"
[[sectors]]
id = "centre"
name = "Centre-ville"
[[sectors]]
id = "gare"
"#;

    #[test]
    fn cameras_name_their_sector_and_the_map_follows() {
        let cfg = load(&format!(
            "{SECTORS}
[[cameras]]
id = \"plaza\"
url = \"assets/video/pets09-s2l1.mp4\"
sector = \"centre\"
[[cameras]]
id = \"quay\"
url = \"assets/video/pets09-s2l1.mp4\"
"
        ))
        .unwrap();
        let map = cfg.sector_map();
        assert_eq!(map.sector_of("plaza"), Some("centre"));
        assert_eq!(map.sector_of("quay"), None, "a camera without sector is in none");
        let names: Vec<_> = map.sectors().iter().map(|s| (s.id.as_str(), s.name.as_str())).collect();
        assert_eq!(names, [("centre", "Centre-ville"), ("gare", "gare")]);
    }

    #[test]
    fn a_camera_in_an_unknown_sector_and_bad_sectors_are_refused_by_key() {
        let e = load(&format!(
            "{SECTORS}
[[cameras]]
id = \"plaza\"
url = \"assets/video/pets09-s2l1.mp4\"
sector = \"plage\"
"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("cameras.plaza.sector: unknown sector 'plage': declared sectors are centre, gare"), "{e}");
        let e = load(
            "[[cameras]]
id = \"plaza\"
url = \"assets/video/pets09-s2l1.mp4\"
sector = \"centre\"
",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cameras.plaza.sector: unknown sector 'centre': the configuration declares no [[sectors]]"),
            "{e}"
        );
        let e = load("[[sectors]]\nid = \"a b\"\n[[sectors]]\nid = \"x\"\n[[sectors]]\nid = \"x\"\nname = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sectors[0].id: must be 1 to 64 letters"), "{e}");
        assert!(e.contains("sectors.x.id: is used by two sectors"), "{e}");
        assert!(e.contains("sectors[2].name: is empty"), "{e}");
        let e = load("[[sectors]]\nid = \"x\"\ncolour = \"red\"\n").unwrap_err().to_string();
        assert!(e.contains("sectors[0]") && e.contains("colour"), "{e}");
    }

    #[test]
    fn user_sectors_are_checked_against_the_declared_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        // The rest of the file is not read: a camera password's variable may be unset here.
        std::fs::write(
            &path,
            format!(
                "{SECTORS}\n[[cameras]]\nid = \"c\"\nurl = \"rtsp://x/y\"\npassword_env = \"VIGIE_UNSET_FOR_TEST\"\n"
            ),
        )
        .unwrap();
        let declared = load_sectors(&path).unwrap();
        assert!(check_user_sectors(&declared, &["gare".into(), "centre".into()]).is_ok());
        let e = check_user_sectors(&declared, &["centre".into(), "plage".into()]).unwrap_err().to_string();
        assert_eq!(e, "sector: unknown sector 'plage': declared sectors are centre, gare");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAMERA: &str = r#"
[[cameras]]
id = "plaza"
url = "assets/video/pets09-s2l1.mp4"
"#;

    fn load(extra: &str) -> anyhow::Result<VigieConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, format!("{CAMERA}{extra}")).unwrap();
        VigieConfig::load(&path)
    }

    #[test]
    fn rtsp_transport_is_read_and_bad_values_are_named() {
        let camera = |url: &str, extra: &str| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("vigie.toml");
            std::fs::write(&path, format!("[[cameras]]\nid = \"gate\"\nurl = \"{url}\"\n{extra}")).unwrap();
            VigieConfig::load(&path)
        };
        use vigie_source::RtspTransport;
        let cfg = camera("rtsp://10.0.0.7/live", "").unwrap();
        assert_eq!(cfg.cameras[0].rtsp_transport, None, "auto unless written");
        for (text, want) in [("udp", RtspTransport::Udp), ("tcp", RtspTransport::Tcp), ("auto", RtspTransport::Auto)] {
            let cfg = camera("rtsp://10.0.0.7/live", &format!("rtsp_transport = \"{text}\"\n")).unwrap();
            assert_eq!(cfg.cameras[0].rtsp_transport, Some(want));
        }
        let e = camera("rtsp://10.0.0.7/live", "rtsp_transport = \"quic\"\n").unwrap_err().to_string();
        assert!(e.contains("cameras[0].rtsp_transport") && e.contains("quic"), "{e}");
        assert!(e.contains("auto") && e.contains("tcp") && e.contains("udp"), "says what is accepted: {e}");
        let e = camera("assets/video/pets09-s2l1.mp4", "rtsp_transport = \"udp\"\n").unwrap_err().to_string();
        assert!(e.contains("cameras.gate.rtsp_transport: applies to rtsp:// cameras only"), "{e}");
    }

    #[test]
    fn detect_fps_defaults_to_the_pipeline_and_bad_values_name_their_key() {
        let cfg = load("").unwrap();
        assert_eq!(cfg.cameras[0].detect_fps(&cfg.pipeline), 5.0, "5 by default");
        let cfg = load("detect_fps = 12.5\n[pipeline]\ndetect_fps = 3\n").unwrap();
        assert_eq!(cfg.cameras[0].detect_fps(&cfg.pipeline), 12.5, "the camera's own wins");
        let cfg = load("[pipeline]\ndetect_fps = 3\n").unwrap();
        assert_eq!(cfg.cameras[0].detect_fps(&cfg.pipeline), 3.0, "else the node's");
        let e = load("detect_fps = 0\n[pipeline]\ndetect_fps = -1\n").unwrap_err().to_string();
        assert!(e.contains("cameras.plaza.detect_fps: 0 is not a rate"), "{e}");
        assert!(e.contains("pipeline.detect_fps: -1 is not a rate"), "{e}");
    }

    #[test]
    fn privacy_masks_are_read_and_every_mistake_is_named() {
        let good = "[[cameras.privacy_masks]]\nname = \"window\"\npolygon = [[10, 10], [60, 10], [60, 40]]\n";
        let cfg = load(good).unwrap();
        assert_eq!(cfg.cameras[0].privacy_masks[0].name, "window");
        assert!(cfg.cameras[0].privacy_masks[0].to_polygon().contains(50.0, 15.0));
        assert!(load("").unwrap().cameras[0].privacy_masks.is_empty(), "no mask by default");

        let bad = "[[cameras.privacy_masks]]\nname = \"two\"\npolygon = [[10, 10], [60, 10]]\n\
                   [[cameras.privacy_masks]]\nname = \"neg\"\npolygon = [[-5, 10], [60, 10], [60, 40]]\n\
                   [[cameras.privacy_masks]]\nname = \"bow\"\npolygon = [[0, 0], [50, 50], [50, 0], [0, 50]]\n\
                   [[cameras.privacy_masks]]\nname = \"bow\"\npolygon = [[0, 0], [50, 0], [50, 50]]\n";
        let err = format!("{:#}", load(bad).unwrap_err());
        for key in [
            "cameras.plaza.privacy_masks[0].polygon: has 2 points",
            "cameras.plaza.privacy_masks[1].polygon[0]: [-5, 10] is negative",
            "cameras.plaza.privacy_masks[2].polygon: crosses itself",
            "cameras.plaza.privacy_masks[3].name: \"bow\" names two masks",
        ] {
            assert!(err.contains(key), "missing {key:?} in {err}");
        }
        let unknown = format!("{:#}", load(&good.replace("name =", "colour = \"black\"\nname =")).unwrap_err());
        assert!(unknown.contains("colour"), "{unknown}");

        let m = &cfg.cameras[0].privacy_masks[0];
        assert!(m.check_inside("cameras.plaza.privacy_masks[0]", 768, 576).is_ok());
        let out = m.check_inside("cameras.plaza.privacy_masks[0]", 50, 50).unwrap_err().to_string();
        assert!(out.contains("privacy_masks[0].polygon[1]") && out.contains("outside the 50×50 picture"), "{out}");
    }
}
