//! Alert queue, live feed, detail, evidence (snapshot, clip), decisions, shared work (who holds an
//! alert), bulk dismissal and unmasking.

use super::{audit, blocking, now_ms, AppState, Body, Ctx, St, Q};
use crate::error::ApiError;
use crate::hub::{FeedId, HubMessage};
use crate::providers::{Clip, ClipError, ClipRequest};
use crate::routes::Perm;
use crate::view::AlertView;
use axum::extract::{Extension, FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use vigie_core::{AuditAction, UnixMs};
use vigie_store::{Alert, AlertAction, AlertQuery, AlertState, Decision, DismissReason, HoldChange, UnmaskGrant};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    state: Option<String>,
    /// Only new, confirmed or dispatched.
    open: Option<bool>,
    camera: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct AlertList {
    alerts: Vec<AlertView>,
}

pub(crate) async fn list(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<ListQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let query = AlertQuery {
        state: q.state.as_deref().map(AlertState::parse).transpose()?,
        open_only: q.open.unwrap_or(false),
        camera: q.camera.clone(),
        since_ms: q.from.as_deref().map(|s| super::parse_time("from", s)).transpose()?,
        until_ms: q.to.as_deref().map(|s| super::parse_time("to", s)).transpose()?,
        limit: q.limit.unwrap_or(200),
        // Other sectors' alerts are not even counted.
        cameras: ctx.scope.cameras(),
        calibration: false,
    };
    let s = st.alerts.clone();
    let alerts = blocking(move || s.alerts(&query).map_err(ApiError::from)).await?;
    let d = serde_json::json!({"state": q.state, "open": q.open, "camera": q.camera, "count": alerts.len()});
    audit(&st, &ctx.user.username, AuditAction::AlertsList, "alerts", d).await?;
    Ok(Json(AlertList { alerts: alerts.iter().map(AlertView::from_alert).collect() }))
}

/// Where a console resumes its feed: `Last-Event-ID` (sent by the browser's EventSource when it
/// reconnects by itself) or `?last_event_id=` (a feed the page reopens).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamQuery {
    last_event_id: Option<String>,
}

/// How often an idle feed sends a `heartbeat` event: a console that hears nothing for a few of
/// these knows its connection is dead even when no error reaches it (a cable pulled, a NAT
/// forgetting the connection).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);

/// How soon the browser's EventSource retries after the stream breaks (its default is 3 s).
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The id a console resumes from; the header wins, since the browser keeps it current while a
/// reopened page's query string is fixed.
fn resume_point(headers: &HeaderMap, q: &StreamQuery) -> Result<Option<FeedId>, ApiError> {
    let header = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str().map_err(|_| ApiError::bad_request("the Last-Event-ID header is not readable text"))?.to_string(),
        ),
    };
    let (what, id) = match (header, &q.last_event_id) {
        (Some(h), _) if !h.trim().is_empty() => ("the Last-Event-ID header", h),
        (_, Some(p)) if !p.trim().is_empty() => ("last_event_id", p.clone()),
        _ => return Ok(None),
    };
    super::max_len(what, &id, 64)?;
    FeedId::parse(what, &id).map(Some).map_err(ApiError::bad_request)
}

