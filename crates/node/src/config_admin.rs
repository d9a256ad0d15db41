//! Zones and rules edited from the console (admin role). `vigie.toml` stays the one source of
//! truth: an accepted edit is validated like a file reload, handed to the running cameras, and
//! written back into the file (only the edited cameras' `zones`, `rules` and `calibration`, and
//! `[events]`; comments elsewhere are kept). Adding or removing cameras stays a file edit and a
//! restart, since it starts or stops threads and connections.

use crate::config::{PrivacyMaskConfig, VigieConfig};
use crate::scene::{ConfigDiff, Slots};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use vigie_core::ConfigError;
use vigie_rules::{Calibration, EventsConfig, RuleConfig, ZoneConfig};
use vigie_server::providers::{ConfigAdmin, MaskEditError};
use vigie_store::{MaskSet, MaskSource, MaskVersions, PrivacyMask};

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
    /// Where each camera's privacy masks are versioned (and their changes audited).
    pub masks: Arc<dyn MaskVersions>,
}

/// Most masks per camera, points per mask and characters per name: more is a drawing mistake,
/// and every picture leaving the node pays for each point.
pub const MAX_MASKS: usize = 64;
pub const MAX_MASK_POINTS: usize = 256;
pub const MAX_MASK_NAME_CHARS: usize = 100;

/// Every mistake of a camera's new masks, keyed from `privacy_masks` (the console shows each
/// next to its field): the file's own checks, then what needs the picture and the set.
pub fn check_masks(masks: &[PrivacyMaskConfig], (width, height): (u32, u32)) -> Vec<ConfigError> {
    if masks.len() > MAX_MASKS {
        return vec![ConfigError::new("privacy_masks", format!("{} masks: at most {MAX_MASKS}", masks.len()))];
    }
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, m) in masks.iter().enumerate() {
        let at = format!("privacy_masks[{i}]");
        let chars = m.name.chars().count();
        if chars > MAX_MASK_NAME_CHARS {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!("{chars} characters: at most {MAX_MASK_NAME_CHARS}"),
            ));
        } else if !m.name.trim().is_empty() && !names.insert(m.name.trim()) {
            errs.push(ConfigError::new(format!("{at}.name"), format!("\"{}\" names two masks", m.name)));
        }
        if m.polygon.len() > MAX_MASK_POINTS {
            errs.push(ConfigError::new(
                format!("{at}.polygon"),
                format!("has {} points: at most {MAX_MASK_POINTS}", m.polygon.len()),
            ));
            continue;
        }
        errs.extend(m.validate(&at));
        if m.polygon.len() >= 3 {
            if let Err(e) = m.check_inside(&at, width as usize, height as usize) {
                errs.push(e);
            }
        }
    }
    errs
}

/// Every zone point that lies outside the camera's `width` × `height` picture, each under its
/// own key (`cameras.plaza.zones.allee.polygon[2]`, counted from 0). Normalised zones (every
/// value 0–1) fit any picture. The rules engine makes the same check when it is built; made
/// here first, a zone the camera cannot hold is refused instead of applied and left unused.
pub fn check_zones_in_picture(
    camera: &str,
    zones: &[vigie_rules::ZoneConfig],
    (width, height): (u32, u32),
) -> Vec<ConfigError> {
    let mut errs = Vec::new();
    for (zi, z) in zones.iter().enumerate() {
        let name = if z.name.trim().is_empty() { format!("zones[{zi}]") } else { format!("zones.{}", z.name) };
        for (field, points) in [("polygon", &z.polygon), ("points", &z.points)] {
            let px = vigie_rules::geometry::to_pixels(points, width as usize, height as usize);
            for (i, (x, y)) in px.iter().enumerate() {
                // The engine's tolerance: a point on the far edge is inside.
                if *x > width as f64 + 1.0 || *y > height as f64 + 1.0 {
                    errs.push(ConfigError::new(
                        format!("cameras.{camera}.{name}.{field}[{i}]"),
                        format!("point {} ({x}, {y}) is outside the camera's {width}×{height} picture", i + 1),
                    ));
                }
            }
        }
    }
    errs
}

fn to_config(m: &PrivacyMask) -> PrivacyMaskConfig {
    PrivacyMaskConfig { name: m.name.clone(), polygon: m.polygon.clone() }
}

