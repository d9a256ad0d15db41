//! Anonymous statistics: the counting zones, and a zone's counts over time (JSON or CSV).
//!
//! Nothing here can single anyone out: the store holds per-minute sums per zone and class only.
//! Viewing is therefore not audited; a CSV export (data leaving the system) is.

use super::{audit, blocking, max_len, now_ms, parse_time, AppState, Ctx, St, Q};
use crate::error::ApiError;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use vigie_core::{AuditAction, UnixMs};
use vigie_stats::{Bucket, CountKind, SeriesQuery, StatsError};

/// What the server needs of the statistics: the counting zones as configured now, and the
/// stored series. The node implements it over `stats.db` and its configuration.
pub trait StatsProvider: Send + Sync {
    /// Every counting zone of every camera, in configuration order.
    fn zones(&self) -> Vec<StatsZone>;
    fn series(&self, q: &SeriesQuery) -> Result<Vec<Bucket>, StatsError>;
}

/// One counting zone, as `GET /api/stats/zones` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsZone {
    pub camera: String,
    pub camera_name: String,
    pub zone: String,
    pub kind: CountKind,
    /// The classes counted, in a fixed order.
    pub classes: Vec<String>,
}

/// Most steps one query may return: a (leap) year of minutes.
pub const MAX_POINTS: i64 = 366 * 1440;
/// Steps offered when a query asks for too many points, finest first.
const COARSER_STEPS_S: [i64; 9] = [300, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400, 604_800];
/// Step when none is given: an hour.
const DEFAULT_STEP_S: i64 = 3600;
const DAY_MS: i64 = 86_400_000;
const MAX_NAME_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsQuery {
    camera: Option<String>,
    zone: Option<String>,
    class: Option<String>,
    from: Option<String>,
    to: Option<String>,
    step: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Point {
    Line {
        t: UnixMs,
        #[serde(rename = "in")]
        crossings_in: u64,
        out: u64,
        observed_s: f64,
    },
    Area {
        t: UnixMs,
        entries: u64,
        occupancy: f64,
        observed_s: f64,
    },
}

#[derive(Serialize)]
struct Series {
    camera: String,
    zone: String,
    kind: CountKind,
    class: Option<String>,
    from: UnixMs,
    to: UnixMs,
    step_s: i64,
    points: Vec<Point>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn zones(st: &AppState) -> Vec<StatsZone> {
    st.stats.as_ref().map(|s| s.zones()).unwrap_or_default()
}

pub(crate) async fn list_zones(State(st): St) -> Result<Json<Vec<StatsZone>>, ApiError> {
    let s = st.stats.clone();
    let z = blocking(move || Ok(s.map(|s| s.zones()).unwrap_or_default())).await?;
    Ok(Json(z))
}

/// The step in seconds: a positive multiple of 60 (the store keeps minutes).
fn parse_step(s: Option<&str>) -> Result<i64, ApiError> {
    let Some(s) = s else { return Ok(DEFAULT_STEP_S) };
    max_len("step", s, 20)?;
    match s.parse::<i64>() {
        Ok(n) if n > 0 && n % 60 == 0 && n <= 366 * 86_400 => Ok(n),
        _ => Err(ApiError::bad_request(format!(
            "invalid 'step': '{s}' is not a whole number of minutes in seconds (60, 300, 3600, 86400…; at most a year)"
        ))),
    }
}

/// Refuses a query of more than [`MAX_POINTS`] steps (it would be hundreds of megabytes) and
/// says which coarser step fits.
fn check_points(from: UnixMs, to: UnixMs, step_s: i64) -> Result<(), ApiError> {
    let span = to.as_i64() - from.as_i64();
    let points = (span + step_s * 1000 - 1) / (step_s * 1000);
    if points <= MAX_POINTS {
        return Ok(());
    }
    let fits = COARSER_STEPS_S.iter().find(|&&s| s > step_s && (span + s * 1000 - 1) / (s * 1000) <= MAX_POINTS);
    let advice = match fits {
        Some(s) => format!("use step={s} or coarser"),
        None => "ask for a shorter period".to_string(),
    };
    Err(ApiError::bad_request(format!(
        "too many points: {:.0} days at step={step_s} is {points} points, more than {MAX_POINTS} \
         (a year of minutes); {advice}",
        span as f64 / DAY_MS as f64
    )))
}

pub(crate) async fn series(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Q(q): Q<StatsQuery>,
) -> Result<Response, ApiError> {
    for (name, v) in [("camera", &q.camera), ("zone", &q.zone), ("class", &q.class)] {
        if let Some(v) = v {
            max_len(name, v, MAX_NAME_CHARS)?;
        }
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(f) => return Err(ApiError::bad_request(format!("unknown format '{f}': expected json or csv"))),
    };
    let Some(zone_name) = q.zone.as_deref().filter(|z| !z.is_empty()) else {
        return Err(ApiError::bad_request("missing 'zone': name the counting zone (see GET /api/stats/zones)"));
    };
    let st2 = st.clone();
    let all = blocking(move || Ok(zones(&st2))).await?;
    let on_camera: Vec<&StatsZone> = match q.camera.as_deref() {
        Some(c) => {
            let z: Vec<&StatsZone> = all.iter().filter(|z| z.camera == c).collect();
            if z.is_empty() {
                return Err(ApiError::not_found(format!("no camera '{c}' with counting zones")));
            }
            z
        }
        None => all.iter().collect(),
    };
    let matching: Vec<&StatsZone> = on_camera.iter().copied().filter(|z| z.zone == zone_name).collect();
    let zone = match matching.as_slice() {
        [z] => *z,
        [] => {
            let names: Vec<&str> = on_camera.iter().map(|z| z.zone.as_str()).collect();
            let on = q.camera.as_deref().map_or(String::new(), |c| format!(" on camera '{c}'"));
            return Err(ApiError::not_found(format!(
                "no counting zone '{zone_name}'{on} (counting zones: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        }
        several => {
            let cams: Vec<&str> = several.iter().map(|z| z.camera.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "zone '{zone_name}' exists on cameras {}: give 'camera'",
                cams.join(", ")
            )));
        }
    };
    let class = match q.class.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) if zone.classes.iter().any(|k| k == c) => Some(c.to_string()),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "unknown class '{c}': '{}' counts {}",
                zone.zone,
                zone.classes.join(", ")
            )))
        }
    };
    let step_s = parse_step(q.step.as_deref())?;
    let to = match q.to.as_deref() {
        Some(s) => parse_time("to", s)?,
        None => now_ms(&st),
    };
    let from = match q.from.as_deref() {
        Some(s) => parse_time("from", s)?,
        None => UnixMs(to.as_i64() - DAY_MS),
    };
    if to <= from {
        return Err(ApiError::bad_request(format!("'to' ({to}) must be after 'from' ({from})")));
    }
    check_points(from, to, step_s)?;
    let query = SeriesQuery {
        camera: zone.camera.clone(),
        zone: zone.zone.clone(),
        class: class.clone(),
        from,
        to,
        step_ms: step_s * 1000,
    };
    let provider = st.stats.clone().ok_or_else(|| ApiError::not_found("no statistics are kept by this server"))?;
    let q2 = query.clone();
    let buckets =
        blocking(move || provider.series(&q2).map_err(|e| ApiError::internal(format!("statistics: {e}")))).await?;
    let kind = zone.kind;
    let points: Vec<Point> = buckets
        .iter()
        .map(|b| match kind {
            CountKind::Line => Point::Line {
                t: b.t,
                crossings_in: b.crossings_in,
                out: b.crossings_out,
                observed_s: round3(b.observed_ms as f64 / 1000.0),
            },
            CountKind::Area => Point::Area {
                t: b.t,
                entries: b.entries,
                occupancy: round3(b.occupancy()),
                observed_s: round3(b.observed_ms as f64 / 1000.0),
            },
        })
        .collect();
    let series = Series { camera: zone.camera.clone(), zone: zone.zone.clone(), kind, class, from, to, step_s, points };
    if !csv {
        return Ok(Json(series).into_response());
    }
    let d = serde_json::json!({
        "camera": series.camera, "zone": series.zone, "class": series.class,
        "from_ms": from, "to_ms": to, "step_s": step_s,
    });
    audit(&st, &ctx.user.username, AuditAction::StatsExport, &format!("{}/{}", series.camera, series.zone), d).await?;
    let mut r = to_csv(&series).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let name = format!("vigie-stats-{}-{}.csv", series.camera, series.zone)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .collect::<String>();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The JSON points as CSV: a header row, then one row per step, with the step's start both in
/// Unix ms (`t`, as in JSON) and as UTC text for spreadsheets.
fn to_csv(s: &Series) -> String {
    let mut out = String::with_capacity(32 * (s.points.len() + 1));
    out.push_str(match s.kind {
        CountKind::Line => "t,time_utc,in,out,observed_s\n",
        CountKind::Area => "t,time_utc,entries,occupancy,observed_s\n",
    });
    for p in &s.points {
        let line = match p {
            Point::Line { t, crossings_in, out, observed_s } => {
                format!("{},{},{crossings_in},{out},{observed_s}\n", t.as_i64(), t.rfc3339())
            }
            Point::Area { t, entries, occupancy, observed_s } => {
                format!("{},{},{entries},{occupancy},{observed_s}\n", t.as_i64(), t.rfc3339())
            }
        };
        out.push_str(&line);
    }
    out
}