/// Server-Sent Events. Every alert message carries an `id:`; a console that reconnects with the
/// last one it saw first gets what it missed (replayed from the hub's ring, same sector rules),
/// or `resync` when the ring no longer covers the cut (or the node restarted): it must reload the
/// list. Then `ready` (with the feed's position as id), then `alert` (new) and `update` (changed),
/// each carrying an [`AlertView`], `resync` again if this client falls behind, and a `heartbeat`
/// when nothing else was sent for [`HEARTBEAT`]. The stream ends with the session: expiry,
/// logout, the user disabled or their password changed, within seconds (see `streams`), and when
/// the server stops.
pub(crate) async fn stream(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    Q(q): Q<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let last = resume_point(&headers, &q)?;
    let sub = st.hub.subscribe_from(last.as_ref());
    let reviewer = Perm::CalibrationReview.allowed(ctx.user.role);
    let scope = ctx.scope.clone();
    // Other sectors' alerts never reach this console, nor calibration alerts a non-reviewer's.
    let visible = move |m: &HubMessage| scope.can_see(&m.camera) && (reviewer || !m.is_calibration());
    let replay: Vec<SseEvent> = sub.replay.iter().filter(|m| visible(m)).map(|m| message_event(m)).collect();
    let d = serde_json::json!({
        "resumed_from": last.as_ref().map(ToString::to_string),
        "replayed": replay.len(),
        "resync": sub.gap,
    });
    audit(&st, &ctx.user.username, AuditAction::AlertsStream, "alerts", d).await?;
    let remaining = Duration::from_millis(ctx.expires_at_ms.ms_since(now_ms(&st)).max(0) as u64);
    let replayed = replay.len();
    let mut first = replay;
    if let Some(why) = sub.gap {
        first.push(SseEvent::default().event("resync").data(serde_json::json!({ "reason": why }).to_string()));
    }
    let ready = serde_json::json!({"replayed": replayed, "resync": sub.gap.is_some()});
    first.push(
        SseEvent::default().event("ready").id(sub.position.to_string()).retry(RECONNECT_AFTER).data(ready.to_string()),
    );
    let first = futures::stream::iter(first.into_iter().map(Ok));
    let feed = futures::stream::unfold((sub.rx, visible), move |(mut rx, visible)| async move {
        let ev = loop {
            match rx.recv().await {
                Ok(m) if !visible(&m) => continue,
                Ok(m) => break message_event(&m),
                Err(RecvError::Lagged(n)) => {
                    break SseEvent::default().event("resync").data(format!("{{\"missed\":{n}}}"))
                }
                Err(RecvError::Closed) => return None,
            }
        };
        Some((Ok(ev), (rx, visible)))
    });
    let ended = super::streams::session_ended(st.clone(), ctx.token.clone(), &ctx.user.username, remaining);
    let stream = first.chain(feed).take_until(ended);
    let heartbeat = SseEvent::default().event("heartbeat").data("{}");
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).event(heartbeat)))
}

fn message_event(m: &HubMessage) -> SseEvent {
    SseEvent::default().event(m.kind).id(m.id.as_str()).data(m.json.as_str())
}

fn clip_window(st: &AppState, a: &Alert) -> (UnixMs, UnixMs) {
    let from = a.started_at_ms.saturating_sub(Duration::from_secs(st.cfg.clip_before_s as u64));
    let end = a.ended_at_ms.unwrap_or(a.started_at_ms.max(a.updated_at_ms)).max(a.started_at_ms);
    // A long event is shown from its start; two minutes is what an operator watches.
    let to = end
        .saturating_add(Duration::from_secs(st.cfg.clip_after_s as u64))
        .min(from.saturating_add(Duration::from_secs(120)));
    (from, to)
}

/// The alert, if it exists and the caller's sectors cover its camera; an alert of another
/// sector answers as one that does not exist (and the attempt is recorded).
async fn load(st: &Arc<AppState>, ctx: &Ctx, id: &str) -> Result<Alert, ApiError> {
    let (s, i) = (st.alerts.clone(), id.to_string());
    let a = blocking(move || s.alert(&i).map_err(ApiError::from)).await?;
    super::require_visible(st, ctx, &a.camera, id, ApiError::not_found(format!("no alert '{id}'"))).await?;
    Ok(a)
}

/// An alert this caller may see: calibration alerts exist only for their reviewers (for anyone
/// else, as for an unknown id, 404).
pub(crate) async fn load_for(st: &Arc<AppState>, ctx: &Ctx, id: &str) -> Result<Alert, ApiError> {
    let a = load(st, ctx, id).await?;
    if a.mode.is_calibration() && !Perm::CalibrationReview.allowed(ctx.user.role) {
        return Err(ApiError::not_found(format!("no alert '{id}'")));
    }
    Ok(a)
}

#[derive(Serialize)]
pub(crate) struct ClipWindow {
    from_ms: UnixMs,
    to_ms: UnixMs,
}

/// What the detail panel needs: the alert, its history, the caller's grant, the footage window
/// and the reasons a dismissal can give.
#[derive(Serialize)]
pub(crate) struct AlertDetail {
    alert: AlertView,
    decisions: Vec<Decision>,
    unmask: Option<UnmaskGrant>,
    clip: ClipWindow,
    dismiss_reasons: Vec<&'static str>,
}

