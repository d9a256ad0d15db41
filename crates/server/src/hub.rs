//! Where the pipeline's events enter the console: stored, then pushed to every connected
//! console (SSE) and to the notification channels.

use crate::notify::Notifier;
use crate::view::AlertView;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use vigie_core::{Event, EventPhase, EventSink, PublishError};
use vigie_store::{Alert, AlertStore, IngestOutcome};

/// Alerts waiting to be stored (disk full, database locked...) at most. Updates of a waiting
/// alert are merged into it, so this many distinct alerts would have to fire during one outage.
pub const MAX_PENDING_ALERTS: usize = 2000;
/// How often waiting alerts are offered to the catalogue again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// An event shown on the live feed but not yet in the catalogue.
struct Pending {
    ev: Event,
    clear_jpeg: Option<Vec<u8>>,
}

/// One message of the live feed, serialised once for all subscribers.
#[derive(Debug)]
pub struct HubMessage {
    /// SSE event name: `alert` for a new alert, `update` for any change to a known one,
    /// `calibration` for anything about an alert of a rule in calibration.
    pub kind: &'static str,
    pub json: String,
    /// The alert's camera: each feed passes on only its user's sectors' alerts.
    pub camera: String,
}

impl HubMessage {
    /// Calibration alerts reach only the feeds of those who review them.
    pub fn is_calibration(&self) -> bool {
        self.kind == CALIBRATION
    }
}

const CALIBRATION: &str = "calibration";

/// The feed's event name for a view; calibration alerts never go out as `alert`, so no console
/// rings for them and no operator's queue lists them.
fn kind_of(view: &AlertView, new: bool) -> &'static str {
    match (view.mode.is_calibration(), new) {
        (true, _) => CALIBRATION,
        (false, true) => "alert",
        (false, false) => "update",
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct PublishExtras<'a> {
    /// Unblurred evidence, kept apart and served only under an unmask grant.
    pub clear_jpeg: Option<&'a [u8]>,
    /// Capture time (Unix ms) of the frame in which the rule fired, for latency measurement.
    pub fired_at_ms: Option<vigie_core::UnixMs>,
}

pub struct AlertHub {
    store: Arc<dyn AlertStore>,
    tx: broadcast::Sender<Arc<HubMessage>>,
    notifier: Option<Notifier>,
    /// Oldest first; stored in this order before anything newer is.
    pending: Mutex<VecDeque<Pending>>,
    /// Capture of the frame in which a rule fired to the new alert on the live feed.
    latency: vigie_core::Histogram,
}

impl AlertHub {
    pub fn new(store: Arc<dyn AlertStore>, notifier: Option<Notifier>) -> Arc<AlertHub> {
        // A console that falls this far behind is told to reload (`resync`).
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(AlertHub {
            store,
            tx,
            notifier,
            pending: Mutex::new(VecDeque::new()),
            latency: vigie_core::Histogram::new(vigie_core::metrics::ALERT_LATENCY_BUCKETS),
        });
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

    /// Time from the capture of the frame in which a rule fired to its new alert on the live
    /// feed (stored, or shown while the catalogue cannot store it).
    pub fn alert_latency(&self) -> &vigie_core::Histogram {
        &self.latency
    }

    /// A new alert went out now: how long after its frame was captured.
    fn observe_latency(&self, fired_at_ms: Option<vigie_core::UnixMs>, published: vigie_core::UnixMs) {
        if let Some(f) = fired_at_ms {
            // A frame stamped after now (clock stepped back) counts as no delay.
            self.latency.observe(std::time::Duration::from_millis(published.0.saturating_sub(f.0).max(0) as u64));
        }
    }

    /// Alerts shown on the live feed but not stored yet.
    pub fn pending(&self) -> usize {
        self.pending.lock().len()
    }

    /// As [`AlertHub::pending`], or `None` while the hub is storing (it holds the queue while
    /// the catalogue works, which a locked database makes seconds): for callers that must not wait.
    pub fn try_pending(&self) -> Option<usize> {
        self.pending.try_lock().map(|q| q.len())
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
    fn announce(&self, out: IngestOutcome, fired_at_ms: Option<vigie_core::UnixMs>, first_time: bool) -> AlertView {
        let mut view = AlertView::from_alert(&out.alert);
        view.fired_at_ms = fired_at_ms;
        view.published_at_ms = Some(self.now_ms());
        let kind = kind_of(&view, out.created && first_time);
        let json = serde_json::to_string(&view).expect("views serialise");
        // No subscriber is not an error: the alert is stored and the queue shows it on login.
        let _ = self.tx.send(Arc::new(HubMessage { kind, json, camera: out.alert.camera.clone() }));
        // Calibration alerts are never notified: nobody is sent out for a rule not yet trusted.
        if out.created && first_time && !view.mode.is_calibration() {
            self.observe_latency(fired_at_ms, view.published_at_ms.unwrap_or_default());
            if let Some(n) = &self.notifier {
                n.alert_opened(&view);
            }
        }
        view
    }

    pub fn store(&self) -> &Arc<dyn AlertStore> {
        &self.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HubMessage>> {
        self.tx.subscribe()
    }

    /// Number of connected live feeds.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    fn now_ms(&self) -> vigie_core::UnixMs {
        self.store.clock().now_ms()
    }

    /// Stores the event, then pushes it. Called from pipeline threads; never blocks on consoles.
    ///
    /// When the catalogue cannot store it (disk full...), the event is pushed to the live feed
    /// and the notifications all the same, and kept in order to be stored as soon as the
    /// catalogue takes it: an operator must see an alert even when the disk cannot keep it.
    /// Fails only when the waiting queue is full.
    pub fn publish_with(&self, ev: &Event, extras: PublishExtras<'_>) -> Result<AlertView, PublishError> {
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
                return Err(PublishError::QueueFull {
                    alert: ev.id.clone(),
                    cause: error.unwrap_or_else(|| "catalogue unavailable".into()),
                    max: MAX_PENDING_ALERTS,
                });
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
        let _ = self.tx.send(Arc::new(HubMessage { kind: kind_of(&view, opened), json, camera: ev.camera.clone() }));
        if opened && !ev.mode.is_calibration() {
            self.observe_latency(extras.fired_at_ms, now);
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
        let _ = self.tx.send(Arc::new(HubMessage { kind: kind_of(&view, false), json, camera: a.camera.clone() }));
    }
}

impl EventSink for AlertHub {
    fn publish(&self, event: &Event) -> Result<(), PublishError> {
        self.publish_with(event, PublishExtras::default()).map(|_| ())
    }
}
