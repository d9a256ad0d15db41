//! Notifications out: a signed webhook and MQTT, each optional, each retried, each with its
//! delivery status visible to admins (`GET /api/notifications`) and in the logs.
//!
//! Both send `{"event": "alert.opened", "alert": <AlertView>}` when a new alert is raised, and
//! `{"event": "audit.checkpoint", "checkpoint": <signed checkpoint>}` periodically, so that the
//! audit trail's head is anchored on another system (MQTT: `<topic>/_node/audit`, a level no
//! camera id can take).
//! Queues are bounded (1024 alerts per channel): beyond that, alerts are counted as dropped
//! rather than growing memory while a receiver is down; the console is the system of record.

use crate::config::{MqttConfig, NotifyConfig, WebhookConfig};
use crate::view::AlertView;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use vigie_core::UnixMs;

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ChannelStatus {
    pub configured: bool,
    /// URL or broker address and topic.
    pub target: String,
    pub sent: u64,
    /// Alerts given up on after every attempt failed.
    pub failed: u64,
    pub retries: u64,
    /// Alerts not queued because the queue was full.
    pub dropped: u64,
    /// MQTT only: connected to the broker now.
    pub connected: Option<bool>,
    pub last_error: Option<String>,
    pub last_error_at_ms: Option<UnixMs>,
    pub last_success_at_ms: Option<UnixMs>,
}

#[derive(Debug, Default)]
pub struct NotifyStatus {
    pub webhook: Mutex<ChannelStatus>,
    pub mqtt: Mutex<ChannelStatus>,
}

/// Both channels' status at one moment (`GET /api/notifications`); `None` on a node that has no
/// notifications at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifySnapshot {
    pub webhook: Option<ChannelStatus>,
    pub mqtt: Option<ChannelStatus>,
}

impl NotifyStatus {
    pub fn snapshot(&self) -> NotifySnapshot {
        NotifySnapshot { webhook: Some(self.webhook.lock().clone()), mqtt: Some(self.mqtt.lock().clone()) }
    }
}

fn note_error(s: &Mutex<ChannelStatus>, e: &str) {
    let mut s = s.lock();
    s.last_error = Some(e.to_string());
    s.last_error_at_ms = Some(UnixMs::now());
}

