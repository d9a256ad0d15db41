//! What operators see of the cameras: the camera wall (latest picture, people blurred, zones and
//! tracks drawn, health) and a short rolling buffer of recent pictures per camera, so an alert
//! has its clip at once, before the archive's segment is closed.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use vigie_core::{BBox, ClassMap, Frame, TrackedObject, UnixMs};
use vigie_imaging::privacy::HidePlan;
use vigie_imaging::RgbImage;
use vigie_server::providers::{
    CameraHealth, CameraStatus, Clip, ClipError, ClipProvider, ClipRequest, LiveView, ZoneInfo,
};
use vigie_source::{CameraState, Health};

/// Width of live and buffered pictures: enough to read a scene on a wall of screens.
const VIEW_WIDTH: usize = 480;
/// Pictures kept per second and how long, in the rolling buffer.
const BUFFER_FPS: f64 = 2.0;
// Longer than an archive segment, so a clip is always either buffered or archived.
const BUFFER_S: i64 = 75;

struct Latest {
    frame: Arc<Frame>,
    tracks: Vec<TrackedObject>,
    plan: HidePlan,
    /// JPEG rendered for this frame and these masks, shared by every viewer until the next
    /// frame or mask edit.
    jpeg: Option<(u64, usize, Arc<Vec<u8>>)>,
}

struct BufferedPicture {
    at_ms: UnixMs,
    blurred: Arc<Vec<u8>>,
    clear: Arc<Vec<u8>>,
}

/// Extra status a camera reports besides its [`Health`].
pub type StatusFn = Box<dyn Fn() -> serde_json::Value + Send + Sync>;

struct CameraView {
    name: String,
    health: Health,
    zones: Mutex<Vec<ZoneInfo>>,
    size: Mutex<(u32, u32)>,
    latest: Mutex<Option<Latest>>,
    buffer: Mutex<VecDeque<BufferedPicture>>,
    extra: Mutex<Option<StatusFn>>,
    /// The camera's privacy masks as they are now: an edit hides its area on the picture
    /// already shown, not only from the next frame.
    masks: Mutex<Option<vigie_core::LiveMasks>>,
}

/// Shared between the camera threads (writers) and the console (readers).
pub struct Wall {
    cameras: BTreeMap<String, CameraView>,
    classes: ClassMap,
}

impl Wall {
    pub fn new(cameras: Vec<(String, String, Health)>, classes: ClassMap) -> Arc<Self> {
        let cameras = cameras
            .into_iter()
            .map(|(id, name, health)| {
                let v = CameraView {
                    name,
                    health,
                    zones: Mutex::new(Vec::new()),
                    size: Mutex::new((0, 0)),
                    latest: Mutex::new(None),
                    buffer: Mutex::new(VecDeque::new()),
                    extra: Mutex::new(None),
                    masks: Mutex::new(None),
                };
                (id, v)
            })
            .collect();
        Arc::new(Self { cameras, classes })
    }

    pub fn set_zones(&self, camera: &str, zones: Vec<ZoneInfo>) {
        if let Some(c) = self.cameras.get(camera) {
            *c.zones.lock() = zones;
        }
    }

    pub fn share_privacy_masks(&self, camera: &str, masks: vigie_core::LiveMasks) {
        if let Some(c) = self.cameras.get(camera) {
            *c.masks.lock() = Some(masks);
        }
    }

    pub fn set_status_fn(&self, camera: &str, f: StatusFn) {
        if let Some(c) = self.cameras.get(camera) {
            *c.extra.lock() = Some(f);
        }
    }

    fn is_person(&self, t: &TrackedObject) -> bool {
        self.classes.name(t.class_id) == "person"
    }

