//! Legal holds (`/api/holds`): footage requisitioned for a procedure, kept past retention until
//! released or expired, and exportable unblurred for that hold only. The rules live with the
//! footage ([`vigie_footage::Archive::place_hold`] and neighbours); this module is the HTTP
//! edge: parse, call, audit the reads, map errors.
//!
//! Supervisors and admins place, release and export; auditors (the oversight board) read the
//! list and each hold, never the footage.

use super::{audit, blocking, parse_time, Body, Ctx, St, Q};
use crate::error::ApiError;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::AuditAction;
use vigie_footage::{Archive, ArchiveError, Hold, NewHold, MAX_HOLD_CAMERAS};

/// Longest camera id accepted in a hold (as elsewhere in the API).
const MAX_CAMERA_CHARS: usize = 128;

pub(crate) fn archive_error(e: ArchiveError) -> ApiError {
    match e {
        ArchiveError::BadRequest(m) => ApiError::bad_request(m),
        ArchiveError::NotFound(m) => ApiError::not_found(m),
        ArchiveError::Stopped(s) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("export {s} (server.export_budget_s): ask for a shorter time range"),
        ),
        other => {
            tracing::error!(error = %other, "legal hold");
            ApiError::internal(other.to_string())
        }
    }
}

fn archive(st: &super::AppState) -> Result<Arc<Archive>, ApiError> {
    st.holds.clone().ok_or_else(|| ApiError::not_found("no footage archive on this node: nothing can be held"))
}

/// A path id that is not a number names no hold (404, like an unknown number).
fn hold_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found(format!("no hold '{}'", super::anon::cap(id, 64))))
}

#[derive(Serialize)]
pub(crate) struct HoldList {
    holds: Vec<Hold>,
}

pub(crate) async fn list(State(st): St, Extension(ctx): Extension<Ctx>) -> Result<Json<HoldList>, ApiError> {
    let a = archive(&st)?;
    let mut holds = blocking(move || a.holds().map_err(archive_error)).await?;
    // A hold is shown to those who see all of its cameras.
    holds.retain(|h| h.cameras.iter().all(|c| ctx.scope.can_see(c)));
    let d = serde_json::json!({"count": holds.len()});
    audit(&st, &ctx.user.username, AuditAction::HoldView, "holds", d).await?;
    Ok(Json(HoldList { holds }))
}

/// Another sector's hold answers as an unknown one (and the attempt is audited).
async fn visible(st: &std::sync::Arc<super::AppState>, ctx: &Ctx, hold: &Hold) -> Result<(), ApiError> {
    for c in &hold.cameras {
        let unknown = ApiError::not_found(format!("no hold {}", hold.id));
        super::require_visible(st, ctx, c, &format!("hold/{}", hold.id), unknown).await?;
    }
    Ok(())
}

pub(crate) async fn detail(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<Hold>, ApiError> {
    let a = archive(&st)?;
    let id = hold_id(&id)?;
    let hold = blocking(move || a.hold(id).map_err(archive_error)).await?;
    visible(&st, &ctx, &hold).await?;
    audit(&st, &ctx.user.username, AuditAction::HoldView, &format!("hold/{id}"), serde_json::json!({"id": id})).await?;
    Ok(Json(hold))
}

/// `POST /api/holds`. Every field is optional here so that a missing one is named in the
/// answer ("reference: required") rather than in serde's words.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaceBody {
    cameras: Option<Vec<String>>,
    from: Option<String>,
    to: Option<String>,
    reference: Option<String>,
    reason: Option<String>,
    until: Option<String>,
}

fn required<'a>(name: &str, v: &'a Option<String>, what: &str) -> Result<&'a str, ApiError> {
    v.as_deref().ok_or_else(|| ApiError::bad_request(format!("{name}: required ({what})")))
}

