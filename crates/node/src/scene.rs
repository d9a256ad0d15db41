//! The running scene (each camera's zones, rules and calibration, and the city-wide `[events]`
//! switches) and how it changes while the node runs. Both ways in, the config file being saved
//! and an edit from the console, compute one [`ConfigDiff`] against what runs and apply it the
//! same way; a camera's thread rebuilds its rules engine when its slot's version moves.

use crate::config::{CameraConfig, VigieConfig};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{shutdown, AuditAction, AuditSink};
use vigie_rules::EventsConfig;

/// A camera's rules as configured. The camera thread rebuilds its engine when `version` moves,
/// keeping open events of unchanged rules.
pub struct RulesSlot {
    pub camera: CameraConfig,
    pub events: EventsConfig,
    pub version: u64,
    /// The camera's privacy masks as every stage reads them (pipeline, pictures, exports).
    pub masks: vigie_core::LiveMasks,
}

impl RulesSlot {
    pub fn new(camera: CameraConfig, events: EventsConfig) -> Self {
        let masks = vigie_core::LiveMasks::new(camera.privacy_masks.iter().map(|m| m.to_polygon()).collect());
        Self { camera, events, version: 0, masks }
    }

    /// New privacy masks, in force for every stage from its next frame or picture.
    pub fn set_privacy_masks(&mut self, masks: Vec<crate::config::PrivacyMaskConfig>) {
        self.masks.set(masks.iter().map(|m| m.to_polygon()).collect());
        self.camera.privacy_masks = masks;
    }
}

/// Every running camera's slot, in config order.
pub type Slots = Vec<(String, Arc<Mutex<RulesSlot>>)>;

/// What differs between the scene that runs and a new config (Vector's `ConfigDiff` is the
/// model): which cameras' rules must be rebuilt, and what only a restart can apply.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Cameras whose zones, rules, calibration or privacy masks changed, or all of them when
    /// `[events]` did.
    pub rules_changed: Vec<String>,
    /// Cameras in the new config that do not run (starting one needs a restart).
    pub added: Vec<String>,
    /// Running cameras the new config no longer has (stopping one needs a restart).
    pub removed: Vec<String>,
    /// Running cameras whose source settings (URL, credentials, recording...) changed.
    pub source_changed: Vec<String>,
}

/// A camera's source settings: what the camera's thread and connection were started with.
fn same_source(a: &CameraConfig, b: &CameraConfig) -> bool {
    // The sector too: the console's filter is built at start.
    (&a.url, &a.username, &a.password_env, a.looping, a.realtime, a.record, &a.sector)
        == (&b.url, &b.username, &b.password_env, b.looping, b.realtime, b.record, &b.sector)
        // The analysis rate is set when the camera's thread starts.
        && a.detect_fps == b.detect_fps
}

impl ConfigDiff {
    /// `new` lists cameras by id; a camera missing from it counts as removed.
    pub fn between(slots: &Slots, new: &[CameraConfig], new_events: &EventsConfig) -> Self {
        let mut diff = ConfigDiff::default();
        for (id, slot) in slots {
            let s = slot.lock();
            let Some(c) = new.iter().find(|c| &c.id == id) else {
                diff.removed.push(id.clone());
                continue;
            };
            let old = &s.camera;
            let rules_changed = old.zones != c.zones
                || old.rules != c.rules
                || old.calibration != c.calibration
                || old.privacy_masks != c.privacy_masks
                || &s.events != new_events;
            if rules_changed {
                diff.rules_changed.push(id.clone());
            }
            if !same_source(old, c) {
                diff.source_changed.push(id.clone());
            }
        }
        diff.added = new.iter().filter(|c| !slots.iter().any(|(id, _)| id == &c.id)).map(|c| c.id.clone()).collect();
        diff
    }

    /// Whether this camera's rules engine must be rebuilt.
    pub fn is_changed(&self, camera: &str) -> bool {
        self.rules_changed.iter().any(|c| c == camera)
    }

