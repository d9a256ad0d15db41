//! What operators see of the cameras: the camera wall (latest picture, people blurred, zones and
//! tracks drawn, health) and a short rolling buffer of recent pictures per camera, so an alert
//! has its clip at once, before the archive's segment is closed.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use vigie_core::{BBox, ClassMap, Frame, TrackedObject, UnixMs};
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
    people: Vec<BBox>,
    /// JPEG rendered for this frame, shared by every viewer until the next frame.
    jpeg: Option<(u64, Arc<Vec<u8>>)>,
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

    pub fn set_status_fn(&self, camera: &str, f: StatusFn) {
        if let Some(c) = self.cameras.get(camera) {
            *c.extra.lock() = Some(f);
        }
    }

    fn is_person(&self, t: &TrackedObject) -> bool {
        self.classes.name(t.class_id) == "person"
    }

    /// Renders a frame for people: scaled to the wall's width, every person pixelated unless
    /// `clear`, zones and tracks drawn.
    fn render(
        &self,
        frame: &Frame,
        tracks: &[TrackedObject],
        people: &[BBox],
        zones: &[ZoneInfo],
        clear: bool,
    ) -> RgbImage {
        let full = RgbImage::from_frame(frame);
        let s = (VIEW_WIDTH as f32 / frame.width as f32).min(1.0);
        let mut img = full.fit(VIEW_WIDTH, VIEW_WIDTH * 2);
        if !clear {
            for b in tracks.iter().filter(|t| self.is_person(t)).map(|t| &t.bbox).chain(people) {
                img.anonymise(&b.scale(s));
            }
        }
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
    /// `people`: every person box to blur besides the person tracks.
    pub fn update(&self, camera: &str, frame: &Arc<Frame>, tracks: &[TrackedObject], people: &[BBox]) {
        let Some(c) = self.cameras.get(camera) else { return };
        *c.size.lock() = (frame.width as u32, frame.height as u32);
        *c.latest.lock() =
            Some(Latest { frame: frame.clone(), tracks: tracks.to_vec(), people: people.to_vec(), jpeg: None });
        let at_ms = UnixMs::from(frame.captured_at);
        let due = c.buffer.lock().back().is_none_or(|p| at_ms.ms_since(p.at_ms) as f64 >= 1000.0 / BUFFER_FPS);
        if due {
            let zones = c.zones.lock().clone();
            let blurred = Arc::new(self.render(frame, tracks, people, &zones, false).encode_jpeg(70));
            let clear = Arc::new(self.render(frame, tracks, people, &zones, true).encode_jpeg(70));
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
        let (frame, tracks, people) = {
            let l = c.latest.lock();
            let l = l.as_ref()?;
            if let Some((seq, j)) = &l.jpeg {
                if *seq == l.frame.seq {
                    return Some(j.as_ref().clone());
                }
            }
            (l.frame.clone(), l.tracks.clone(), l.people.clone())
        };
        let zones = c.zones.lock().clone();
        let jpeg = Arc::new(self.render(&frame, &tracks, &people, &zones, false).encode_jpeg(75));
        if let Some(l) = c.latest.lock().as_mut() {
            if l.frame.seq == frame.seq {
                l.jpeg = Some((frame.seq, jpeg.clone()));
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
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        if let Some(jpegs) = self.wall.buffered(req.camera, req.from_ms, req.to_ms, req.blurred) {
            return Ok(Clip::Frames { fps: self.wall.buffer_fps(), jpegs });
        }
        match &self.archive {
            Some(export) => Ok(Clip::Video { content_type: "video/mp4".into(), bytes: export(req)? }),
            None => Err(ClipError::NotAvailable(format!("no footage of camera {} is kept for that time", req.camera))),
        }
    }
}
