//! Turns the tracker's per-frame output into one searchable record per finished track.
//!
//! What is kept is deliberately coarse and non-identifying: class, times, zones crossed and how
//! long, compass direction, size, and for vehicles and objects only a named colour and a tiny
//! colour/shape descriptor. Nothing is computed about people's appearance: no face, no plate,
//! no embedding, no colour; their thumbnail is pixelated. Other people caught in a vehicle's
//! thumbnail (a cyclist on a bicycle, a passer-by) are pixelated too.

use crate::colour::{ColorVotes, NamedColor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;
use vigie_core::classes::is_person;
use vigie_core::{BBox, ClassMap, Event, Frame, Polygon, TrackedObject, UnixMs};
use vigie_imaging::crop_frame;
use vigie_imaging::privacy::{decide, HidePlan, PrivacyInputs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Direction {
    N,
    NE,
    E,
    SE,
    S,
    SW,
    W,
    NW,
}

impl Direction {
    pub const ALL: [Direction; 8] = [
        Direction::N,
        Direction::NE,
        Direction::E,
        Direction::SE,
        Direction::S,
        Direction::SW,
        Direction::W,
        Direction::NW,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::N => "N",
            Direction::NE => "NE",
            Direction::E => "E",
            Direction::SE => "SE",
            Direction::S => "S",
            Direction::SW => "SW",
            Direction::W => "W",
            Direction::NW => "NW",
        }
    }

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.get(id as usize).copied()
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Compass direction of an image displacement: up the picture (−y) is north.
    pub fn of(dx: f32, dy: f32) -> Self {
        let angle = (-dy).atan2(dx).to_degrees(); // 0 = east, 90 = north
        let sector = (((90.0 - angle).rem_euclid(360.0) + 22.5) / 45.0) as usize % 8;
        Self::ALL[sector]
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Time a track spent in one zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneVisit {
    pub zone: String,
    /// First time the track's ground point was seen in the zone.
    pub enter_ms: UnixMs,
    pub dwell_s: f64,
}

/// Compact appearance of a vehicle or object for "similar object" search: share of each named
/// colour and the box's aspect ratio. Never computed for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    pub colors: [u8; 10],
    /// Width / height of the mean box.
    pub aspect: f32,
}

impl Descriptor {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.colors.to_vec();
        v.extend_from_slice(&half(self.aspect));
        v
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 12 {
            return None;
        }
        Some(Self { colors: b[..10].try_into().ok()?, aspect: unhalf([b[10], b[11]]) })
    }

    /// 0 for identical, about 1 for unrelated.
    pub fn distance(&self, o: &Descriptor) -> f32 {
        let l1: f32 = self.colors.iter().zip(o.colors).map(|(a, b)| (*a as f32 - b as f32).abs()).sum::<f32>() / 510.0;
        let shape = (self.aspect.max(0.05).ln() - o.aspect.max(0.05).ln()).abs().min(1.0);
        0.75 * l1 + 0.25 * shape
    }
}

/// Aspect ratio in 1/1000 units on two bytes (plenty for a shape hint).
fn half(x: f32) -> [u8; 2] {
    ((x * 1000.0).round().clamp(0.0, 65535.0) as u16).to_be_bytes()
}

fn unhalf(b: [u8; 2]) -> f32 {
    u16::from_be_bytes(b) as f32 / 1000.0
}

/// One finished track, as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackRecord {
    pub camera: String,
    pub track_id: u64,
    pub class: String,
    pub start_ms: UnixMs,
    pub end_ms: UnixMs,
    pub zones: Vec<ZoneVisit>,
    /// Net movement over the track; `None` when it barely moved.
    pub direction: Option<Direction>,
    pub displacement_px: f32,
    /// Main colour; always `None` for people.
    pub color: Option<NamedColor>,
    pub mean_width: f32,
    pub mean_height: f32,
    pub observations: u32,
    pub event_ids: Vec<String>,
    /// Always `None` for people.
    pub descriptor: Option<Descriptor>,
    /// JPEG at most 96 px tall; people in it pixelated.
    #[serde(skip)]
    pub thumbnail_jpeg: Option<Vec<u8>>,
}

impl TrackRecord {
    pub fn max_dwell_s(&self) -> f64 {
        self.zones.iter().map(|z| z.dwell_s).fold(0.0, f64::max)
    }
}

