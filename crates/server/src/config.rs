//! `[server]` and `[notify]` sections of vigie.toml. Each checks itself and names the key at fault.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use vigie_core::config::key;
use vigie_core::ConfigError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the console and API listen on.
    pub listen: String,
    /// Session lifetime from login (absolute), minutes.
    pub session_ttl_min: u32,
    /// `Secure` on the session cookie: `"auto"` (when the request came over HTTPS through a
    /// trusted proxy), `true` (always) or `false` (never).
    pub cookie_secure: CookieSecure,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-Proto` is believed.
    pub trusted_proxies: Vec<String>,
    /// How long an unmask grant lasts, minutes.
    pub unmask_minutes: u32,
    /// Failed logins allowed per (user name, client address) within the window: what stops
    /// guessing one account's password.
    pub login_max_failures: u32,
    /// Failed logins allowed per client address, whatever the names, within the window: stops
    /// spraying names from one place, yet high enough that a control room behind one NAT address
    /// is not locked out by a few mistyped names.
    pub login_max_failures_per_address: u32,
    /// Failed logins allowed per user name, from all addresses together, within the window: a
    /// slow-down against a distributed attack. Must exceed the per-address limit, so that one
    /// attacker's address can never lock a real user out from another address.
    pub login_max_failures_per_name: u32,
    pub login_window_min: u32,
    /// Largest request body accepted, KiB.
    pub max_body_kib: u32,
    /// A live view of one camera by one user is audited once per this many minutes (the wall
    /// refreshes pictures every second; one entry per refresh would drown the trail).
    pub live_audit_every_min: u32,
    /// Seconds of footage before the event start in an alert's clip, and after its end.
    pub clip_before_s: u32,
    pub clip_after_s: u32,
    /// Clips made from the archive at the same time; one more is answered 503 with Retry-After
    /// (an export decodes, blurs and re-encodes: a few of them keep the node's cores busy).
    pub max_concurrent_exports: u32,
    /// Time one clip export may take, seconds; past it the export stops and the request gets 503.
    pub export_budget_s: u32,
    /// Open client connections at most; more are answered 503 and closed. Also capped below
    /// the process's file-descriptor limit, so that the recorder and the databases keep theirs.
    pub max_connections: u32,
    /// A client has this long to send a request's headers, and then as long for its body,
    /// seconds; a slower one is disconnected.
    pub header_timeout_s: u32,
    pub body_timeout_s: u32,
    /// Who may read `GET /metrics` (no session needed): `"loopback"` (clients on this host),
    /// `"any"`, or `"token"` (a bearer token, from the variable named by `metrics_token_env`).
    pub metrics_access: MetricsAccess,
    /// With `metrics_access = "token"`: the environment variable that holds the token (the
    /// token itself is never written in the file, nor logged).
    pub metrics_token_env: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            session_ttl_min: 480,
            cookie_secure: CookieSecure::Auto,
            trusted_proxies: Vec::new(),
            unmask_minutes: 15,
            login_max_failures: 5,
            login_max_failures_per_address: 50,
            login_max_failures_per_name: 200,
            login_window_min: 5,
            max_body_kib: 64,
            live_audit_every_min: 5,
            clip_before_s: 10,
            clip_after_s: 10,
            max_concurrent_exports: 2,
            export_budget_s: 180,
            max_connections: 512,
            header_timeout_s: 10,
            body_timeout_s: 10,
            metrics_access: MetricsAccess::Loopback,
            metrics_token_env: None,
        }
    }
}

/// Who may scrape `/metrics`. The figures name cameras and counts, nothing personal, but they
/// say what the node watches and how busy it is: not for everyone by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// Clients connecting from 127.0.0.0/8 or ::1 (behind a trusted proxy: the client it names).
    #[default]
    Loopback,
    Any,
    /// `Authorization: Bearer <token>`, from any address.
    Token,
}

/// Shortest metrics token accepted: guessing it must not be practical.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// When the session cookie carries `Secure`. The node speaks plain HTTP itself, so HTTPS can
/// only be known from a TLS proxy in front of it, and only a proxy listed in `trusted_proxies`
/// is believed (anyone else can send `X-Forwarded-Proto`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieSecure {
    /// `Secure` when a trusted proxy says the request came over HTTPS.
    #[default]
    Auto,
    Always,
    Never,
}

impl Serialize for CookieSecure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CookieSecure::Auto => s.serialize_str("auto"),
            CookieSecure::Always => s.serialize_bool(true),
            CookieSecure::Never => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for CookieSecure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CookieSecure;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"auto\", true or false")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<CookieSecure, E> {
                Ok(if v { CookieSecure::Always } else { CookieSecure::Never })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CookieSecure, E> {
                match v {
                    "auto" => Ok(CookieSecure::Auto),
                    "true" => Ok(CookieSecure::Always),
                    "false" => Ok(CookieSecure::Never),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One `trusted_proxies` entry: an address, or a block such as `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("'{s}' is not an IP address or CIDR block (10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("'{s}': prefix length must be 0..={max}")),
            },
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may show up as IPv4-mapped IPv6 on a dual-stack listener.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix as u32) };
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix as u32) };
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

