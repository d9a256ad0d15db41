//! Transparency report: what the system raised and what people decided, per camera and event
//! type over a period, for the public and the oversight board.
//!
//! Definitions (also in the CSV header and the console page):
//! - an alert belongs to the period when it *started* in `[from, to)`;
//! - confirmed: final state confirmed, dispatched or resolved; dismissed: final state dismissed,
//!   counted by reason; undecided: still new;
//! - precision = confirmed / (confirmed + dismissed), absent when nothing was decided;
//! - false alarms per camera-day = alerts dismissed as `false_detection` / days in the period
//!   (authorised activity and duplicates are correct detections that needed no action);
//! - time to decision: from the alert reaching the catalogue to its first confirm or dismiss;
//! - audit head: the audit trail's newest entry (seq and hash) when the report was made, so every
//!   published report anchors the trail (a later truncation cannot hide below it).

use crate::alerts::{AlertState, DismissReason};
use crate::{Db, Result, Store, StoreError};
use rusqlite::params;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use vigie_core::UnixMs;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub camera: String,
    pub event_type: String,
    pub alerts: u64,
    pub confirmed: u64,
    pub dismissed: u64,
    /// Every reason appears, with 0 when unused, so columns are stable.
    pub dismissed_by_reason: BTreeMap<String, u64>,
    pub undecided: u64,
    pub precision: Option<f64>,
    pub false_alarms_per_camera_day: f64,
    pub median_time_to_decision_s: Option<f64>,
    /// SHA-256 of the detector models that produced these alerts.
    pub models: Vec<String>,
    /// `rule@version`.
    pub rule_versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransparencyReport {
    pub from: String,
    pub to: String,
    pub from_ms: UnixMs,
    pub to_ms: UnixMs,
    pub days: f64,
    pub rows: Vec<ReportRow>,
    pub models: Vec<String>,
    pub rule_versions: Vec<String>,
    /// Rules in calibration over the period: their alerts are not in `rows` (no operator saw
    /// them), only here with the supervisors' marks.
    pub calibration: Vec<crate::CalibrationFigures>,
    pub audit_head: AuditHead,
    /// Each camera's privacy masks in force when the report was made (cameras that never had
    /// any are left out).
    pub privacy_masks: Vec<CameraMasks>,
}

