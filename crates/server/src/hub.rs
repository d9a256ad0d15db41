//! Where the pipeline's events enter the console: stored, then pushed to every connected
//! console (SSE) and to the notification channels.

use crate::notify::Notifier;
use serde::Serialize;
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use tokio::sync::broadcast;
use vigie_core::{BBox, Event, EventSink, PeakMeasure};
use vigie_store::{rfc3339, Alert, AlertState, Store};

/// An alert as the API and the live feed show it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub camera: String,
    pub zone: String,
    /// RFC 3339 (UTC).
    pub started_at: String,
    pub started_at_ms: i64,
    pub ended_at: Option<String>,
    pub ended_at_ms: Option<i64>,
    pub state: AlertState,
    /// Higher is more urgent (person down 7 ... graffiti 1).
    pub urgency: u8,
    pub peak: PeakMeasure,
    pub rule: String,
    pub rule_version: u32,
    pub legal_basis: String,
    pub model_sha256: String,
    pub frame_seq: u64,
    pub track_ids: Vec<u64>,
    pub region: Option<BBox>,
    pub snapshot_url: Option<String>,
    pub clip_url: String,
    pub received_at_ms: i64,
    pub updated_at_ms: i64,
    /// Capture time of the frame in which the rule fired, when the pipeline gives it (live feed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fired_at_ms: Option<i64>,
    /// When the server pushed this message (live feed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at_ms: Option<i64>,
}

/// Alert ids come from camera and rule names; they are percent-encoded into URLs.
pub(crate) fn url_id(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20")
}

impl AlertView {
    pub fn from_alert(a: &Alert) -> Self {
        let base = format!("/api/alerts/{}", url_id(&a.id));
        Self {
            id: a.id.clone(),
            event_type: a.event_type.as_str().into(),
            camera: a.camera.clone(),
            zone: a.zone.clone(),
            started_at: rfc3339(a.started_at_ms),
            started_at_ms: a.started_at_ms,
            ended_at: a.ended_at_ms.map(rfc3339),
            ended_at_ms: a.ended_at_ms,
            state: a.state,
            urgency: a.urgency,
            peak: a.peak.clone(),
            rule: a.rule.clone(),
            rule_version: a.rule_version,
            legal_basis: a.legal_basis.clone(),
            model_sha256: a.model_sha256.clone(),
            frame_seq: a.frame_seq,
            track_ids: a.track_ids.clone(),
            region: a.region,
            snapshot_url: a.has_snapshot.then(|| format!("{base}/snapshot")),
            clip_url: format!("{base}/clip"),
            received_at_ms: a.received_at_ms,
            updated_at_ms: a.updated_at_ms,
            fired_at_ms: None,
            published_at_ms: None,
        }
    }
}

/// One message of the live feed, serialised once for all subscribers.
#[derive(Debug)]
pub struct HubMessage {
    /// SSE event name: `alert` for a new alert, `update` for any change to a known one.
    pub kind: &'static str,
    pub json: String,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct PublishExtras<'a> {
    /// Unblurred evidence, kept apart and served only under an unmask grant.
    pub clear_jpeg: Option<&'a [u8]>,
    /// Capture time (Unix ms) of the frame in which the rule fired, for latency measurement.
    pub fired_at_ms: Option<i64>,
}

pub struct AlertHub {
    store: Arc<Store>,
    tx: broadcast::Sender<Arc<HubMessage>>,
    notifier: Option<Notifier>,
}

impl AlertHub {
    pub fn new(store: Arc<Store>, notifier: Option<Notifier>) -> Arc<AlertHub> {
        // A console that falls this far behind is told to reload (`resync`).
        let (tx, _) = broadcast::channel(1024);
        Arc::new(AlertHub { store, tx, notifier })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HubMessage>> {
        self.tx.subscribe()
    }

    /// Number of connected live feeds.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    fn now_ms(&self) -> i64 {
        self.store.clock().now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    /// Stores the event, then pushes it. Called from pipeline threads; never blocks on consoles.
    pub fn publish_with(&self, ev: &Event, extras: PublishExtras<'_>) -> Result<AlertView, String> {
        let out = self.store.ingest_event(ev, extras.clear_jpeg).map_err(|e| e.to_string())?;
        let mut view = AlertView::from_alert(&out.alert);
        view.fired_at_ms = extras.fired_at_ms;
        view.published_at_ms = Some(self.now_ms());
        let kind = if out.created { "alert" } else { "update" };
        let json = serde_json::to_string(&view).expect("views serialise");
        // No subscriber is not an error: the alert is stored and the queue shows it on login.
        let _ = self.tx.send(Arc::new(HubMessage { kind, json }));
        if out.created {
            if let Some(n) = &self.notifier {
                n.alert_opened(&view);
            }
        }
        Ok(view)
    }

    /// Tells every console that an alert changed (an operator acted on it).
    pub(crate) fn announce_update(&self, a: &Alert) {
        let mut view = AlertView::from_alert(a);
        view.published_at_ms = Some(self.now_ms());
        let json = serde_json::to_string(&view).expect("views serialise");
        let _ = self.tx.send(Arc::new(HubMessage { kind: "update", json }));
    }
}

impl EventSink for AlertHub {
    fn publish(&self, event: &Event) -> Result<(), String> {
        self.publish_with(event, PublishExtras::default()).map(|_| ())
    }
}