fn range(errs: &mut Vec<ConfigError>, parent: &str, name: &str, v: u32, lo: u32, hi: u32) {
    if v < lo || v > hi {
        errs.push(ConfigError::new(key(parent, name), format!("{v} is out of range {lo}..={hi}")));
    }
}

impl ServerConfig {
    /// `parent` is the section's path, normally `"server"`.
    pub fn validate(&self, parent: &str) -> Result<(), Vec<ConfigError>> {
        let mut errs = Vec::new();
        if self.listen.parse::<SocketAddr>().is_err() {
            errs.push(ConfigError::new(
                key(parent, "listen"),
                format!("'{}' is not an address:port such as 127.0.0.1:8080", self.listen),
            ));
        }
        for (i, p) in self.trusted_proxies.iter().enumerate() {
            if let Err(e) = IpNet::parse(p) {
                errs.push(ConfigError::new(format!("{}[{i}]", key(parent, "trusted_proxies")), e));
            }
        }
        range(&mut errs, parent, "session_ttl_min", self.session_ttl_min, 1, 7 * 24 * 60);
        range(&mut errs, parent, "unmask_minutes", self.unmask_minutes, 1, 24 * 60);
        range(&mut errs, parent, "login_max_failures", self.login_max_failures, 1, 1000);
        range(&mut errs, parent, "login_max_failures_per_address", self.login_max_failures_per_address, 1, 100_000);
        range(&mut errs, parent, "login_max_failures_per_name", self.login_max_failures_per_name, 1, 100_000);
        if self.login_max_failures_per_address < self.login_max_failures {
            errs.push(ConfigError::new(
                key(parent, "login_max_failures_per_address"),
                format!(
                    "{} is below login_max_failures ({}): the per-address limit counts every name",
                    self.login_max_failures_per_address, self.login_max_failures
                ),
            ));
        }
        if self.login_max_failures_per_name <= self.login_max_failures_per_address {
            errs.push(ConfigError::new(
                key(parent, "login_max_failures_per_name"),
                format!(
                    "{} must exceed login_max_failures_per_address ({}), or one address could lock a user out \
                     everywhere",
                    self.login_max_failures_per_name, self.login_max_failures_per_address
                ),
            ));
        }
        range(&mut errs, parent, "login_window_min", self.login_window_min, 1, 24 * 60);
        range(&mut errs, parent, "max_body_kib", self.max_body_kib, 1, 10 * 1024);
        range(&mut errs, parent, "live_audit_every_min", self.live_audit_every_min, 1, 24 * 60);
        range(&mut errs, parent, "clip_before_s", self.clip_before_s, 0, 600);
        range(&mut errs, parent, "clip_after_s", self.clip_after_s, 0, 600);
        range(&mut errs, parent, "max_concurrent_exports", self.max_concurrent_exports, 1, 64);
        range(&mut errs, parent, "export_budget_s", self.export_budget_s, 1, 3600);
        range(&mut errs, parent, "max_connections", self.max_connections, 1, 100_000);
        range(&mut errs, parent, "header_timeout_s", self.header_timeout_s, 1, 300);
        range(&mut errs, parent, "body_timeout_s", self.body_timeout_s, 1, 300);
        match (&self.metrics_access, &self.metrics_token_env) {
            (MetricsAccess::Token, None) => errs.push(ConfigError::new(
                key(parent, "metrics_token_env"),
                "metrics_access = \"token\" needs the name of the environment variable holding the token",
            )),
            (_, Some(v)) if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                errs.push(ConfigError::new(
                    key(parent, "metrics_token_env"),
                    format!("'{v}' is not an environment variable name (letters, digits, _)"),
                ))
            }
            _ => {}
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

impl ServerConfig {
    /// The metrics bearer token, read from the environment (`None` unless `metrics_access` is
    /// `"token"`). The error names the key and the variable, never the value.
    pub fn metrics_token(&self, parent: &str) -> Result<Option<String>, ConfigError> {
        if self.metrics_access != MetricsAccess::Token {
            return Ok(None);
        }
        let k = key(parent, "metrics_token_env");
        let var = self.metrics_token_env.as_deref().ok_or_else(|| ConfigError::new(&k, "not set"))?;
        match std::env::var(var) {
            Ok(t) if t.chars().count() >= MIN_METRICS_TOKEN_CHARS => Ok(Some(t)),
            Ok(_) => Err(ConfigError::new(
                k,
                format!("the token in {var} is too short: at least {MIN_METRICS_TOKEN_CHARS} characters"),
            )),
            Err(_) => Err(ConfigError::new(k, format!("environment variable {var} is not set"))),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    pub webhook: Option<WebhookConfig>,
    pub mqtt: Option<MqttConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host:port/path`. HTTPS is not built in: put a TLS relay on the same host.
    pub url: String,
    /// Key of the `X-Vigie-Signature: sha256=<hex HMAC-SHA256 of "<X-Vigie-Timestamp>.<body>">` header
    /// ([`crate::notify::sign`]).
    pub secret: String,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, capped at 60 s.
    #[serde(default = "default_retry_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    pub host: String,
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    /// Alerts go to `<topic>/<camera>`.
    #[serde(default = "default_topic")]
    pub topic: String,
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Reconnection delay after the broker is lost; doubles, capped at 60 s.
    #[serde(default = "default_retry_ms")]
    pub retry_initial_ms: u64,
}

fn default_attempts() -> u32 {
    6
}
fn default_retry_ms() -> u64 {
    1000
}
fn default_timeout_s() -> u64 {
    5
}
fn default_mqtt_port() -> u16 {
    1883
}
fn default_topic() -> String {
    "vigie/alerts".into()
}
fn default_client_id() -> String {
    "vigie".into()
}

impl NotifyConfig {
    /// `parent` is the section's path, normally `"notify"`.
    pub fn validate(&self, parent: &str) -> Result<(), Vec<ConfigError>> {
        let mut errs = Vec::new();
        if let Some(w) = &self.webhook {
            let p = key(parent, "webhook");
            match url::Url::parse(&w.url) {
                Ok(u) if u.scheme() == "http" && u.host_str().is_some() => {}
                Ok(u) if u.scheme() == "https" => errs.push(ConfigError::new(
                    key(&p, "url"),
                    "https is not built in: point it at a local TLS relay over http",
                )),
                Ok(_) => errs.push(ConfigError::new(key(&p, "url"), format!("'{}' is not an http:// URL", w.url))),
                Err(e) => errs.push(ConfigError::new(key(&p, "url"), format!("'{}' is not a URL: {e}", w.url))),
            }
            if w.secret.len() < 16 {
                errs.push(ConfigError::new(key(&p, "secret"), "too short: at least 16 characters"));
            }
            if w.max_attempts == 0 || w.max_attempts > 100 {
                errs.push(ConfigError::new(key(&p, "max_attempts"), "must be 1..=100"));
            }
            if w.timeout_s == 0 || w.timeout_s > 120 {
                errs.push(ConfigError::new(key(&p, "timeout_s"), "must be 1..=120"));
            }
        }
        if let Some(m) = &self.mqtt {
            let p = key(parent, "mqtt");
            if m.host.trim().is_empty() {
                errs.push(ConfigError::new(key(&p, "host"), "is empty"));
            }
            if m.port == 0 {
                errs.push(ConfigError::new(key(&p, "port"), "must not be 0"));
            }
            if m.topic.is_empty() || m.topic.contains(['#', '+']) || m.topic.ends_with('/') {
                errs.push(ConfigError::new(
                    key(&p, "topic"),
                    "must be a plain topic without wildcards or trailing '/'",
                ));
            }
            if m.client_id.is_empty() {
                errs.push(ConfigError::new(key(&p, "client_id"), "is empty"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_errors_name_keys() {
        ServerConfig::default().validate("server").unwrap();
        let c: ServerConfig = toml::from_str("listen = \"nowhere\"\nunmask_minutes = 0").unwrap();
        let errs = c.validate("server").unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["server.listen", "server.unmask_minutes"]);
        assert!(toml::from_str::<ServerConfig>("lisen = \"x\"").unwrap_err().to_string().contains("unknown field"));

        let n: NotifyConfig =
            toml::from_str("[webhook]\nurl = \"https://x\"\nsecret = \"short\"\n[mqtt]\nhost = \"\"\ntopic = \"a/#\"")
                .unwrap();
        let keys: Vec<String> = n.validate("notify").unwrap_err().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["notify.webhook.url", "notify.webhook.secret", "notify.mqtt.host", "notify.mqtt.topic"]);
        let ok: NotifyConfig =
            toml::from_str("[webhook]\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef\"").unwrap();
        ok.validate("notify").unwrap();
        assert_eq!(ok.webhook.unwrap().max_attempts, 6);
    }
}
