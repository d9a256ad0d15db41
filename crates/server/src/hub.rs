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

/// Messages of the live feed kept for consoles that reconnect (`Last-Event-ID`): a cut longer
/// than this many messages is answered with `resync` (the console reloads its list).
pub const REPLAY_RING: usize = 1024;

/// One message of the live feed, serialised once for all subscribers.
#[derive(Debug)]
pub struct HubMessage {
    /// Position in this hub's feed, from 1; with the hub's run it makes the SSE `id:`.
    pub seq: u64,
    /// The SSE `id:` line (`RUN-SEQ`, see [`FeedId`]).
    pub id: String,
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

/// A position in one hub's feed, written `RUN-SEQ`. The run (random, fixed for the hub's life)
/// tells a console that comes back after a restart that its position means nothing here: what
/// was raised meanwhile is not in the ring, so it must reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedId {
    pub run: String,
    pub seq: u64,
}

impl FeedId {
    /// Parses an id as the feed sent it; `what` names where it came from for the error.
    pub fn parse(what: &str, s: &str) -> Result<FeedId, String> {
        let bad =
            || format!("{what} '{s}' is not an id of this feed (expected RUN-SEQ, as sent in the feed's id: lines)");
        let (run, seq) = s.trim().split_once('-').ok_or_else(bad)?;
        if run.is_empty() || run.len() > 32 || !run.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(FeedId { run: run.to_string(), seq: seq.parse().map_err(|_| bad())? })
    }
}

impl std::fmt::Display for FeedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.run, self.seq)
    }
}

/// What a (re)connecting console gets before the live messages: see [`AlertHub::subscribe_from`].
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<HubMessage>>,
    /// Messages after the console's last id, oldest first (not yet filtered by sector).
    pub replay: Vec<Arc<HubMessage>>,
    /// Why the console's last id cannot be resumed (older than the ring, another run of the
    /// node): it must reload the list. `None` for a fresh feed or a complete replay.
    pub gap: Option<&'static str>,
    /// The feed's position as of this subscription: what the console resumes from if it sees
    /// nothing before its next cut.
    pub position: FeedId,
}

/// The feed's numbering and the ring of its latest messages; sending happens under this lock,
/// so a subscription sees every message exactly once, in the replay or on its receiver.
struct Feed {
    last_seq: u64,
    ring: VecDeque<Arc<HubMessage>>,
}

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
    feed: Mutex<Feed>,
    run: String,
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
            feed: Mutex::new(Feed { last_seq: 0, ring: VecDeque::with_capacity(REPLAY_RING) }),
            run: vigie_store::random_hex(6),
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
        self.send(kind, json, out.alert.camera.clone());
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

    /// Subscribes a console that last saw `last` (its `Last-Event-ID`), or none for a fresh
    /// feed: the messages it missed, if the ring still holds them all, then everything live.
    pub fn subscribe_from(&self, last: Option<&FeedId>) -> Subscription {
        let f = self.feed.lock();
        let rx = self.tx.subscribe();
        let position = FeedId { run: self.run.clone(), seq: f.last_seq };
        let oldest = f.ring.front().map_or(f.last_seq + 1, |m| m.seq);
        let (replay, gap) = match last {
            None => (Vec::new(), None),
            Some(l) if l.run != self.run => (Vec::new(), Some("the node restarted since this console's last event")),
            Some(l) if l.seq > f.last_seq => (Vec::new(), Some("the last event id is ahead of this feed")),
            // Everything after `l` must still be in the ring.
            Some(l) if l.seq + 1 < oldest => {
                (Vec::new(), Some("the console missed more events than the server keeps for reconnecting"))
            }
            Some(l) => (f.ring.iter().filter(|m| m.seq > l.seq).cloned().collect(), None),
        };
        Subscription { rx, replay, gap, position }
    }

    /// Numbers the message, keeps it for reconnecting consoles and sends it to connected ones.
    fn send(&self, kind: &'static str, json: String, camera: String) {
        let mut f = self.feed.lock();
        f.last_seq += 1;
        let seq = f.last_seq;
        let m = Arc::new(HubMessage { seq, id: format!("{}-{seq}", self.run), kind, json, camera });
        if f.ring.len() == REPLAY_RING {
            f.ring.pop_front();
        }
        f.ring.push_back(m.clone());
        // No subscriber is not an error: the alert is stored and the queue shows it on login.
        let _ = self.tx.send(m);
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
        self.send(kind_of(&view, opened), json, ev.camera.clone());
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
        self.send(kind_of(&view, false), json, a.camera.clone());
    }
}

