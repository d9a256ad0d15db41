//! Camera wall, archive search, reports, audit trail, users, configuration, notification status.

use super::{audit, blocking, max_len, now_ms, parse_time, Body, Ctx, Done, St, MAX_TEXT_CHARS, Q};
use crate::error::ApiError;
use crate::notify::NotifySnapshot;
use crate::providers::{SearchFailure, SearchParams};
use crate::routes::Perm;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use vigie_core::{AuditAction, UnixMs};
use vigie_store::{AuditEntry, AuditQuery, FreeText, Role, User};

#[derive(Serialize)]
pub(crate) struct CameraList {
    cameras: Vec<CameraEntry>,
    /// The caller's sectors (every sector for a city-wide caller), for the wall's grouping.
    sectors: Vec<crate::SectorInfo>,
}

#[derive(Serialize)]
pub(crate) struct CameraEntry {
    #[serde(flatten)]
    status: crate::CameraStatus,
    /// The camera's sector id; absent for a camera in no sector.
    #[serde(skip_serializing_if = "Option::is_none")]
    sector: Option<String>,
}

/// The cameras of the caller's sectors only.
pub(crate) async fn cameras(State(st): St, Extension(ctx): Extension<Ctx>) -> Result<Json<CameraList>, ApiError> {
    let live = st.live.clone();
    let cameras = ctx.scope.filter(blocking(move || Ok(live.cameras())).await?, |c| c.id.as_str());
    let cameras = cameras
        .into_iter()
        .map(|status| CameraEntry { sector: st.sectors.sector_of(&status.id).map(String::from), status })
        .collect();
    Ok(Json(CameraList { cameras, sectors: ctx.scope.sectors() }))
}

