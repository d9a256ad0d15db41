//! The axum application: router, access layer (session, CSRF, role), shared state.

mod admin;
mod alerts;
mod anon;
mod assets;
mod auth;
mod calibration;
mod export;
mod holds;
mod masks;
mod metrics;
pub mod stats;
mod streams;

use crate::error::ApiError;
use crate::hub::AlertHub;
use crate::notify::NotifyStatus;
use crate::providers::{ClipProvider, ConfigAdmin, LiveView, SearchProvider};
use crate::routes::{self, Access};
use crate::scope::{Scope, SectorMap};
use crate::ServerConfig;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{AuditAction, Clock, UnixMs};
use vigie_store::{Accounts, AlertStore, AuditTrail, SessionLookup, User};

pub(crate) const SESSION_COOKIE: &str = "vigie_session";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Everything the server is built from. The clock is the alert store's.
pub struct ServerDeps {
    pub alerts: Arc<dyn AlertStore>,
    pub audit: Arc<dyn AuditTrail>,
    pub accounts: Arc<dyn Accounts>,
    pub hub: Arc<AlertHub>,
    pub live: Arc<dyn LiveView>,
    pub clips: Arc<dyn ClipProvider>,
    /// Archive search; `None` answers 501 on the search routes.
    pub search: Option<Arc<dyn SearchProvider>>,
    /// Cameras/zones/rules editing; `None` answers 404 on the config routes.
    pub config_admin: Option<Arc<dyn ConfigAdmin>>,
    /// From [`crate::Notifier::status`], for the admin page.
    pub notify_status: Option<Arc<NotifyStatus>>,
    pub config: ServerConfig,
}

pub(crate) struct AppState {
    pub alerts: Arc<dyn AlertStore>,
    pub audit: Arc<dyn AuditTrail>,
    pub accounts: Arc<dyn Accounts>,
    pub clock: Arc<dyn Clock>,
    pub hub: Arc<AlertHub>,
    pub live: Arc<dyn LiveView>,
    pub clips: Arc<dyn ClipProvider>,
    pub search: Option<Arc<dyn SearchProvider>>,
    pub config_admin: Option<Arc<dyn ConfigAdmin>>,
    pub notify_status: Option<Arc<NotifyStatus>>,
    /// Set by [`Server::with_stats`]; without it the statistics routes list no zone.
    pub stats: Option<Arc<dyn stats::StatsProvider>>,
    pub cfg: ServerConfig,
    pub limiter: auth::LoginLimiter,
    /// (user, camera) -> monotonic time of the last audited live view.
    pub live_audited: Mutex<HashMap<(String, String), Duration>>,
    /// Repeated refusals of anonymous callers, counted per source and minute.
    pub refusals: anon::RefusalCounter,
    /// Open live feeds by session, ended with their session.
    pub feeds: Arc<streams::FeedRegistry>,
    /// Key of the thumbnail tokens a search hands out (random per start: tokens die with it).
    pub thumb_key: [u8; 32],
    /// One permit per clip being produced (`max_concurrent_exports`).
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Which camera is in which sector (see [`crate::scope`]).
    pub sectors: Arc<SectorMap>,
    /// The footage archive holding legal holds (`None`: no archive, 404 on `/api/holds`).
    pub holds: Option<Arc<vigie_footage::Archive>>,
    /// The node's metrics and readiness, and the catalogue's probe (see [`Server::with_operations`]).
    pub ops: Option<metrics::Ops>,
    /// `[server] metrics_access = "token"`: the token, read from the environment at start.
    pub metrics_token: Option<String>,
}

pub(crate) type St = State<Arc<AppState>>;

/// The logged-in caller, put in request extensions by the access layer.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub user: User,
    pub token: String,
    pub csrf: String,
    pub expires_at_ms: UnixMs,
    /// The cameras this user sees, from their sectors: ask it before showing anything of a
    /// camera (or use [`require_visible`]).
    pub scope: Scope,
}

/// The client's address: the connection's own, or the one a trusted proxy forwarded (see
/// [`client_address`]). Login limits and refusal counts are kept per client.
#[derive(Debug, Clone)]
pub(crate) struct ClientIp(pub String);

/// The address of the connection itself (a proxy's, when there is one): only it says whether
/// `X-Forwarded-*` headers can be believed.
#[derive(Debug, Clone)]
pub(crate) struct PeerIp(pub String);

