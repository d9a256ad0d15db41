//! Zones and rules edited from the console (admin role). `vigie.toml` stays the one source of
//! truth: an accepted edit is validated like a file reload, handed to the running cameras, and
//! written back into the file (only the edited cameras' `zones`, `rules` and `calibration`, and
//! `[events]`; comments elsewhere are kept). Adding or removing cameras stays a file edit and a
//! restart, since it starts or stops threads and connections.

use crate::config::VigieConfig;
use crate::scene::{ConfigDiff, Slots};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use vigie_core::ConfigError;
use vigie_rules::{Calibration, EventsConfig, RuleConfig, ZoneConfig};
use vigie_server::providers::ConfigAdmin;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraScene {
    id: String,
    /// Shown for reference; names are changed in vigie.toml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    zones: Vec<ZoneConfig>,
    #[serde(default)]
    rules: Vec<RuleConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calibration: Option<Calibration>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SceneConfig {
    events: EventsConfig,
    cameras: Vec<CameraScene>,
}

pub struct FileConfigAdmin {
    pub path: PathBuf,
    pub slots: Slots,
    /// One edit at a time, so two admins cannot interleave writes to the file.
    pub lock: Mutex<()>,
}

fn scene_of(slots: &Slots) -> SceneConfig {
    let mut events = EventsConfig::default();
    let cameras = slots
        .iter()
        .map(|(_, slot)| {
            let s = slot.lock();
            events = s.events.clone();
            CameraScene {
                id: s.camera.id.clone(),
                name: s.camera.name.clone(),
                zones: s.camera.zones.clone(),
                rules: s.camera.rules.clone(),
                calibration: s.camera.calibration.clone(),
            }
        })
        .collect();
    SceneConfig { events, cameras }
}

fn to_item<T: Serialize>(v: &T) -> Result<toml_edit::Item, String> {
    #[derive(Serialize)]
    struct Wrap<'a, T> {
        v: &'a T,
    }
    let doc = toml_edit::ser::to_document(&Wrap { v }).map_err(|e| e.to_string())?;
    Ok(doc.as_table().get("v").cloned().unwrap_or(toml_edit::Item::None))
}

/// Rewrites the edited parts of the config file in place (temporary file, then rename).
fn write_back(path: &PathBuf, new: &SceneConfig) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{}: {e}", path.display()))?;
    doc["events"] = to_item(&new.events)?;
    let cams = doc
        .get_mut("cameras")
        .and_then(|c| c.as_array_of_tables_mut())
        .ok_or_else(|| format!("{}: no [[cameras]]", path.display()))?;
    for t in cams.iter_mut() {
        let Some(id) = t.get("id").and_then(|v| v.as_str()).map(str::to_string) else { continue };
        let Some(c) = new.cameras.iter().find(|c| c.id == id) else { continue };
        t.remove("zones");
        t.remove("rules");
        t.remove("calibration");
        if let Some(cal) = &c.calibration {
            t.insert("calibration", to_item(cal)?);
        }
        t.insert("zones", to_item(&c.zones)?);
        t.insert("rules", to_item(&c.rules)?);
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, doc.to_string()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

impl ConfigAdmin for FileConfigAdmin {
    fn current(&self) -> serde_json::Value {
        serde_json::to_value(scene_of(&self.slots)).unwrap_or_default()
    }

    fn apply(&self, _actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<ConfigError>> {
        let _one = self.lock.lock();
        let new: SceneConfig = serde_path_to_error::deserialize(new)
            .map_err(|e| vec![ConfigError::new(e.path().to_string(), e.into_inner().to_string())])?;
        let mut errors = Vec::new();
        if let Err(e) = new.events.validate() {
            errors.push(e);
        }
        for c in &new.cameras {
            if !self.slots.iter().any(|(id, _)| id == &c.id) {
                errors.push(ConfigError::new(
                    format!("cameras.{}", c.id),
                    "is not a camera of this node (cameras are added in vigie.toml, then restart)",
                ));
                continue;
            }
            if let Err(e) = vigie_rules::validate_camera(&c.id, &c.zones, &c.rules, c.calibration.as_ref(), &new.events)
            {
                errors.extend(e);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if let Err(e) = write_back(&self.path, &new) {
            return Err(vec![ConfigError::new("config file", format!("not saved: {e}"))]);
        }
        // What was written must load as a whole; otherwise say so (the file is left for a human).
        if let Err(e) = VigieConfig::load(&self.path) {
            return Err(vec![ConfigError::new("config file", format!("saved but does not load: {e:#}"))]);
        }
        // The running cameras as they will be: the edited ones with their new scene.
        let cameras: Vec<_> = self
            .slots
            .iter()
            .map(|(_, slot)| {
                let mut c = slot.lock().camera.clone();
                if let Some(e) = new.cameras.iter().find(|e| e.id == c.id) {
                    c.zones = e.zones.clone();
                    c.rules = e.rules.clone();
                    c.calibration = e.calibration.clone();
                }
                c
            })
            .collect();
        ConfigDiff::between(&self.slots, &cameras, &new.events).apply(&self.slots, &cameras, &new.events);
        Ok(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::RulesSlot;
    use std::sync::Arc;

    const FILE: &str = r#"# the city's pilot node
[server]
listen = "127.0.0.1:8080" # kept as is

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

    fn admin() -> (tempfile::TempDir, FileConfigAdmin) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, FILE).unwrap();
        let cfg = VigieConfig::load(&path).unwrap();
        let slot = Arc::new(Mutex::new(RulesSlot::new(cfg.cameras[0].clone(), cfg.events.clone())));
        (dir, FileConfigAdmin { path, slots: vec![("plaza".into(), slot)], lock: Mutex::new(()) })
    }

    #[test]
    fn an_edit_is_validated_applied_and_written_back_keeping_comments() {
        let (_dir, a) = admin();
        let mut cur = a.current();
        assert_eq!(cur["cameras"][0]["rules"][0]["min_count"], 3);
        cur["cameras"][0]["rules"][0]["min_count"] = 6.into();
        let applied = a.apply("adm", cur).unwrap();
        assert_eq!(applied["cameras"][0]["rules"][0]["min_count"], 6);
        assert_eq!(a.slots[0].1.lock().version, 1);
        let text = std::fs::read_to_string(&a.path).unwrap();
        assert!(text.contains("# the city's pilot node") && text.contains("# kept as is"), "{text}");
        let reloaded = VigieConfig::load(&a.path).unwrap();
        assert!(
            matches!(&reloaded.cameras[0].rules[0].params, vigie_rules::RuleParams::Crowd(p) if p.min_count == Some(6))
        );
    }

    #[test]
    fn a_bad_edit_changes_nothing_and_names_the_key() {
        let (_dir, a) = admin();
        let mut cur = a.current();
        cur["cameras"][0]["rules"][0]["legal_basis"] = serde_json::Value::Null;
        let errs = a.apply("adm", cur).unwrap_err();
        assert!(errs.iter().any(|e| e.key == "cameras.plaza.rules.group.legal_basis"), "{errs:?}");
        let mut other = a.current();
        other["cameras"][0]["id"] = "elsewhere".into();
        let errs = a.apply("adm", other).unwrap_err();
        assert_eq!(errs[0].key, "cameras.elsewhere");
        assert_eq!(a.slots[0].1.lock().version, 0);
        assert_eq!(std::fs::read_to_string(&a.path).unwrap(), FILE);
    }
}