/// Header carrying the Unix time (seconds) a delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "x-vigie-timestamp";
/// Header carrying `sha256=<hex>` from [`sign`].
pub const SIGNATURE_HEADER: &str = "x-vigie-signature";
/// Receivers should refuse deliveries signed longer ago than this (replays).
pub const MAX_SIGNATURE_AGE_S: i64 = 300;

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, the value of `X-Vigie-Signature`;
/// `timestamp_s` (Unix seconds) goes in `X-Vigie-Timestamp`. Signing the time with the body is
/// what lets a receiver refuse a captured delivery replayed later. Every signed message the node
/// sends goes through here.
pub fn sign(secret: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a receiver refuses a delivery ([`verify`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Vigie-Timestamp is missing or not Unix seconds")]
    BadTimestamp,
    #[error("signed {age_s} s ago, more than {max_s} s: refused as a possible replay")]
    TooOld { age_s: i64, max_s: i64 },
    #[error("X-Vigie-Signature does not match the body and timestamp")]
    Mismatch,
}

/// What a receiver does with a delivery, written once so the README's recipe is tested: recompute
/// the signature over `timestamp.body`, compare in constant time, refuse when older than
/// `max_age_s` (or dated that far in the future).
pub fn verify(
    secret: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_s: i64,
    max_age_s: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    let age_s = now_s.saturating_sub(ts);
    if age_s.saturating_abs() > max_age_s {
        return Err(SignatureError::TooOld { age_s, max_s: max_age_s });
    }
    let want = sign(secret, ts, body);
    let (a, b) = (want.as_bytes(), signature.trim().as_bytes());
    if a.len() != b.len() || a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) != 0 {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct OutMsg {
    /// MQTT topic levels under the configured topic.
    subtopic: String,
    body: Bytes,
}

/// MQTT levels of audit checkpoints: two levels, so never a camera's.
pub const CHECKPOINT_SUBTOPIC: &str = "_node/audit";

#[derive(Clone)]
pub struct Notifier {
    webhook: Option<mpsc::Sender<OutMsg>>,
    mqtt: Option<mpsc::Sender<OutMsg>>,
    status: Arc<NotifyStatus>,
}

impl Notifier {
    /// Starts the configured channels on `rt`; `None` when none is configured.
    pub fn start(cfg: &NotifyConfig, rt: &tokio::runtime::Handle) -> Option<Notifier> {
        if cfg.webhook.is_none() && cfg.mqtt.is_none() {
            return None;
        }
        let status = Arc::new(NotifyStatus::default());
        let webhook = cfg.webhook.clone().map(|w| {
            let (tx, rx) = mpsc::channel(1024);
            {
                let mut s = status.webhook.lock();
                s.configured = true;
                s.target = w.url.clone();
            }
            rt.spawn(webhook_worker(w, rx, status.clone()));
            tx
        });
        let mqtt = cfg.mqtt.clone().map(|m| {
            let (tx, rx) = mpsc::channel(1024);
            {
                let mut s = status.mqtt.lock();
                s.configured = true;
                s.target = format!("mqtt://{}:{}/{}/<camera>", m.host, m.port, m.topic);
                s.connected = Some(false);
            }
            let _guard = rt.enter();
            start_mqtt(m, rx, status.clone());
            tx
        });
        Some(Notifier { webhook, mqtt, status })
    }

    pub fn status(&self) -> &Arc<NotifyStatus> {
        &self.status
    }

    /// Queues a new alert on every channel; never blocks.
    pub fn alert_opened(&self, alert: &AlertView) {
        let body =
            serde_json::to_vec(&serde_json::json!({"event": "alert.opened", "alert": alert})).expect("views serialise");
        let msg = OutMsg { subtopic: mqtt_segment(&alert.camera), body: Bytes::from(body) };
        self.queue(msg, &alert.id);
    }

    /// Queues a signed audit checkpoint on every channel; never blocks.
    pub fn audit_checkpoint(&self, cp: &vigie_store::Checkpoint) {
        let body = serde_json::to_vec(&serde_json::json!({"event": "audit.checkpoint", "checkpoint": cp}))
            .expect("checkpoints serialise");
        self.queue(OutMsg { subtopic: CHECKPOINT_SUBTOPIC.into(), body: Bytes::from(body) }, "audit.checkpoint");
    }

    fn queue(&self, msg: OutMsg, what: &str) {
        for (tx, st) in [(&self.webhook, &self.status.webhook), (&self.mqtt, &self.status.mqtt)] {
            if let Some(tx) = tx {
                if tx.try_send(msg.clone()).is_err() {
                    st.lock().dropped += 1;
                    tracing::error!(message = %what, "notification queue full or closed: not sent");
                }
            }
        }
    }
}

async fn webhook_worker(cfg: WebhookConfig, mut rx: mpsc::Receiver<OutMsg>, status: Arc<NotifyStatus>) {
    let timeout = Duration::from_secs(cfg.timeout_s);
    while let Some(msg) = rx.recv().await {
        let mut delay = cfg.retry_initial_ms.max(1);
        for attempt in 1..=cfg.max_attempts {
            // Signed afresh each attempt: a retry minutes later must still pass the receiver's age check.
            let ts = UnixMs::now().0.div_euclid(1000);
            let sig = sign(&cfg.secret, ts, &msg.body);
            let (attempt_s, ts_s) = (attempt.to_string(), ts.to_string());
            let headers = [
                ("content-type", "application/json"),
                (SIGNATURE_HEADER, sig.as_str()),
                (TIMESTAMP_HEADER, ts_s.as_str()),
                ("x-vigie-attempt", attempt_s.as_str()),
            ];
            let err = match crate::http_client::request("POST", &cfg.url, &headers, msg.body.to_vec(), timeout).await {
                Ok(r) if (200..300).contains(&r.status) => {
                    let mut s = status.webhook.lock();
                    s.sent += 1;
                    s.last_success_at_ms = Some(UnixMs::now());
                    break;
                }
                Ok(r) => format!("{} answered HTTP {}", cfg.url, r.status),
                Err(e) => e,
            };
            note_error(&status.webhook, &err);
            if attempt == cfg.max_attempts {
                status.webhook.lock().failed += 1;
                tracing::error!(error = %err, attempts = attempt, "webhook delivery failed, giving up on this alert");
                break;
            }
            tracing::warn!(error = %err, attempt, retry_in_ms = delay, "webhook delivery failed, retrying");
            status.webhook.lock().retries += 1;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            delay = (delay * 2).min(60_000);
        }
    }
}

fn start_mqtt(cfg: MqttConfig, mut rx: mpsc::Receiver<OutMsg>, status: Arc<NotifyStatus>) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let mut opts = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(opts, 256);
    let st = status.clone();
    // The event loop owns the connection: polling it after an error reconnects, and QoS 1
    // publishes not yet acknowledged are sent again once connected.
    tokio::spawn(async move {
        let initial = cfg.retry_initial_ms.max(1);
        let mut delay = initial;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    st.mqtt.lock().connected = Some(true);
                    delay = initial;
                    tracing::info!(host = %cfg.host, port = cfg.port, "connected to MQTT broker");
                }
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    let mut s = st.mqtt.lock();
                    s.sent += 1;
                    s.last_success_at_ms = Some(UnixMs::now());
                }
                Ok(_) => {}
                Err(e) => {
                    let msg = format!("MQTT broker {}:{}: {e}", cfg.host, cfg.port);
                    {
                        let mut s = st.mqtt.lock();
                        if s.connected == Some(true) {
                            tracing::warn!(error = %msg, "lost the MQTT broker, reconnecting");
                        }
                        s.connected = Some(false);
                        s.retries += 1;
                    }
                    note_error(&st.mqtt, &msg);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    delay = (delay * 2).min(60_000);
                }
            }
        }
    });
    let topic = cfg.topic;
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let t = format!("{topic}/{}", msg.subtopic);
            if let Err(e) = client.publish(t, QoS::AtLeastOnce, false, msg.body.to_vec()).await {
                status.mqtt.lock().failed += 1;
                note_error(&status.mqtt, &format!("MQTT publish failed: {e}"));
            }
        }
    });
}

/// Camera names become one topic level: no separators or wildcards.
fn mqtt_segment(camera: &str) -> String {
    camera.chars().map(|c| if matches!(c, '/' | '#' | '+') || c.is_control() { '_' } else { c }).collect()
}