/// The wall refreshes this about once a second; the view is audited once per user, camera and
/// `live_audit_every_min`.
pub(crate) async fn live(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no picture from camera '{id}' (unknown camera or no frame yet)"));
    super::require_visible(&st, &ctx, &id, &id, unknown()).await?;
    let (live, cam) = (st.live.clone(), id.clone());
    let jpeg = blocking(move || Ok(live.jpeg(&cam))).await?.ok_or_else(unknown)?;
    let now = st.clock.monotonic();
    let every = Duration::from_secs(st.cfg.live_audit_every_min as u64 * 60);
    let due = {
        let mut m = st.live_audited.lock();
        let key = (ctx.user.username.clone(), id.clone());
        match m.get(&key) {
            Some(t) if now.saturating_sub(*t) < every => false,
            _ => {
                m.insert(key, now);
                true
            }
        }
    };
    if due {
        let d = serde_json::json!({"audited_every_min": st.cfg.live_audit_every_min});
        if let Err(e) = audit(&st, &ctx.user.username, AuditAction::LiveView, &id, d).await {
            st.live_audited.lock().remove(&(ctx.user.username.clone(), id.clone()));
            return Err(e);
        }
    }
    let mut r = jpeg.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowQuery {
    from: String,
    to: String,
    /// Supervisors only: export without blurring, for this stated reason (e.g. a case number).
    unmask_reason: Option<String>,
    /// The camera's own resolution (archive) rather than the instant reduced buffer.
    full: Option<bool>,
}

/// Longest footage one request may ask for: what a search hit needs, and a bounded export.
pub(crate) const MAX_CLIP_MS: i64 = 600_000;

/// Recorded footage of a camera (from a search result), at most 10 minutes; blurred unless a
/// supervisor states a reason.
pub(crate) async fn camera_clip(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Q(q): Q<WindowQuery>,
) -> Result<Response, ApiError> {
    let (from, to, reason) = footage_request(&st, &ctx, &id, &q.from, &q.to, q.unmask_reason.as_deref()).await?;
    let d = serde_json::json!({"from_ms": from, "to_ms": to, "unmasked": reason.is_some(), "reason": reason});
    let full = q.full.unwrap_or(false);
    let resp = super::alerts::serve_clip(&st, &id, from, to, &ctx.user.username, reason, full).await?;
    audit(&st, &ctx.user.username, AuditAction::FootageView, &id, d).await?;
    Ok(resp)
}

/// The checks every request for a camera's recorded footage passes: a window of at most 10
/// minutes, a camera of the caller's sectors, and an unmask only for a supervisor who says why
/// (the refusal audited). Returns the window and the unmask reason.
pub(crate) async fn footage_request(
    st: &std::sync::Arc<super::AppState>,
    ctx: &Ctx,
    id: &str,
    from: &str,
    to: &str,
    unmask_reason: Option<&str>,
) -> Result<(vigie_core::UnixMs, vigie_core::UnixMs, Option<String>), ApiError> {
    let (from, to) = (parse_time("from", from)?, parse_time("to", to)?);
    let unknown = ApiError::not_found(format!("no footage of camera {id} is kept for that time"));
    super::require_visible(st, ctx, id, id, unknown).await?;
    if !to.0.checked_sub(from.0).is_some_and(|len| len > 0 && len <= MAX_CLIP_MS) {
        return Err(ApiError::bad_request(format!(
            "'to' ({to}) must be after 'from' ({from}) and at most 10 minutes later"
        )));
    }
    let reason = match unmask_reason {
        None => None,
        Some(r) if r.trim().is_empty() => {
            return Err(ApiError::bad_request("unmask_reason is empty: say why the footage must be seen unblurred"))
        }
        Some(r) => Some(FreeText::parse("unmask reason", "unmask_reason", r)?.into_string()),
    };
    if reason.is_some() && !Perm::Unmask.allowed(ctx.user.role) {
        let d = serde_json::json!({"role": ctx.user.role, "needs": "unmask", "camera": id});
        audit(st, &ctx.user.username, AuditAction::AccessDenied, id, d).await?;
        return Err(ApiError::forbidden(format!("role {} may not see unblurred footage", ctx.user.role)));
    }
    Ok((from, to, reason))
}

pub(crate) async fn search(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(mut p): Q<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let provider = st.search.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "search is not available: no archive on this node")
    })?;
    if let Some(q) = &p.q {
        max_len("q", q, MAX_TEXT_CHARS)?;
    }
    for (name, list) in [("camera", &p.camera), ("zone", &p.zone), ("class", &p.class), ("color", &p.color)] {
        for v in list {
            max_len(name, v, MAX_TEXT_CHARS)?;
        }
    }
    // Instants reach the archive as RFC 3339; dates and local times (what the console's date
    // fields send) as typed, since only the archive knows the city's time zone to read them in.
    for (name, v) in [("from", &mut p.from), ("to", &mut p.to)] {
        if let Some(s) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let civil = s.parse::<jiff::civil::Date>().is_ok() || s.parse::<jiff::civil::DateTime>().is_ok();
            *v = Some(if civil {
                max_len(name, s, super::MAX_TIME_CHARS)?;
                s.to_string()
            } else {
                parse_time(name, s)?.rfc3339()
            });
        }
    }
    // The index itself keeps to the caller's cameras, so counts and pages hold nothing else.
    let mut params = p.clone();
    params.within_cameras = ctx.scope.cameras();
    params.places = search_places(&st, &ctx).await?;
    let actor = ctx.user.username.clone();
    let result = blocking(move || {
        provider.search(&actor, &params).map_err(|e| match e {
            SearchFailure::BadQuery(m) => ApiError::bad_request(m),
            SearchFailure::Failed(m) => ApiError::internal(format!("search failed: {m}")),
        })
    })
    .await?;
    let n = result.tracks.len();
    let tracks = result
        .tracks
        .into_iter()
        .filter(|hit| ctx.scope.can_see(&hit.camera))
        .map(|hit| {
            let thumbnail_url = hit.has_thumbnail.then(|| {
                let token = thumbnail_token(&st, &ctx, &format!("{}.{}", hit.id, hit.camera));
                format!("/api/search/thumbnails/{}", crate::view::url_id(&token))
            });
            TrackView { hit, thumbnail_url }
        })
        .collect();
    let answer = SearchAnswer {
        tracks,
        total: result.total,
        total_is_lower_bound: result.total_is_lower_bound,
        has_more: result.has_more,
        filters: result.filters,
        understood: result.understood,
        took_ms: result.took_ms,
    };
    let d = serde_json::json!({"query": p, "results": n});
    audit(&st, &ctx.user.username, AuditAction::Search, "archive", d).await?;
    Ok(Json(answer))
}