/// Whether `ip` is one of `[server] trusted_proxies`, the only senders whose `X-Forwarded-*`
/// headers are believed (entries were checked when the configuration was loaded).
pub(crate) fn is_trusted_proxy(cfg: &ServerConfig, ip: std::net::IpAddr) -> bool {
    cfg.trusted_proxies.iter().filter_map(|p| crate::config::IpNet::parse(p).ok()).any(|n| n.contains(ip))
}

/// The client behind `peer`: when `peer` is one of `trusted_proxies`, the nearest address of
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it saw,
/// so the right-most entries are the only ones a proxy wrote; anything further left is the
/// client's word). Otherwise `peer`: anyone can send the header.
pub(crate) fn client_address(cfg: &ServerConfig, peer: std::net::IpAddr, headers: &axum::http::HeaderMap) -> String {
    let trusted = |ip: std::net::IpAddr| is_trusted_proxy(cfg, ip);
    if !trusted(peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if trusted(ip) => continue,
            Ok(ip) => return ip.to_string(),
            // A malformed entry: nothing left of it can be attributed.
            Err(_) => break,
        }
    }
    peer.to_string()
}

#[derive(Debug, Clone, Copy)]
struct BodyLimitKib(u32);

pub struct Server {
    state: Arc<AppState>,
}

impl Server {
    pub fn new(deps: ServerDeps) -> Server {
        let limiter = auth::LoginLimiter::new(&deps.config);
        let metrics_token = match deps.config.metrics_token("server") {
            Ok(t) => t,
            Err(e) => {
                // The node refuses to start on this; a server built otherwise refuses scrapes.
                tracing::error!("{e}");
                None
            }
        };
        let mut thumb_key = [0u8; 32];
        thumb_key.copy_from_slice(&hex::decode(vigie_store::random_hex(32)).expect("hex"));
        Server {
            state: Arc::new(AppState {
                clock: deps.alerts.clock().clone(),
                alerts: deps.alerts,
                audit: deps.audit,
                accounts: deps.accounts,
                hub: deps.hub,
                live: deps.live,
                clips: deps.clips,
                search: deps.search,
                config_admin: deps.config_admin,
                notify_status: deps.notify_status,
                stats: None,
                exports: Arc::new(tokio::sync::Semaphore::new(deps.config.max_concurrent_exports as usize)),
                cfg: deps.config,
                limiter,
                live_audited: Mutex::new(HashMap::new()),
                refusals: anon::RefusalCounter::default(),
                feeds: streams::FeedRegistry::new(),
                thumb_key,
                sectors: Arc::new(SectorMap::default()),
                holds: None,
                ops: None,
                metrics_token,
            }),
        }
    }

    /// The node's sectors (none by default: every user sees every camera). Called before
    /// serving.
    pub fn with_sectors(mut self, sectors: SectorMap) -> Server {
        Arc::get_mut(&mut self.state).expect("sectors are set before the router is built").sectors = Arc::new(sectors);
        self
    }

    /// Serves the anonymous statistics from `provider` (a separate step so that every
    /// [`ServerDeps`] written before statistics existed stays as it is).
    pub fn with_stats(mut self, provider: Arc<dyn stats::StatsProvider>) -> Server {
        Arc::get_mut(&mut self.state).expect("statistics are set before the router is built").stats = Some(provider);
        self
    }

    /// Serves legal holds from this archive (`/api/holds`, and their counts in the
    /// transparency report). Call before [`Server::router`].
    pub fn with_holds(mut self, archive: Arc<vigie_footage::Archive>) -> Server {
        Arc::get_mut(&mut self.state).expect("with_holds is called before the router is built").holds = Some(archive);
        self
    }

    /// Adds what `/metrics` and `/readyz` report of the node, and the catalogue's probe. Call
    /// before [`Server::router`].
    pub fn with_operations(mut self, node: Arc<dyn crate::metrics::NodeOps>, db: vigie_store::DbProbe) -> Server {
        let st = Arc::get_mut(&mut self.state).expect("with_operations is called before the server is shared");
        st.ops = Some(metrics::Ops::new(node, db));
        self
    }

