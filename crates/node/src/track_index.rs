//! The track-index sink: tracks summarised (class, colours, zones, dwell, thumbnail) into the
//! index that the console's search reads.

use std::sync::Arc;
use std::time::SystemTime;
use vigie_core::{Event, Frame, Polygon, TrackedObject};
use vigie_imaging::privacy::HidePlan;
use vigie_search::{TrackStore, TrackSummarizer};

pub struct TrackIndexSink {
    camera: String,
    summarizer: TrackSummarizer,
    index: Arc<dyn TrackStore>,
}

impl TrackIndexSink {
    pub fn new(camera: &str, summarizer: TrackSummarizer, index: Arc<dyn TrackStore>) -> Self {
        Self { camera: camera.to_string(), summarizer, index }
    }

    /// `zones`: the camera's zones in pixels, named, for the summaries' zone lists; `plan`: what
    /// the frame's pictures hide, thumbnails included.
    pub fn observe(
        &mut self,
        frame: &Frame,
        tracks: &[TrackedObject],
        zones: &[(String, Polygon)],
        plan: &HidePlan,
        now: SystemTime,
    ) {
        let records = self.summarizer.observe_hidden(frame, tracks, zones, Some(plan), now);
        if !records.is_empty() {
            if let Err(e) = self.index.insert_batch(&records) {
                tracing::warn!(camera = %self.camera, error = %e, "track index");
            }
        }
    }

    /// Marks the event's tracks as linked to an alert (search filter `event_linked`).
    pub fn link_event(&mut self, ev: &Event) {
        self.summarizer.link_event(ev);
    }

    /// Writes the summaries of the tracks still open (camera stopped).
    pub fn finish(&mut self) {
        let records = self.summarizer.finish();
        if !records.is_empty() {
            let _ = self.index.insert_batch(&records);
        }
    }
}