/// The caller's cameras as people name them, with their zones' kinds ("the square"), for the
/// search's words. Kinds come from the configuration in force when it is editable here.
async fn search_places(st: &super::AppState, ctx: &Ctx) -> Result<Vec<vigie_search::PlaceCamera>, ApiError> {
    let (live, admin) = (st.live.clone(), st.config_admin.clone());
    let (cams, scene) = blocking(move || Ok((live.cameras(), admin.map(|a| a.current())))).await?;
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    let configured = |camera: &str| -> Option<Vec<vigie_search::PlaceZone>> {
        let cams = scene.as_ref()?.get("cameras")?.as_array()?;
        let cam = cams.iter().find(|c| c.get("id").and_then(|i| i.as_str()) == Some(camera))?;
        let zones = cam.get("zones")?.as_array()?;
        Some(zones.iter().map(|z| vigie_search::PlaceZone { name: text(z, "name"), kind: text(z, "kind") }).collect())
    };
    Ok(cams
        .into_iter()
        .filter(|c| ctx.scope.can_see(&c.id))
        .map(|c| vigie_search::PlaceCamera {
            zones: configured(&c.id).unwrap_or_else(|| {
                c.zones.iter().map(|z| vigie_search::PlaceZone { name: z.name.clone(), kind: String::new() }).collect()
            }),
            id: c.id,
            name: c.name,
        })
        .collect())
}

/// `GET /api/search`: the index's answer, where each track with a thumbnail carries a URL that
/// is valid only for the session that searched.
#[derive(Debug, Serialize)]
pub(crate) struct SearchAnswer {
    tracks: Vec<TrackView>,
    total: u64,
    total_is_lower_bound: bool,
    has_more: bool,
    filters: vigie_search::AppliedFilters,
    understood: Vec<String>,
    took_ms: f64,
}

#[derive(Debug, Serialize)]
struct TrackView {
    #[serde(flatten)]
    hit: vigie_search::TrackHit,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<String>,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn thumbnail_mac(st: &super::AppState, session_token: &str, track: &str) -> HmacSha256 {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(&st.thumb_key).expect("any key length");
    mac.update(session_token.as_bytes());
    mac.update(&[0]);
    mac.update(track.as_bytes());
    mac
}

/// A thumbnail is served only through a token bound to the session that searched, to the track
/// and to its camera: `<track>.<camera>.<HMAC(session, track.camera)>`. Sequential ids, another
/// user's tokens and tokens of a closed session are refused; the camera is checked against the
/// caller's sectors again when the picture is asked for.
fn thumbnail_token(st: &super::AppState, ctx: &Ctx, track: &str) -> String {
    use hmac::Mac;
    let tag = thumbnail_mac(st, &ctx.token, track).finalize().into_bytes();
    format!("{track}.{}", hex::encode(&tag[..16]))
}

/// The track of a token handed out to this session, if it is one.
fn thumbnail_track<'a>(st: &super::AppState, ctx: &Ctx, token: &'a str) -> Option<&'a str> {
    use hmac::Mac;
    let (track, tag) = token.rsplit_once('.')?;
    let tag = hex::decode(tag).ok().filter(|t| t.len() == 16)?;
    thumbnail_mac(st, &ctx.token, track).verify_truncated_left(&tag).ok()?;
    Some(track)
}

/// Every thumbnail served is audited (they are pictures leaving the node), refusals too.
pub(crate) async fn thumbnail(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let provider = st.search.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "search is not available: no archive on this node")
    })?;
    let shown = super::anon::cap(&id, super::anon::MAX_NAME_BYTES);
    let bound = thumbnail_track(&st, &ctx, &id).and_then(|t| t.split_once('.'));
    let Some((track, camera)) = bound.map(|(t, c)| (t.to_string(), c.to_string())) else {
        let d = serde_json::json!({"reason": "not a thumbnail of a search made in this session"});
        audit(&st, &ctx.user.username, AuditAction::SearchThumbnailRefused, &shown, d).await?;
        return Err(ApiError::not_found(format!(
            "no thumbnail '{shown}' in your searches: use the thumbnail_url of a search result"
        )));
    };
    let unknown = ApiError::not_found(format!(
        "no thumbnail '{shown}' in your searches: use the thumbnail_url of a search result"
    ));
    super::require_visible(&st, &ctx, &camera, &track, unknown).await?;
    let i = track.clone();
    let jpeg = blocking(move || Ok(provider.thumbnail(&i)))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no thumbnail for track '{track}'")))?;
    audit(&st, &ctx.user.username, AuditAction::SearchThumbnailView, &track, serde_json::json!({})).await?;
    let mut r = jpeg.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// Defaults to the last 30 days.
