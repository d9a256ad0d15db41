//! Rules in calibration: their alerts wait in the supervisors' review queue, never in the
//! operators', and each is marked right or wrong. The marks give each rule's calibration figures,
//! shown in the transparency report and recorded in the audit trail when an admin sets the rule
//! live.
//!
//! Definitions (also on the console page):
//! - precision = right / (right + wrong), absent until something is marked;
//! - false alarms per camera-day = wrong / days of the span (a rule is one camera's);
//! - span: from the first calibration alert of the rule to `until` (the report's end, or the
//!   moment it goes live), counted as at least one hour so that a fresh rule's handful of
//!   alerts is not extrapolated to an absurd daily rate.

use crate::audit::append;
use crate::{Db, FreeText, Result, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use vigie_core::{AuditAction, RuleMode, UnixMs};

/// A supervisor's mark on a calibration alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The situation the rule describes really happened.
    Right,
    /// A false alarm.
    Wrong,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Right => "right",
            Verdict::Wrong => "wrong",
        }
    }

    pub fn parse(s: &str) -> Result<Verdict> {
        match s.trim() {
            "right" => Ok(Verdict::Right),
            "wrong" => Ok(Verdict::Wrong),
            _ => Err(StoreError::Invalid(format!("verdict '{s}' is not one of: right, wrong"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub verdict: Verdict,
    pub by: String,
    pub at_ms: UnixMs,
    pub note: Option<String>,
}

/// Reads the review columns starting at `i` (verdict, by, at, note) of an alert row.
pub(crate) fn row_review(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Review>> {
    let verdict: Option<String> = r.get(i)?;
    let Some(v) = verdict.and_then(|v| Verdict::parse(&v).ok()) else { return Ok(None) };
    Ok(Some(Review { verdict: v, by: r.get(i + 1)?, at_ms: r.get(i + 2)?, note: r.get(i + 3)? }))
}

/// One rule's calibration so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationFigures {
    pub camera: String,
    pub rule: String,
    pub alerts: u64,
    pub right: u64,
    pub wrong: u64,
    pub unreviewed: u64,
    pub precision: Option<f64>,
    pub false_alarms_per_camera_day: Option<f64>,
    pub first_ms: Option<UnixMs>,
    pub last_ms: Option<UnixMs>,
    /// Days from the first calibration alert to the end of the period (at least one hour).
    pub span_days: f64,
    /// `rule@version` of the alerts counted.
    pub rule_versions: Vec<String>,
}

const MIN_SPAN_DAYS: f64 = 1.0 / 24.0;

impl CalibrationFigures {
    fn from_rows(camera: &str, rule: &str, rows: &[(Option<String>, UnixMs, u32)], until: UnixMs) -> Self {
        let mut f = CalibrationFigures {
            camera: camera.into(),
            rule: rule.into(),
            alerts: rows.len() as u64,
            right: 0,
            wrong: 0,
            unreviewed: 0,
            precision: None,
            false_alarms_per_camera_day: None,
            first_ms: rows.iter().map(|r| r.1).min(),
            last_ms: rows.iter().map(|r| r.1).max(),
            span_days: 0.0,
            rule_versions: Vec::new(),
        };
        let mut versions = std::collections::BTreeSet::new();
        for (review, _, version) in rows {
            versions.insert(format!("{rule}@{version}"));
            match review.as_deref() {
                Some("right") => f.right += 1,
                Some("wrong") => f.wrong += 1,
                _ => f.unreviewed += 1,
            }
        }
        f.rule_versions = versions.into_iter().collect();
        let marked = f.right + f.wrong;
        f.precision = (marked > 0).then(|| f.right as f64 / marked as f64);
        if let Some(first) = f.first_ms {
            f.span_days = (until.ms_since(first).max(0) as f64 / 86_400_000.0).max(MIN_SPAN_DAYS);
            f.false_alarms_per_camera_day = (marked > 0).then(|| f.wrong as f64 / f.span_days);
        }
        f
    }
}

impl Store {
    /// Marks a calibration alert right or wrong (a later mark replaces an earlier one; both are
    /// in the trail). Live alerts are refused: operators decide those.
    pub fn review(&self, id: &str, actor: &str, verdict: Verdict, note: Option<&str>) -> Result<crate::Alert> {
        let note = match note.map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(FreeText::parse("review note", "note", t)?.into_string()),
        };
        let now = self.now_ms();
        let mut conn = self.conn.lock();
        let tx = conn.transaction().db()?;
        let (mode, before): (String, Option<String>) = tx
            .query_row("SELECT mode, review FROM alerts WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .db()?
            .ok_or_else(|| StoreError::NotFound(format!("no alert '{id}'")))?;
        if mode != RuleMode::Calibration.as_str() {
            return Err(StoreError::Conflict(format!(
                "alert {id} comes from a live rule: operators confirm or dismiss it, it is not reviewed"
            )));
        }
        tx.execute(
            "UPDATE alerts SET review = ?2, reviewed_by = ?3, reviewed_at_ms = ?4, review_note = ?5, updated_at_ms = ?4 \
             WHERE id = ?1",
            params![id, verdict.as_str(), actor, now, note],
        )
        .db()?;
        let details = serde_json::json!({"verdict": verdict, "previous": before, "note": note});
        append(&tx, now, actor, AuditAction::CalibrationReview, id, &details.to_string())?;
        let alert = tx
            .query_row(
                &format!("SELECT {} FROM alerts WHERE id = ?1", crate::alerts::ALERT_COLS),
                [id],
                crate::alerts::row_alert,
            )
            .db()?;
        tx.commit().db()?;
        Ok(alert)
    }

    /// The figures of one rule's calibration alerts started in `[from, until)` (`from` = `None`:
    /// since the first).
    pub fn calibration_figures(
        &self,
        camera: &str,
        rule: &str,
        from: Option<UnixMs>,
        until: UnixMs,
    ) -> Result<CalibrationFigures> {
        let conn = self.conn.lock();
        let mut st = conn
            .prepare(
                "SELECT review, started_at_ms, rule_version FROM alerts WHERE mode = 'calibration' AND camera = ?1 \
                 AND rule = ?2 AND (?3 IS NULL OR started_at_ms >= ?3) AND started_at_ms < ?4",
            )
            .db()?;
        let rows = st
            .query_map(params![camera, rule, from, until], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        Ok(CalibrationFigures::from_rows(camera, rule, &rows, until))
    }

    /// Figures of every rule with calibration alerts started in `[from, to)`, by camera and rule.
    pub fn calibration_report(&self, from: UnixMs, to: UnixMs) -> Result<Vec<CalibrationFigures>> {
        let pairs: Vec<(String, String)> = {
            let conn = self.conn.lock();
            let mut st = conn
                .prepare(
                    "SELECT DISTINCT camera, rule FROM alerts WHERE mode = 'calibration' AND started_at_ms >= ?1 \
                     AND started_at_ms < ?2 ORDER BY camera, rule",
                )
                .db()?;
            let rows = st.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?))).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()?
        };
        pairs.iter().map(|(c, r)| self.calibration_figures(c, r, Some(from), to)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(Option<&str>, i64)]) -> Vec<(Option<String>, UnixMs, u32)> {
        v.iter().map(|(r, t)| (r.map(String::from), UnixMs(*t), 1)).collect()
    }

    #[test]
    fn precision_and_false_alarms_follow_the_marks() {
        let day = 86_400_000;
        let f = CalibrationFigures::from_rows(
            "cam",
            "r",
            &rows(&[(Some("right"), 0), (Some("wrong"), day), (Some("wrong"), day), (None, 2 * day)]),
            UnixMs(4 * day),
        );
        assert_eq!((f.alerts, f.right, f.wrong, f.unreviewed), (4, 1, 2, 1));
        assert!((f.precision.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert!((f.span_days - 4.0).abs() < 1e-9);
        assert!((f.false_alarms_per_camera_day.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(f.rule_versions, ["r@1"]);
    }

    #[test]
    fn nothing_marked_gives_no_figures_and_a_short_span_is_not_extrapolated() {
        let f = CalibrationFigures::from_rows("cam", "r", &rows(&[(None, 0)]), UnixMs(1000));
        assert_eq!((f.precision, f.false_alarms_per_camera_day), (None, None));
        let g = CalibrationFigures::from_rows("cam", "r", &rows(&[(Some("wrong"), 0)]), UnixMs(1000));
        assert!((g.false_alarms_per_camera_day.unwrap() - 24.0).abs() < 1e-9, "one hour at least");
        let e = CalibrationFigures::from_rows("cam", "r", &[], UnixMs(1000));
        assert_eq!((e.alerts, e.first_ms, e.span_days), (0, None, 0.0));
    }
}