pub(crate) async fn place(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Body(b): Body<PlaceBody>,
) -> Result<Response, ApiError> {
    let a = archive(&st)?;
    let cameras = b.cameras.clone().unwrap_or_default();
    if cameras.len() > MAX_HOLD_CAMERAS {
        return Err(ApiError::bad_request(format!("cameras: at most {MAX_HOLD_CAMERAS} per hold")));
    }
    for c in &cameras {
        super::max_len("cameras", c, MAX_CAMERA_CHARS)?;
    }
    let from = parse_time("from", required("from", &b.from, "start of the footage to keep")?)?;
    let to = parse_time("to", required("to", &b.to, "end of the footage to keep")?)?;
    let reference = required("reference", &b.reference, "the requisition's reference")?.to_string();
    let reason = required("reason", &b.reason, "why the footage must be kept")?.to_string();
    let until = b.until.as_deref().map(|u| parse_time("until", u)).transpose()?;
    let new = NewHold { cameras, from_ms: from, to_ms: to, reference, reason, until_ms: until };
    let (live, actor, scope) = (st.live.clone(), ctx.user.username.clone(), ctx.scope.clone());
    let hold = blocking(move || {
        // Another sector's camera is refused as an unknown one.
        let known: Vec<String> = live.cameras().into_iter().map(|c| c.id).filter(|c| scope.can_see(c)).collect();
        a.place_hold(&actor, &new, &known).map_err(archive_error)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(hold)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseBody {
    reason: Option<String>,
}

pub(crate) async fn release(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(b): Body<ReleaseBody>,
) -> Result<Json<Hold>, ApiError> {
    let a = archive(&st)?;
    let id = hold_id(&id)?;
    let reason = required("reason", &b.reason, "why the hold is released")?.to_string();
    let a2 = a.clone();
    let held = blocking(move || a2.hold(id).map_err(archive_error)).await?;
    visible(&st, &ctx, &held).await?;
    let actor = ctx.user.username.clone();
    let hold = blocking(move || a.release_hold(id, &actor, &reason).map_err(archive_error)).await?;
    Ok(Json(hold))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    camera: String,
    from: String,
    to: String,
}

/// The held footage of one camera, unblurred, as an MP4; its SHA-256 is in `X-Content-SHA256`
/// and recorded with the hold. Shares the clip exports' concurrency cap and time budget.
pub(crate) async fn export(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Q(q): Q<ExportQuery>,
) -> Result<Response, ApiError> {
    let a = archive(&st)?;
    let id = hold_id(&id)?;
    super::max_len("camera", &q.camera, MAX_CAMERA_CHARS)?;
    let a2 = a.clone();
    let held = blocking(move || a2.hold(id).map_err(archive_error)).await?;
    visible(&st, &ctx, &held).await?;
    let unknown = ApiError::not_found(format!("no camera '{}' in hold {id}", q.camera));
    super::require_visible(&st, &ctx, &q.camera, &format!("hold/{id}"), unknown).await?;
    let (from, to) = (parse_time("from", &q.from)?, parse_time("to", &q.to)?);
    let permit = super::alerts::export_permit(&st)?;
    let stop = vigie_core::StopToken::new(Some(Duration::from_secs(st.cfg.export_budget_s as u64)));
    let _cancel = stop.cancel_on_drop();
    let (actor, camera) = (ctx.user.username.clone(), q.camera.clone());
    let (exp, mp4) = blocking(move || {
        let _permit = permit;
        let (exp, _, mp4) = a.export_for_hold(id, &camera, from, to, &actor, &stop).map_err(archive_error)?;
        Ok((exp, mp4))
    })
    .await?;
    let mut r = mp4.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    if let Ok(v) = HeaderValue::from_str(&exp.sha256) {
        h.insert("x-content-sha256", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"hold-{id}-{}.mp4\"", exp.from.0)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The hold counts of a transparency report's period, when the node keeps footage.
pub(crate) async fn counts(
    st: &Arc<super::AppState>,
    from: vigie_core::UnixMs,
    to: vigie_core::UnixMs,
) -> Result<Option<vigie_footage::HoldCounts>, ApiError> {
    let Some(a) = st.holds.clone() else { return Ok(None) };
    blocking(move || a.hold_counts(from, to).map(Some).map_err(archive_error)).await
}
