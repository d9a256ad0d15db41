//! Login, logout, session info, and the failed-login rate limit.

use super::{audit, blocking, Body, ClientIp, Ctx, St, SESSION_COOKIE};
use crate::config::{CookieSecure, IpNet};
use crate::error::ApiError;
use crate::routes::Perm;
use crate::ServerConfig;
use axum::extract::Extension;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use vigie_store::{LoginOutcome, User, MAX_PASSWORD_CHARS};

/// Failed attempts per key (`user:<name>`, `ip:<addr>`) within a sliding window, in the
/// store clock's monotonic time. Kept in memory: a restart forgets, which is acceptable for a
/// limit measured in minutes.
pub(crate) struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Duration>>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max, window, failures: Mutex::new(HashMap::new()) }
    }

    fn prune(&self, v: &mut Vec<Duration>, now: Duration) {
        v.retain(|t| now.saturating_sub(*t) < self.window);
    }

    /// How long until a new attempt is allowed, if any key is over the limit.
    pub fn retry_after(&self, keys: &[String], now: Duration) -> Option<Duration> {
        let mut m = self.failures.lock();
        let mut wait = None;
        for k in keys {
            if let Some(v) = m.get_mut(k) {
                self.prune(v, now);
                if v.len() >= self.max as usize {
                    let oldest = v[v.len() - self.max as usize];
                    let w = self.window.saturating_sub(now.saturating_sub(oldest));
                    wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
                }
            }
        }
        wait
    }

    pub fn fail(&self, keys: &[String], now: Duration) {
        let mut m = self.failures.lock();
        if m.len() > 100_000 {
            // Bounded memory against address-spraying: forget stale keys.
            m.retain(|_, v| v.iter().any(|t| now.saturating_sub(*t) < self.window));
        }
        for k in keys {
            let v = m.entry(k.clone()).or_default();
            self.prune(v, now);
            v.push(now);
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().remove(key);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginReq {
    username: String,
    password: String,
}

fn permissions(u: &User) -> Vec<&'static str> {
    Perm::ALL.iter().filter(|p| p.allowed(u.role)).map(|p| p.as_str()).collect()
}

fn session_json(u: &User, csrf: &str, expires_at_ms: i64) -> serde_json::Value {
    serde_json::json!({
        "username": u.username,
        "role": u.role,
        "csrf_token": csrf,
        "expires_at_ms": expires_at_ms,
        "permissions": permissions(u),
    })
}

/// Whether the session cookie gets `Secure` for this request (see [`CookieSecure`]).
fn cookie_secure(cfg: &ServerConfig, peer: &str, headers: &HeaderMap) -> bool {
    match cfg.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => {
            let Ok(ip) = peer.parse::<IpAddr>() else { return false };
            let trusted = cfg.trusted_proxies.iter().filter_map(|p| IpNet::parse(p).ok()).any(|n| n.contains(ip));
            // The first value is what the client used when proxies are chained.
            let proto =
                headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next());
            trusted && proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        }
    }
}

fn secure_attr(st: &super::AppState, peer: &str, headers: &HeaderMap) -> &'static str {
    if cookie_secure(&st.cfg, peer, headers) {
        "; Secure"
    } else {
        ""
    }
}

pub(crate) async fn login(
    State(st): St,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Body(req): Body<LoginReq>,
) -> Response {
    match login_inner(st, ip.0, &headers, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

use axum::extract::State;

async fn login_inner(
    st: std::sync::Arc<super::AppState>,
    ip: String,
    headers: &HeaderMap,
    req: LoginReq,
) -> Result<Response, ApiError> {
    // Refused before Argon2 hashes it; the same bound the catalogue sets on new passwords.
    super::max_len("password", &req.password, MAX_PASSWORD_CHARS)?;
    let keys = [format!("user:{}", req.username), format!("ip:{ip}")];
    let now = st.store.clock().monotonic();
    if let Some(wait) = st.limiter.retry_after(&keys, now) {
        let secs = wait.as_secs().max(1);
        audit(&st, &req.username, "login.rate_limited", &req.username, serde_json::json!({"ip": ip})).await?;
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins for this user or address: try again in {secs} s"),
        )
        .into_response();
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(resp);
    }
    let s = st.store.clone();
    let (name, pw) = (req.username.clone(), req.password);
    let outcome = blocking(move || s.authenticate(&name, &pw).map_err(ApiError::from)).await?;
    match outcome {
        LoginOutcome::Failed { reason } => {
            st.limiter.fail(&keys, now);
            let d = serde_json::json!({"ip": ip, "reason": reason});
            audit(&st, &req.username, "login.failed", &req.username, d).await?;
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong username or password"))
        }
        LoginOutcome::Ok(user) => {
            st.limiter.clear(&keys[0]);
            let ttl = Duration::from_secs(st.cfg.session_ttl_min as u64 * 60);
            let s = st.store.clone();
            let u = user.clone();
            let session = blocking(move || s.create_session(&u, ttl).map_err(ApiError::from)).await?;
            audit(&st, &user.username, "login", &user.username, serde_json::json!({"ip": ip})).await?;
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session.token,
                ttl.as_secs(),
                secure_attr(&st, &ip, headers)
            );
            let mut resp = Json(session_json(&user, &session.csrf_token, session.expires_at_ms)).into_response();
            resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex token"));
            Ok(resp)
        }
    }
}

pub(crate) async fn logout(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = st.store.clone();
    let token = ctx.token.clone();
    blocking(move || s.delete_session(&token).map_err(ApiError::from)).await?;
    audit(&st, &ctx.user.username, "logout", &ctx.user.username, serde_json::json!({})).await?;
    let mut resp = Json(serde_json::json!({"ok": true})).into_response();
    let cookie =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", secure_attr(&st, &ip.0, &headers));
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    Ok(resp)
}

pub(crate) async fn me(Extension(ctx): Extension<Ctx>) -> Json<serde_json::Value> {
    Json(session_json(&ctx.user, &ctx.csrf, ctx.expires_at_ms))
}