#[derive(Debug, Clone)]
pub struct SummarizerConfig {
    /// A track not matched for this many frames has ended.
    pub end_after_frames: u64,
    /// Tracks matched fewer times than this are noise and are not indexed.
    pub min_observations: u32,
    /// At most this many frames are sampled for colour per track.
    pub colour_samples: u32,
    pub thumbnail_height: usize,
    pub thumbnail_max_width: usize,
}

impl Default for SummarizerConfig {
    fn default() -> Self {
        Self {
            end_after_frames: 30,
            min_observations: 3,
            colour_samples: 8,
            thumbnail_height: 96,
            thumbnail_max_width: 128,
        }
    }
}

struct LiveTrack {
    class: String,
    person: bool,
    start_ms: UnixMs,
    last_ms: UnixMs,
    last_frame: u64,
    first_point: (f32, f32),
    last_point: (f32, f32),
    sum_w: f64,
    sum_h: f64,
    observations: u32,
    zones: BTreeMap<String, (UnixMs, f64)>,
    in_zones: Vec<String>,
    votes: ColorVotes,
    thumb_area: f32,
    thumb: Option<Vec<u8>>,
    event_ids: Vec<String>,
}

/// Per-camera accumulator; the pipeline calls [`TrackSummarizer::observe`] for every analysed frame.
pub struct TrackSummarizer {
    camera: String,
    classes: ClassMap,
    cfg: SummarizerConfig,
    live: HashMap<u64, LiveTrack>,
    frame_no: u64,
}

impl TrackSummarizer {
    pub fn new(camera: &str, classes: ClassMap, cfg: SummarizerConfig) -> Self {
        Self { camera: camera.to_string(), classes, cfg, live: HashMap::new(), frame_no: 0 }
    }

    /// Feeds one frame's tracks; returns the tracks that ended. Thumbnails hide the person
    /// tracks only: a node passes the frame's whole decision to [`TrackSummarizer::observe_hidden`].
    pub fn observe(
        &mut self,
        frame: &Frame,
        objects: &[TrackedObject],
        zones: &[(String, Polygon)],
        now: SystemTime,
    ) -> Vec<TrackRecord> {
        self.observe_hidden(frame, objects, zones, None, now)
    }

    /// As [`TrackSummarizer::observe`], thumbnails hiding what `plan` decided for the frame
    /// (people, motion, masks; all of it when nothing could be decided).
    pub fn observe_hidden(
        &mut self,
        frame: &Frame,
        objects: &[TrackedObject],
        zones: &[(String, Polygon)],
        plan: Option<&HidePlan>,
        now: SystemTime,
    ) -> Vec<TrackRecord> {
        self.frame_no += 1;
        let now_ms = UnixMs::from(now);
        let people: Vec<BBox> = objects
            .iter()
            .filter(|o| o.frames_since_update == 0 && is_person(self.classes.name(o.class_id)))
            .map(|o| o.bbox)
            .collect();
        let own;
        let plan = match plan {
            Some(p) => p,
            None => {
                own = decide(&PrivacyInputs {
                    width: frame.width,
                    height: frame.height,
                    people: &people,
                    vehicles: &[],
                    motion: &[],
                    masks: &[],
                    undecidable: None,
                });
                &own
            }
        };
        for o in objects.iter().filter(|o| o.frames_since_update == 0) {
            let class = self.classes.name(o.class_id).to_string();
            let foot = o.bbox.foot();
            let t = self.live.entry(o.track_id).or_insert_with(|| LiveTrack {
                person: is_person(&class),
                class,
                start_ms: now_ms,
                last_ms: now_ms,
                last_frame: self.frame_no,
                first_point: foot,
                last_point: foot,
                sum_w: 0.0,
                sum_h: 0.0,
                observations: 0,
                zones: BTreeMap::new(),
                in_zones: Vec::new(),
                votes: ColorVotes::default(),
                thumb_area: 0.0,
                thumb: None,
                event_ids: Vec::new(),
            });
            let dt = now_ms.ms_since(t.last_ms).max(0) as f64 / 1000.0;
            let now_in: Vec<String> =
                zones.iter().filter(|(_, p)| p.contains(foot.0, foot.1)).map(|(n, _)| n.clone()).collect();
            for z in &now_in {
                let e = t.zones.entry(z.clone()).or_insert((now_ms, 0.0));
                if t.in_zones.contains(z) {
                    e.1 += dt;
                }
            }
            t.in_zones = now_in;
            t.last_ms = now_ms;
            t.last_frame = self.frame_no;
            t.last_point = foot;
            t.sum_w += o.bbox.width() as f64;
            t.sum_h += o.bbox.height() as f64;
            t.observations += 1;
            // Sample on observations 2, 4, 8, 16...: spread over the track's life at a
            // bounded cost per track, whatever its length.
            let n = t.observations;
            if n >= 2 && n.is_power_of_two() && t.votes.frames < self.cfg.colour_samples {
                if !t.person {
                    t.votes.sample(frame, &o.bbox);
                }
                let area = o.bbox.area();
                if area > t.thumb_area * 1.1 {
                    t.thumb_area = area;
                    t.thumb = thumbnail(frame, &o.bbox, t.person, plan, &self.cfg);
                }
            }
        }
        let end_after = self.cfg.end_after_frames;
        let ended: Vec<u64> =
            self.live.iter().filter(|(_, t)| self.frame_no - t.last_frame > end_after).map(|(id, _)| *id).collect();
        self.take(ended)
    }

