//! Versions of each camera's privacy masks (areas never shown nor analysed: windows and
//! entrances of homes, CSI L251-3). `vigie.toml` holds the masks in force; the catalogue keeps
//! every set that was ever in force, numbered per camera, so the transparency report can say
//! which version a camera runs and since when, and the audit trail can name the version each
//! change produced. A new version and its audit entry commit together.

use crate::{Db, Result, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use vigie_core::{AuditAction, UnixMs};

/// One mask as edited and recorded: a name and an outline in main-stream pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyMask {
    pub name: String,
    pub polygon: Vec<[f64; 2]>,
}

impl PrivacyMask {
    /// Shoelace area in square pixels (the outline is simple: validated before recording).
    pub fn area_px(&self) -> f64 {
        let n = self.polygon.len();
        let twice: f64 = (0..n)
            .map(|i| {
                let (a, b) = (self.polygon[i], self.polygon[(i + 1) % n]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        twice.abs() / 2.0
    }
}

/// A camera's masks at one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskSet {
    pub camera: String,
    /// 1 for the first set recorded, +1 on every change; 0 for a camera never recorded.
    pub version: u64,
    pub masks: Vec<PrivacyMask>,
    pub changed_at_ms: UnixMs,
    pub changed_at: String,
    pub changed_by: String,
}

impl MaskSet {
    /// What a camera has before anything was recorded.
    pub fn empty(camera: &str) -> MaskSet {
        MaskSet {
            camera: camera.into(),
            version: 0,
            masks: Vec::new(),
            changed_at_ms: UnixMs(0),
            changed_at: UnixMs(0).rfc3339(),
            changed_by: String::new(),
        }
    }
}

/// Why a set was recorded, for the audit entry (`console`, `config file`, `start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskSource {
    /// Edited by an administrator on the camera picture.
    Console,
    /// The config file was saved with other masks than those running.
    ConfigFile,
    /// The node started with other masks than the last recorded.
    Start,
}

fn set_of(camera: &str, version: u64, masks: &str, at: i64, by: String) -> Result<MaskSet> {
    let masks: Vec<PrivacyMask> = serde_json::from_str(masks)
        .map_err(|e| StoreError::Internal(format!("privacy masks of {camera} v{version} unreadable: {e}")))?;
    Ok(MaskSet {
        camera: camera.into(),
        version,
        masks,
        changed_at_ms: UnixMs(at),
        changed_at: UnixMs(at).rfc3339(),
        changed_by: by,
    })
}

impl Store {
    /// The camera's latest recorded set (version 0 and no mask when none was).
    pub fn privacy_masks(&self, camera: &str) -> Result<MaskSet> {
        let conn = self.conn.lock();
        let row: Option<(i64, String, i64, String)> = conn
            .query_row(
                "SELECT version, masks, changed_at_ms, actor FROM privacy_mask_sets WHERE camera = ?1 \
                 ORDER BY version DESC LIMIT 1",
                [camera],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .db()?;
        match row {
            None => Ok(MaskSet::empty(camera)),
            Some((v, m, at, by)) => set_of(camera, v as u64, &m, at, by),
        }
    }

    /// Every camera's latest set, by camera.
    pub fn all_privacy_masks(&self) -> Result<Vec<MaskSet>> {
        let rows: Vec<(String, i64, String, i64, String)> = {
            let conn = self.conn.lock();
            let mut st = conn
                .prepare(
                    "SELECT camera, version, masks, changed_at_ms, actor FROM privacy_mask_sets s \
                     WHERE version = (SELECT MAX(version) FROM privacy_mask_sets t WHERE t.camera = s.camera) \
                     ORDER BY camera",
                )
                .db()?;
            let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).db()?;
            it.collect::<rusqlite::Result<Vec<_>>>().db()?
        };
        rows.into_iter().map(|(c, v, m, at, by)| set_of(&c, v as u64, &m, at, by)).collect()
    }

    /// How many versions of each camera's masks were recorded in `[from_ms, to_ms)`.
    pub fn privacy_mask_changes(&self, from_ms: UnixMs, to_ms: UnixMs) -> Result<Vec<(String, u64)>> {
        let conn = self.conn.lock();
        let mut st = conn
            .prepare(
                "SELECT camera, COUNT(*) FROM privacy_mask_sets WHERE changed_at_ms >= ?1 AND changed_at_ms < ?2 \
                 GROUP BY camera ORDER BY camera",
            )
            .db()?;
        let it = st.query_map(params![from_ms, to_ms], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))).db()?;
        it.collect::<rusqlite::Result<Vec<_>>>().db()
    }

    /// Records `masks` as the camera's set in force. When they differ from the latest recorded
    /// set, a new version is written together with its audit entry (camera, version, every mask's
    /// name and outline) and returned with `true`; otherwise the latest set, unchanged, with
    /// `false`. `picture` is the size the outlines were checked against, when known.
    pub fn record_privacy_masks(
        &self,
        camera: &str,
        masks: &[PrivacyMask],
        actor: &str,
        source: MaskSource,
        picture: Option<(u32, u32)>,
    ) -> Result<(MaskSet, bool)> {
        let latest = self.privacy_masks(camera)?;
        // A camera never recorded and still without masks has nothing to version.
        if latest.masks == masks && (latest.version > 0 || masks.is_empty()) {
            return Ok((latest, false));
        }
        let now = self.now_ms();
        let json = serde_json::to_string(masks).expect("masks serialise");
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let version: i64 = tx
            .query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM privacy_mask_sets WHERE camera = ?1", [camera], |r| {
                r.get(0)
            })
            .db()?;
        tx.execute(
            "INSERT INTO privacy_mask_sets (camera, version, masks, changed_at_ms, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![camera, version, json, now, actor],
        )
        .db()?;
        let details = serde_json::json!({
            "camera": camera,
            "version": version,
            "previous_version": version - 1,
            "source": source,
            "picture": picture.map(|(w, h)| serde_json::json!({"width": w, "height": h})),
            "names": masks.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            "masks": masks,
        });
        crate::audit::append(&tx, now, actor, AuditAction::PrivacyMasksChange, camera, &details.to_string())?;
        tx.commit().db()?;
        drop(conn);
        Ok((set_of(camera, version as u64, &json, now.0, actor.into())?, true))
    }
}
