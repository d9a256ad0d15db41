//! A busy queue for the console's scaling tests: `count` alerts written through [`AlertStore`],
//! on the demo node's cameras and zones, of several types, some of them repeats of one camera,
//! zone and type a few minutes apart (what the console groups into one incident), the others
//! more than a grouping window away from their neighbours. Same seed, same alerts.

use std::time::Duration;
use vigie_core::{Event, EventPhase, EventType, PeakMeasure, RuleMode, UnixMs};
use vigie_store::{AlertAction, AlertStore};

/// One place alerts come from: the demo config's cameras and zones, with types a city's rules
/// would raise there (the store does not check them against a config).
struct Source {
    camera: &'static str,
    zone: &'static str,
    rule: &'static str,
    event_type: EventType,
    peak: &'static str,
}

const SOURCES: [Source; 8] = [
    Source { camera: "plaza", zone: "lamp", rule: "group-lamp", event_type: EventType::Crowd, peak: "count" },
    Source {
        camera: "plaza",
        zone: "lamp",
        rule: "lamp-objects",
        event_type: EventType::AbandonedObject,
        peak: "dwell_s",
    },
    Source { camera: "hall", zone: "table", rule: "table-area", event_type: EventType::Intrusion, peak: "dwell_s" },
    Source { camera: "hall", zone: "table", rule: "table-falls", event_type: EventType::PersonDown, peak: "dwell_s" },
    Source {
        camera: "rocade",
        zone: "hard-shoulder",
        rule: "shoulder-people",
        event_type: EventType::Intrusion,
        peak: "dwell_s",
    },
    Source {
        camera: "rocade",
        zone: "pk12",
        rule: "pk12-wrong-way",
        event_type: EventType::WrongWay,
        peak: "distance_m",
    },
    Source {
        camera: "parking",
        zone: "allee",
        rule: "allee-live",
        event_type: EventType::VehicleInPedestrianZone,
        peak: "dwell_s",
    },
    Source { camera: "parking", zone: "allee", rule: "allee-tags", event_type: EventType::Graffiti, peak: "area_px" },
];

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub count: usize,
    /// Share (0..=1) of alerts that repeat the previous one of their source within minutes.
    pub repeat_share: f64,
    /// Every n-th alert is confirmed (by the user `seed`) so the queue has more than one state; 0: none.
    pub confirm_every: usize,
    pub seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self { count: 1000, repeat_share: 0.35, confirm_every: 10, seed: 1 }
    }
}

/// What was seeded: alerts, how many were repeats (grouped by the console) and confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedReport {
    pub alerts: usize,
    pub repeats: usize,
    pub confirmed: usize,
    /// Alerts whose start is more than [`GROUP_WINDOW`] after the previous one of their source:
    /// the incidents the console shows when no alert is filtered out.
    pub incidents: usize,
    pub elapsed: Duration,
}

/// The console's grouping window (assets/alerts.js): a repeat is closer than this to the
/// previous alert of its source, a new incident farther.
pub const GROUP_WINDOW: Duration = Duration::from_secs(600);

/// splitmix64: deterministic without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