    /// Whether part of the change waits for a restart.
    pub fn needs_restart(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.source_changed.is_empty())
    }

    /// Hands the changed cameras their new zones, rules, calibration and events (their threads
    /// rebuild their engines at the next frame) and says what waits for a restart. Returns the
    /// cameras changed.
    pub fn apply(&self, slots: &Slots, new: &[CameraConfig], new_events: &EventsConfig) -> Vec<String> {
        for (id, slot) in slots.iter().filter(|(id, _)| self.is_changed(id)) {
            let Some(c) = new.iter().find(|c| &c.id == id) else { continue };
            let mut s = slot.lock();
            s.camera.zones = c.zones.clone();
            s.camera.rules = c.rules.clone();
            s.camera.calibration = c.calibration.clone();
            s.set_privacy_masks(c.privacy_masks.clone());
            s.events = new_events.clone();
            s.version += 1;
        }
        for id in &self.removed {
            tracing::warn!(camera = %id, "camera removed from the config: restart to stop it");
        }
        for id in &self.added {
            tracing::warn!(camera = %id, "camera added to the config: restart to start it");
        }
        for id in &self.source_changed {
            tracing::warn!(camera = %id, "camera source settings changed: restart to apply them");
        }
        self.rules_changed.clone()
    }
}

/// Re-reads the config file and hands each running camera its new zones and rules. A file that
/// does not load or validate changes nothing: the rules already running go on. Either way the
/// attempt is audited.
pub fn reload(path: &Path, slots: &Slots, audit: &dyn AuditSink) -> anyhow::Result<Vec<String>> {
    let target = path.display().to_string();
    let cfg = match VigieConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = audit.record(
                "system",
                AuditAction::ConfigReloadFailed,
                &target,
                &serde_json::json!({ "error": format!("{e:#}") }).to_string(),
            );
            return Err(e);
        }
    };
    let diff = ConfigDiff::between(slots, &cfg.cameras, &cfg.events);
    let changed = diff.apply(slots, &cfg.cameras, &cfg.events);
    let _ = audit.record(
        "system",
        AuditAction::ConfigReload,
        &target,
        &serde_json::json!({ "cameras_changed": changed }).to_string(),
    );
    Ok(changed)
}