    /// Renders a frame for people: scaled to the wall's width, hidden as `plan` decided (only
    /// its privacy masks if `clear`), zones and tracks drawn.
    fn render(
        &self,
        frame: &Frame,
        tracks: &[TrackedObject],
        plan: &HidePlan,
        zones: &[ZoneInfo],
        clear: bool,
    ) -> RgbImage {
        let full = RgbImage::from_frame(frame);
        let mut img = full.fit(VIEW_WIDTH, VIEW_WIDTH * 2);
        let s = img.width as f32 / frame.width as f32;
        let plan = if clear { HidePlan::masks_only(plan.width, plan.height, &plan.masks) } else { plan.clone() };
        let mut scaled = plan.scaled(s);
        // Rounding may make the scaled plan a pixel off the fitted picture.
        (scaled.width, scaled.height) = (img.width, img.height);
        scaled.apply(&mut img);
        for z in zones {
            let pts: Vec<(f32, f32)> = z.polygon.iter().map(|&(x, y)| (x * s, y * s)).collect();
            img.draw_polygon(&pts, [255, 200, 0], 2);
        }
        for t in tracks.iter().filter(|t| t.frames_since_update == 0) {
            let color = if self.is_person(t) { [0, 220, 80] } else { [40, 160, 255] };
            img.draw_rect(&BBox::new(t.bbox.x1 * s, t.bbox.y1 * s, t.bbox.x2 * s, t.bbox.y2 * s), color, 2);
        }
        img
    }

    /// Called by a camera's thread for every frame; cheap unless a buffered picture is due.
    /// `plan`: what the frame's pictures hide (`vigie_imaging::privacy::decide`).
    pub fn update(&self, camera: &str, frame: &Arc<Frame>, tracks: &[TrackedObject], plan: &HidePlan) {
        let Some(c) = self.cameras.get(camera) else { return };
        *c.size.lock() = (frame.width as u32, frame.height as u32);
        *c.latest.lock() =
            Some(Latest { frame: frame.clone(), tracks: tracks.to_vec(), plan: plan.clone(), jpeg: None });
        let at_ms = UnixMs::from(frame.captured_at);
        let due = c.buffer.lock().back().is_none_or(|p| at_ms.ms_since(p.at_ms) as f64 >= 1000.0 / BUFFER_FPS);
        if due {
            let zones = c.zones.lock().clone();
            let blurred = Arc::new(self.render(frame, tracks, plan, &zones, false).encode_jpeg(70));
            let clear = Arc::new(self.render(frame, tracks, plan, &zones, true).encode_jpeg(70));
            let mut buf = c.buffer.lock();
            buf.push_back(BufferedPicture { at_ms, blurred, clear });
            while buf.front().is_some_and(|p| at_ms.ms_since(p.at_ms) > BUFFER_S * 1000) {
                buf.pop_front();
            }
        }
    }

    /// Pictures of the rolling buffer within `[from_ms, to_ms]` (an alert asked for right away
    /// gets what exists so far; one whose moment has left the buffer gets `None`).
    pub fn buffered(&self, camera: &str, from_ms: UnixMs, to_ms: UnixMs, blurred: bool) -> Option<Vec<Vec<u8>>> {
        let c = self.cameras.get(camera)?;
        let buf = c.buffer.lock();
        let pics: Vec<Vec<u8>> = buf
            .iter()
            .filter(|p| p.at_ms >= from_ms && p.at_ms <= to_ms)
            .map(|p| if blurred { p.blurred.as_ref().clone() } else { p.clear.as_ref().clone() })
            .collect();
        (!pics.is_empty()).then_some(pics)
    }

    pub fn buffer_fps(&self) -> f32 {
        BUFFER_FPS as f32
    }
}

