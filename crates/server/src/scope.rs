//! Sectors: which cameras each user sees. The one place the rule is decided; every route that
//! carries a camera (alerts, their feed, pictures, footage, search, reports, camera lists and
//! scene views) asks [`Scope`], the caller's, found on the session (`Ctx::scope`).
//!
//! The rule:
//! - a camera belongs to at most one sector (`sector = "…"` in its `[[cameras]]` entry); one
//!   without belongs to none;
//! - a user assigned to no sector is city-wide and sees every camera (administrators and
//!   auditors typically); a user assigned to sectors sees only their cameras — never a camera
//!   without a sector, and nothing at all when their sectors hold no camera (a sector later
//!   removed from the configuration narrows what they see, never widens it);
//! - an object of a camera the caller does not see answers exactly as one that does not exist
//!   (404), and is absent from lists, feeds and counts.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A sector as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectorInfo {
    pub id: String,
    pub name: String,
}

/// The node's sectors and the sector of each camera, from the configuration (fixed until the
/// node restarts, like its cameras).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectorMap {
    sectors: Vec<SectorInfo>,
    camera_sector: BTreeMap<String, String>,
}

impl SectorMap {
    /// `cameras`: (camera id, sector id) for each camera that has a sector.
    pub fn new(sectors: Vec<SectorInfo>, cameras: impl IntoIterator<Item = (String, String)>) -> SectorMap {
        SectorMap { sectors, camera_sector: cameras.into_iter().collect() }
    }

    pub fn sectors(&self) -> &[SectorInfo] {
        &self.sectors
    }

    pub fn sector_of(&self, camera: &str) -> Option<&str> {
        self.camera_sector.get(camera).map(String::as_str)
    }

    pub fn is_known(&self, sector: &str) -> bool {
        self.sectors.iter().any(|s| s.id == sector)
    }

    /// Refuses sector ids the configuration does not declare, naming the first.
    pub fn check_known(&self, sectors: &[String]) -> Result<(), String> {
        match sectors.iter().find(|s| !self.is_known(s)) {
            None => Ok(()),
            Some(s) if self.sectors.is_empty() => {
                Err(format!("unknown sector '{s}': the configuration declares no [[sectors]]"))
            }
            Some(s) => Err(format!(
                "unknown sector '{s}': declared sectors are {}",
                self.sectors.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// What one caller may see: every camera, or those of their sectors.
#[derive(Debug, Clone)]
pub struct Scope {
    map: Arc<SectorMap>,
    /// `None`: city-wide.
    sectors: Option<BTreeSet<String>>,
}

impl Scope {
    /// The scope of a user assigned to `sectors` (none: city-wide).
    pub fn of_user(map: Arc<SectorMap>, sectors: &[String]) -> Scope {
        let sectors = (!sectors.is_empty()).then(|| sectors.iter().cloned().collect());
        Scope { map, sectors }
    }

    pub fn city_wide(map: Arc<SectorMap>) -> Scope {
        Scope { map, sectors: None }
    }

    pub fn is_city_wide(&self) -> bool {
        self.sectors.is_none()
    }

    /// Whether the caller may see anything of this camera.
    pub fn can_see(&self, camera: &str) -> bool {
        match &self.sectors {
            None => true,
            Some(mine) => self.map.sector_of(camera).is_some_and(|s| mine.contains(s)),
        }
    }

    /// Keeps the items whose camera the caller sees.
    pub fn filter<T>(&self, items: Vec<T>, camera: impl Fn(&T) -> &str) -> Vec<T> {
        if self.is_city_wide() {
            return items;
        }
        items.into_iter().filter(|i| self.can_see(camera(i))).collect()
    }

    /// The cameras the caller sees among the configured ones, for a query that must not even
    /// count the others; `None` for a city-wide caller (no restriction).
    pub fn cameras(&self) -> Option<Vec<String>> {
        let mine = self.sectors.as_ref()?;
        Some(self.map.camera_sector.iter().filter(|(_, s)| mine.contains(*s)).map(|(c, _)| c.clone()).collect())
    }

    /// The sectors shown to the caller: theirs, or all of them when city-wide.
    pub fn sectors(&self) -> Vec<SectorInfo> {
        match &self.sectors {
            None => self.map.sectors.clone(),
            Some(mine) => self.map.sectors.iter().filter(|s| mine.contains(&s.id)).cloned().collect(),
        }
    }

    pub fn map(&self) -> &SectorMap {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Arc<SectorMap> {
        Arc::new(SectorMap::new(
            vec![
                SectorInfo { id: "centre".into(), name: "Centre-ville".into() },
                SectorInfo { id: "gare".into(), name: "Gare".into() },
                SectorInfo { id: "port".into(), name: "Port".into() },
            ],
            [("c1".to_string(), "centre".to_string()), ("g1".to_string(), "gare".to_string())],
        ))
    }

    #[test]
    fn sectors_decide_what_each_caller_sees() {
        let all = Scope::of_user(map(), &[]);
        assert!(all.can_see("c1") && all.can_see("g1") && all.can_see("loose") && all.cameras().is_none());
        let centre = Scope::of_user(map(), &["centre".into()]);
        assert!(centre.can_see("c1"));
        assert!(!centre.can_see("g1"), "another sector's camera");
        assert!(!centre.can_see("loose"), "a camera without a sector is city-wide only");
        assert!(!centre.can_see("unknown"));
        assert_eq!(centre.cameras().unwrap(), ["c1"]);
        assert_eq!(centre.filter(vec!["c1", "g1", "loose"], |c| *c), ["c1"]);
        assert_eq!(centre.sectors().iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Centre-ville"]);
        // An empty sector and a sector the configuration lost both narrow, never widen.
        let port = Scope::of_user(map(), &["port".into()]);
        assert_eq!(port.cameras().unwrap(), Vec::<String>::new());
        assert!(!port.can_see("c1") && !port.can_see("loose"));
        let gone = Scope::of_user(map(), &["gone".into()]);
        assert!(!gone.can_see("c1") && !gone.is_city_wide());
    }

    #[test]
    fn unknown_sectors_are_named() {
        let m = map();
        assert!(m.check_known(&["centre".into(), "gare".into()]).is_ok());
        let e = m.check_known(&["centre".into(), "plage".into()]).unwrap_err();
        assert!(e.contains("'plage'") && e.contains("centre, gare, port"), "{e}");
        let e = SectorMap::default().check_known(&["x".into()]).unwrap_err();
        assert!(e.contains("declares no [[sectors]]"), "{e}");
    }
}