/// A camera's privacy masks as the public and the DPO read them: which version runs since
/// when, how often it changed in the period, and how much of the picture each mask hides. The
/// outlines themselves are in the audit trail (`privacy_masks.change`), not in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraMasks {
    pub camera: String,
    pub version: u64,
    pub in_force_since: String,
    pub in_force_since_ms: UnixMs,
    /// Versions recorded within the report's period.
    pub changes_in_period: u64,
    /// The picture the areas are a share of (`None` while the camera has sent no frame).
    pub picture: Option<PictureSize>,
    pub masks: Vec<MaskSummary>,
    /// Share of the picture under any mask, in % (masks are summed: overlaps count twice).
    pub hidden_percent: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PictureSize {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskSummary {
    pub name: String,
    pub points: usize,
    /// In % of the picture, two decimals.
    pub area_percent: Option<f64>,
    #[serde(skip)]
    pub area_px: f64,
}

fn percent(part: f64, size: PictureSize) -> f64 {
    let whole = size.width as f64 * size.height as f64;
    if whole <= 0.0 {
        return 0.0;
    }
    (part / whole * 10_000.0).round() / 100.0
}

/// The audit trail's head as the catalogue records it (seq 0 and the genesis hash when empty).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Default)]
struct Acc {
    alerts: u64,
    confirmed: u64,
    dismissed: BTreeMap<String, u64>,
    undecided: u64,
    decision_s: Vec<f64>,
    models: BTreeSet<String>,
    rules: BTreeSet<String>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

impl Store {
    pub fn transparency(&self, from_ms: UnixMs, to_ms: UnixMs) -> Result<TransparencyReport> {
        if to_ms <= from_ms {
            return Err(StoreError::Invalid("report period is empty: 'to' must be after 'from'".into()));
        }
        let days = to_ms.0.abs_diff(from_ms.0) as f64 / 86_400_000.0;
        type Row = (String, String, String, String, String, u32, i64, Option<i64>, Option<String>);
        let rows: Vec<Row> = {
            let conn = self.conn.lock();
            let mut st = conn
                .prepare(
                    "SELECT a.camera, a.event_type, a.state, a.model_sha256, a.rule, a.rule_version, a.received_at_ms, \
                     (SELECT MIN(d.at_ms) FROM decisions d WHERE d.alert_id = a.id AND d.action IN ('confirm', 'dismiss')), \
                     (SELECT d.reason FROM decisions d WHERE d.alert_id = a.id AND d.action = 'dismiss' ORDER BY d.id DESC LIMIT 1) \
                     FROM alerts a WHERE a.started_at_ms >= ?1 AND a.started_at_ms < ?2 AND a.mode = 'live'",
                )
                .db()?;
            let it = st
                .query_map(params![from_ms, to_ms], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })
                .db()?;
            it.collect::<rusqlite::Result<Vec<_>>>().db()?
        };
        let audit_head = {
            use rusqlite::OptionalExtension;
            self.conn
                .lock()
                .query_row("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", [], |r| {
                    Ok(AuditHead { seq: r.get(0)?, hash: r.get(1)? })
                })
                .optional()
                .db()?
                .unwrap_or_else(|| AuditHead { seq: 0, hash: crate::audit::GENESIS_HASH.into() })
        };
        let mut groups: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut all_models = BTreeSet::new();
        let mut all_rules = BTreeSet::new();
        for (camera, etype, state, model, rule, version, received, first_decision, reason) in rows {
            let acc = groups.entry((camera, etype)).or_default();
            acc.alerts += 1;
            match AlertState::parse(&state).unwrap_or(AlertState::New) {
                AlertState::New => acc.undecided += 1,
                AlertState::Dismissed => {
                    *acc.dismissed.entry(reason.unwrap_or_else(|| "other".into())).or_default() += 1;
                }
                _ => acc.confirmed += 1,
            }
            if let Some(t) = first_decision {
                acc.decision_s.push((t - received).max(0) as f64 / 1000.0);
            }
            let rv = format!("{rule}@{version}");
            all_models.insert(model.clone());
            all_rules.insert(rv.clone());
            acc.models.insert(model);
            acc.rules.insert(rv);
        }
        let rows = groups
            .into_iter()
            .map(|((camera, event_type), mut a)| {
                let mut by_reason: BTreeMap<String, u64> =
                    DismissReason::ALL.iter().map(|r| (r.as_str().to_string(), 0)).collect();
                for (k, v) in &a.dismissed {
                    *by_reason.entry(k.clone()).or_default() += v;
                }
                let dismissed: u64 = by_reason.values().sum();
                let decided = a.confirmed + dismissed;
                let false_alarms = by_reason.get(DismissReason::FalseDetection.as_str()).copied().unwrap_or(0);
                ReportRow {
                    camera,
                    event_type,
                    alerts: a.alerts,
                    confirmed: a.confirmed,
                    dismissed,
                    dismissed_by_reason: by_reason,
                    undecided: a.undecided,
                    precision: (decided > 0).then(|| a.confirmed as f64 / decided as f64),
                    false_alarms_per_camera_day: false_alarms as f64 / days,
                    median_time_to_decision_s: median(&mut a.decision_s),
                    models: a.models.into_iter().collect(),
                    rule_versions: a.rules.into_iter().collect(),
                }
            })
            .collect();
        let changes: BTreeMap<String, u64> = self.privacy_mask_changes(from_ms, to_ms)?.into_iter().collect();
        let privacy_masks = self
            .all_privacy_masks()?
            .into_iter()
            .map(|set| CameraMasks {
                changes_in_period: changes.get(&set.camera).copied().unwrap_or(0),
                camera: set.camera,
                version: set.version,
                in_force_since: set.changed_at,
                in_force_since_ms: set.changed_at_ms,
                picture: None,
                masks: set
                    .masks
                    .iter()
                    .map(|m| MaskSummary {
                        name: m.name.clone(),
                        points: m.polygon.len(),
                        area_percent: None,
                        area_px: m.area_px(),
                    })
                    .collect(),
                hidden_percent: None,
            })
            .collect();
        Ok(TransparencyReport {
            privacy_masks,
            from: from_ms.rfc3339(),
            to: to_ms.rfc3339(),
            from_ms,
            to_ms,
            days,
            rows,
            models: all_models.into_iter().collect(),
            rule_versions: all_rules.into_iter().collect(),
            calibration: self.calibration_report(from_ms, to_ms)?,
            audit_head,
        })
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

impl TransparencyReport {
    /// Sets each camera's picture size (the catalogue does not know it; the running camera
    /// does) and with it the masks' shares of the picture.
    pub fn set_picture_sizes(&mut self, size_of: impl Fn(&str) -> Option<(u32, u32)>) {
        for c in &mut self.privacy_masks {
            c.picture = size_of(&c.camera)
                .filter(|&(w, h)| w > 0 && h > 0)
                .map(|(width, height)| PictureSize { width, height });
            let Some(size) = c.picture else { continue };
            for m in &mut c.masks {
                m.area_percent = Some(percent(m.area_px, size));
            }
            c.hidden_percent = Some(percent(c.masks.iter().map(|m| m.area_px).sum(), size));
        }
    }

    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "camera,event_type,alerts,confirmed,dismissed,dismissed_false_detection,dismissed_authorised_activity,\
             dismissed_duplicate,dismissed_other,undecided,precision,false_alarms_per_camera_day,\
             median_time_to_decision_s,models,rule_versions,audit_head_seq,audit_head_hash\n",
        );
        for r in &self.rows {
            let reason = |k: DismissReason| r.dismissed_by_reason.get(k.as_str()).copied().unwrap_or(0).to_string();
            let fields = [
                csv_field(&r.camera),
                csv_field(&r.event_type),
                r.alerts.to_string(),
                r.confirmed.to_string(),
                r.dismissed.to_string(),
                reason(DismissReason::FalseDetection),
                reason(DismissReason::AuthorisedActivity),
                reason(DismissReason::Duplicate),
                reason(DismissReason::Other),
                r.undecided.to_string(),
                opt(r.precision),
                format!("{:.4}", r.false_alarms_per_camera_day),
                opt(r.median_time_to_decision_s),
                csv_field(&r.models.join(";")),
                csv_field(&r.rule_versions.join(";")),
                self.audit_head.seq.to_string(),
                self.audit_head.hash.clone(),
            ];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        // The masks are a second table after a blank line: one row per mask (a camera whose
        // masks were all removed has one row without a mask name).
        if !self.privacy_masks.is_empty() {
            out.push_str(
                "\ncamera,privacy_mask,mask_set_version,in_force_since,changes_in_period,points,area_percent\n",
            );
            for c in &self.privacy_masks {
                let head = [
                    csv_field(&c.camera),
                    String::new(),
                    c.version.to_string(),
                    c.in_force_since.clone(),
                    c.changes_in_period.to_string(),
                ];
                if c.masks.is_empty() {
                    out.push_str(&format!("{},0,\n", head.join(",")));
                }
                for m in &c.masks {
                    let mut f = head.clone();
                    f[1] = csv_field(&m.name);
                    let area = m.area_percent.map(|a| format!("{a:.2}")).unwrap_or_default();
                    out.push_str(&format!("{},{},{area}\n", f.join(","), m.points));
                }
            }
        }
        out
    }
}
