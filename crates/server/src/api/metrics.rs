//! `GET /metrics`, `/healthz` and `/readyz`: for scrapers, load balancers and supervisors, so no
//! session. None of them may hang on the catalogue: figures read from a database are cached and
//! refreshed off the request's path, and the write probe has a short lock timeout.

use super::{blocking, AppState, ClientIp, St};
use crate::config::MetricsAccess;
use crate::error::ApiError;
use crate::metrics::{MetricsText, NodeOps, ReadyCheck, CONTENT_TYPE, NO_LABELS};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::EventType;
use vigie_store::{AlertState, DbProbe};

/// How long a scrape waits for a refresh of the database figures before showing the last ones.
const STORED_WAIT: Duration = Duration::from_millis(500);
/// Figures this fresh are not read again (several scrapers, or a scraper retrying).
const STORED_MIN_AGE: Duration = Duration::from_secs(1);
/// The longest `/readyz` and a scrape's in-memory part may take before answering anyway.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// A readiness result this fresh is given again rather than probing once more.
const READY_MIN_AGE: Duration = Duration::from_millis(500);

/// The node's reports and the caches in front of the database.
pub(crate) struct Ops {
    node: Arc<dyn NodeOps>,
    db: DbProbe,
    stored: Mutex<Option<Stored>>,
    refreshing: AtomicBool,
    /// One database probe at a time; its answer serves whoever was waiting for it.
    ready: tokio::sync::Mutex<Option<(Instant, ReadyCheck)>>,
}

/// The database figures as last read.
struct Stored {
    tried_at: Instant,
    /// Text of the last successful read, and when it was made.
    good: Option<(Instant, String)>,
    error: Option<String>,
}

impl Ops {
    pub(crate) fn new(node: Arc<dyn NodeOps>, db: DbProbe) -> Ops {
        Ops { node, db, stored: Mutex::new(None), refreshing: AtomicBool::new(false), ready: Default::default() }
    }
}

/// Clears the in-flight flag however the refresh ends.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

pub(crate) async fn healthz() -> Response {
    let mut r = "ok\n".into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn is_loopback(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// The answer refusing the scrape, if it is refused. Refusals are not audited: a misconfigured
/// scraper retries every few seconds, and the trail would then have to be written by a route
/// that must answer while the database is locked.
fn refusal(st: &AppState, client: &str, headers: &HeaderMap) -> Option<Response> {
    match st.cfg.metrics_access {
        MetricsAccess::Any => None,
        MetricsAccess::Loopback if is_loopback(client) => None,
        MetricsAccess::Loopback => Some(
            ApiError::forbidden(
                "metrics are served to clients on this host only (server.metrics_access = \"loopback\"); \
             set it to \"token\" or \"any\" to scrape from elsewhere",
            )
            .into_response(),
        ),
        MetricsAccess::Token => {
            let Some(token) = &st.metrics_token else {
                return Some(
                    ApiError::forbidden(
                        "metrics need a token, and none is set: see server.metrics_token_env in the node's log",
                    )
                    .into_response(),
                );
            };
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if super::constant_time_eq(sent.trim().as_bytes(), token.as_bytes()) {
                return None;
            }
            let msg = if sent.is_empty() { "metrics need a bearer token" } else { "wrong metrics token" };
            let mut r = ApiError::new(StatusCode::UNAUTHORIZED, msg).into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"vigie-metrics\""));
            Some(r)
        }
    }
}

pub(crate) async fn scrape(
    State(st): St,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&st, &ip, &headers) {
        return r;
    }
    refresh_stored(&st).await;
    let s = st.clone();
    let text = blocking(move || {
        let mut m = MetricsText::new();
        server_metrics(&s, &mut m);
        if let Some(ops) = &s.ops {
            ops.node.live_metrics(&mut m);
            stored_metrics(ops, &mut m);
        }
        Ok(m.finish())
    });
    match tokio::time::timeout(ANSWER_WITHIN, text).await {
        Ok(Ok(text)) => {
            let mut r = text.into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("metrics not gathered within {} s", ANSWER_WITHIN.as_secs()),
        )
        .into_response(),
    }
}

/// What the server measures itself.
fn server_metrics(st: &AppState, m: &mut MetricsText) {
    m.histogram(
        "vigie_alert_latency_seconds",
        "Time from the capture of the frame in which a rule fired to its new alert on the live feed.",
        [(NO_LABELS, st.hub.alert_latency().snapshot())],
    );
    // Only when the hub is not busy storing (it holds its queue while the catalogue works).
    let waiting = st.hub.try_pending().map(|n| (NO_LABELS, n as f64));
    m.gauge(
        "vigie_alerts_waiting_to_store",
        "Alerts shown live that the catalogue could not store yet (absent while the hub is storing).",
        waiting,
    );
}