pub(crate) async fn detail(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<AlertDetail>, ApiError> {
    let a = load_for(&st, &ctx, &id).await?;
    let (s, i, u) = (st.alerts.clone(), id.clone(), ctx.user.username.clone());
    let (decisions, grant) = blocking(move || {
        Ok((s.decisions(&i).map_err(ApiError::from)?, s.active_unmask(&i, &u).map_err(ApiError::from)?))
    })
    .await?;
    audit(&st, &ctx.user.username, AuditAction::AlertView, &id, serde_json::json!({})).await?;
    let (from, to) = clip_window(&st, &a);
    Ok(Json(AlertDetail {
        alert: AlertView::from_alert(&a),
        decisions,
        unmask: grant,
        clip: ClipWindow { from_ms: from, to_ms: to },
        dismiss_reasons: DismissReason::ALL.iter().map(|r| r.as_str()).collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceQuery {
    unmasked: Option<bool>,
    /// Clips only: the camera's own resolution (archive) rather than the instant reduced buffer.
    full: Option<bool>,
}

/// Unblurred evidence needs the unmask right and a grant of this user for this alert in force.
/// The reason of the caller's unmask grant in force for this alert, or a refusal.
async fn check_unmasked(st: &Arc<AppState>, ctx: &Ctx, id: &str) -> Result<String, ApiError> {
    if !Perm::Unmask.allowed(ctx.user.role) {
        let d = serde_json::json!({"role": ctx.user.role, "needs": "unmask"});
        audit(st, &ctx.user.username, AuditAction::AccessDenied, id, d).await?;
        return Err(ApiError::forbidden(format!("role {} may not see unblurred evidence", ctx.user.role)));
    }
    let (s, i, u) = (st.alerts.clone(), id.to_string(), ctx.user.username.clone());
    let grant = blocking(move || s.active_unmask(&i, &u).map_err(ApiError::from)).await?;
    match grant {
        Some(g) => Ok(g.reason),
        None => Err(ApiError::forbidden(format!(
            "no unmask grant in force for alert {id}: request one with a reason (POST /api/alerts/{{id}}/unmask)"
        ))),
    }
}

fn private_image(bytes: Vec<u8>, content_type: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    r
}

pub(crate) async fn snapshot(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Q(q): Q<EvidenceQuery>,
) -> Result<Response, ApiError> {
    let unmasked = q.unmasked.unwrap_or(false);
    load_for(&st, &ctx, &id).await?;
    if unmasked {
        check_unmasked(&st, &ctx, &id).await?;
    }
    let (s, i) = (st.alerts.clone(), id.clone());
    let jpeg = blocking(move || s.snapshot(&i, unmasked).map_err(ApiError::from)).await?;
    audit(&st, &ctx.user.username, AuditAction::AlertSnapshotView, &id, serde_json::json!({"unmasked": unmasked}))
        .await?;
    Ok(private_image(jpeg, "image/jpeg"))
}

pub(crate) async fn clip(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Q(q): Q<EvidenceQuery>,
) -> Result<Response, ApiError> {
    let unmasked = q.unmasked.unwrap_or(false);
    let a = load_for(&st, &ctx, &id).await?;
    let reason = if unmasked { Some(check_unmasked(&st, &ctx, &id).await?) } else { None };
    let (from, to) = clip_window(&st, &a);
    let full = q.full.unwrap_or(false);
    let resp = serve_clip(&st, &a.camera, from, to, &ctx.user.username, reason, full).await?;
    let d = serde_json::json!({"unmasked": unmasked, "camera": a.camera, "from_ms": from, "to_ms": to});
    audit(&st, &ctx.user.username, AuditAction::AlertClipView, &id, d).await?;
    Ok(resp)
}

/// One of the `max_concurrent_exports` slots every footage export holds while it runs, or 503
/// with Retry-After when all are taken.
pub(crate) fn export_permit(st: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    st.exports.clone().try_acquire_owned().map_err(|_| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the node is already producing {} clip(s): try again in a few seconds",
                st.cfg.max_concurrent_exports
            ),
        );
        e.retry_after_s = Some(5);
        e
    })
}

/// Serves footage, blurred unless `unmask_reason` is given (the caller has checked the right),
/// at the camera's own resolution when `full_resolution` and the archive holds it.
pub(crate) async fn serve_clip(
    st: &Arc<AppState>,
    camera: &str,
    from: UnixMs,
    to: UnixMs,
    actor: &str,
    unmask_reason: Option<String>,
    full_resolution: bool,
) -> Result<Response, ApiError> {
    Ok(match produce_clip(st, camera, from, to, actor, unmask_reason, full_resolution).await? {
        Clip::Video { content_type, bytes } => private_image(bytes, &content_type),
        Clip::Frames { fps, jpegs } => mjpeg(jpegs, fps, st.feeds.stopping()),
    })
}

/// Makes footage, blurred unless `unmask_reason` is given (the caller has checked the right).
/// At most `max_concurrent_exports` at once (503 with Retry-After beyond), each stopped when its
/// client goes away or after `export_budget_s`.
pub(crate) async fn produce_clip(
    st: &Arc<AppState>,
    camera: &str,
    from: UnixMs,
    to: UnixMs,
    actor: &str,
    unmask_reason: Option<String>,
    full_resolution: bool,
) -> Result<Clip, ApiError> {
    let permit = export_permit(st)?;
    let budget = Duration::from_secs(st.cfg.export_budget_s as u64);
    let stop = vigie_core::StopToken::new(Some(budget));
    // Dropped with this future when the client disconnects: the export stops at its next frame.
    let _cancel = stop.cancel_on_drop();
    let (clips, cam, actor) = (st.clips.clone(), camera.to_string(), actor.to_string());
    blocking(move || {
        // Held by the work itself, so a slot frees only once the export has really stopped.
        let _permit = permit;
        let req = ClipRequest {
            camera: &cam,
            from_ms: from,
            to_ms: to,
            blurred: unmask_reason.is_none(),
            actor: &actor,
            reason: unmask_reason.as_deref(),
            stop: &stop,
            full_resolution,
        };
        clips.clip(&req).map_err(|e| match e {
            ClipError::NotAvailable(m) => ApiError::not_found(m),
            ClipError::Failed(m) => ApiError::internal(format!("clip could not be produced: {m}")),
            ClipError::Stopped(s) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("clip {s} (server.export_budget_s): ask for a shorter time range"),
            ),
        })
    })
    .await
}

/// Plays buffered pictures as `multipart/x-mixed-replace` (MJPEG), which an `<img>` shows as video,
/// until the last one or the server's stop.
fn mjpeg(jpegs: Vec<Vec<u8>>, fps: f32, stopping: impl std::future::Future<Output = ()> + Send + 'static) -> Response {
    const BOUNDARY: &str = "vigieframe";
    let period = Duration::from_secs_f32(1.0 / fps.clamp(0.1, 30.0));
    let n = jpegs.len();
    let parts = futures::stream::iter(jpegs.into_iter().enumerate()).then(move |(i, j)| async move {
        if i > 0 {
            tokio::time::sleep(period).await;
        }
        let mut part =
            format!("--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", j.len()).into_bytes();
        part.extend_from_slice(&j);
        part.extend_from_slice(b"\r\n");
        if i + 1 == n {
            part.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        }
        Ok::<_, Infallible>(bytes::Bytes::from(part))
    });
    let mut r = axum::body::Body::from_stream(parts.take_until(stopping)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("multipart/x-mixed-replace; boundary=vigieframe"));
    // The player steps and seeks by picture: their times are their rank over this rate.
    if let Ok(v) = HeaderValue::from_str(&format!("{fps}")) {
        h.insert("x-frame-rate", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    r
}

async fn act(st: &Arc<AppState>, ctx: &Ctx, id: String, action: AlertAction) -> Result<Json<AlertView>, ApiError> {
    load_for(st, ctx, &id).await?;
    let (s, actor) = (st.alerts.clone(), ctx.user.username.clone());
    let alert = blocking(move || s.act(&id, &actor, &action).map_err(ApiError::from)).await?;
    st.hub.announce_update(&alert);
    Ok(Json(AlertView::from_alert(&alert)))
}

pub(crate) async fn confirm(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    act(&st, &ctx, id, AlertAction::Confirm).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DismissReq {
    reason: String,
    text: Option<String>,
}

pub(crate) async fn dismiss(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<DismissReq>,
) -> Result<Json<AlertView>, ApiError> {
    let reason = DismissReason::parse(&req.reason)?;
    act(&st, &ctx, id, AlertAction::Dismiss { reason, text: req.text }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DispatchReq {
    unit: String,
}

pub(crate) async fn dispatch(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<DispatchReq>,
) -> Result<Json<AlertView>, ApiError> {
    act(&st, &ctx, id, AlertAction::Dispatch { unit: req.unit }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveReq {
    note: String,
}

pub(crate) async fn resolve(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<ResolveReq>,
) -> Result<Json<AlertView>, ApiError> {
    act(&st, &ctx, id, AlertAction::Resolve { note: req.note }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnmaskReq {
    reason: String,
}

#[derive(Serialize)]
pub(crate) struct Unmasked {
    grant: UnmaskGrant,
    snapshot_url: String,
    clip_url: String,
}

pub(crate) async fn unmask(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<UnmaskReq>,
) -> Result<(StatusCode, Json<Unmasked>), ApiError> {
    load(&st, &ctx, &id).await?;
    let ttl = Duration::from_secs(st.cfg.unmask_minutes as u64 * 60);
    let (s, i, u) = (st.alerts.clone(), id.clone(), ctx.user.username.clone());
    let grant = blocking(move || s.grant_unmask(&i, &u, &req.reason, ttl).map_err(ApiError::from)).await?;
    let base = format!("/api/alerts/{}", crate::view::url_id(&id));
    Ok((
        StatusCode::CREATED,
        Json(Unmasked {
            grant,
            snapshot_url: format!("{base}/snapshot?unmasked=true"),
            clip_url: format!("{base}/clip?unmasked=true"),
        }),
    ))
}

/// A JSON body that may be left out (an empty body without Content-Type reads as the default);
/// anything else is read as [`Body`] is, with its errors.
pub(crate) struct OptionalBody<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return Body::<T>::from_request(req, state).await.map(|b| OptionalBody(b.0));
        }
        let bytes =
            bytes::Bytes::from_request(req, state).await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if bytes.is_empty() {
            Ok(OptionalBody(T::default()))
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a JSON body with Content-Type: application/json",
            ))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TakeReq {
    /// Take an alert another operator holds (audited with them); without it, 409 naming them.
    #[serde(default)]
    takeover: bool,
}

/// Answers a take or release, and tells every console when the holder changed.
fn held(st: &AppState, ch: HoldChange) -> Json<AlertView> {
    if ch.changed {
        st.hub.announce_update(&ch.alert);
    }
    Json(AlertView::from_alert(&ch.alert))
}

pub(crate) async fn take(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    OptionalBody(req): OptionalBody<TakeReq>,
) -> Result<Json<AlertView>, ApiError> {
    load_for(&st, &ctx, &id).await?;
    let (s, actor) = (st.alerts.clone(), ctx.user.username.clone());
    let ch = blocking(move || s.take(&id, &actor, req.takeover).map_err(ApiError::from)).await?;
    Ok(held(&st, ch))
}

pub(crate) async fn release(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    load_for(&st, &ctx, &id).await?;
    let (s, actor) = (st.alerts.clone(), ctx.user.username.clone());
    let ch = blocking(move || s.release(&id, &actor).map_err(ApiError::from)).await?;
    Ok(held(&st, ch))
}

/// At most this many alerts per bulk dismissal: a screenful of duplicates, not the whole history.
pub(crate) const MAX_BULK_DISMISS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkDismissReq {
    ids: Vec<String>,
    reason: String,
    text: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct BulkRefusal {
    id: String,
    error: String,
}

#[derive(Serialize)]
pub(crate) struct BulkDismissed {
    dismissed: Vec<String>,
    refused: Vec<BulkRefusal>,
}

/// Dismisses many alerts with one reason. Each is dismissed and audited exactly as one dismissal
/// (same state and hold rules); those refused are listed with why, the others go ahead.
pub(crate) async fn dismiss_many(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Body(req): Body<BulkDismissReq>,
) -> Result<Json<BulkDismissed>, ApiError> {
    if req.ids.is_empty() {
        return Err(ApiError::bad_request("'ids' is empty: name the alerts to dismiss"));
    }
    if req.ids.len() > MAX_BULK_DISMISS {
        return Err(ApiError::bad_request(format!(
            "'ids' names {} alerts: at most {MAX_BULK_DISMISS} per call",
            req.ids.len()
        )));
    }
    let reason = DismissReason::parse(&req.reason)?;
    let action = AlertAction::Dismiss { reason, text: req.text };
    // A bad text is the same mistake for every alert: refused once, before any is touched.
    action.checked_texts()?;
    let mut seen = std::collections::HashSet::new();
    let mut ids = req.ids;
    ids.retain(|id| seen.insert(id.clone()));
    let mut refused = Vec::new();
    let mut visible = Vec::with_capacity(ids.len());
    for id in ids {
        // Other sectors' alerts answer as unknown ones, and the attempt is recorded.
        match load_for(&st, &ctx, &id).await {
            Ok(_) => visible.push(id),
            Err(e) => refused.push(BulkRefusal { id, error: e.message }),
        }
    }
    let (s, actor) = (st.alerts.clone(), ctx.user.username.clone());
    let results = blocking(move || {
        Ok(visible
            .into_iter()
            .map(|id| {
                let r = s.act(&id, &actor, &action);
                (id, r)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let mut dismissed = Vec::new();
    for (id, r) in results {
        match r {
            Ok(a) => {
                st.hub.announce_update(&a);
                dismissed.push(id);
            }
            Err(e) => refused.push(BulkRefusal { id, error: ApiError::from(e).message }),
        }
    }
    Ok(Json(BulkDismissed { dismissed, refused }))
}