    /// Attaches an event to the live tracks it names, so their records carry its id.
    pub fn link_event(&mut self, event: &Event) {
        if event.camera != self.camera {
            return;
        }
        for id in &event.track_ids {
            if let Some(t) = self.live.get_mut(id) {
                if !t.event_ids.contains(&event.id) {
                    t.event_ids.push(event.id.clone());
                }
            }
        }
    }

    /// Ends every live track (at shutdown or when the camera stops).
    pub fn finish(&mut self) -> Vec<TrackRecord> {
        let ids: Vec<u64> = self.live.keys().copied().collect();
        self.take(ids)
    }

    pub fn live_tracks(&self) -> usize {
        self.live.len()
    }

    fn take(&mut self, mut ids: Vec<u64>) -> Vec<TrackRecord> {
        ids.sort_unstable();
        let mut out = Vec::new();
        for id in ids {
            let Some(t) = self.live.remove(&id) else { continue };
            if t.observations < self.cfg.min_observations {
                continue;
            }
            let n = t.observations as f64;
            let (mw, mh) = ((t.sum_w / n) as f32, (t.sum_h / n) as f32);
            let (dx, dy) = (t.last_point.0 - t.first_point.0, t.last_point.1 - t.first_point.1);
            let disp = (dx * dx + dy * dy).sqrt();
            // Less than half its own height (or 10 px) is standing still, not a direction.
            let direction = (disp >= (0.5 * mh).max(10.0)).then(|| Direction::of(dx, dy));
            let (color, descriptor) = if t.person {
                (None, None)
            } else {
                let c = t.votes.main();
                let d = (t.votes.frames > 0)
                    .then(|| Descriptor { colors: t.votes.histogram(), aspect: if mh > 0.0 { mw / mh } else { 1.0 } });
                (c, d)
            };
            out.push(TrackRecord {
                camera: self.camera.clone(),
                track_id: id,
                class: t.class,
                start_ms: t.start_ms,
                end_ms: t.last_ms,
                zones: t
                    .zones
                    .into_iter()
                    .map(|(zone, (enter_ms, dwell_s))| ZoneVisit { zone, enter_ms, dwell_s })
                    .collect(),
                direction,
                displacement_px: disp,
                color,
                mean_width: mw,
                mean_height: mh,
                observations: t.observations,
                event_ids: t.event_ids,
                descriptor,
                thumbnail_jpeg: t.thumb,
            });
        }
        out
    }
}

