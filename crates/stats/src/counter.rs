//! Counting from tracks: line crossings per direction and class, area entries and mean occupancy
//! per class, aggregated per minute.
//!
//! Each track is followed by its foot point (bottom centre of its box, where it stands on the
//! ground). Positions only come from frames where the track was matched to a detection: the
//! tracker's predictions while it coasts through an occlusion could invent a crossing.
//!
//! Jitter is handled by a band around each line and each area outline, as wide as a tenth of the
//! object's box height (2–30 px): a track decides its side only outside the band. A crossing is
//! counted when a track that was clearly on one side is clearly on the other and its path met
//! the line in between (walking round the end of a line is no crossing). A crossing undone
//! within [`BOUNCE_MS`] (a step back over the line) is taken back: someone hesitating on a line
//! counts zero times, not many.

use crate::geometry::{dist_to_outline, inside, signed_distance, step_meets_line, Pt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use vigie_core::classes::MOVER_CLASSES;
use vigie_core::{ClassMap, ConfigError, ConfigErrors, TrackedObject, UnixMs};
use vigie_rules::geometry::to_pixels;
use vigie_rules::{EventsConfig, ZoneConfig, ZoneKind};

pub const MINUTE_MS: i64 = 60_000;
/// A track unseen this long has left; its pending crossing, if any, is settled.
pub const FORGET_MS: i64 = 3_000;
/// A minute stays open this long after it ends, so late-settled crossings land in it.
pub const GRACE_MS: i64 = FORGET_MS + 1_000;
/// A crossing reversed within this time is taken back; an area left and re-entered within it
/// is one entry.
pub const BOUNCE_MS: i64 = 1_500;
/// Frames further apart than this: the time between them is not observed (camera down, paused).
pub const MAX_GAP_MS: i64 = 2_000;

/// Half-width of the band around lines and outlines in which a track keeps its previous side.
fn band(box_height: f64) -> f64 {
    (0.1 * box_height).clamp(2.0, 30.0)
}

fn minute_of(t: i64) -> i64 {
    t.div_euclid(MINUTE_MS) * MINUTE_MS
}

/// Whether a zone counts crossings of a line or entries into and occupancy of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CountKind {
    Line,
    Area,
}

impl CountKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CountKind::Line => "line",
            CountKind::Area => "area",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "line" => Some(CountKind::Line),
            "area" => Some(CountKind::Area),
            _ => None,
        }
    }
}

/// What one zone counted for one class over some time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub zone: String,
    pub kind: CountKind,
    pub class: String,
    /// Lines: crossings from the line's left to its right (looking along it).
    pub crossings_in: u32,
    /// Lines: crossings from its right to its left.
    pub crossings_out: u32,
    /// Areas: tracks that came in from outside.
    pub entries: u32,
    /// Areas: the number of tracks inside integrated over time, in track-milliseconds; the mean
    /// occupancy is this over the observed time.
    pub occupancy_ms: f64,
}

/// One camera's counts for one minute. Rows only for zone/class pairs that counted something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinuteCounts {
    pub camera: String,
    /// Start of the minute (UTC, a multiple of 60 000 ms).
    pub minute: UnixMs,
    /// Milliseconds of the minute the camera was actually watched (frames no more than
    /// [`MAX_GAP_MS`] apart): what mean occupancies divide by, and what tells "nobody came"
    /// from "the camera was off".
    pub observed_ms: u32,
    pub counts: Vec<ClassCounts>,
}

/// Everything counted since the counter started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub observed_ms: u64,
    /// Every zone × counted class, zeros included, zones in config order.
    pub counts: Vec<ClassCounts>,
}

impl Totals {
    /// The counts of a zone and class, if both are counted.
    pub fn get(&self, zone: &str, class: &str) -> Option<&ClassCounts> {
        self.counts.iter().find(|c| c.zone == zone && c.class == class)
    }

    /// Crossings (in, out) of a line, every class summed.
    pub fn line(&self, zone: &str) -> (u32, u32) {
        self.counts
            .iter()
            .filter(|c| c.zone == zone)
            .fold((0, 0), |(i, o), c| (i + c.crossings_in, o + c.crossings_out))
    }

