//! Rules in calibration: the supervisors' review queue, each rule's figures, and the admin's
//! switch to live, which records those figures in the audit trail.
//!
//! A rule's mode lives in the configuration (`mode = "calibration"`); going live is a
//! configuration change like any other (validated, applied to the running camera, written back
//! to the file, version bumped), made through the node's [`crate::ConfigAdmin`].

use super::{audit, blocking, now_ms, Body, Ctx, St, Q};
use crate::error::ApiError;
use crate::view::AlertView;
use axum::extract::{Extension, Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use vigie_core::AuditAction;
use vigie_store::{AlertQuery, CalibrationFigures, Verdict};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    camera: Option<String>,
    /// Only alerts not marked yet.
    unreviewed: Option<bool>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct CalibrationAlerts {
    alerts: Vec<AlertView>,
}

/// The review queue: calibration alerts, newest first among the unmarked.
pub(crate) async fn alerts(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<ListQuery>,
) -> Result<Json<CalibrationAlerts>, ApiError> {
    let query = AlertQuery {
        camera: q.camera.clone(),
        limit: q.limit.unwrap_or(200),
        calibration: true,
        cameras: ctx.scope.cameras(),
        ..AlertQuery::default()
    };
    let s = st.alerts.clone();
    let mut alerts = blocking(move || s.alerts(&query).map_err(ApiError::from)).await?;
    if q.unreviewed.unwrap_or(false) {
        alerts.retain(|a| a.review.is_none());
    }
    // Unmarked first, so the queue empties from the top.
    alerts.sort_by_key(|a| (a.review.is_some(), std::cmp::Reverse(a.started_at_ms)));
    let d = serde_json::json!({"camera": q.camera, "count": alerts.len()});
    audit(&st, &ctx.user.username, AuditAction::CalibrationList, "calibration", d).await?;
    Ok(Json(CalibrationAlerts { alerts: alerts.iter().map(AlertView::from_alert).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewReq {
    /// `right` or `wrong`.
    verdict: String,
    note: Option<String>,
}

pub(crate) async fn review(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<ReviewReq>,
) -> Result<Json<AlertView>, ApiError> {
    let verdict = Verdict::parse(&req.verdict)?;
    // Another sector's alert, or a live one hidden from this role, is not found.
    super::alerts::load_for(&st, &ctx, &id).await?;
    let (s, actor) = (st.alerts.clone(), ctx.user.username.clone());
    let alert = blocking(move || s.review(&id, &actor, verdict, req.note.as_deref()).map_err(ApiError::from)).await?;
    st.hub.announce_update(&alert);
    Ok(Json(AlertView::from_alert(&alert)))
}

/// A rule of the configuration in calibration, with its figures so far.
#[derive(Serialize)]
pub(crate) struct CalibratingRule {
    camera: String,
    rule: String,
    #[serde(rename = "type")]
    event_type: String,
    version: u64,
    legal_basis: Option<String>,
    figures: CalibrationFigures,
}

#[derive(Serialize)]
pub(crate) struct CalibratingRules {
    rules: Vec<CalibratingRule>,
    /// How the figures are computed, for whoever reads them.
    definitions: &'static str,
}

const DEFINITIONS: &str = "precision = right / (right + wrong); false alarms per camera-day = wrong / days from the \
     rule's first calibration alert until now (at least one hour); unreviewed alerts count in neither";

/// The rules in calibration mode, from the configuration in force: `(camera, rule json)`.
fn calibrating(cfg: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for cam in cfg.get("cameras").and_then(|c| c.as_array()).into_iter().flatten() {
        let Some(id) = cam.get("id").and_then(|v| v.as_str()) else { continue };
        for r in cam.get("rules").and_then(|r| r.as_array()).into_iter().flatten() {
            if r.get("mode").and_then(|m| m.as_str()) == Some("calibration") {
                out.push((id.to_string(), r.clone()));
            }
        }
    }
    out
}

pub(crate) async fn rules(State(st): St, Extension(ctx): Extension<Ctx>) -> Result<Json<CalibratingRules>, ApiError> {
    let admin = st.config_admin.clone();
    let cfg = blocking(move || Ok(admin.map(|a| a.current()).unwrap_or_default())).await?;
    // Up to and including alerts raised this very millisecond.
    let now = now_ms(&st).saturating_add(std::time::Duration::from_millis(1));
    let mut rules = Vec::new();
    for (camera, r) in calibrating(&cfg).into_iter().filter(|(c, _)| ctx.scope.can_see(c)) {
        let rule = r.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let (s, c, id) = (st.alerts.clone(), camera.clone(), rule.clone());
        let figures = blocking(move || s.calibration_figures(&c, &id, None, now).map_err(ApiError::from)).await?;
        rules.push(CalibratingRule {
            camera,
            rule,
            event_type: r.get("type").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
            version: r.get("version").and_then(|v| v.as_u64()).unwrap_or(1),
            legal_basis: r.get("legal_basis").and_then(|v| v.as_str()).map(str::to_string),
            figures,
        });
    }
    let d = serde_json::json!({"rules": rules.len()});
    audit(&st, &ctx.user.username, AuditAction::CalibrationList, "calibration.rules", d).await?;
    Ok(Json(CalibratingRules { rules, definitions: DEFINITIONS }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoLiveReq {
    /// Why the figures are good enough (kept in the trail with them).
    reason: String,
}

#[derive(Serialize)]
pub(crate) struct WentLive {
    camera: String,
    rule: String,
    version: u64,
    figures: CalibrationFigures,
}

/// Sets a calibrated rule live: its mode becomes live and its version is bumped (alerts from now
/// on say which version raised them), and the trail records the figures it was judged on.
pub(crate) async fn go_live(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path((camera, rule)): Path<(String, String)>,
    Body(req): Body<GoLiveReq>,
) -> Result<Json<WentLive>, ApiError> {
    let reason = vigie_store::FreeText::parse("reason for going live", "reason", &req.reason)?.into_string();
    let unknown = ApiError::not_found(format!("no rule '{rule}' on camera '{camera}'"));
    super::require_visible(&st, &ctx, &camera, &format!("{camera}/{rule}"), unknown).await?;
    let admin =
        st.config_admin.clone().ok_or_else(|| ApiError::not_found("configuration is not editable on this node"))?;
    let a = admin.clone();
    let mut cfg = blocking(move || Ok(a.current())).await?;
    let Some(r) = cfg
        .get_mut("cameras")
        .and_then(|c| c.as_array_mut())
        .and_then(|cams| cams.iter_mut().find(|c| c.get("id").and_then(|v| v.as_str()) == Some(camera.as_str())))
        .and_then(|c| c.get_mut("rules"))
        .and_then(|r| r.as_array_mut())
        .and_then(|rules| rules.iter_mut().find(|r| r.get("id").and_then(|v| v.as_str()) == Some(rule.as_str())))
    else {
        return Err(ApiError::not_found(format!("no rule '{rule}' on camera '{camera}'")));
    };
    if r.get("mode").and_then(|m| m.as_str()) != Some("calibration") {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!("rule '{rule}' of camera '{camera}' is already live"),
        ));
    }
    let from_version = r.get("version").and_then(|v| v.as_u64()).unwrap_or(1);
    let version = from_version + 1;
    if let Some(o) = r.as_object_mut() {
        o.remove("mode");
        o.insert("version".into(), version.into());
    }
    // Up to and including alerts raised this very millisecond.
    let now = now_ms(&st).saturating_add(std::time::Duration::from_millis(1));
    let (s, c, id) = (st.alerts.clone(), camera.clone(), rule.clone());
    let figures = blocking(move || s.calibration_figures(&c, &id, None, now).map_err(ApiError::from)).await?;
    let actor = ctx.user.username.clone();
    blocking(move || {
        admin.apply(&actor, cfg).map(|_| ()).map_err(|errs| {
            let mut e = ApiError::bad_request(format!(
                "the rule cannot go live: {}",
                errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
            ));
            e.errors = errs;
            e
        })
    })
    .await?;
    let d = serde_json::json!({
        "camera": camera, "rule": rule, "from_version": from_version, "version": version,
        "reason": reason, "figures": figures,
    });
    audit(&st, &ctx.user.username, AuditAction::RuleGoLive, &format!("{camera}/{rule}"), d).await?;
    Ok(Json(WentLive { camera, rule, version, figures }))
}

/// A configuration edit may put a rule into calibration but not take one out of it: going live is
/// the action above, which records the figures. Refuses naming each rule's `mode` key.
pub(crate) fn refuse_silent_go_live(before: &serde_json::Value, new: &serde_json::Value) -> Result<(), ApiError> {
    let now: Vec<(String, serde_json::Value)> = calibrating(new);
    let errors: Vec<vigie_core::ConfigError> = calibrating(before)
        .into_iter()
        .filter_map(|(camera, r)| {
            let id = r.get("id").and_then(|v| v.as_str())?.to_string();
            let still = now.iter().any(|(c, n)| *c == camera && n.get("id").and_then(|v| v.as_str()) == Some(&id));
            let kept = new
                .get("cameras")
                .and_then(|c| c.as_array())
                .and_then(|cams| cams.iter().find(|c| c.get("id").and_then(|v| v.as_str()) == Some(&camera)))
                .and_then(|c| c.get("rules"))
                .and_then(|r| r.as_array())
                .is_some_and(|rules| rules.iter().any(|r| r.get("id").and_then(|v| v.as_str()) == Some(&id)));
            (kept && !still).then(|| {
                vigie_core::ConfigError::new(
                    format!("cameras.{camera}.rules.{id}.mode"),
                    format!(
                        "a rule in calibration goes live with POST /api/calibration/rules/{camera}/{id}/live \
                         (console: Calibration), which records its figures"
                    ),
                )
            })
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut e = ApiError::bad_request(format!(
        "configuration refused: {}",
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
    ));
    e.errors = errors;
    Err(e)
}
