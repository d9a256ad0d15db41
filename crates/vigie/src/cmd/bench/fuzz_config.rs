//! The config parser as a `vigie bench fuzz` target: TOML text → parsed and validated
//! `VigieConfig`. It lives with the binary because the config type does; the mutation helpers and
//! the runner are `vigie_eval::bench::fuzz`'s.

use std::path::Path;
use vigie_core::rng::Rng;
use vigie_eval::bench::fuzz::{mutate_bytes, pick, Target};
use vigie_node::config::VigieConfig;
use vigie_node::settings::{asset_root, parse_toml};

/// Extra sections so that every config struct is reached, not only the demo's.
const CONFIG_EXTRA: &str = r#"
[server]
listen = "127.0.0.1:8080"
cookie_secure = "auto"
trusted_proxies = ["10.0.0.0/8", "192.0.2.7"]
session_ttl_min = 480
max_body_kib = 64

[notify.webhook]
url = "http://127.0.0.1:9000/hook"
secret = "0123456789abcdef0123"
max_attempts = 6

[notify.mqtt]
host = "127.0.0.1"
port = 1883
topic = "vigie/alerts"

[detector]
classes = ["person", "car"]
score_threshold = 0.3

[tracker]
high_thresh = 0.5
lost_buffer_s = 1.0

[motion]
enabled = true

[pipeline]
detector_workers = 2
queue_depth = 4

[archive]
retention_days = 30
segment_s = 60
max_total_bytes = "2 GB"

[events]
timezone = "Europe/Paris"
disabled = ["graffiti"]

[[cameras]]
id = "gate"
url = "rtsp://user:pw@10.0.0.5:554/stream1"
[[cameras.zones]]
name = "lane"
kind = "lane"
polygon = [[0, 0], [100, 0], [100, 100], [0, 100]]
direction = [1.0, 0.0]
[[cameras.zones]]
name = "street"
kind = "pedestrian_street"
polygon = [[0, 0], [300, 0], [300, 200]]
[[cameras.rules]]
id = "wrong"
type = "wrong_way"
zone = "lane"
legal_basis = "Arrêté 2025-1"
min_duration_s = 1.0
min_distance_px = 40.0
schedule = ["10:00-19:00"]
[[cameras.rules]]
id = "crowd"
type = "crowd"
zone = "street"
legal_basis = "Arrêté 2025-2"
min_count = 5
max_density_per_m2 = 2.0
hysteresis_s = 3.0
[[cameras.rules]]
id = "vehicles"
type = "vehicle_in_pedestrian_zone"
zone = "street"
legal_basis = "Arrêté 2025-3"
include_bicycles = false
[cameras.calibration]
image = [[0, 0], [100, 0], [100, 100], [0, 100]]
ground_m = [[0, 0], [10, 0], [10, 10], [0, 10]]
"#;

/// Values substituted for a `key = value` right-hand side.
const CONFIG_VALUES: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "0.0000001",
    "\"\"",
    "\"\u{202e}evil\"",
    "\"../../../etc/passwd\"",
    "\"rtsp://\"",
    "\"rtsp://a:b@[::1\"",
    "\"25:61-99:99\"",
    "\"99999999999999 GB\"",
    "\"-1 GB\"",
    "[]",
    "[[]]",
    "[[0, 0], [1e308, 1e308], [0, 1]]",
    "[[0, 0], [0, 0], [0, 0]]",
    "[[nan, 0], [1, 1], [0, 1]]",
    "{}",
    "true",
    "\"Europe/Atlantis\"",
    "[\"mon-sun 23:59-00:00\"]",
];

pub struct ConfigTarget {
    seeds: Vec<String>,
}

impl ConfigTarget {
    pub fn new() -> Self {
        let demo = std::fs::read_to_string(asset_root().join("config/demo.toml")).unwrap_or_default();
        // The demo without its [server]/[archive]/... sections merged with the extras would repeat
        // tables; keep them as separate seeds.
        Self { seeds: vec![demo, CONFIG_EXTRA.to_string()] }
    }
}

impl Target for ConfigTarget {
    fn name(&self) -> &'static str {
        "config"
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let seed = pick(rng, &self.seeds);
        if rng.below(3) == 0 {
            let mut b = seed.as_bytes().to_vec();
            mutate_bytes(rng, &mut b, 0..0, 8);
            return b;
        }
        // Structure-aware: replace values, drop or repeat lines.
        let mut lines: Vec<String> = seed.lines().map(String::from).collect();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(lines.len() as u64) as usize;
            match rng.below(6) {
                0 => {
                    lines.remove(i);
                }
                1 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                _ => {
                    if let Some((k, _)) = lines[i].split_once('=') {
                        lines[i] = format!("{k}= {}", pick(rng, CONFIG_VALUES));
                    }
                }
            }
            if lines.is_empty() {
                break;
            }
        }
        lines.join("\n").into_bytes()
    }

    fn check(&self, input: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(input);
        let cfg: VigieConfig = match parse_toml(&text, Path::new("fuzz.toml")) {
            Ok(c) => c,
            Err(e) => {
                // "config fuzz.toml: line 3: cameras[0].url: ..." or a syntax error with its line.
                let msg = e.to_string();
                return if msg.contains(" line ") || msg.contains(": ") && !msg.contains(":  ") {
                    Ok(())
                } else {
                    Err(format!("parse error names neither a line nor a key: {msg}"))
                };
            }
        };
        match cfg.validate() {
            Ok(()) => Ok(()),
            Err(errs) => match errs.iter().find(|e| e.key.trim().is_empty()) {
                Some(e) => Err(format!("validation error without a key: {e}")),
                None if errs.is_empty() => Err("validation failed without saying why".into()),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    //! Bounded proptest runs of the config target; `vigie bench fuzz` runs it longer. A failure
    //! prints the shrunk input.
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{select, Index};
    use vigie_eval::bench::fuzz::check_caught;

    fn cfg(cases: u32) -> ProptestConfig {
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    fn caught(t: &dyn Target, input: &[u8]) -> Result<(), TestCaseError> {
        check_caught(t, input).map_err(TestCaseError::fail)
    }

    static CONFIG: std::sync::LazyLock<ConfigTarget> = std::sync::LazyLock::new(ConfigTarget::new);

    #[test]
    fn config_seeds_are_valid_so_mutations_reach_validation() {
        for seed in &CONFIG.seeds {
            let cfg: VigieConfig = parse_toml(seed, Path::new("seed.toml")).unwrap();
            cfg.validate().unwrap();
        }
    }

    proptest! {
        #![proptest_config(cfg(400))]
        /// Any value in any `key = value` line, lines dropped, bytes flipped: the config parser
        /// and validation never panic, and every error names a line or a key.
        #[test]
        fn config_parser_never_panics_and_names_keys(
            seed in 0..2usize,
            values in proptest::collection::vec((any::<Index>(), select(CONFIG_VALUES)), 1..4),
            drop in proptest::option::of(any::<Index>()),
            bytes in proptest::collection::vec((any::<Index>(), any::<u8>()), 0..3),
        ) {
            let mut lines: Vec<String> = CONFIG.seeds[seed].lines().map(String::from).collect();
            for (at, v) in values {
                let i = at.index(lines.len());
                if let Some((k, _)) = lines[i].split_once('=') {
                    lines[i] = format!("{k}= {v}");
                }
            }
            if let Some(d) = drop {
                lines.remove(d.index(lines.len()));
            }
            let mut b = lines.join("\n").into_bytes();
            for (at, v) in bytes {
                let i = at.index(b.len());
                b[i] = v;
            }
            caught(&*CONFIG, &b)?;
        }
    }
}