    /// Mean number of tracks of `class` inside an area over the observed time.
    pub fn mean_occupancy(&self, zone: &str, class: &str) -> f64 {
        match self.get(zone, class) {
            Some(c) if self.observed_ms > 0 => c.occupancy_ms / self.observed_ms as f64,
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Cell {
    crossings_in: u32,
    crossings_out: u32,
    entries: u32,
    occupancy_ms: f64,
}

impl Cell {
    fn is_zero(&self) -> bool {
        *self == Cell::default()
    }
}

/// A minute (or the totals) being counted: one cell per zone × class.
#[derive(Debug, Clone)]
struct Acc {
    observed_ms: f64,
    cells: Vec<Cell>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Acc { observed_ms: 0.0, cells: vec![Cell::default(); n] }
    }
}

#[derive(Debug, Clone)]
struct Zone {
    name: String,
    kind: CountKind,
    /// Line: the polyline; area: the polygon. Pixels.
    pts: Vec<Pt>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    In,
    Out,
}

#[derive(Debug, Clone, Copy)]
struct Counted {
    t: i64,
    dir: Dir,
    minute: i64,
    class: usize,
}

#[derive(Debug, Clone, Default)]
struct LineState {
    /// The side the track was last clearly on: -1 left, +1 right.
    anchor: Option<i8>,
    /// When the track's path last met the line since it was clearly on its anchor side.
    met_at: Option<i64>,
    last: Option<Counted>,
}

#[derive(Debug, Clone, Default)]
struct AreaState {
    inside: Option<bool>,
    left_at: Option<i64>,
}

#[derive(Debug, Clone)]
struct TrackState {
    class: usize,
    last_seen: i64,
    foot: Option<Pt>,
    /// One per zone, in zone order (the other kind's slot unused).
    lines: Vec<LineState>,
    areas: Vec<AreaState>,
}

/// Counts one camera's counting zones from its confirmed tracks. Feed it every processed frame's
/// tracks with [`Counter::observe`], take finished minutes with [`Counter::drain_minutes`], and
/// at the end of a clip settle everything with [`Counter::flush`] before reading [`Counter::totals`].
#[derive(Debug, Clone)]
pub struct Counter {
    camera: String,
    zones: Vec<Zone>,
    classes: Vec<String>,
    /// Detector class id -> index in `classes`, for counted classes.
    class_index: Vec<Option<usize>>,
    tracks: HashMap<u64, TrackState>,
    minutes: BTreeMap<i64, Acc>,
    /// Minutes before this one were handed out; nothing is added to them any more.
    drained_until: i64,
    totals: Acc,
    last_t: Option<i64>,
    /// Tracks inside each area × class at the last frame, held until the next one.
    inside_now: Vec<u32>,
}

impl Counter {
    /// A counter for `camera`'s counting zones (lines, and areas with `count = true`; other zones
    /// are ignored) on `frame_size` pictures. Counts the moving classes (people, bicycles, motor
    /// vehicles) the detector knows. Errors name the zone's key.
    pub fn new(
        camera: &str,
        zones: &[ZoneConfig],
        frame_size: (usize, usize),
        class_map: &ClassMap,
    ) -> Result<Counter, ConfigErrors> {
        vigie_rules::validate_camera(camera, zones, &[], None, &EventsConfig::default())?;
        let (w, h) = frame_size;
        let mut errs = ConfigErrors::new();
        let mut out = Vec::new();
        for z in zones.iter().filter(|z| z.counts()) {
            let (kind, raw, k) = if z.kind == ZoneKind::Line {
                (CountKind::Line, &z.points, "points")
            } else {
                (CountKind::Area, &z.polygon, "polygon")
            };
            let pts = to_pixels(raw, w, h);
            if let Some((i, p)) = pts.iter().enumerate().find(|(_, p)| p.0 > w as f64 + 1.0 || p.1 > h as f64 + 1.0) {
                errs.push(ConfigError::new(
                    format!("cameras.{camera}.zones.{}.{k}", z.name),
                    format!("point {} ({}, {}) is outside the {w}×{h} frame", i + 1, p.0, p.1),
                ));
            }
            out.push(Zone { name: z.name.clone(), kind, pts });
        }
        errs.into_result()?;
        let classes: Vec<String> =
            MOVER_CLASSES.iter().filter(|c| class_map.id(c).is_some()).map(|c| c.to_string()).collect();
        let class_index = class_map.names().iter().map(|n| classes.iter().position(|c| c == n)).collect();
        let n = out.len() * classes.len();
        Ok(Counter {
            camera: camera.to_string(),
            inside_now: vec![0; n],
            totals: Acc::new(n),
            zones: out,
            classes,
            class_index,
            tracks: HashMap::new(),
            minutes: BTreeMap::new(),
            drained_until: i64::MIN,
            last_t: None,
        })
    }

    pub fn camera(&self) -> &str {
        &self.camera
    }

    /// The classes counted, in a fixed order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The counting zones, in config order.
    pub fn zones(&self) -> impl Iterator<Item = (&str, CountKind)> {
        self.zones.iter().map(|z| (z.name.as_str(), z.kind))
    }

    /// Whether there is anything to count.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty() || self.classes.is_empty()
    }

    fn cell_index(&self, zone: usize, class: usize) -> usize {
        zone * self.classes.len() + class
    }

    /// One processed frame's tracks at capture time `t`. Frames must come in time order; a frame
    /// older than the previous one only updates positions.
    pub fn observe(&mut self, t: UnixMs, tracks: &[TrackedObject]) {
        let t = t.as_i64();
        if let Some(t0) = self.last_t {
            let dt = t - t0;
            if dt > 0 && dt <= MAX_GAP_MS {
                self.integrate(t0, t);
            }
        }
        if self.last_t.is_none_or(|t0| t > t0) {
            self.last_t = Some(t);
        }
        let nz = self.zones.len();
        for tr in tracks {
            let Some(class) = self.class_index.get(tr.class_id as usize).copied().flatten() else { continue };
            let st = self.tracks.entry(tr.track_id).or_insert_with(|| TrackState {
                class,
                last_seen: t,
                foot: None,
                lines: vec![LineState::default(); nz],
                areas: vec![AreaState::default(); nz],
            });
            st.last_seen = t;
            st.class = class;
            if tr.frames_since_update != 0 {
                continue;
            }
            let (fx, fy) = tr.bbox.foot();
            let p = (fx as f64, fy as f64);
            let b = band(tr.bbox.height() as f64);
            let prev = st.foot.replace(p);
            let mut events = Vec::new();
            for (zi, z) in self.zones.iter().enumerate() {
                match z.kind {
                    CountKind::Line => {
                        if let Some(e) = step_line(&mut st.lines[zi], &z.pts, prev, p, b, t) {
                            events.push((zi, e));
                        }
                    }
                    CountKind::Area => {
                        if step_area(&mut st.areas[zi], &z.pts, p, b, t) {
                            events.push((zi, Event::Entry));
                        }
                    }
                }
            }
            for (zi, e) in events {
                self.apply(tr.track_id, zi, class, e);
            }
        }
        self.forget(t);
        self.inside_now.iter_mut().for_each(|n| *n = 0);
        for tr in tracks {
            let Some(st) = self.tracks.get(&tr.track_id) else { continue };
            for (zi, a) in st.areas.iter().enumerate() {
                if self.zones[zi].kind == CountKind::Area && a.inside == Some(true) {
                    let i = self.cell_index(zi, st.class);
                    self.inside_now[i] += 1;
                }
            }
        }
    }

    /// Adds the observed time `[t0, t1)` and the occupancy held over it, split at minute ends.
    fn integrate(&mut self, t0: i64, t1: i64) {
        let mut a = t0.max(self.drained_until);
        while a < t1 {
            let m = minute_of(a);
            let b = t1.min(m + MINUTE_MS);
            let dt = (b - a) as f64;
            let n = self.totals.cells.len();
            let acc = self.minutes.entry(m).or_insert_with(|| Acc::new(n));
            acc.observed_ms += dt;
            for (c, &k) in acc.cells.iter_mut().zip(&self.inside_now) {
                c.occupancy_ms += k as f64 * dt;
            }
            a = b;
        }
        let dt = (t1 - t0) as f64;
        self.totals.observed_ms += dt;
        for (c, &k) in self.totals.cells.iter_mut().zip(&self.inside_now) {
            c.occupancy_ms += k as f64 * dt;
        }
    }

    /// Adds (or takes back) an event at its time, in its minute or, if that minute was already
    /// handed out, the oldest open one.
    fn add(&mut self, t: i64, zone: usize, class: usize, f: impl Fn(&mut Cell)) -> i64 {
        let m = minute_of(t).max(self.drained_until);
        let i = self.cell_index(zone, class);
        let n = self.totals.cells.len();
        f(&mut self.minutes.entry(m).or_insert_with(|| Acc::new(n)).cells[i]);
        f(&mut self.totals.cells[i]);
        m
    }

    fn apply(&mut self, track: u64, zone: usize, class: usize, e: Event) {
        match e {
            Event::Entry => {
                self.add(self.last_t.unwrap_or(0), zone, class, |c| c.entries += 1);
            }
            Event::Crossing { t, dir } => {
                let last = self.tracks.get(&track).and_then(|s| s.lines[zone].last);
                let undo = last.filter(|l| l.dir != dir && t - l.t <= BOUNCE_MS);
                let new_last = if let Some(l) = undo {
                    // A step back over the line: neither crossing happened.
                    let i = self.cell_index(zone, l.class);
                    let dec = |c: &mut Cell| match l.dir {
                        Dir::In => c.crossings_in = c.crossings_in.saturating_sub(1),
                        Dir::Out => c.crossings_out = c.crossings_out.saturating_sub(1),
                    };
                    if let Some(acc) = self.minutes.get_mut(&l.minute) {
                        dec(&mut acc.cells[i]);
                    }
                    dec(&mut self.totals.cells[i]);
                    None
                } else {
                    let minute = self.add(t, zone, class, |c| match dir {
                        Dir::In => c.crossings_in += 1,
                        Dir::Out => c.crossings_out += 1,
                    });
                    Some(Counted { t, dir, minute, class })
                };
                if let Some(s) = self.tracks.get_mut(&track) {
                    s.lines[zone].last = new_last;
                }
            }
        }
    }

    /// Settles and drops the tracks for which `gone` holds.
    fn forget_where(&mut self, gone: impl Fn(&TrackState) -> bool) {
        let ids: Vec<u64> = self.tracks.iter().filter(|&(_, s)| gone(s)).map(|(&id, _)| id).collect();
        for id in ids {
            let mut events = Vec::new();
            if let Some(s) = self.tracks.get(&id) {
                for (zi, z) in self.zones.iter().enumerate() {
                    if z.kind != CountKind::Line {
                        continue;
                    }
                    let l = &s.lines[zi];
                    // Lost just after crossing, still in the band: its last position decides.
                    if let (Some(a), Some(met), Some(p)) = (l.anchor, l.met_at, s.foot) {
                        let side = if signed_distance(&z.pts, p) < 0.0 { -1 } else { 1 };
                        if side != a {
                            events.push((zi, s.class, Event::Crossing { t: met, dir: direction(a) }));
                        }
                    }
                }
            }
            for (zi, class, e) in events {
                self.apply(id, zi, class, e);
            }
            self.tracks.remove(&id);
        }
    }

    fn forget(&mut self, now: i64) {
        self.forget_where(|s| now - s.last_seen > FORGET_MS);
    }

    /// The minutes that ended at least [`GRACE_MS`] before `now`, oldest first; they are no
    /// longer counted into. Pass the capture time of the latest frame (or the wall clock when
    /// frames stopped coming).
    pub fn drain_minutes(&mut self, now: UnixMs) -> Vec<MinuteCounts> {
        let until = minute_of(now.as_i64() - GRACE_MS);
        self.drain_until(until)
    }

    fn drain_until(&mut self, until: i64) -> Vec<MinuteCounts> {
        if until <= self.drained_until {
            return Vec::new();
        }
        self.drained_until = until;
        let keep = self.minutes.split_off(&until);
        let done = std::mem::replace(&mut self.minutes, keep);
        done.into_iter().filter_map(|(m, acc)| self.minute_counts(m, &acc)).collect()
    }

    /// Settles every track (a crossing still in the band counts by its last position) and hands
    /// out every minute: the end of a clip, or of a camera's counting (reload, stop).
    pub fn flush(&mut self) -> Vec<MinuteCounts> {
        self.forget_where(|_| true);
        let end = self.minutes.keys().next_back().map_or(self.drained_until, |m| m + MINUTE_MS);
        self.drain_until(end)
    }

    fn minute_counts(&self, m: i64, acc: &Acc) -> Option<MinuteCounts> {
        let counts = self.rows(acc, false);
        let observed_ms = acc.observed_ms.round().min(MINUTE_MS as f64) as u32;
        (observed_ms > 0 || !counts.is_empty()).then(|| MinuteCounts {
            camera: self.camera.clone(),
            minute: UnixMs(m),
            observed_ms,
            counts,
        })
    }

    fn rows(&self, acc: &Acc, zeros: bool) -> Vec<ClassCounts> {
        let mut out = Vec::new();
        for (zi, z) in self.zones.iter().enumerate() {
            for (ci, class) in self.classes.iter().enumerate() {
                let c = acc.cells[self.cell_index(zi, ci)];
                if zeros || !c.is_zero() {
                    out.push(ClassCounts {
                        zone: z.name.clone(),
                        kind: z.kind,
                        class: class.clone(),
                        crossings_in: c.crossings_in,
                        crossings_out: c.crossings_out,
                        entries: c.entries,
                        occupancy_ms: c.occupancy_ms,
                    });
                }
            }
        }
        out
    }

    /// Everything counted so far, every zone × class. Crossings of tracks still near a line are
    /// not in yet: call [`Counter::flush`] first at the end of a clip.
    pub fn totals(&self) -> Totals {
        Totals { observed_ms: self.totals.observed_ms.round() as u64, counts: self.rows(&self.totals, true) }
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Crossing { t: i64, dir: Dir },
    Entry,
}

/// From the left (-1) to the right is in.
fn direction(from: i8) -> Dir {
    if from < 0 {
        Dir::In
    } else {
        Dir::Out
    }
}

/// Moves a track along one line; a crossing when it is clearly on the other side of where it
/// was, having met the line on the way.
fn step_line(l: &mut LineState, line: &[Pt], prev: Option<Pt>, p: Pt, band: f64, t: i64) -> Option<Event> {
    if prev.is_some_and(|q| step_meets_line(line, q, p)) {
        l.met_at = Some(t);
    }
    let d = signed_distance(line, p);
    if d.abs() < band {
        return None;
    }
    let side: i8 = if d < 0.0 { -1 } else { 1 };
    let event = match (l.anchor, l.met_at) {
        (Some(a), Some(met)) if a != side => Some(Event::Crossing { t: met, dir: direction(a) }),
        _ => None,
    };
    l.anchor = Some(side);
    l.met_at = None;
    event
}

/// Moves a track with respect to one area; true when it came in from outside. A track first
/// seen inside (born there, or a new id after the tracker lost it) is in the occupancy but is no
/// entry: counting it would count the same person twice.
fn step_area(a: &mut AreaState, poly: &[Pt], p: Pt, band: f64, t: i64) -> bool {
    if dist_to_outline(poly, p) < band {
        return false;
    }
    let now_inside = inside(poly, p);
    let entered = match a.inside {
        Some(false) if now_inside => a.left_at.is_none_or(|l| t - l > BOUNCE_MS),
        Some(true) if !now_inside => {
            a.left_at = Some(t);
            false
        }
        _ => false,
    };
    a.inside = Some(now_inside);
    entered
}