/// How often the config file's modification time is looked at.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Reloads the config file whenever it is saved, until shutdown.
/// `reloaded` runs after each reload that changed something (it versions privacy masks).
pub fn watch_config(
    path: PathBuf,
    slots: Slots,
    audit: Arc<dyn AuditSink>,
    shutdown: shutdown::Receiver,
    reloaded: Box<dyn Fn() + Send>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut last = mtime(&path);
    std::thread::Builder::new().name("config-watch".into()).spawn(move || {
        while shutdown.wait_for(WATCH_INTERVAL).is_ok() {
            let now = mtime(&path);
            if now == last {
                continue;
            }
            last = now;
            match reload(&path, &slots, audit.as_ref()) {
                Ok(changed) => {
                    tracing::info!(file = %path.display(), ?changed, "configuration reloaded (zones and rules)");
                    if !changed.is_empty() {
                        reloaded();
                    }
                }
                Err(e) => tracing::error!("configuration not reloaded, the previous one keeps running: {e:#}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::AuditError;

    #[derive(Default)]
    struct Trail(Mutex<Vec<(String, String)>>);
    impl AuditSink for Trail {
        fn record(&self, _actor: &str, action: AuditAction, _target: &str, details: &str) -> Result<(), AuditError> {
            self.0.lock().push((action.as_str().to_string(), details.to_string()));
            Ok(())
        }
    }

    const GOOD: &str = r#"
[[cameras]]
id = "plaza"
url = "assets/video/pets09-s2l1.mp4"
[[cameras.zones]]
name = "lamp"
kind = "square"
polygon = [[330, 170], [560, 170], [560, 290], [330, 290]]
[[cameras.rules]]
id = "group"
type = "crowd"
zone = "lamp"
legal_basis = "Arrêté 2024-117"
min_count = 3
"#;

    fn slots_of(cfg: &VigieConfig) -> Slots {
        cfg.cameras
            .iter()
            .map(|c| (c.id.clone(), Arc::new(Mutex::new(RulesSlot::new(c.clone(), cfg.events.clone())))))
            .collect()
    }

    #[test]
    fn a_bad_reload_keeps_the_running_rules_and_a_good_one_replaces_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, GOOD).unwrap();
        let cfg = VigieConfig::load(&path).unwrap();
        let slots = slots_of(&cfg);
        let slot = slots[0].1.clone();
        let trail = Trail::default();

        // A rule switched on without its legal basis: refused, nothing changes.
        std::fs::write(&path, GOOD.replace("legal_basis = \"Arrêté 2024-117\"\n", "")).unwrap();
        let err = reload(&path, &slots, &trail).unwrap_err().to_string();
        assert!(err.contains("cameras.plaza.rules.group.legal_basis"), "{err}");
        assert_eq!(slot.lock().version, 0);
        assert_eq!(slot.lock().camera.rules[0].legal_basis.as_deref(), Some("Arrêté 2024-117"));
        assert_eq!(trail.0.lock().last().unwrap().0, "config.reload_failed");

        // A malformed file: same.
        std::fs::write(&path, "[[cameras]\n").unwrap();
        assert!(reload(&path, &slots, &trail).is_err());
        assert_eq!(slot.lock().version, 0);

        // A valid change is handed to the camera.
        std::fs::write(&path, GOOD.replace("min_count = 3", "min_count = 5")).unwrap();
        assert_eq!(reload(&path, &slots, &trail).unwrap(), vec!["plaza".to_string()]);
        assert_eq!(slot.lock().version, 1);
        assert!(
            matches!(&slot.lock().camera.rules[0].params, vigie_rules::RuleParams::Crowd(p) if p.min_count == Some(5))
        );
        assert_eq!(trail.0.lock().last().unwrap().0, "config.reload");

        // Saving the same file again changes nothing.
        assert!(reload(&path, &slots, &trail).unwrap().is_empty());
        assert_eq!(slot.lock().version, 1);
    }

    #[test]
    fn the_diff_tells_rules_from_what_needs_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, GOOD).unwrap();
        let cfg = VigieConfig::load(&path).unwrap();
        let slots = slots_of(&cfg);

        let same = ConfigDiff::between(&slots, &cfg.cameras, &cfg.events);
        assert_eq!(same, ConfigDiff::default());
        assert!(!same.is_changed("plaza") && !same.needs_restart());

        // City-wide switches change every camera's rules.
        let mut events = cfg.events.clone();
        events.timezone = "America/Montreal".into();
        assert_eq!(ConfigDiff::between(&slots, &cfg.cameras, &events).rules_changed, vec!["plaza".to_string()]);

        // A new URL and a new camera wait for a restart; the rules stay as they are.
        let mut cams = cfg.cameras.clone();
        cams[0].url = "rtsp://camera.example/plaza".into();
        let mut other = cams[0].clone();
        other.id = "quay".into();
        cams.push(other);
        let d = ConfigDiff::between(&slots, &cams, &cfg.events);
        assert!(d.rules_changed.is_empty() && d.needs_restart());
        assert_eq!((d.added, d.source_changed), (vec!["quay".to_string()], vec!["plaza".to_string()]));
        assert_eq!(ConfigDiff::between(&slots, &[], &cfg.events).removed, vec!["plaza".to_string()]);
        let applied = ConfigDiff::between(&slots, &cams, &cfg.events).apply(&slots, &cams, &cfg.events);
        assert!(applied.is_empty());
        assert_eq!(slots[0].1.lock().version, 0, "nothing to rebuild");
    }

    #[test]
    fn the_watcher_stops_at_shutdown_without_waiting_its_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, GOOD).unwrap();
        let (tx, rx) = shutdown::channel();
        let t = std::thread::spawn(move || {
            let w = watch_config(path, Vec::new(), Arc::new(Trail::default()), rx, Box::new(|| {})).unwrap();
            let started = std::time::Instant::now();
            w.join().unwrap();
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        drop(tx);
        assert!(t.join().unwrap() < WATCH_INTERVAL, "woken by the shutdown, not by its timer");
    }
}