impl EventSink for AlertHub {
    fn publish(&self, event: &Event) -> Result<(), PublishError> {
        self.publish_with(event, PublishExtras::default()).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> (tempfile::TempDir, Arc<AlertHub>) {
        let dir = tempfile::tempdir().unwrap();
        let store = vigie_store::Store::open(dir.path(), Arc::new(vigie_core::SystemClock::default())).unwrap();
        (dir, AlertHub::new(Arc::new(store), None))
    }

    fn seqs(s: &Subscription) -> Vec<u64> {
        s.replay.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_reconnecting_console_gets_what_it_missed_or_is_told_to_reload() {
        let (_dir, hub) = hub();
        let fresh = hub.subscribe_from(None);
        assert_eq!((fresh.replay.len(), fresh.gap, fresh.position.seq), (0, None, 0));
        for i in 0..3 {
            hub.send("alert", format!("{{\"n\":{i}}}"), "cam1".into());
        }
        let seen = FeedId::parse("id", &hub.subscribe_from(None).position.to_string()).unwrap();
        assert_eq!(seen.seq, 3);
        // What came after the console's last id, in order, and then live: nothing twice.
        hub.send("update", "{}".into(), "cam2".into());
        hub.send("alert", "{}".into(), "cam1".into());
        let mut back = hub.subscribe_from(Some(&seen));
        assert_eq!((seqs(&back), back.gap), (vec![4, 5], None));
        assert_eq!(back.replay[0].id, format!("{}-4", seen.run));
        assert_eq!(back.position.seq, 5);
        hub.send("alert", "{}".into(), "cam1".into());
        assert_eq!(back.rx.try_recv().unwrap().seq, 6);
        assert!(back.rx.try_recv().is_err());
        // Up to date: nothing to replay.
        assert_eq!(seqs(&hub.subscribe_from(Some(&FeedId { seq: 6, ..seen.clone() }))), Vec::<u64>::new());

        // Another run of the node, or an id it never gave: reload.
        let other_run = FeedId { run: "0123456789ab".into(), seq: 2 };
        assert!(hub.subscribe_from(Some(&other_run)).gap.unwrap().contains("restarted"));
        assert!(hub.subscribe_from(Some(&FeedId { seq: 99, ..seen.clone() })).gap.is_some());

        // A cut longer than the ring: reload; the oldest position still covered replays in full.
        for _ in 0..REPLAY_RING {
            hub.send("update", "{}".into(), "cam1".into());
        }
        let last = 6 + REPLAY_RING as u64;
        let gone = hub.subscribe_from(Some(&seen));
        assert!(gone.gap.unwrap().contains("more events than"), "{:?}", gone.gap);
        assert!(gone.replay.is_empty());
        let edge = hub.subscribe_from(Some(&FeedId { seq: last - REPLAY_RING as u64, ..seen.clone() }));
        assert_eq!((edge.replay.len(), edge.gap), (REPLAY_RING, None));
        let past = hub.subscribe_from(Some(&FeedId { seq: last - REPLAY_RING as u64 - 1, ..seen.clone() }));
        assert!(past.gap.is_some());
    }

    #[test]
    fn feed_ids_parse_as_sent_or_are_refused_by_name() {
        let id = FeedId::parse("last_event_id", "a1b2c3-42").unwrap();
        assert_eq!((id.run.as_str(), id.seq, id.to_string()), ("a1b2c3", 42, "a1b2c3-42".to_string()));
        for bad in ["", "42", "-42", "xyz-1", "a1-", "a1-x", "a1--1", "a1-1-2"] {
            let e = FeedId::parse("the Last-Event-ID header", bad).unwrap_err();
            assert!(e.starts_with("the Last-Event-ID header '") && e.contains("RUN-SEQ"), "{bad}: {e}");
        }
    }
}