/// Writes the alerts, ending before `now` and going back in time per source (each alert closed,
/// so a node started on the folder finds nothing interrupted). Ids are `seed-N`.
pub fn seed_alerts(store: &dyn AlertStore, now: UnixMs, o: &SeedOptions) -> vigie_store::Result<SeedReport> {
    let t0 = std::time::Instant::now();
    let mut rng = Rng(o.seed);
    // Each source's next alert starts before this (walking back from now).
    let mut cursor: Vec<i64> = SOURCES.iter().map(|_| now.as_i64() - 60_000).collect();
    let mut seen = vec![false; SOURCES.len()];
    let mut report = SeedReport { alerts: 0, repeats: 0, confirmed: 0, incidents: 0, elapsed: Duration::ZERO };
    let window = GROUP_WINDOW.as_millis() as i64;
    for n in 0..o.count {
        let s = (rng.next() % SOURCES.len() as u64) as usize;
        let src = &SOURCES[s];
        let repeat = seen[s] && rng.unit() < o.repeat_share;
        // Walking back: the gap to the alert seeded before (which is later in time).
        let gap = if !seen[s] {
            rng.range(0, 120_000)
        } else if repeat {
            rng.range(30_000, window - 60_000)
        } else {
            rng.range(window + 60_000, 4 * window)
        };
        let started = cursor[s] - gap;
        cursor[s] = started;
        // Seen from the console (oldest first), the previous alert of this source is the one
        // seeded next; so a repeat joins the incident of the alert seeded just before it, and
        // the incidents are the non-repeats.
        if repeat {
            report.repeats += 1;
        }
        seen[s] = true;
        let ev = Event {
            id: format!("seed-{n}"),
            event_type: src.event_type,
            phase: EventPhase::Closed,
            camera: src.camera.into(),
            zone: src.zone.into(),
            rule: src.rule.into(),
            rule_version: 1,
            mode: RuleMode::Live,
            legal_basis: "seeded for a load test (vigie bench seed-alerts)".into(),
            started_at_ms: UnixMs::new(started),
            ended_at_ms: Some(UnixMs::new(started + rng.range(5_000, 25_000))),
            frame_seq: n as u64,
            track_ids: vec![n as u64],
            peak: PeakMeasure { kind: src.peak.into(), value: rng.range(2, 60) as f64 },
            region: None,
            model_sha256: "seed".into(),
            snapshot_jpeg: None,
        };
        store.ingest_event(&ev, None)?;
        report.alerts += 1;
        if o.confirm_every > 0 && n % o.confirm_every == o.confirm_every - 1 {
            store.act(&ev.id, "seed", &AlertAction::Confirm)?;
            // Confirming takes the alert; let go of it, as an operator going off shift would, so
            // the queue's confirmed alerts are open to whoever works it next.
            store.release(&ev.id, "seed")?;
            report.confirmed += 1;
        }
    }
    // Sources seeded at least once each start one incident (their oldest alert), and each
    // non-repeat after the first starts another: incidents = alerts - repeats.
    report.incidents = report.alerts - report.repeats;
    report.elapsed = t0.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;
    use vigie_core::SystemClock;
    use vigie_store::{AlertQuery, AlertState, Store};

    #[test]
    fn seeds_open_alerts_whose_repeats_fall_within_the_window_and_incidents_outside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Arc::new(SystemClock::default())).unwrap();
        let now = UnixMs::new(1_800_000_000_000);
        let o = SeedOptions { count: 300, ..SeedOptions::default() };
        let rep = seed_alerts(&store, now, &o).unwrap();
        assert_eq!(rep.alerts, 300);
        assert_eq!(rep.confirmed, 30);
        assert!(rep.repeats > 60 && rep.repeats < 150, "{rep:?}");
        let all = store.alerts(&AlertQuery { limit: 5000, open_only: true, ..AlertQuery::default() }).unwrap();
        assert_eq!(all.len(), 300, "every seeded alert is open");
        assert_eq!(all.iter().filter(|a| a.state == AlertState::Confirmed).count(), 30);
        assert!(all.iter().all(|a| a.ended_at_ms.is_some() && a.started_at_ms < now));
        // Group as the console does: per camera, zone and type, consecutive starts closer than
        // the window share an incident.
        let mut by_source: HashMap<(String, String, &str), Vec<i64>> = HashMap::new();
        for a in &all {
            by_source
                .entry((a.camera.clone(), a.zone.clone(), a.event_type.as_str()))
                .or_default()
                .push(a.started_at_ms.as_i64());
        }
        assert_eq!(by_source.len(), SOURCES.len(), "every source is used");
        let window = GROUP_WINDOW.as_millis() as i64;
        let mut incidents = 0;
        for starts in by_source.values_mut() {
            starts.sort_unstable();
            incidents += 1 + starts.windows(2).filter(|w| w[1] - w[0] > window).count();
        }
        assert_eq!(incidents, rep.incidents);
        // Same seed, same alerts.
        let dir2 = tempfile::tempdir().unwrap();
        let store2 = Store::open(dir2.path(), Arc::new(SystemClock::default())).unwrap();
        let rep2 = seed_alerts(&store2, now, &o).unwrap();
        assert_eq!((rep2.repeats, rep2.incidents), (rep.repeats, rep.incidents));
        assert_eq!(store2.alert("seed-123").unwrap().started_at_ms, store.alert("seed-123").unwrap().started_at_ms);
    }
}