    pub fn router(&self) -> Router {
        let st = self.state.clone();
        Router::new()
            .route("/", get(assets::index))
            .route("/assets/{file}", get(assets::file))
            .route("/api/openapi.yaml", get(assets::openapi))
            .route("/api/login", post(auth::login))
            .route("/api/logout", post(auth::logout))
            .route("/api/me", get(auth::me))
            .route("/api/me/password", post(auth::change_password))
            .route("/api/alerts", get(alerts::list))
            .route("/api/alerts/stream", get(alerts::stream))
            .route("/api/alerts/{id}", get(alerts::detail))
            .route("/api/alerts/{id}/snapshot", get(alerts::snapshot))
            .route("/api/alerts/{id}/clip", get(alerts::clip))
            .route("/api/alerts/{id}/confirm", post(alerts::confirm))
            .route("/api/alerts/{id}/dismiss", post(alerts::dismiss))
            .route("/api/alerts/{id}/dispatch", post(alerts::dispatch))
            .route("/api/alerts/{id}/resolve", post(alerts::resolve))
            .route("/api/alerts/{id}/unmask", post(alerts::unmask))
            .route("/api/alerts/{id}/take", post(alerts::take))
            .route("/api/alerts/{id}/release", post(alerts::release))
            .route("/api/alerts/dismiss", post(alerts::dismiss_many))
            .route("/api/cameras", get(admin::cameras))
            .route("/api/cameras/{id}/live", get(admin::live))
            .route("/api/cameras/{id}/clip", get(admin::camera_clip))
            .route("/api/cameras/{id}/export", get(export::camera_export))
            .route("/api/search", get(admin::search))
            .route("/api/search/thumbnails/{id}", get(admin::thumbnail))
            .route("/api/reports/transparency", get(admin::transparency))
            .route("/api/audit", get(admin::audit_list))
            .route("/api/audit/verify", get(admin::audit_verify))
            .route("/api/audit/export", get(admin::audit_export))
            .route("/api/users", get(admin::users).post(admin::add_user))
            .route("/api/users/{name}/disable", post(admin::disable_user))
            .route("/api/users/{name}/password", post(admin::set_password))
            .route("/api/config", get(admin::config_get).put(admin::config_put))
            .route("/api/notifications", get(admin::notifications))
            .route("/api/calibration/alerts", get(calibration::alerts))
            .route("/api/calibration/alerts/{id}/review", post(calibration::review))
            .route("/api/calibration/rules", get(calibration::rules))
            .route("/api/calibration/rules/{camera}/{rule}/live", post(calibration::go_live))
            .route("/api/users/{name}/sectors", post(admin::set_sectors))
            .route("/api/stats", get(stats::series))
            .route("/api/stats/zones", get(stats::list_zones))
            .route("/api/holds", get(holds::list).post(holds::place))
            .route("/api/holds/{id}", get(holds::detail))
            .route("/api/holds/{id}/release", post(holds::release))
            .route("/api/holds/{id}/export", get(holds::export))
            .route("/metrics", get(metrics::scrape))
            .route("/healthz", get(metrics::healthz))
            .route("/readyz", get(metrics::readyz))
            .route("/api/cameras/{id}/privacy_masks", get(masks::get).put(masks::put))
            .route_layer(middleware::from_fn_with_state(st.clone(), access))
            .fallback(no_route)
            .method_not_allowed_fallback(wrong_method)
            .layer(DefaultBodyLimit::max(st.cfg.max_body_kib as usize * 1024))
            .layer(middleware::from_fn(security_headers))
            .with_state(st)
    }

    /// Serves until the process ends. Client addresses feed the login rate limit.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.serve_with_shutdown(listener, std::future::pending()).await
    }

    /// Serves with `[server]`'s connection limits and header/body timeouts until `shutdown`.
    pub async fn serve_with_shutdown(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let st = self.state.clone();
        let flusher = tokio::spawn(write_closed_counts(st.clone()));
        let feeds = st.feeds.clone();
        let limits = crate::serve::ConnLimits::new(&st.cfg);
        let r = crate::serve::serve(listener, self.router(), limits, async move {
            shutdown.await;
            feeds.end_all();
        })
        .await;
        flusher.abort();
        if let Err(e) = anon::write_repeats(&st, st.refusals.take_all()).await {
            tracing::error!(error = %e.message, "cannot record the counts of repeated refusals");
        }
        r
    }
}

/// Writes the counts of repeated refusals soon after their minute closes, even when nothing
/// else is being recorded.
async fn write_closed_counts(st: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let closed = st.refusals.take_closed(now_ms(&st).0);
        if let Err(e) = anon::write_repeats(&st, closed).await {
            tracing::error!(error = %e.message, "cannot record the counts of repeated refusals");
        }
    }
}

async fn no_route(req: Request) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {} {}", req.method(), req.uri().path()))
}

