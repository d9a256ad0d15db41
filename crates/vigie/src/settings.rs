//! The analysis settings file: `[detector]`, `[tracker]`, `[motion]` sections, every key
//! optional, defaults embedded. Errors name the file and the key.

use anyhow::{anyhow, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use vigie_detect::DetectorConfig;
use vigie_motion::MotionConfig;
use vigie_track::TrackerConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSettings {
    pub detector: DetectorConfig,
    pub tracker: TrackerConfig,
    pub motion: MotionConfig,
}

/// Directory the relative paths of the defaults are resolved against: the working directory
/// when it holds the assets, else the source tree the binary was built from.
pub fn asset_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.join("assets/models").is_dir() {
        return cwd;
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    built.canonicalize().unwrap_or(built)
}

impl AnalysisSettings {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut s = match path {
            None => {
                let mut s = AnalysisSettings::default();
                s.detector.resolve_paths(&asset_root());
                s
            }
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("cannot read config {}", p.display()))?;
                let mut s: AnalysisSettings =
                    toml::from_str(&text).map_err(|e| anyhow!("config {}: {}", p.display(), e.message()))?;
                s.detector.resolve_paths(p.parent().unwrap_or(Path::new(".")));
                s
            }
        };
        let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "built-in defaults".into());
        s.detector.validate().map_err(|e| anyhow!("config {file}: {}", e.within("detector")))?;
        s.tracker.validate().map_err(|e| anyhow!("config {file}: {}", e.within("tracker")))?;
        s.motion.validate().map_err(|e| anyhow!("config {file}: {}", e.within("motion")))?;
        s.detector.classes.retain(|c| !c.is_empty());
        Ok(s)
    }
}
