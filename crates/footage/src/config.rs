//! Archive settings (`[archive]` in the configuration file).

use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;
use vigie_core::config::key;
use vigie_core::ConfigError;

/// Longest footage retention the configuration accepts, in days (the legal maximum for the city).
pub const MAX_RETENTION_DAYS: u32 = 30;
/// Largest free-space reserve accepted (1 TiB): beyond that it is surely a unit mistake.
pub const MAX_RESERVE_MB: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Footage older than this is deleted (1..=30 days).
    pub retention_days: u32,
    /// Event snapshots, exports and track thumbnails older than this are deleted (1..=30 days).
    pub snapshot_retention_days: u32,
    /// Track index rows (no images) older than this are deleted (1..=30 days).
    pub track_retention_days: u32,
    /// Target segment length; a segment is cut at the first key frame after this (10..=600 s).
    pub segment_s: u32,
    /// Oldest footage of a camera is evicted when its segments exceed this many bytes.
    #[serde(deserialize_with = "de_opt_bytes")]
    pub max_bytes_per_camera: Option<u64>,
    /// Oldest footage of any camera is evicted when all segments together exceed this.
    #[serde(deserialize_with = "de_opt_bytes")]
    pub max_total_bytes: Option<u64>,
    /// How often the background retention pass runs (60..=86400 s).
    pub retention_interval_s: u64,
    /// After a write error (disk full...), how long recording waits before trying again.
    pub recording_retry_s: u32,
    /// Longest time range one export may cover (exports are assembled in memory).
    pub max_export_s: u32,
    /// Free space (MiB) kept on the data volume for the catalogue, alerts and audit trail: below
    /// it the recorder evicts the oldest footage, and stops rather than write into it. 0 turns
    /// the reserve off.
    pub reserve_mb: u64,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            retention_days: MAX_RETENTION_DAYS,
            snapshot_retention_days: MAX_RETENTION_DAYS,
            track_retention_days: MAX_RETENTION_DAYS,
            segment_s: 60,
            max_bytes_per_camera: None,
            max_total_bytes: None,
            retention_interval_s: 600,
            recording_retry_s: 30,
            max_export_s: 3600,
            reserve_mb: 256,
        }
    }
}

impl ArchiveConfig {
    /// Checks every setting, naming keys under `archive.`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_at("archive")
    }

    /// Checks every setting, naming keys under `parent`.
    pub fn validate_at(&self, parent: &str) -> Result<(), ConfigError> {
        for (name, v) in [
            ("retention_days", self.retention_days),
            ("snapshot_retention_days", self.snapshot_retention_days),
            ("track_retention_days", self.track_retention_days),
        ] {
            if v == 0 || v > MAX_RETENTION_DAYS {
                return Err(ConfigError::new(
                    key(parent, name),
                    format!("must be between 1 and {MAX_RETENTION_DAYS} days, got {v}"),
                ));
            }
        }
        if !(10..=600).contains(&self.segment_s) {
            return Err(ConfigError::new(
                key(parent, "segment_s"),
                format!("must be between 10 and 600 seconds, got {}", self.segment_s),
            ));
        }
        const MIN_LIMIT: u64 = 16 << 20;
        for (name, v) in
            [("max_bytes_per_camera", self.max_bytes_per_camera), ("max_total_bytes", self.max_total_bytes)]
        {
            if let Some(v) = v {
                if v < MIN_LIMIT {
                    return Err(ConfigError::new(
                        key(parent, name),
                        format!("{v} bytes is too small to hold a single segment; use at least 16 MiB"),
                    ));
                }
            }
        }
        if !(60..=86_400).contains(&self.retention_interval_s) {
            return Err(ConfigError::new(
                key(parent, "retention_interval_s"),
                format!("must be between 60 and 86400 seconds, got {}", self.retention_interval_s),
            ));
        }
        if !(1..=3600).contains(&self.recording_retry_s) {
            return Err(ConfigError::new(
                key(parent, "recording_retry_s"),
                format!("must be between 1 and 3600 seconds, got {}", self.recording_retry_s),
            ));
        }
        if !(10..=4 * 3600).contains(&self.max_export_s) {
            return Err(ConfigError::new(
                key(parent, "max_export_s"),
                format!("must be between 10 and 14400 seconds, got {}", self.max_export_s),
            ));
        }
        if self.reserve_mb > MAX_RESERVE_MB {
            return Err(ConfigError::new(
                key(parent, "reserve_mb"),
                format!("must be between 0 and {MAX_RESERVE_MB} MiB, got {}", self.reserve_mb),
            ));
        }
        Ok(())
    }

    /// The free-space reserve in bytes (0 when off).
    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_mb << 20
    }

    pub fn retention(&self) -> Duration {
        days(self.retention_days)
    }

    pub fn snapshot_retention(&self) -> Duration {
        days(self.snapshot_retention_days)
    }

    pub fn track_retention(&self) -> Duration {
        days(self.track_retention_days)
    }
}

/// Parses `"500 GiB"`, `"2TB"`, `"750MB"` or a plain number of bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a size (expected e.g. 500GiB or 2TB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "tib" => 1024.0f64.powi(4),
        u => return Err(format!("'{s}': unknown size unit '{u}' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)")),
    };
    Ok((n * mult).round() as u64)
}

fn de_opt_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        N(u64),
        S(String),
    }
    match Option::<Size>::deserialize(d)? {
        None => Ok(None),
        Some(Size::N(n)) => Ok(Some(n)),
        Some(Size::S(s)) => parse_bytes(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_retention_is_capped_at_30_days() {
        let c = ArchiveConfig::default();
        assert_eq!(c.retention_days, 30);
        c.validate().unwrap();
        let bad = ArchiveConfig { retention_days: 31, ..Default::default() };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.key, "archive.retention_days");
        assert!(e.message.contains("31"), "{e}");
        let e = ArchiveConfig { snapshot_retention_days: 0, ..Default::default() }.validate_at("site.archive");
        assert_eq!(e.unwrap_err().key, "site.archive.snapshot_retention_days");
    }

    #[test]
    fn sizes_parse_from_toml_as_numbers_or_strings() {
        let c: ArchiveConfig = toml_like(r#"{"max_bytes_per_camera": "2 GiB", "max_total_bytes": 5000000000}"#);
        assert_eq!(c.max_bytes_per_camera, Some(2 << 30));
        assert_eq!(c.max_total_bytes, Some(5_000_000_000));
        assert_eq!(parse_bytes("1.5TB").unwrap(), 1_500_000_000_000);
        assert!(parse_bytes("12 parsecs").unwrap_err().contains("parsecs"));
        let e = ArchiveConfig { max_total_bytes: Some(1000), ..Default::default() }.validate().unwrap_err();
        assert_eq!(e.key, "archive.max_total_bytes");
        let e = ArchiveConfig { reserve_mb: 2 << 20, ..Default::default() }.validate().unwrap_err();
        assert_eq!(e.key, "archive.reserve_mb");
    }

    fn toml_like(json: &str) -> ArchiveConfig {
        serde_json::from_str(json).unwrap()
    }
}