async fn wrong_method(req: Request) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("{} is not allowed on {}", req.method(), req.uri().path()))
}

/// The console runs entirely from this origin: no CDN, no inline script, no framing.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; \
             script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    resp
}

fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE && !v.is_empty()).then(|| v.to_string())
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Runs a catalogue call off the async workers (Argon2 and SQLite block).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
}

pub(crate) async fn audit(
    st: &Arc<AppState>,
    actor: &str,
    action: AuditAction,
    target: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    // Counts of a closed minute go in before anything newer, keeping the trail in time order.
    anon::write_repeats(st, st.refusals.take_closed(now_ms(st).0)).await?;
    write_entry(st, actor, action, target, details).await
}

/// One entry, as given (callers of [`audit`] and [`anon`]).
pub(crate) async fn write_entry(
    st: &Arc<AppState>,
    actor: &str,
    action: AuditAction,
    target: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    let (s, a, t) = (st.audit.clone(), actor.to_string(), target.to_string());
    blocking(move || s.append(&a, action, &t, &details).map(|_| ()).map_err(ApiError::from)).await
}

/// Session, then CSRF (state-changing methods), then role — before any body is read, so a
/// refused request never reaches a handler.
async fn access(State(st): St, mut req: Request, next: Next) -> Response {
    let method = if req.method() == Method::HEAD { "GET".to_string() } else { req.method().as_str().to_string() };
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let Some(spec) = routes::find(&method, &matched) else {
        return ApiError::internal(format!("route {method} {matched} is missing from the access table"))
            .into_response();
    };
    let peer = req.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = peer.map_or_else(|| "unknown".into(), |p| client_address(&st.cfg, p, req.headers()));
    let peer = peer.map_or_else(|| "unknown".into(), |p| p.to_string());
    req.extensions_mut().insert(ClientIp(ip.clone()));
    req.extensions_mut().insert(PeerIp(peer));
    req.extensions_mut().insert(BodyLimitKib(st.cfg.max_body_kib));
    if spec.access == Access::Public {
        return next.run(req).await;
    }
    // What a caller sends is recorded shortened (see `anon`).
    let path = anon::cap(req.uri().path(), anon::MAX_PATH_BYTES);
    let lookup = match cookie_token(req.headers()) {
        None => None,
        Some(token) => {
            let s = st.accounts.clone();
            match blocking(move || s.session(&token).map_err(ApiError::from)).await {
                Ok(l) => Some(l),
                Err(e) => return e.into_response(),
            }
        }
    };
    let session = match &lookup {
        Some(SessionLookup::Valid(s)) => s.clone(),
        other => {
            let (reason, msg) = match other {
                Some(SessionLookup::Expired) => ("session expired", "session expired: log in again"),
                Some(_) => ("unknown session", "not logged in (unknown session): log in again"),
                None => ("no session", "not logged in"),
            };
            // The console asks /api/me on every page load to know whether to show the login
            // form; that probe without any cookie is not an access attempt worth a trail entry.
            if !(lookup.is_none() && spec.path == "/api/me") {
                let d = serde_json::json!({"method": method, "path": path, "ip": ip, "reason": reason});
                if let Err(e) =
                    anon::audit_refusal(&st, &ip, "anonymous", AuditAction::AccessUnauthenticated, &path, d).await
                {
                    return e.into_response();
                }
            }
            return ApiError::new(StatusCode::UNAUTHORIZED, msg).into_response();
        }
    };
    let user = session.user.clone();
    if !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
            let d = serde_json::json!({"method": method, "path": path, "ip": ip, "present": !sent.is_empty()});
            if let Err(e) = audit(&st, &user.username, AuditAction::AccessCsrfRefused, &path, d).await {
                return e.into_response();
            }
            return ApiError::forbidden("missing or wrong CSRF token: send the csrf_token from login in X-CSRF-Token")
                .into_response();
        }
    }
    if user.must_change_password && !routes::BEFORE_PASSWORD_CHANGE.contains(&(method.as_str(), spec.path)) {
        return ApiError::forbidden(
            "password change required: your password was set by someone else; set your own with \
             POST /api/me/password (old_password, new_password) before anything else",
        )
        .into_response();
    }
    if let Access::Perm(p) = spec.access {
        if !p.allowed(user.role) {
            let d =
                serde_json::json!({"method": method, "path": path, "ip": ip, "role": user.role, "needs": p.as_str()});
            if let Err(e) = audit(&st, &user.username, AuditAction::AccessDenied, &path, d).await {
                return e.into_response();
            }
            return ApiError::forbidden(format!("role {} may not {}", user.role, spec.summary)).into_response();
        }
    }
    let scope = Scope::of_user(st.sectors.clone(), &user.sectors);
    req.extensions_mut().insert(Ctx {
        user,
        token: session.token,
        csrf: session.csrf_token,
        expires_at_ms: session.expires_at_ms,
        scope,
    });
    next.run(req).await
}