impl LiveView for Wall {
    fn cameras(&self) -> Vec<CameraStatus> {
        self.cameras
            .iter()
            .map(|(id, c)| {
                let h = c.health.snapshot();
                let mut report = match serde_json::to_value(&h) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                };
                report.insert("connected".into(), serde_json::Value::Bool(h.state == CameraState::Connected));
                if let Some(f) = c.extra.lock().as_ref() {
                    if let serde_json::Value::Object(extra) = f() {
                        report.extend(extra);
                    }
                }
                let health = CameraHealth::from_report(report);
                let (width, height) = *c.size.lock();
                CameraStatus {
                    id: id.clone(),
                    name: c.name.clone(),
                    width,
                    height,
                    health,
                    zones: c.zones.lock().clone(),
                }
            })
            .collect()
    }

    fn jpeg(&self, camera: &str) -> Option<Vec<u8>> {
        let c = self.cameras.get(camera)?;
        let masks = c.masks.lock().as_ref().map(|m| m.get());
        let key = masks.as_ref().map_or(0, |m| Arc::as_ptr(m) as usize);
        let (frame, tracks, mut plan) = {
            let l = c.latest.lock();
            let l = l.as_ref()?;
            if let Some((seq, k, j)) = &l.jpeg {
                if *seq == l.frame.seq && *k == key {
                    return Some(j.as_ref().clone());
                }
            }
            (l.frame.clone(), l.tracks.clone(), l.plan.clone())
        };
        if let Some(m) = masks {
            plan.masks = m.to_vec();
        }
        let zones = c.zones.lock().clone();
        let jpeg = Arc::new(self.render(&frame, &tracks, &plan, &zones, false).encode_jpeg(75));
        if let Some(l) = c.latest.lock().as_mut() {
            if l.frame.seq == frame.seq {
                l.jpeg = Some((frame.seq, key, jpeg.clone()));
            }
        }
        Some(jpeg.as_ref().clone())
    }
}