pub(crate) async fn transparency(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<ReportQuery>,
) -> Result<Response, ApiError> {
    let to = q.to.as_deref().map(|s| parse_time("to", s)).transpose()?.unwrap_or_else(|| now_ms(&st));
    let from = match q.from.as_deref() {
        Some(s) => parse_time("from", s)?,
        None => to
            .checked_sub(Duration::from_secs(30 * 86_400))
            .ok_or_else(|| ApiError::bad_request(format!("invalid 'to': {to} leaves no 30-day period before it")))?,
    };
    if from >= to {
        return Err(ApiError::bad_request(format!("'to' ({to}) must be after 'from' ({from})")));
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(f) => return Err(ApiError::bad_request(format!("unknown format '{f}': expected json or csv"))),
    };
    let (s, live) = (st.alerts.clone(), st.live.clone());
    let mut report = blocking(move || {
        let mut r = s.transparency(from, to).map_err(ApiError::from)?;
        // The masks' shares of the picture need its size, which only the running camera knows.
        let cams = live.cameras();
        r.set_picture_sizes(|id| cams.iter().find(|c| c.id == id).map(|c| (c.width, c.height)));
        Ok(r)
    })
    .await?;
    if !ctx.scope.is_city_wide() {
        // Other sectors' cameras are left out, with the models and rules only they used.
        report.rows = ctx.scope.filter(std::mem::take(&mut report.rows), |r| r.camera.as_str());
        report.privacy_masks = ctx.scope.filter(std::mem::take(&mut report.privacy_masks), |m| m.camera.as_str());
        report.calibration = ctx.scope.filter(std::mem::take(&mut report.calibration), |r| r.camera.as_str());
        let models: std::collections::BTreeSet<String> = report.rows.iter().flat_map(|r| r.models.clone()).collect();
        let rules: std::collections::BTreeSet<String> =
            report.rows.iter().flat_map(|r| r.rule_versions.clone()).collect();
        report.models = models.into_iter().collect();
        report.rule_versions = rules.into_iter().collect();
    }
    let holds = super::holds::counts(&st, from, to).await?;
    let action = if csv { AuditAction::ReportExport } else { AuditAction::ReportView };
    let d = serde_json::json!({
        "from_ms": from, "to_ms": to, "format": if csv { "csv" } else { "json" }, "sectors": ctx.user.sectors,
    });
    audit(&st, &ctx.user.username, action, "transparency", d).await?;
    if csv {
        let mut r = report.to_csv().into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"vigie-transparency.csv\""),
        );
        Ok(r)
    } else {
        let mut v = serde_json::to_value(&report).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Some(h) = holds {
            v["holds"] = serde_json::json!(h);
        }
        Ok(Json(v).into_response())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditListQuery {
    /// Paging cursor: entries older than this seq (the previous page's `next_before`).
    before: Option<i64>,
    actor: Option<String>,
    /// One of the trail's action names (`alert.confirm`): exactly it; other text: any action
    /// containing it (`alert.`, `view`).
    action: Option<String>,
    /// Any target containing this text.
    target: Option<String>,
    /// RFC 3339, Unix ms, or a date in the city's time zone (`to`: the end of that day).
    from: Option<String>,
    to: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// A page of the trail and the cursor of the next one.
#[derive(Serialize)]
pub(crate) struct AuditEntries {
    entries: Vec<AuditEntry>,
    /// More entries match: ask again with `before` = `next_before`.
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<i64>,
    /// Every action name the trail may hold, for the console's exact pick.
    actions: Vec<&'static str>,
}

/// Most entries one CSV export holds: a larger one is refused, to be narrowed by date.
const MAX_AUDIT_EXPORT: usize = 100_000;
/// Entries read at a time for an export (the store's most per read).
const AUDIT_EXPORT_CHUNK: u32 = 10_000;

/// The city's time zone (`[events] timezone`), in which dates typed in the console are read.
fn city_tz(st: &super::AppState) -> jiff::tz::TimeZone {
    let name = st.config_admin.as_ref().and_then(|a| {
        let c = a.current();
        c.get("events")?.get("timezone")?.as_str().map(str::to_string)
    });
    name.and_then(|n| jiff::tz::TimeZone::get(&n).ok()).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// `from`/`to` of a filter: an instant, or a date read in the city's time zone (an end date
/// counts its whole day, so `from` = `to` is one day).
fn filter_time(st: &super::AppState, name: &str, v: Option<&str>, end: bool) -> Result<Option<UnixMs>, ApiError> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        let d = if end { d.tomorrow().unwrap_or(d) } else { d };
        let z = d.to_zoned(city_tz(st)).map_err(|e| ApiError::bad_request(format!("invalid '{name}': '{s}' ({e})")))?;
        return Ok(Some(z.timestamp().into()));
    }
    parse_time(name, s).map(Some)
}

impl AuditListQuery {
    fn to_query(&self, st: &super::AppState, limit: u32) -> Result<AuditQuery, ApiError> {
        for (name, v) in [("actor", &self.actor), ("action", &self.action), ("target", &self.target)] {
            if let Some(v) = v {
                max_len(name, v, MAX_TEXT_CHARS)?;
            }
        }
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let action = text(&self.action);
        let exact = action.as_deref().is_some_and(|a| AuditAction::ALL.iter().any(|x| x.as_str() == a));
        let (from_ms, to_ms) =
            (filter_time(st, "from", self.from.as_deref(), false)?, filter_time(st, "to", self.to.as_deref(), true)?);
        if let (Some(f), Some(t)) = (from_ms, to_ms) {
            if f >= t {
                return Err(ApiError::bad_request(format!("'to' ({t}) must be after 'from' ({f})")));
            }
        }
        Ok(AuditQuery {
            before_seq: self.before,
            actor: text(&self.actor),
            action: if exact { action.clone() } else { None },
            action_contains: if exact { None } else { action },
            target_contains: text(&self.target),
            from_ms,
            to_ms,
            limit,
            ..Default::default()
        })
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "before": self.before, "actor": self.actor, "action": self.action, "target": self.target,
            "from": self.from, "to": self.to,
        })
    }
}

