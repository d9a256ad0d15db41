//! The analysis settings file: `[detector]`, `[tracker]`, `[motion]` sections, every key
//! optional, defaults embedded. Errors name the file and the key.

use anyhow::{anyhow, Context};
use serde::de::DeserializeOwned;
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

/// 1-based line of a byte offset, for error messages.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Parses a TOML config into `T`; errors are one line naming the file, the line and the dotted
/// key at fault.
pub fn parse_toml<T: DeserializeOwned>(text: &str, file: &Path) -> anyhow::Result<T> {
    let name = file.display();
    let de = toml::de::Deserializer::parse(text).map_err(|e| {
        let at = e.span().map(|s| format!(" line {}:", line_of(text, s.start))).unwrap_or_default();
        anyhow!("config {name}:{at} {}", e.message().trim())
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let at = inner.span().map(|s| format!(" line {}:", line_of(text, s.start))).unwrap_or_default();
        anyhow!("config {name}:{at} {key}: {}", inner.message().trim())
    })
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
                let mut s: AnalysisSettings = parse_toml(&text, p)?;
                // Paths written in the file are relative to it; the built-in ones to the assets.
                let defaults = DetectorConfig::default();
                let dir = p.parent().unwrap_or(Path::new("."));
                let base =
                    |given: &Path, default: &Path| if given == default { asset_root() } else { dir.to_path_buf() };
                s.detector.model = base(&s.detector.model, &defaults.model).join(&s.detector.model);
                s.detector.labels = base(&s.detector.labels, &defaults.labels).join(&s.detector.labels);
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
