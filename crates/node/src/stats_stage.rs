//! The statistics stage: a camera's tracks through its counter, minutes to the background writer;
//! and what the console's statistics routes read (`stats.db` and the counting zones configured
//! now). The counter is rebuilt when the camera's zones change; the old one hands over what it
//! counted first, so a reload loses nothing.

use crate::scene::{RulesSlot, Slots};
use parking_lot::Mutex;
use std::sync::Arc;
use vigie_core::{ClassMap, Frame, TrackedObject, UnixMs};
use vigie_server::{StatsProvider, StatsZone};
use vigie_stats::{Bucket, CountKind, Counter, SeriesQuery, SqliteStats, StatsError, StatsStore, StatsWriter};

pub struct StatsStage {
    camera: String,
    slot: Arc<Mutex<RulesSlot>>,
    classes: ClassMap,
    writer: StatsWriter,
    /// The counter and the slot version it was built from; `None` inside when the camera has no
    /// counting zone.
    counter: Option<(u64, Option<Counter>)>,
}

impl StatsStage {
    pub fn new(camera: &str, slot: Arc<Mutex<RulesSlot>>, classes: ClassMap, writer: StatsWriter) -> Self {
        Self { camera: camera.to_string(), slot, classes, writer, counter: None }
    }

    pub fn observe(&mut self, frame: &Frame, tracks: &[TrackedObject]) {
        self.rebuild_if_stale(frame);
        if let Some((_, Some(c))) = self.counter.as_mut() {
            let t = UnixMs::from(frame.captured_at);
            c.observe(t, tracks);
            self.writer.submit(c.drain_minutes(t));
        }
    }

    /// Hands over everything counted (the camera stopped).
    pub fn finish(&mut self) {
        if let Some((_, Some(c))) = self.counter.as_mut() {
            self.writer.submit(c.flush());
        }
    }

    fn rebuild_if_stale(&mut self, frame: &Frame) {
        let slot = self.slot.lock();
        if self.counter.as_ref().is_some_and(|(v, _)| *v == slot.version) {
            return;
        }
        let version = slot.version;
        let built = Counter::new(&self.camera, &slot.camera.zones, (frame.width, frame.height), &self.classes);
        drop(slot);
        match built {
            Ok(new) => {
                self.finish();
                self.counter = Some((version, (!new.is_empty()).then_some(new)));
            }
            Err(e) => {
                // Validated before it got here (a zone outside a camera whose resolution
                // changed, say): keep counting with the zones already running.
                tracing::error!(camera = %self.camera, error = %e, "counting zones not rebuilt; keeping the previous ones");
                match self.counter.as_mut() {
                    Some((v, _)) => *v = version,
                    None => self.counter = Some((version, None)),
                }
            }
        }
    }
}

/// The statistics as the console reads them: the zones configured now, the series from the store.
pub struct NodeStats {
    pub store: Arc<SqliteStats>,
    pub slots: Slots,
    /// The classes every counter counts (the detector's moving classes).
    pub classes: Vec<String>,
}

impl NodeStats {
    pub fn new(store: Arc<SqliteStats>, slots: Slots, class_map: &ClassMap) -> Self {
        let classes = vigie_core::classes::MOVER_CLASSES
            .iter()
            .filter(|c| class_map.id(c).is_some())
            .map(|c| c.to_string())
            .collect();
        Self { store, slots, classes }
    }
}

impl StatsProvider for NodeStats {
    fn zones(&self) -> Vec<StatsZone> {
        let mut out = Vec::new();
        for (_, slot) in &self.slots {
            let s = slot.lock();
            for z in s.camera.zones.iter().filter(|z| z.counts()) {
                out.push(StatsZone {
                    camera: s.camera.id.clone(),
                    camera_name: s.camera.display_name().to_string(),
                    zone: z.name.clone(),
                    kind: if z.kind.is_area() { CountKind::Area } else { CountKind::Line },
                    classes: self.classes.clone(),
                });
            }
        }
        out
    }

    fn series(&self, q: &SeriesQuery) -> Result<Vec<Bucket>, StatsError> {
        self.store.series(q)
    }
}
