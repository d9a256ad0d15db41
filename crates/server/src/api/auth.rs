//! Login, logout, session info, and the failed-login rate limit.

use super::{audit, blocking, AppState, Body, ClientIp, Ctx, PeerIp, St, SESSION_COOKIE};
use crate::config::CookieSecure;
use crate::error::ApiError;
use crate::routes::Perm;
use crate::scope::Scope;
use crate::ServerConfig;
use axum::extract::Extension;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use vigie_core::AuditAction;
use vigie_store::{LoginOutcome, Role, User, MAX_PASSWORD_CHARS};

/// Longest user name (see `vigie_store::users::validate_username`).
pub(crate) const MAX_USERNAME_BYTES: usize = 64;

/// What a failed login is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LimitKey {
    NameAddr(String, String),
    Addr(String),
    Name(String),
}

/// The failed-login policy. Every attempt counts against three sliding windows:
/// - (name, address), `login_max_failures` (5): guessing one account's password;
/// - address, any names, `login_max_failures_per_address` (50): spraying names from one place,
///   high enough that a control room behind one NAT address survives a few mistyped names;
/// - name, any addresses, `login_max_failures_per_name` (200): a slow-down against a distributed
///   attack, above what one address may reach, so that an attacker's address cannot lock the real
///   user out at theirs.
///
/// An attempt is reserved in all three, under one lock, before Argon2 runs: concurrent attempts
/// cannot all pass the check before any is counted. A successful login gives its reservation back
/// and clears its (name, address) count. Times are the store clock's monotonic time; kept in
/// memory (a restart forgets, which is acceptable for a limit measured in minutes).
pub(crate) struct LoginLimiter {
    per_name_addr: u32,
    per_addr: u32,
    per_name: u32,
    window: Duration,
    attempts: Mutex<HashMap<LimitKey, Vec<Duration>>>,
}

/// An attempt counted before the password is checked; give it back with [`LoginLimiter::succeeded`].
pub(crate) struct Attempt {
    keys: [LimitKey; 3],
    at: Duration,
}