/// Lets the request go on when the caller's sectors cover `camera`; otherwise records the
/// refusal and answers `not_found`, the answer an unknown object of the same kind gets, so the
/// refusal does not confirm that it exists. `target` is what was asked for (alert id, camera...).
pub(crate) async fn require_visible(
    st: &Arc<AppState>,
    ctx: &Ctx,
    camera: &str,
    target: &str,
    not_found: ApiError,
) -> Result<(), ApiError> {
    if ctx.scope.can_see(camera) {
        return Ok(());
    }
    let d = serde_json::json!({"camera": camera, "sectors": ctx.user.sectors});
    audit(st, &ctx.user.username, AuditAction::AccessOutOfSector, &anon::cap(target, anon::MAX_PATH_BYTES), d).await?;
    Err(not_found)
}

/// `{"ok": true}`: the answer of an action that has nothing else to say.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Done {
    ok: bool,
}

impl Done {
    pub(crate) const OK: Done = Done { ok: true };
}

/// JSON body with the API's error messages (axum's own are plain text).
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        let limit = req.extensions().get::<BodyLimitKib>().map(|l| l.0).unwrap_or(64);
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::bad_request(format!("malformed JSON body: {}", e.body_text())))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::bad_request(format!("malformed JSON body: {}", e.body_text())))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a JSON body with Content-Type: application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body too large: at most {limit} KiB"),
            )),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// Query string with the API's error messages.
pub(crate) struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(Q(q.0)),
            Err(e) => Err(ApiError::bad_request(format!("bad query string: {}", e.body_text()))),
        }
    }
}

/// Longest time string accepted (`maxLength` in openapi.yaml); RFC 3339 with nanoseconds and an
/// offset is 35 characters.
pub(crate) const MAX_TIME_CHARS: usize = 40;

/// Longest search text accepted: the same bound as operators' reasons and notes.
pub(crate) const MAX_TEXT_CHARS: usize = vigie_store::MAX_FREE_TEXT_CHARS;

/// Refuses a client string longer than `max` characters (as OpenAPI's `maxLength` counts them),
/// naming the field.
pub(crate) fn max_len(name: &str, s: &str, max: usize) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n > max {
        return Err(ApiError::bad_request(format!("'{name}' is too long: {n} characters, at most {max}")));
    }
    Ok(())
}

/// Earliest and latest instants a client may name (2000-01-01 and 2200-01-01 UTC): nothing is
/// recorded outside them, and keeping every time in this range is what lets window arithmetic
/// (`to - from`, `to - 30 days`) never overflow.
pub(crate) const TIME_MIN_MS: i64 = 946_684_800_000;
pub(crate) const TIME_MAX_MS: i64 = 7_258_118_400_000;

/// Unix ms from an RFC 3339 time, a `YYYY-MM-DD` date (UTC midnight) or a number of ms, within
/// years 2000–2200.
pub(crate) fn parse_time(name: &str, s: &str) -> Result<UnixMs, ApiError> {
    max_len(name, s, MAX_TIME_CHARS)?;
    let ms = if let Ok(ms) = s.parse::<i64>() {
        Some(ms)
    } else if let Ok(t) = s.parse::<jiff::Timestamp>() {
        Some(t.as_millisecond())
    } else {
        s.parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp().as_millisecond())
    };
    match ms {
        Some(ms) if (TIME_MIN_MS..TIME_MAX_MS).contains(&ms) => Ok(UnixMs(ms)),
        Some(_) => Err(ApiError::bad_request(format!(
            "invalid '{name}': '{s}' is outside the years 2000 to 2200 (Unix ms {TIME_MIN_MS} to {TIME_MAX_MS})"
        ))),
        None => Err(ApiError::bad_request(format!(
            "invalid '{name}': '{s}' is not an RFC 3339 time (2025-06-01T08:00:00Z), a date (2025-06-01) or Unix milliseconds"
        ))),
    }
}

pub(crate) fn now_ms(st: &AppState) -> UnixMs {
    st.clock.now_ms()
}