fn to_record(m: &PrivacyMaskConfig) -> PrivacyMask {
    PrivacyMask { name: m.name.clone(), polygon: m.polygon.clone() }
}

/// Replaces one camera's `privacy_masks` in the config file, keeping everything else as written.
fn write_masks_back(path: &PathBuf, camera: &str, masks: &[PrivacyMaskConfig]) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{}: {e}", path.display()))?;
    let cams = doc
        .get_mut("cameras")
        .and_then(|c| c.as_array_of_tables_mut())
        .ok_or_else(|| format!("{}: no [[cameras]]", path.display()))?;
    let t = cams
        .iter_mut()
        .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(camera))
        .ok_or_else(|| format!("{}: no camera \"{camera}\"", path.display()))?;
    t.remove("privacy_masks");
    if !masks.is_empty() {
        t.insert("privacy_masks", to_item(&masks)?);
    }
    write_atomic(path, &doc.to_string())
}

fn write_atomic(path: &PathBuf, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

impl FileConfigAdmin {
    /// Records each running camera's masks as the set in force (a new, audited version where
    /// they differ from the last recorded): at start and after the file was reloaded, so that
    /// changes made in the file are versioned like those made in the console.
    pub fn record_running_masks(&self, source: MaskSource) {
        let _one = self.lock.lock();
        for (id, slot) in &self.slots {
            let masks: Vec<PrivacyMask> = slot.lock().camera.privacy_masks.iter().map(to_record).collect();
            match self.masks.record_privacy_masks(id, &masks, "system", source, None) {
                Ok((set, true)) => tracing::info!(camera = %id, version = set.version, "privacy masks recorded"),
                Ok(_) => {}
                Err(e) => tracing::error!(camera = %id, error = %e, "privacy masks not recorded"),
            }
        }
    }
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

    fn apply(&self, actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<ConfigError>> {
        self.apply_checked(actor, new, &[])
    }

    fn apply_checked(
        &self,
        _actor: &str,
        new: serde_json::Value,
        pictures: &[(String, (u32, u32))],
    ) -> Result<serde_json::Value, Vec<ConfigError>> {
        let _one = self.lock.lock();
        let mut new: SceneConfig = serde_path_to_error::deserialize(new)
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
            if let Some((_, size)) = pictures.iter().find(|(id, _)| id == &c.id) {
                errors.extend(check_zones_in_picture(&c.id, &c.zones, *size));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // A rule that now decides differently gets a new version (events and the transparency
        // report name it), whether or not the editor raised it.
        for c in &mut new.cameras {
            let Some((_, slot)) = self.slots.iter().find(|(id, _)| id == &c.id) else { continue };
            let old = slot.lock().camera.clone();
            for (rule, from, to) in vigie_rules::bump_changed_versions(&old.zones, &old.rules, &c.zones, &mut c.rules) {
                tracing::info!(camera = %c.id, rule = %rule, from, to, "rule changed: version raised");
            }
        }
        let before = std::fs::read_to_string(&self.path)
            .map_err(|e| vec![ConfigError::new("config file", format!("not read: {}: {e}", self.path.display()))])?;
        if let Err(e) = write_back(&self.path, &new) {
            return Err(vec![ConfigError::new("config file", format!("not saved: {e}"))]);
        }
        // What was written must load as a whole; otherwise the file is put back and nothing runs.
        if let Err(e) = VigieConfig::load(&self.path) {
            if let Err(w) = write_atomic(&self.path, &before) {
                tracing::error!(file = %self.path.display(), error = %w, "config file not restored");
            }
            return Err(vec![ConfigError::new("config file", format!("not applied, the file is unchanged: {e:#}"))]);
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

    fn privacy_masks(&self, camera: &str) -> Result<MaskSet, MaskEditError> {
        if !self.slots.iter().any(|(id, _)| id == camera) {
            return Err(MaskEditError::UnknownCamera(format!("no camera '{camera}' on this node")));
        }
        self.masks.privacy_masks(camera).map_err(|e| MaskEditError::Failed(e.to_string()))
    }

    fn set_privacy_masks(
        &self,
        actor: &str,
        camera: &str,
        masks: Vec<PrivacyMask>,
        picture: (u32, u32),
        base_version: Option<u64>,
    ) -> Result<MaskSet, MaskEditError> {
        let _one = self.lock.lock();
        let Some((_, slot)) = self.slots.iter().find(|(id, _)| id == camera) else {
            return Err(MaskEditError::UnknownCamera(format!("no camera '{camera}' on this node")));
        };
        let failed = |e: String| MaskEditError::Failed(e);
        let current = self.masks.privacy_masks(camera).map_err(|e| failed(e.to_string()))?;
        if let Some(base) = base_version.filter(|b| *b != current.version) {
            return Err(MaskEditError::Stale(format!(
                "version: the masks of camera '{camera}' changed since version {base} (now {}): reload them and edit again",
                current.version
            )));
        }
        let new: Vec<PrivacyMaskConfig> = masks.iter().map(to_config).collect();
        let errs = check_masks(&new, picture);
        if !errs.is_empty() {
            return Err(MaskEditError::Invalid(errs));
        }
        // The set in force again: nothing to save, rebuild or record.
        if current.masks == masks && slot.lock().camera.privacy_masks == new {
            return Ok(current);
        }
        // File first, then the version and its audit entry; a failure of either puts the file
        // back, so nothing runs that is not both saved and audited.
        let before =
            std::fs::read_to_string(&self.path).map_err(|e| failed(format!("{}: {e}", self.path.display())))?;
        let restore = |why: String| {
            if let Err(e) = write_atomic(&self.path, &before) {
                tracing::error!(file = %self.path.display(), error = %e, "config file not restored");
            }
            failed(why)
        };
        write_masks_back(&self.path, camera, &new).map_err(|e| restore(format!("config file not saved: {e}")))?;
        if let Err(e) = VigieConfig::load(&self.path) {
            return Err(restore(format!("config file saved but does not load, put back: {e:#}")));
        }
        let (set, _) = self
            .masks
            .record_privacy_masks(camera, &masks, actor, MaskSource::Console, Some(picture))
            .map_err(|e| restore(format!("masks not recorded (nothing changed): {e}")))?;
        let mut s = slot.lock();
        s.set_privacy_masks(new);
        s.version += 1;
        Ok(set)
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
        let store = vigie_store::Store::open(dir.path(), Arc::new(vigie_core::SystemClock::default())).unwrap();
        let masks = Arc::new(store);
        (dir, FileConfigAdmin { path, slots: vec![("plaza".into(), slot)], lock: Mutex::new(()), masks })
    }

    fn mask(name: &str, polygon: &[[f64; 2]]) -> PrivacyMask {
        PrivacyMask { name: name.into(), polygon: polygon.to_vec() }
    }

    #[test]
    fn masks_are_checked_against_the_picture_written_back_applied_and_versioned() {
        let (_dir, a) = admin();
        let window = mask("window", &[[10.0, 10.0], [60.0, 10.0], [60.0, 40.0], [10.0, 40.0]]);
        let set = a.set_privacy_masks("adm", "plaza", vec![window.clone()], (768, 576), Some(0)).unwrap();
        assert_eq!((set.version, set.masks.len()), (1, 1));
        assert_eq!(a.slots[0].1.lock().version, 1, "handed to the running camera");
        assert_eq!(a.slots[0].1.lock().camera.privacy_masks[0].name, "window");
        let text = std::fs::read_to_string(&a.path).unwrap();
        assert!(text.contains("# the city's pilot node") && text.contains("privacy_masks"), "{text}");
        let reloaded = VigieConfig::load(&a.path).unwrap();
        assert_eq!(reloaded.cameras[0].privacy_masks[0].polygon[2], [60.0, 40.0]);
        // The same set again is no new version; a stale base version is refused.
        assert_eq!(a.set_privacy_masks("adm", "plaza", vec![window.clone()], (768, 576), None).unwrap().version, 1);
        let stale = a.set_privacy_masks("adm", "plaza", vec![], (768, 576), Some(0)).unwrap_err();
        assert!(matches!(stale, MaskEditError::Stale(_)), "{stale:?}");

        // Every mistake is named; nothing changes.
        let file = std::fs::read_to_string(&a.path).unwrap();
        let bad = vec![
            window.clone(),
            mask("door", &[[10.0, 10.0], [60.0, 10.0], [60.0, 40.0], [800.0, 40.0]]),
            mask("bow", &[[0.0, 0.0], [50.0, 50.0], [50.0, 0.0], [0.0, 50.0]]),
            mask("two", &[[0.0, 0.0], [50.0, 50.0]]),
            mask("window", &[[100.0, 100.0], [160.0, 100.0], [160.0, 140.0]]),
        ];
        let MaskEditError::Invalid(errs) = a.set_privacy_masks("adm", "plaza", bad, (768, 576), None).unwrap_err()
        else {
            panic!("not a validation error")
        };
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        for k in [
            "privacy_masks[1].polygon[3]",
            "privacy_masks[2].polygon",
            "privacy_masks[3].polygon",
            "privacy_masks[4].name",
        ] {
            assert!(keys.contains(&k), "{k} missing in {errs:?}");
        }
        assert_eq!(std::fs::read_to_string(&a.path).unwrap(), file);
        assert_eq!(a.slots[0].1.lock().version, 1);
        assert_eq!(a.privacy_masks("plaza").unwrap().version, 1);
        assert!(matches!(a.privacy_masks("elsewhere"), Err(MaskEditError::UnknownCamera(_))));

        // Removing every mask is a change too.
        let none = a.set_privacy_masks("adm", "plaza", vec![], (768, 576), Some(1)).unwrap();
        assert_eq!((none.version, none.masks.len()), (2, 0));
        assert!(VigieConfig::load(&a.path).unwrap().cameras[0].privacy_masks.is_empty());
    }

    #[test]
    fn an_edit_is_validated_applied_and_written_back_keeping_comments() {
        let (_dir, a) = admin();
        let mut cur = a.current();
        assert_eq!(cur["cameras"][0]["rules"][0]["min_count"], 3);
        cur["cameras"][0]["rules"][0]["min_count"] = 6.into();
        let applied = a.apply("adm", cur).unwrap();
        assert_eq!(applied["cameras"][0]["rules"][0]["min_count"], 6);
        assert_eq!(applied["cameras"][0]["rules"][0]["version"], 2, "a parameter change is a new version");
        assert_eq!(a.slots[0].1.lock().version, 1);
        // The same again: no change, no new version.
        assert_eq!(a.apply("adm", a.current()).unwrap()["cameras"][0]["rules"][0]["version"], 2);
        let text = std::fs::read_to_string(&a.path).unwrap();
        assert!(text.contains("# the city's pilot node") && text.contains("# kept as is"), "{text}");
        let reloaded = VigieConfig::load(&a.path).unwrap();
        assert!(
            matches!(&reloaded.cameras[0].rules[0].params, vigie_rules::RuleParams::Crowd(p) if p.min_count == Some(6))
        );
    }

    #[test]
    fn a_zone_outside_the_picture_is_refused_with_its_point_named_and_nothing_changes() {
        let (_dir, a) = admin();
        let mut cur = a.current();
        cur["cameras"][0]["zones"][0]["polygon"][2] = serde_json::json!([5000, 290]);
        let errs = a.apply_checked("adm", cur.clone(), &[("plaza".into(), (768, 576))]).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].key, "cameras.plaza.zones.lamp.polygon[2]");
        assert!(errs[0].message.contains("768×576"), "{}", errs[0].message);
        assert_eq!(std::fs::read_to_string(&a.path).unwrap(), FILE, "the file keeps the zone in force");
        assert_eq!(a.slots[0].1.lock().version, 0, "nothing handed to the camera");
        assert_eq!(a.slots[0].1.lock().camera.zones[0].polygon[2], [560.0, 290.0]);
        // Inside the picture (or normalised) it is applied and the rule on it gets a new version.
        cur["cameras"][0]["zones"][0]["polygon"][2] = serde_json::json!([700, 290]);
        let applied = a.apply_checked("adm", cur, &[("plaza".into(), (768, 576))]).unwrap();
        assert_eq!(applied["cameras"][0]["zones"][0]["polygon"][2], serde_json::json!([700.0, 290.0]));
        assert_eq!(applied["cameras"][0]["rules"][0]["version"], 2, "its zone moved");
        assert_eq!(a.slots[0].1.lock().version, 1, "rules rebuilt");
        assert!(VigieConfig::load(&a.path).unwrap().cameras[0].rules[0].version == 2);
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