/// Reads the database figures again unless they are fresh or a read is already under way;
/// waits for the read at most [`STORED_WAIT`] (it carries on and fills the cache after).
async fn refresh_stored(st: &Arc<AppState>) {
    let Some(ops) = &st.ops else { return };
    let fresh = ops.stored.lock().as_ref().is_some_and(|s| s.tried_at.elapsed() < STORED_MIN_AGE);
    if fresh || ops.refreshing.swap(true, Ordering::AcqRel) {
        return;
    }
    let s = st.clone();
    let work = tokio::task::spawn_blocking(move || {
        let ops = s.ops.as_ref().expect("checked above");
        let _flag = Refreshing(&ops.refreshing);
        let read = read_stored(ops);
        let now = Instant::now();
        let mut slot = ops.stored.lock();
        let previous = slot.take().and_then(|s| s.good);
        *slot = Some(match read {
            Ok(text) => Stored { tried_at: now, good: Some((now, text)), error: None },
            Err(e) => {
                tracing::warn!("metrics: database figures not read: {e}");
                Stored { tried_at: now, good: previous, error: Some(e) }
            }
        });
    });
    let _ = tokio::time::timeout(STORED_WAIT, work).await;
}

fn read_stored(ops: &Ops) -> Result<String, String> {
    let mut m = MetricsText::new();
    let figures = ops.db.figures().map_err(|e| e.to_string())?;
    let mut types: Vec<String> = EventType::ALL.iter().map(|t| t.as_str().to_string()).collect();
    for a in &figures.alerts {
        if !types.contains(&a.event_type) {
            types.push(a.event_type.clone());
        }
    }
    // Every type and state, zeros included: a series that appears only once non-zero breaks
    // rates and alerting rules on it.
    let mut samples = Vec::new();
    for t in &types {
        for state in AlertState::ALL {
            let n = figures.alerts.iter().find(|a| &a.event_type == t && a.state == state).map_or(0, |a| a.count);
            samples.push(([("type", t.as_str()), ("state", state.as_str())], n as f64));
        }
    }
    m.gauge(
        "vigie_alerts",
        "Alerts in the catalogue, by event type and state.",
        samples.iter().map(|(l, v)| (&l[..], *v)),
    );
    m.counter(
        "vigie_audit_entries_total",
        "Entries in the hash-chained audit trail (its length).",
        [(NO_LABELS, figures.audit_entries as f64)],
    );
    ops.node.stored_metrics(&mut m)?;
    Ok(m.finish())
}

fn stored_metrics(ops: &Ops, m: &mut MetricsText) {
    let slot = ops.stored.lock();
    let good = slot.as_ref().and_then(|s| s.good.as_ref());
    let up = slot.as_ref().map_or(0.0, |s| if s.error.is_none() { 1.0 } else { 0.0 });
    m.gauge(
        "vigie_stored_metrics_up",
        "1 when the last read of the figures kept in databases (alerts, audit trail, archive) succeeded.",
        [(NO_LABELS, up)],
    );
    m.gauge(
        "vigie_stored_metrics_age_seconds",
        "Age of the figures kept in databases as shown (they are kept from the last successful read).",
        good.map(|(at, _)| (NO_LABELS, at.elapsed().as_secs_f64())),
    );
    if let Some((_, text)) = good {
        m.append(text);
    }
}

#[derive(serde::Serialize)]
struct Readiness {
    ready: bool,
    checks: Vec<ReadyCheck>,
}

pub(crate) async fn readyz(State(st): St) -> Response {
    let mut checks = vec![database_check(&st).await];
    match &st.ops {
        Some(ops) => {
            let node = ops.node.clone();
            match tokio::time::timeout(ANSWER_WITHIN, blocking(move || Ok(node.readiness()))).await {
                Ok(Ok(c)) => checks.extend(c),
                Ok(Err(e)) => checks.push(ReadyCheck::new("node", false, e.message)),
                Err(_) => checks.push(ReadyCheck::new("node", false, "the node's checks did not answer in time")),
            }
        }
        None => checks.push(ReadyCheck::new("node", false, "no node attached to this server")),
    }
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut r = (status, Json(Readiness { ready, checks })).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The catalogue takes writes: its write lock within [`crate::metrics::PROBE_LOCK_TIMEOUT`] (the probe's own), and no alert left
/// waiting to be stored.
async fn database_check(st: &Arc<AppState>) -> ReadyCheck {
    const NAME: &str = "database";
    let Some(ops) = &st.ops else { return ReadyCheck::new(NAME, false, "no catalogue probe attached") };
    let Ok(mut last) = tokio::time::timeout(ANSWER_WITHIN, ops.ready.lock()).await else {
        return ReadyCheck::new(NAME, false, "a write probe is still waiting for the database");
    };
    if let Some((at, c)) = last.as_ref() {
        if at.elapsed() < READY_MIN_AGE {
            return c.clone();
        }
    }
    let db = ops.db.clone();
    // Not `ApiError::from`, which logs an error: a balancer polling a locked catalogue every few
    // seconds would fill the log with it. The answer says why.
    let probe = blocking(move || db.check_writable().map_err(|e| ApiError::internal(e.to_string())));
    let mut check = match tokio::time::timeout(ANSWER_WITHIN, probe).await {
        Ok(Ok(())) => ReadyCheck::new(NAME, true, "takes writes"),
        Ok(Err(e)) => ReadyCheck::new(NAME, false, format!("not writable: {}", e.message)),
        Err(_) => ReadyCheck::new(NAME, false, format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
    };
    if let Some(n) = st.hub.try_pending().filter(|&n| n > 0) {
        check = ReadyCheck::new(NAME, false, format!("{n} alert(s) waiting to be stored; {}", check.detail));
    }
    *last = Some((Instant::now(), check.clone()));
    check
}