pub(crate) async fn audit_list(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<AuditListQuery>,
) -> Result<Json<AuditEntries>, ApiError> {
    let limit = match q.limit.unwrap_or(100) {
        n @ 1..=1000 => n,
        n => return Err(ApiError::bad_request(format!("invalid 'limit': {n}; a page holds 1 to 1000 entries"))),
    };
    // One more than the page says whether another follows.
    let query = q.to_query(&st, limit + 1)?;
    // The reader's own access is recorded before reading, so it shows in what they read.
    audit(&st, &ctx.user.username, AuditAction::AuditView, "audit", q.details()).await?;
    let s = st.audit.clone();
    let mut entries = blocking(move || s.entries(&query).map_err(ApiError::from)).await?;
    let has_more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next_before = if has_more { entries.last().map(|e| e.seq) } else { None };
    let actions = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    Ok(Json(AuditEntries { entries, has_more, next_before, actions }))
}

/// The entries matching the filters (every page), newest first, as CSV. Audited as an export
/// before reading, so the file holds its own entry when the filters match it.
pub(crate) async fn audit_export(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<AuditListQuery>,
) -> Result<Response, ApiError> {
    if q.limit.is_some() {
        return Err(ApiError::bad_request("'limit' is for pages: an export holds every matching entry"));
    }
    let mut query = q.to_query(&st, AUDIT_EXPORT_CHUNK)?;
    audit(&st, &ctx.user.username, AuditAction::AuditExport, "audit", q.details()).await?;
    let s = st.audit.clone();
    let entries = blocking(move || {
        let mut all: Vec<AuditEntry> = Vec::new();
        loop {
            let page = s.entries(&query).map_err(ApiError::from)?;
            let full = page.len() == query.limit as usize;
            all.extend(page);
            if all.len() > MAX_AUDIT_EXPORT {
                return Err(ApiError::bad_request(format!(
                    "more than {MAX_AUDIT_EXPORT} entries match: narrow the dates or filters"
                )));
            }
            match all.last() {
                Some(last) if full => query.before_seq = Some(last.seq),
                _ => return Ok(all),
            }
        }
    })
    .await?;
    let mut csv = String::from("seq,at_ms,time_utc,actor,action,target,details,prev_hash,hash\n");
    for e in &entries {
        let row = [
            e.seq.to_string(),
            e.at_ms.0.to_string(),
            e.at_ms.rfc3339(),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            e.details.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        csv.push_str(&row.iter().map(|f| csv_cell(f)).collect::<Vec<_>>().join(","));
        csv.push('\n');
    }
    let mut r = csv.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"vigie-audit.csv\""));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    Ok(r)
}