impl LoginLimiter {
    pub fn new(cfg: &crate::ServerConfig) -> Self {
        Self {
            per_name_addr: cfg.login_max_failures,
            per_addr: cfg.login_max_failures_per_address,
            per_name: cfg.login_max_failures_per_name,
            window: Duration::from_secs(cfg.login_window_min as u64 * 60),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt of `name` from `addr`, or says how long until one is allowed.
    pub fn reserve(&self, name: &str, addr: &str, now: Duration) -> Result<Attempt, Duration> {
        let keys = [
            LimitKey::NameAddr(name.to_string(), addr.to_string()),
            LimitKey::Addr(addr.to_string()),
            LimitKey::Name(name.to_string()),
        ];
        let limits = [self.per_name_addr, self.per_addr, self.per_name];
        let mut m = self.attempts.lock();
        if m.len() > 100_000 {
            // Bounded memory against address- and name-spraying: forget stale keys.
            m.retain(|_, v| v.iter().any(|t| now.saturating_sub(*t) < self.window));
        }
        let mut wait: Option<Duration> = None;
        for (k, max) in keys.iter().zip(limits) {
            if let Some(v) = m.get_mut(k) {
                v.retain(|t| now.saturating_sub(*t) < self.window);
                if v.len() >= max as usize {
                    let oldest = v[v.len() - max as usize];
                    let w = self.window.saturating_sub(now.saturating_sub(oldest));
                    wait = Some(wait.map_or(w, |x| x.max(w)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        for k in &keys {
            m.entry(k.clone()).or_default().push(now);
        }
        Ok(Attempt { keys, at: now })
    }

    /// The password was right (or the check itself failed): the attempt does not count.
    pub fn give_back(&self, a: &Attempt) {
        let mut m = self.attempts.lock();
        for k in &a.keys {
            if let Some(v) = m.get_mut(k) {
                if let Some(i) = v.iter().rposition(|t| *t == a.at) {
                    v.remove(i);
                }
            }
        }
    }

    /// A successful login: its own attempt is given back and its (name, address) count cleared.
    pub fn succeeded(&self, a: &Attempt) {
        self.give_back(a);
        self.attempts.lock().remove(&a.keys[0]);
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

/// The caller's session as login, `/api/me` and a password change answer it.
#[derive(Serialize)]
pub(crate) struct SessionInfo {
    username: String,
    role: Role,
    csrf_token: String,
    expires_at_ms: vigie_core::UnixMs,
    permissions: Vec<&'static str>,
    password_change_required: bool,
    /// Whether the user sees every camera (assigned to no sector).
    city_wide: bool,
    /// The user's sectors; every sector of the node when city-wide.
    sectors: Vec<crate::SectorInfo>,
    /// The city's time zone (`[events] timezone`, IANA name): the console shows times and
    /// groups statistics by hour of day in it, whatever the browser's own zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
}

fn session_json(st: &AppState, u: &User, csrf: &str, expires_at_ms: vigie_core::UnixMs, scope: &Scope) -> SessionInfo {
    SessionInfo {
        username: u.username.clone(),
        role: u.role,
        csrf_token: csrf.to_string(),
        expires_at_ms,
        permissions: permissions(u),
        password_change_required: u.must_change_password,
        city_wide: scope.is_city_wide(),
        sectors: scope.sectors(),
        timezone: city_timezone(st),
    }
}

/// Read from the configuration in force, so that a reload that changes it is seen at once.
fn city_timezone(st: &AppState) -> Option<String> {
    let current = st.config_admin.as_ref()?.current();
    current.get("events")?.get("timezone")?.as_str().map(str::to_string)
}

/// Whether the session cookie gets `Secure` for this request (see [`CookieSecure`]).
fn cookie_secure(cfg: &ServerConfig, peer: &str, headers: &HeaderMap) -> bool {
    match cfg.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => {
            let Ok(ip) = peer.parse::<IpAddr>() else { return false };
            let trusted = super::is_trusted_proxy(cfg, ip);
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
    Extension(peer): Extension<PeerIp>,
    headers: HeaderMap,
    Body(req): Body<LoginReq>,
) -> Response {
    match login_inner(st, ip.0, &peer.0, &headers, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

use axum::extract::State;

async fn login_inner(
    st: std::sync::Arc<super::AppState>,
    ip: String,
    peer: &str,
    headers: &HeaderMap,
    req: LoginReq,
) -> Result<Response, ApiError> {
    // Refused before Argon2 hashes it; the same bound the catalogue sets on new passwords.
    super::max_len("password", &req.password, MAX_PASSWORD_CHARS)?;
    if req.username.len() > MAX_USERNAME_BYTES {
        // No account has such a name (see validate_username); it is recorded shortened.
        let d = serde_json::json!({"ip": ip, "reason": "user name too long", "length": req.username.len()});
        super::anon::audit_refusal(&st, &ip, &req.username, AuditAction::LoginRefused, &req.username, d).await?;
        return Err(ApiError::bad_request(format!(
            "username is too long: {} bytes, at most {MAX_USERNAME_BYTES}",
            req.username.len()
        )));
    }
    let now = st.clock.monotonic();
    let attempt = match st.limiter.reserve(&req.username, &ip, now) {
        Ok(a) => a,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            let d = serde_json::json!({"ip": ip});
            super::anon::audit_refusal(&st, &ip, &req.username, AuditAction::LoginRateLimited, &req.username, d)
                .await?;
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed logins for this user or address: try again in {secs} s"),
            )
            .into_response();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return Ok(resp);
        }
    };
    let s = st.accounts.clone();
    let (name, pw) = (req.username.clone(), req.password);
    let outcome = match blocking(move || s.authenticate(&name, &pw).map_err(ApiError::from)).await {
        Ok(o) => o,
        Err(e) => {
            st.limiter.give_back(&attempt);
            return Err(e);
        }
    };
    match outcome {
        LoginOutcome::Failed { reason } => {
            let d = serde_json::json!({"ip": ip, "reason": reason});
            audit(&st, &req.username, AuditAction::LoginFailed, &req.username, d).await?;
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong username or password"))
        }
        LoginOutcome::Ok(user) => {
            st.limiter.succeeded(&attempt);
            let ttl = Duration::from_secs(st.cfg.session_ttl_min as u64 * 60);
            let s = st.accounts.clone();
            let u = user.clone();
            let session = blocking(move || s.create_session(&u, ttl).map_err(ApiError::from)).await?;
            audit(&st, &user.username, AuditAction::Login, &user.username, serde_json::json!({"ip": ip})).await?;
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session.token,
                ttl.as_secs(),
                secure_attr(&st, peer, headers)
            );
            let scope = Scope::of_user(st.sectors.clone(), &user.sectors);
            let mut resp =
                Json(session_json(&st, &user, &session.csrf_token, session.expires_at_ms, &scope)).into_response();
            resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex token"));
            Ok(resp)
        }
    }
}

pub(crate) async fn logout(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Extension(peer): Extension<PeerIp>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = st.accounts.clone();
    let token = ctx.token.clone();
    blocking(move || s.delete_session(&token).map_err(ApiError::from)).await?;
    st.feeds.end_session(&ctx.token);
    audit(&st, &ctx.user.username, AuditAction::Logout, &ctx.user.username, serde_json::json!({})).await?;
    let mut resp = Json(super::Done::OK).into_response();
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attr(&st, &peer.0, &headers)
    );
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    Ok(resp)
}

pub(crate) async fn me(State(st): St, Extension(ctx): Extension<Ctx>) -> Json<SessionInfo> {
    Json(session_json(&st, &ctx.user, &ctx.csrf, ctx.expires_at_ms, &ctx.scope))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePasswordReq {
    old_password: String,
    new_password: String,
}

/// A user sets their own password (required first when someone else chose it). Their other
/// sessions close; this one stays open.
pub(crate) async fn change_password(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Body(req): Body<ChangePasswordReq>,
) -> Result<Json<SessionInfo>, ApiError> {
    // Refused before Argon2 hashes them, like a login's.
    super::max_len("old_password", &req.old_password, MAX_PASSWORD_CHARS)?;
    super::max_len("new_password", &req.new_password, MAX_PASSWORD_CHARS)?;
    let (s, name, token) = (st.accounts.clone(), ctx.user.username.clone(), ctx.token.clone());
    blocking(move || {
        s.change_own_password(&name, &req.old_password, &req.new_password, &token).map_err(ApiError::from)
    })
    .await?;
    st.feeds.end_user_except(&ctx.user.username, Some(&ctx.token));
    let was_required = ctx.user.must_change_password;
    audit(
        &st,
        &ctx.user.username,
        AuditAction::PasswordChanged,
        &ctx.user.username,
        serde_json::json!({"required": was_required}),
    )
    .await?;
    let user = User { must_change_password: false, ..ctx.user.clone() };
    Ok(Json(session_json(&st, &user, &ctx.csrf, ctx.expires_at_ms, &ctx.scope)))
}