/// Small JPEG of the object with some context, hidden as the frame's plan decided (every
/// person, unexplained motion and mask in the crop), and the person itself if it is one,
/// before anything is encoded.
fn thumbnail(frame: &Frame, b: &BBox, person: bool, plan: &HidePlan, cfg: &SummarizerConfig) -> Option<Vec<u8>> {
    let (pw, ph) = (b.width() * 0.15, b.height() * 0.15);
    let region = BBox::new(b.x1 - pw, b.y1 - ph, b.x2 + pw, b.y2 + ph).clamp(frame.width as f32, frame.height as f32);
    let mut img = crop_frame(frame, &region)?;
    let (ox, oy) = (region.x1.floor(), region.y1.floor());
    let shift = |p: &BBox| BBox::new(p.x1 - ox, p.y1 - oy, p.x2 - ox, p.y2 - oy);
    if person {
        img.anonymise(&shift(b));
    }
    plan.cropped(ox as usize, oy as usize, img.width, img.height).apply(&mut img);
    let small = img.fit(cfg.thumbnail_max_width, cfg.thumbnail_height);
    Some(small.encode_jpeg(75))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use vigie_imaging::RgbImage;

    fn classes() -> ClassMap {
        ClassMap::new(["person", "bicycle", "car"].iter().map(|s| s.to_string()).collect())
    }

    fn obj(id: u64, class_id: u16, b: BBox) -> TrackedObject {
        TrackedObject {
            track_id: id,
            bbox: b,
            score: 0.9,
            class_id,
            age: 1,
            frames_since_update: 0,
            velocity: (0.0, 0.0),
        }
    }

    fn scene(car_x: f32) -> Frame {
        // Grey road with a red car and a person in a patterned coat.
        let (w, h) = (320, 240);
        let mut img = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                img.put(x, y, [100, 100, 100]);
            }
        }
        for y in 100..150 {
            for x in car_x as usize..car_x as usize + 80 {
                img.put(x, y, [200, 20, 25]);
            }
        }
        for y in 40..100 {
            for x in 250..275 {
                let v = if (x + y) % 2 == 0 { 255 } else { 0 };
                img.put(x, y, [v, v, v]);
            }
        }
        Frame::from_rgb(w, h, &img.data)
    }

    #[test]
    fn direction_is_the_compass_of_net_image_motion() {
        assert_eq!(Direction::of(10.0, 0.0), Direction::E);
        assert_eq!(Direction::of(-10.0, 0.0), Direction::W);
        assert_eq!(Direction::of(0.0, -10.0), Direction::N, "up the picture is north");
        assert_eq!(Direction::of(0.0, 10.0), Direction::S);
        assert_eq!(Direction::of(7.0, -7.0), Direction::NE);
        assert_eq!(Direction::of(-7.0, 7.0), Direction::SW);
        assert_eq!(Direction::of(10.0, 3.0), Direction::E, "within 22.5° of east");
        assert_eq!(Direction::parse("sw"), Some(Direction::SW));
    }

    #[test]
    fn a_car_crossing_a_zone_gives_one_record_with_colour_dwell_and_direction() {
        let zone = Polygon::new(vec![(105.0, 0.0), (195.0, 0.0), (195.0, 240.0), (105.0, 240.0)]);
        let zones = vec![("rue piétonne".to_string(), zone)];
        let mut s = TrackSummarizer::new("cam", classes(), SummarizerConfig::default());
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_338_400);
        let mut out = Vec::new();
        // 20 frames at 10 fps, car moving right 10 px per frame: foot x from 50 to 240.
        for i in 0..20u64 {
            let x = 10.0 + i as f32 * 10.0;
            let f = scene(x);
            let objs =
                [obj(7, 2, BBox::new(x, 100.0, x + 80.0, 150.0)), obj(8, 0, BBox::new(250.0, 40.0, 275.0, 100.0))];
            out.extend(s.observe(&f, &objs, &zones, t0 + Duration::from_millis(i * 100)));
        }
        assert!(out.is_empty(), "nothing ends while visible");
        // Both leave; 31 empty frames later they have ended.
        for i in 20..52u64 {
            out.extend(s.observe(&scene(-200.0), &[], &zones, t0 + Duration::from_millis(i * 100)));
        }
        assert_eq!(out.len(), 2, "{out:?}");
        let car = out.iter().find(|r| r.track_id == 7).unwrap();
        assert_eq!(car.class, "car");
        assert_eq!(car.color, Some(NamedColor::Red));
        assert_eq!(car.direction, Some(Direction::E));
        assert!((car.displacement_px - 190.0).abs() < 1e-3);
        assert_eq!((car.start_ms, car.end_ms), (UnixMs(1_764_338_400_000), UnixMs(1_764_338_401_900)));
        // Foot x = 50 + 10i is inside [105, 195] for frames 6..=14: 8 intervals of 0.1 s.
        assert_eq!(car.zones.len(), 1);
        assert_eq!(car.zones[0].zone, "rue piétonne");
        assert!((car.zones[0].dwell_s - 0.8).abs() < 1e-6, "{:?}", car.zones);
        assert_eq!(car.zones[0].enter_ms, UnixMs(1_764_338_400_600));
        assert_eq!((car.mean_width, car.mean_height), (80.0, 50.0));
        assert!(car.descriptor.is_some());
        let thumb = RgbImage::decode_jpeg(car.thumbnail_jpeg.as_ref().unwrap()).unwrap();
        assert!(thumb.height <= 96 && thumb.width <= 128, "{thumb:?}");

        let person = out.iter().find(|r| r.track_id == 8).unwrap();
        assert_eq!(person.class, "person");
        assert_eq!(person.color, None, "no colour for people");
        assert_eq!(person.descriptor, None, "no descriptor for people");
        assert_eq!(person.direction, None, "stood still");
        assert!(person.zones.is_empty());
        // The checkerboard coat is pixelated: neighbouring pixels inside are nearly equal.
        let t = RgbImage::decode_jpeg(person.thumbnail_jpeg.as_ref().unwrap()).unwrap();
        let (cx, cy) = (t.width / 2, t.height / 2);
        let (a, b) = (t.pixel(cx, cy), t.pixel(cx + 1, cy));
        assert!((a[0] as i32 - b[0] as i32).abs() < 40, "detail left in a person's thumbnail: {a:?} {b:?}");
    }

    /// Fine detail left in a thumbnail: share of horizontal neighbours that differ clearly.
    fn detail(t: &RgbImage) -> f32 {
        let mut d = 0;
        for y in 0..t.height {
            for x in 0..t.width - 1 {
                d += ((t.pixel(x, y)[1] as i32 - t.pixel(x + 1, y)[1] as i32).abs() > 40) as usize;
            }
        }
        d as f32 / (t.height * (t.width - 1)) as f32
    }

    #[test]
    fn thumbnails_follow_the_decision_and_fail_closed_with_it() {
        // A sharp striped scene; a car crossing it.
        let (w, h) = (320, 240);
        let mut img = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let v = if (x / 3) % 2 == 0 { 230 } else { 20 };
                img.put(x, y, [v, v, v]);
            }
        }
        let f = Frame::from_rgb(w, h, &img.data);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let b = |i: u64| BBox::new(20.0 + i as f32 * 5.0, 100.0, 100.0 + i as f32 * 5.0, 150.0);
        let thumb = |undecidable: Option<&str>| {
            let mut s = TrackSummarizer::new("cam", classes(), SummarizerConfig::default());
            let mut out = Vec::new();
            for i in 0..40u64 {
                let plan = decide(&PrivacyInputs {
                    width: w,
                    height: h,
                    people: &[],
                    vehicles: &[b(i)],
                    motion: &[],
                    masks: &[],
                    undecidable,
                });
                let objs = if i < 8 { vec![obj(1, 2, b(i))] } else { vec![] };
                out.extend(s.observe_hidden(&f, &objs, &[], Some(&plan), t0 + Duration::from_millis(i * 100)));
            }
            RgbImage::decode_jpeg(out[0].thumbnail_jpeg.as_ref().unwrap()).unwrap()
        };
        assert!(detail(&thumb(None)) > 0.2, "a car's thumbnail keeps its detail");
        let failed = detail(&thumb(Some("detector: inference failed (injected)")));
        assert!(failed < 0.05, "a thumbnail of an undecidable frame is pixelated whole: {failed}");
    }

    #[test]
    fn short_tracks_are_dropped_and_events_are_linked() {
        let mut s = TrackSummarizer::new("cam", classes(), SummarizerConfig::default());
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let f = scene(10.0);
        let b = BBox::new(10.0, 100.0, 90.0, 150.0);
        s.observe(&f, &[obj(1, 2, b), obj(2, 2, b)], &[], t0);
        for i in 1..5 {
            s.observe(&f, &[obj(1, 2, b)], &[], t0 + Duration::from_secs(i));
        }
        let ev = Event {
            id: "ev-1".into(),
            event_type: vigie_core::EventType::VehicleInPedestrianZone,
            phase: vigie_core::EventPhase::Opened,
            camera: "cam".into(),
            zone: "z".into(),
            rule: "r".into(),
            rule_version: 1,
            legal_basis: "l".into(),
            started_at_ms: vigie_core::UnixMs(0),
            ended_at_ms: None,
            frame_seq: 1,
            track_ids: vec![1],
            peak: vigie_core::PeakMeasure { kind: "dwell_s".into(), value: 1.0 },
            region: None,
            model_sha256: String::new(),
            snapshot_jpeg: None,
        };
        s.link_event(&ev);
        let out = s.finish();
        assert_eq!(out.len(), 1, "track 2 was seen once: noise");
        assert_eq!(out[0].event_ids, vec!["ev-1".to_string()]);
        assert_eq!(out[0].direction, None);
    }
}
