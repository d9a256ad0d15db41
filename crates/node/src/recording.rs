//! The recording sink: a camera's packets, as they arrive, into the archive's segments. It
//! never holds up analysis: trouble (disk full...) shows in the recorder's status.

use std::sync::Arc;
use vigie_core::{Packet, StreamInfo};
use vigie_footage::{Archive, Recorder};

pub struct RecordingSink {
    camera: String,
    archive: Arc<Archive>,
    /// Off when the camera is not recorded, or once its recorder could not be created.
    enabled: bool,
    recorder: Option<Recorder>,
}

impl RecordingSink {
    pub fn new(camera: &str, archive: Arc<Archive>, enabled: bool) -> Self {
        Self { camera: camera.to_string(), archive, enabled, recorder: None }
    }

    pub fn push(&mut self, packet: &Packet, info: &StreamInfo) {
        if !self.enabled {
            return;
        }
        if self.recorder.is_none() {
            match Recorder::new(&self.camera, info, self.archive.clone()) {
                Ok(r) => self.recorder = Some(r),
                Err(e) => {
                    tracing::error!(camera = %self.camera, error = %e, "cannot record");
                    self.enabled = false;
                    return;
                }
            }
        }
        if let Some(r) = self.recorder.as_mut() {
            if let Err(e) = r.push(packet) {
                tracing::warn!(camera = %self.camera, error = %e, "recording");
            }
        }
    }

    /// Closes the open segment (camera stopped).
    pub fn finish(&mut self) {
        if let Some(r) = self.recorder.take() {
            if let Err(e) = r.finish() {
                tracing::warn!(camera = %self.camera, error = %e, "closing the last segment");
            }
        }
    }
}