/// One CSV field: quoted when it holds a separator, a quote or a line break; a leading `=`,
/// `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `ok` says which: an intact trail's size and head, or where it breaks.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum AuditVerification {
    Intact { ok: bool, entries: i64, head_hash: String },
    Broken { ok: bool, seq: i64, reason: String, message: String },
}

pub(crate) async fn audit_verify(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<AuditVerification>, ApiError> {
    let s = st.audit.clone();
    let v = blocking(move || s.verify().map_err(ApiError::from)).await?;
    let body = match v {
        Ok(sum) => AuditVerification::Intact { ok: true, entries: sum.entries, head_hash: sum.head_hash },
        Err(b) => AuditVerification::Broken { ok: false, seq: b.seq, message: b.to_string(), reason: b.reason },
    };
    let details = serde_json::to_value(&body).expect("verifications serialise");
    audit(&st, &ctx.user.username, AuditAction::AuditVerify, "audit", details).await?;
    Ok(Json(body))
}

#[derive(Serialize)]
pub(crate) struct UserList {
    users: Vec<User>,
}

pub(crate) async fn users(State(st): St) -> Result<Json<UserList>, ApiError> {
    let s = st.accounts.clone();
    let users = blocking(move || s.users().map_err(ApiError::from)).await?;
    Ok(Json(UserList { users }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddUserReq {
    username: String,
    password: String,
    role: String,
    /// Sector ids; none: city-wide.
    #[serde(default)]
    sectors: Vec<String>,
}

pub(crate) async fn add_user(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Body(req): Body<AddUserReq>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let role = Role::parse(&req.role)?;
    let sectors = known_sectors(&st, &req.sectors)?;
    let s = st.accounts.clone();
    let name = req.username.clone();
    let sec = sectors.clone();
    // The administrator chose this password: it opens the account once, to set the user's own.
    let user = blocking(move || {
        let mut u = s.add_user(&name, &req.password, role).map_err(ApiError::from)?;
        s.set_must_change_password(&name, true).map_err(ApiError::from)?;
        u.must_change_password = true;
        if !sec.is_empty() {
            u = s.set_sectors(&name, &sec).map_err(ApiError::from)?;
        }
        Ok(u)
    })
    .await?;
    audit(
        &st,
        &ctx.user.username,
        AuditAction::UserAdd,
        &user.username,
        serde_json::json!({"role": role, "temporary": true, "sectors": sectors}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Sector ids checked (syntax, then against the node's sectors), sorted and without repeats.
fn known_sectors(st: &super::AppState, sectors: &[String]) -> Result<Vec<String>, ApiError> {
    let sectors = vigie_store::users::validate_sectors(sectors)?;
    st.sectors.check_known(&sectors).map_err(|m| ApiError::bad_request(format!("sectors: {m}")))?;
    Ok(sectors)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SectorsReq {
    /// Replaces the user's sectors; empty: city-wide.
    sectors: Vec<String>,
}

pub(crate) async fn set_sectors(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Body(req): Body<SectorsReq>,
) -> Result<Json<User>, ApiError> {
    let sectors = known_sectors(&st, &req.sectors)?;
    let (s, n, sec) = (st.accounts.clone(), name.clone(), sectors.clone());
    let (before, user) = blocking(move || {
        let before = s.user(&n).map_err(ApiError::from)?.sectors;
        Ok((before, s.set_sectors(&n, &sec).map_err(ApiError::from)?))
    })
    .await?;
    let d = serde_json::json!({"before": before, "after": sectors});
    audit(&st, &ctx.user.username, AuditAction::UserSectors, &name, d).await?;
    Ok(Json(user))
}

pub(crate) async fn disable_user(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
) -> Result<Json<Done>, ApiError> {
    if name == ctx.user.username {
        return Err(ApiError::new(StatusCode::CONFLICT, "you cannot disable your own account"));
    }
    let (s, n) = (st.accounts.clone(), name.clone());
    blocking(move || s.disable_user(&n).map_err(ApiError::from)).await?;
    st.feeds.end_user(&name);
    audit(&st, &ctx.user.username, AuditAction::UserDisable, &name, serde_json::json!({})).await?;
    Ok(Json(Done::OK))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordReq {
    password: String,
}

pub(crate) async fn set_password(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Body(req): Body<PasswordReq>,
) -> Result<Json<Done>, ApiError> {
    // A password set for someone else is temporary; one's own is not.
    let temporary = name != ctx.user.username;
    let (s, n) = (st.accounts.clone(), name.clone());
    blocking(move || s.set_password_as(&n, &req.password, temporary).map_err(ApiError::from)).await?;
    st.feeds.end_user(&name);
    audit(&st, &ctx.user.username, AuditAction::UserPasswd, &name, serde_json::json!({"temporary": temporary})).await?;
    Ok(Json(Done::OK))
}

/// Leaves out of a scene view the cameras outside the caller's sectors.
fn scope_cameras(ctx: &Ctx, cfg: &mut serde_json::Value) {
    if let Some(cams) = cfg.get_mut("cameras").and_then(|c| c.as_array_mut()) {
        cams.retain(|c| c.get("id").and_then(|i| i.as_str()).is_some_and(|id| ctx.scope.can_see(id)));
    }
}

pub(crate) fn config_admin(st: &super::AppState) -> Result<std::sync::Arc<dyn crate::ConfigAdmin>, ApiError> {
    st.config_admin.clone().ok_or_else(|| ApiError::not_found("configuration is not editable on this node"))
}

pub(crate) async fn config_get(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = config_admin(&st)?;
    let mut cfg = blocking(move || Ok(admin.current())).await?;
    scope_cameras(&ctx, &mut cfg);
    audit(&st, &ctx.user.username, AuditAction::ConfigView, "config", serde_json::json!({})).await?;
    Ok(Json(cfg))
}

pub(crate) async fn config_put(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Body(new): Body<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = config_admin(&st)?;
    // A camera outside the caller's sectors is refused exactly as one the node lacks; those
    // left out of the body keep their scene (see `ConfigAdmin::apply`).
    let named = new.get("cameras").and_then(|c| c.as_array()).cloned().unwrap_or_default();
    for c in named.iter().filter_map(|c| c.get("id").and_then(|i| i.as_str())) {
        if !ctx.scope.can_see(c) {
            let d = serde_json::json!({"camera": c, "sectors": ctx.user.sectors});
            audit(&st, &ctx.user.username, AuditAction::AccessOutOfSector, "config", d).await?;
            let err = vigie_core::ConfigError::new(
                format!("cameras.{c}"),
                "is not a camera of this node (cameras are added in vigie.toml, then restart)",
            );
            let mut e = ApiError::bad_request(format!("configuration refused: {err}"));
            e.errors = vec![err];
            return Err(e);
        }
    }
    let (a, actor, n, live) = (admin.clone(), ctx.user.username.clone(), new.clone(), st.live.clone());
    let before = blocking(move || Ok(admin.current())).await?;
    super::calibration::refuse_silent_go_live(&before, &new)?;
    let applied = blocking(move || {
        // Zones are checked against the pictures the cameras send now.
        let pictures: Vec<(String, (u32, u32))> = live
            .cameras()
            .into_iter()
            .filter(|c| c.width > 0 && c.height > 0)
            .map(|c| (c.id, (c.width, c.height)))
            .collect();
        a.apply_checked(&actor, n, &pictures).map_err(|errs| {
            let mut e = ApiError::bad_request(format!(
                "configuration refused: {}",
                errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
            ));
            e.errors = errs;
            e
        })
    })
    .await?;
    audit(
        &st,
        &ctx.user.username,
        AuditAction::ConfigChange,
        "config",
        serde_json::json!({"before": before, "after": applied}),
    )
    .await?;
    let mut applied = applied;
    scope_cameras(&ctx, &mut applied);
    Ok(Json(applied))
}

pub(crate) async fn notifications(State(st): St) -> Json<NotifySnapshot> {
    Json(match &st.notify_status {
        Some(s) => s.snapshot(),
        None => NotifySnapshot { webhook: None, mqtt: None },
    })
}