/// Exports a time range of a camera from the archive as one MP4 (audited by the archive).
pub type ArchiveExport = Arc<dyn Fn(&ClipRequest<'_>) -> Result<Vec<u8>, ClipError> + Send + Sync>;

/// Clips around events: the rolling buffer while it still covers the moment, else the archive.
pub struct Clips {
    pub wall: Arc<Wall>,
    pub archive: Option<ArchiveExport>,
}

impl ClipProvider for Clips {
    /// The buffer first (instant, reduced), unless the camera's own resolution is wanted: then
    /// the archive first, and the buffer only for moments the archive does not hold yet (its
    /// segment still open).
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        let buffered = || {
            let jpegs = self.wall.buffered(req.camera, req.from_ms, req.to_ms, req.blurred)?;
            Some(Clip::Frames { fps: self.wall.buffer_fps(), jpegs })
        };
        let archived = |export: &ArchiveExport| -> Result<Clip, ClipError> {
            Ok(Clip::Video { content_type: "video/mp4".into(), bytes: export(req)? })
        };
        let none = || ClipError::NotAvailable(format!("no footage of camera {} is kept for that time", req.camera));
        match (&self.archive, req.full_resolution) {
            (Some(export), true) => match archived(export) {
                Err(ClipError::NotAvailable(m)) => buffered().ok_or(ClipError::NotAvailable(m)),
                other => other,
            },
            (archive, _) => match (buffered(), archive) {
                (Some(clip), _) => Ok(clip),
                (None, Some(export)) => archived(export),
                (None, None) => Err(none()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};
    use vigie_core::Polygon;
    use vigie_imaging::privacy::{decide, PrivacyInputs};

    fn sharp(w: usize, h: usize) -> Arc<Frame> {
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let v = if (x / 3 + y / 3) % 2 == 0 { 230 } else { 20 };
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&[v, v, v]);
            }
        }
        let mut f = Frame::from_rgb(w, h, &rgb);
        f.captured_at = UNIX_EPOCH + Duration::from_secs(1_719_828_000);
        Arc::new(f)
    }

    /// Share of horizontal neighbours in `[x0, x1) × [y0, y1)` that differ clearly: detail left.
    fn detail(img: &RgbImage, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> f32 {
        let mut d = 0;
        for y in y0..y1 {
            for x in x0..x1 - 1 {
                d += ((img.pixel(x, y)[1] as i32 - img.pixel(x + 1, y)[1] as i32).abs() > 60) as usize;
            }
        }
        d as f32 / ((y1 - y0) * (x1 - x0 - 1)) as f32
    }

    fn wall() -> Arc<Wall> {
        let classes = ClassMap::parse(include_str!("../../../assets/models/coco80_labels.txt"));
        Wall::new(vec![("cam".into(), "Cam".into(), Health::new("cam"))], classes)
    }

    fn plan(undecidable: Option<&str>, people: &[BBox], masks: &[Polygon]) -> HidePlan {
        decide(&PrivacyInputs { width: 480, height: 360, people, vehicles: &[], motion: &[], masks, undecidable })
    }

    #[test]
    fn the_wall_shows_people_pixelated_and_the_scene_clear() {
        let w = wall();
        let person = BBox::new(100.0, 100.0, 160.0, 260.0);
        w.update("cam", &sharp(480, 360), &[], &plan(None, &[person], &[]));
        let img = RgbImage::decode_jpeg(&w.jpeg("cam").unwrap()).unwrap();
        assert!(detail(&img, (110, 110, 150, 250)) < 0.05, "person pixelated");
        assert!(detail(&img, (300, 50, 460, 300)) > 0.2, "scene clear");
    }

    #[test]
    fn full_resolution_prefers_the_archive_and_falls_back_to_the_buffer() {
        let w = wall();
        let frame = sharp(480, 360);
        w.update("cam", &frame, &[], &plan(None, &[], &[]));
        let at = UnixMs::from(frame.captured_at);
        let archive = |holds: bool| -> ArchiveExport {
            Arc::new(move |_: &ClipRequest<'_>| {
                if holds {
                    Ok(b"mp4".to_vec())
                } else {
                    Err(ClipError::NotAvailable("segment still open".into()))
                }
            })
        };
        let stop = vigie_core::StopToken::never();
        let ask = |clips: &Clips, full_resolution: bool| {
            let req = ClipRequest {
                camera: "cam",
                from_ms: at,
                to_ms: at,
                blurred: true,
                actor: "sup",
                reason: None,
                stop: &stop,
                full_resolution,
            };
            match clips.clip(&req) {
                Ok(Clip::Video { .. }) => "archive",
                Ok(Clip::Frames { .. }) => "buffer",
                Err(_) => "none",
            }
        };
        let archived = Clips { wall: w.clone(), archive: Some(archive(true)) };
        assert_eq!(ask(&archived, false), "buffer", "instant playback keeps to the buffer");
        assert_eq!(ask(&archived, true), "archive", "the camera's own resolution is the archive's");
        let open = Clips { wall: w.clone(), archive: Some(archive(false)) };
        assert_eq!(ask(&open, true), "buffer", "what the archive has not closed yet comes from the buffer");
        let nothing = Clips { wall: wall(), archive: Some(archive(false)) };
        assert_eq!(ask(&nothing, true), "none");
    }

    #[test]
    fn a_failed_detector_leaves_nothing_clear_on_the_wall_nor_in_the_clip_buffer() {
        let w = wall();
        let mask = Polygon::new(vec![(300.0, 40.0), (440.0, 40.0), (440.0, 160.0), (300.0, 160.0)]);
        let frame = sharp(480, 360);
        w.update("cam", &frame, &[], &plan(Some("detector: inference failed (injected)"), &[], &[mask]));
        let live = RgbImage::decode_jpeg(&w.jpeg("cam").unwrap()).unwrap();
        assert!(detail(&live, (0, 0, 480, 360)) < 0.05, "live picture pixelated whole");
        let at = UnixMs::from(frame.captured_at);
        let blurred = w.buffered("cam", at, at, true).unwrap();
        assert!(detail(&RgbImage::decode_jpeg(&blurred[0]).unwrap(), (0, 0, 480, 360)) < 0.05);
        // The clear picture an unmask shows still hides the mask.
        let clear = RgbImage::decode_jpeg(&w.buffered("cam", at, at, false).unwrap()[0]).unwrap();
        assert!(detail(&clear, (0, 200, 480, 360)) > 0.2, "unmasked: the scene in clear");
        assert!(detail(&clear, (310, 50, 430, 150)) < 0.01, "unmasked: the privacy mask still opaque");
    }
}
