//! Where the pipeline's events enter the console: stored, then pushed to every connected
//! console (SSE) and to the notification channels.

use crate::notify::Notifier;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::broadcast;
use vigie_core::{BBox, Event, EventPhase, EventSink, PeakMeasure};
use vigie_store::{rfc3339, Alert, AlertState, IngestOutcome, Store};

/// Alerts waiting to be stored (disk full, database locked...) at most. Updates of a waiting
/// alert are merged into it, so this many distinct alerts would have to fire during one outage.
pub const MAX_PENDING_ALERTS: usize = 2000;
/// How often waiting alerts are offered to the catalogue again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

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

    /// What the live feed shows of an event the catalogue could not store yet: no snapshot
    /// link until it is stored (the picture is written with its row).
    fn from_unstored(ev: &Event, now_ms: i64) -> Self {
        let base = format!("/api/alerts/{}", url_id(&ev.id));
        let ended = match ev.phase {
            EventPhase::Closed => Some(ev.ended_at_ms.unwrap_or(now_ms)),
            _ => ev.ended_at_ms,
        };
        Self {
            id: ev.id.clone(),
            event_type: ev.event_type.as_str().into(),
            camera: ev.camera.clone(),
            zone: ev.zone.clone(),
            started_at: rfc3339(ev.started_at_ms),
            started_at_ms: ev.started_at_ms,
            ended_at: ended.map(rfc3339),
            ended_at_ms: ended,
            state: AlertState::New,
            urgency: vigie_store::alerts::urgency(ev.event_type),
            peak: ev.peak.clone(),
            rule: ev.rule.clone(),
            rule_version: ev.rule_version,
            legal_basis: ev.legal_basis.clone(),
            model_sha256: ev.model_sha256.clone(),
            frame_seq: ev.frame_seq,
            track_ids: ev.track_ids.clone(),
            region: ev.region,
            snapshot_url: None,
            clip_url: format!("{base}/clip"),
            received_at_ms: now_ms,
            updated_at_ms: now_ms,
            fired_at_ms: None,
            published_at_ms: None,
        }
    }
}

/// An event shown on the live feed but not yet in the catalogue.
struct Pending {
    ev: Event,
    clear_jpeg: Option<Vec<u8>>,
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
    /// Oldest first; stored in this order before anything newer is.
    pending: Mutex<VecDeque<Pending>>,
}

impl AlertHub {
    pub fn new(store: Arc<Store>, notifier: Option<Notifier>) -> Arc<AlertHub> {
        // A console that falls this far behind is told to reload (`resync`).
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(AlertHub { store, tx, notifier, pending: Mutex::new(VecDeque::new()) });
        let weak: Weak<AlertHub> = Arc::downgrade(&hub);
        // Lives as long as the hub: waiting alerts are stored as soon as the catalogue takes
        // them again, even if no new event comes to push them.
        let _ = std::thread::Builder::new().name("alert-retry".into()).spawn(move || loop {
            std::thread::sleep(RETRY_EVERY);
            let Some(hub) = weak.upgrade() else { return };
            hub.retry_pending();
        });
        hub
    }

    /// Alerts shown on the live feed but not stored yet.
    pub fn pending(&self) -> usize {
        self.pending.lock().len()
    }

    /// Offers the waiting alerts to the catalogue again, oldest first; stops at the first
    /// that still fails.
    pub fn retry_pending(&self) {
        let mut q = self.pending.lock();
        self.flush(&mut q);
    }

    fn flush(&self, q: &mut VecDeque<Pending>) {
        while let Some(p) = q.front() {
            match self.store.ingest_event(&p.ev, p.clear_jpeg.as_deref()) {
                Ok(out) => {
                    q.pop_front();
                    // Already on the live feed and notified: consoles get the stored version
                    // (with its snapshot) as an update.
                    self.announce(out, None, false);
                    if q.is_empty() {
                        tracing::info!("the catalogue takes alerts again: every waiting alert is stored");
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// Pushes a stored alert to the live feed (and, for a new one, the notifications).
    fn announce(&self, out: IngestOutcome, fired_at_ms: Option<i64>, first_time: bool) -> AlertView {
        let mut view = AlertView::from_alert(&out.alert);
        view.fired_at_ms = fired_at_ms;
        view.published_at_ms = Some(self.now_ms());
        let kind = if out.created && first_time { "alert" } else { "update" };
        let json = serde_json::to_string(&view).expect("views serialise");
        // No subscriber is not an error: the alert is stored and the queue shows it on login.
        let _ = self.tx.send(Arc::new(HubMessage { kind, json }));
        if out.created && first_time {
            if let Some(n) = &self.notifier {
                n.alert_opened(&view);
            }
        }
        view
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
    ///
    /// When the catalogue cannot store it (disk full...), the event is pushed to the live feed
    /// and the notifications all the same, and kept in order to be stored as soon as the
    /// catalogue takes it: an operator must see an alert even when the disk cannot keep it.
    /// Fails only when the waiting queue is full.
    pub fn publish_with(&self, ev: &Event, extras: PublishExtras<'_>) -> Result<AlertView, String> {
        let mut q = self.pending.lock();
        self.flush(&mut q);
        // Nothing is stored ahead of older alerts still waiting.
        let error = if q.is_empty() {
            match self.store.ingest_event(ev, extras.clear_jpeg) {
                Ok(out) => return Ok(self.announce(out, extras.fired_at_ms, true)),
                Err(e) => Some(e.to_string()),
            }
        } else {
            None
        };
        match q.iter().rposition(|p| p.ev.id == ev.id) {
            Some(i) => {
                // A later state of a waiting alert replaces it, keeping pictures not sent again.
                let p = &mut q[i];
                let snapshot = ev.snapshot_jpeg.clone().or_else(|| p.ev.snapshot_jpeg.take());
                let clear = extras.clear_jpeg.map(<[u8]>::to_vec).or_else(|| p.clear_jpeg.take());
                p.ev = Event { snapshot_jpeg: snapshot, ..ev.clone() };
                p.clear_jpeg = clear;
            }
            None if q.len() >= MAX_PENDING_ALERTS => {
                return Err(format!(
                    "alert {} not stored ({}) and {MAX_PENDING_ALERTS} alerts already wait to be stored",
                    ev.id,
                    error.as_deref().unwrap_or("catalogue unavailable")
                ));
            }
            None => q.push_back(Pending { ev: ev.clone(), clear_jpeg: extras.clear_jpeg.map(<[u8]>::to_vec) }),
        }
        if let Some(e) = &error {
            tracing::error!(alert = %ev.id, waiting = q.len(), "cannot store alert, shown live and kept to store later: {e}");
        }
        drop(q);
        let now = self.now_ms();
        let mut view = AlertView::from_unstored(ev, now);
        view.fired_at_ms = extras.fired_at_ms;
        view.published_at_ms = Some(now);
        let opened = ev.phase == EventPhase::Opened;
        let json = serde_json::to_string(&view).expect("views serialise");
        let _ = self.tx.send(Arc::new(HubMessage { kind: if opened { "alert" } else { "update" }, json }));
        if opened {
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
