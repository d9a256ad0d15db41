use crate::assign::LinearAssignment;
use crate::config::{OutputBox, TrackerConfig};
use crate::kalman::Kalman;
use std::time::Duration;
use vigie_core::{BBox, ConfigError, Detection, TrackedObject};

/// ByteTrack's rule for a followed track and a lost one that have become the same object.
const DUPLICATE_IOU: f32 = 0.85;
/// Frame interval assumed until two timestamps have been seen, when no fps hint was given.
const FALLBACK_INTERVAL_S: f64 = 1.0 / 25.0;
/// Intervals kept for the median: enough to outvote a few skipped or late frames.
const INTERVAL_WINDOW: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Tracked,
    Lost,
}

#[derive(Debug, Clone)]
struct Track {
    /// 0 until confirmed: ids are handed out on confirmation so that reported ids have no gaps.
    id: u64,
    kf: Kalman,
    state: State,
    confirmed: bool,
    hits: u32,
    /// Frame intervals since birth, 1 on the first frame.
    age: u32,
    /// Frame intervals since the last match, held frames excluded.
    missed: u32,
    score: f32,
    det_box: BBox,
    class_id: u16,
    /// Matches per class, for the majority vote.
    votes: Vec<(u16, u32)>,
    removed: bool,
    /// Moved by [`ByteTracker::predict`] since its last match: its detection box is stale.
    predicted: bool,
}

impl Track {
    fn new(d: &Detection) -> Self {
        Self {
            id: 0,
            kf: Kalman::new(&d.bbox),
            state: State::Tracked,
            confirmed: false,
            hits: 1,
            age: 1,
            missed: 0,
            score: d.score,
            det_box: d.bbox,
            class_id: d.class_id,
            votes: vec![(d.class_id, 1)],
            removed: false,
            predicted: false,
        }
    }

    fn absorb(&mut self, d: &Detection) {
        self.kf.update(&d.bbox);
        self.predicted = false;
        self.state = State::Tracked;
        self.hits = self.hits.saturating_add(1);
        self.missed = 0;
        self.score = d.score;
        self.det_box = d.bbox;
        let n = match self.votes.iter_mut().find(|(c, _)| *c == d.class_id) {
            Some(v) => {
                v.1 = v.1.saturating_add(1);
                v.1
            }
            None => {
                self.votes.push((d.class_id, 1));
                1
            }
        };
        // Only a strict majority changes the class, so that a tie does not make it flicker.
        let current = self.votes.iter().find(|(c, _)| *c == self.class_id).map_or(0, |v| v.1);
        if n > current {
            self.class_id = d.class_id;
        }
    }

    /// ByteTrack's "tracklet length", used to keep the older of two duplicates.
    fn followed_for(&self) -> u32 {
        self.age.saturating_sub(self.missed)
    }
}

/// IoU with a quick exit for the common case of boxes far apart (`BBox::iou` lives in another
/// crate and is not inlined here; most track/detection pairs do not touch).
#[inline]
fn iou(a: &BBox, b: &BBox) -> f32 {
    if a.x2 <= b.x1 || b.x2 <= a.x1 || a.y2 <= b.y1 || b.y2 <= a.y1 {
        0.0
    } else {
        a.iou(b)
    }
}

/// Which classes may associate with which.
#[derive(Debug, Clone, Default)]
struct ClassGroups {
    /// `(class, group)`, sorted by class.
    of: Vec<(u16, usize)>,
}

impl ClassGroups {
    fn new(groups: &[Vec<u16>]) -> Self {
        let mut of: Vec<(u16, usize)> =
            groups.iter().enumerate().flat_map(|(g, cs)| cs.iter().map(move |&c| (c, g))).collect();
        of.sort_unstable();
        Self { of }
    }

    fn group(&self, class: u16) -> Option<usize> {
        self.of.binary_search_by_key(&class, |&(c, _)| c).ok().map(|i| self.of[i].1)
    }

    fn compatible(&self, a: u16, b: u16) -> bool {
        a == b || self.group(a).is_some_and(|g| self.group(b) == Some(g))
    }
}

/// Multi-object tracker of the ByteTrack family: a Kalman motion model and IoU association in two
/// stages (confident detections first, then weak ones to extend tracks already followed). It sees
/// boxes, scores and classes only, and never computes or keeps anything about appearance.
#[derive(Debug, Clone)]
pub struct ByteTracker {
    cfg: TrackerConfig,
    groups: ClassGroups,
    tracks: Vec<Track>,
    next_id: u64,
    updates: u64,
    last_t: Option<Duration>,
    hint_interval_s: Option<f64>,
    intervals: [f64; INTERVAL_WINDOW],
    n_intervals: usize,
    median_interval_s: Option<f64>,
    // Scratch buffers reused every frame.
    la: LinearAssignment,
    cost: Vec<f32>,
    matches: Vec<(usize, usize)>,
    dets: Vec<Detection>,
    taken: Vec<bool>,
    high: Vec<usize>,
    low: Vec<usize>,
    pool: Vec<usize>,
    pool2: Vec<usize>,
    boxes: Vec<BBox>,
}

impl ByteTracker {
    /// `fps`: the stream's nominal frame rate when known; otherwise the frame interval is the
    /// median of the intervals between the timestamps given to [`update`](Self::update) and [`hold`](Self::hold).
    pub fn new(cfg: TrackerConfig, fps: Option<f64>) -> Result<Self, ConfigError> {
        cfg.validate()?;
        if let Some(f) = fps {
            if !(f.is_finite() && f > 0.0 && f <= 1000.0) {
                return Err(ConfigError::new("fps", format!("must be in (0,1000], got {f}")));
            }
        }
        Ok(Self {
            groups: ClassGroups::new(&cfg.class_groups),
            cfg,
            tracks: Vec::new(),
            next_id: 1,
            updates: 0,
            last_t: None,
            hint_interval_s: fps.map(|f| 1.0 / f),
            intervals: [0.0; INTERVAL_WINDOW],
            n_intervals: 0,
            median_interval_s: None,
            la: LinearAssignment::new(),
            cost: Vec::new(),
            matches: Vec::new(),
            dets: Vec::new(),
            taken: Vec::new(),
            high: Vec::new(),
            low: Vec::new(),
            pool: Vec::new(),
            pool2: Vec::new(),
            boxes: Vec::new(),
        })
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    /// Seconds between frames as currently assumed.
    pub fn frame_interval_s(&self) -> f64 {
        self.hint_interval_s.or(self.median_interval_s).unwrap_or(FALLBACK_INTERVAL_S)
    }

    /// Frame intervals a lost track is kept for.
    fn max_lost_frames(&self) -> u32 {
        (self.cfg.lost_buffer_s / self.frame_interval_s()).round().min(u32::MAX as f64) as u32
    }

    /// Records the frame time and returns how many frame intervals passed since the previous one
    /// (1 for the first frame or a timestamp that does not advance, e.g. a looping file).
    fn advance_clock(&mut self, t: Duration) -> u32 {
        let steps = match self.last_t {
            Some(prev) if t > prev => {
                let dt = (t - prev).as_secs_f64();
                let steps = match self.hint_interval_s.or(self.median_interval_s) {
                    Some(interval) => (dt / interval).round().clamp(1.0, 1e6) as u32,
                    // The first interval is the only evidence of the frame rate there is.
                    None => 1,
                };
                self.intervals[self.n_intervals % INTERVAL_WINDOW] = dt;
                self.n_intervals += 1;
                let mut recent = self.intervals;
                let recent = &mut recent[..self.n_intervals.min(INTERVAL_WINDOW)];
                recent.sort_unstable_by(f64::total_cmp);
                self.median_interval_s = Some(recent[recent.len() / 2]);
                steps
            }
            _ => 1,
        };
        self.last_t = Some(t);
        steps
    }

    /// Tracks a frame's detections (any classes, full-frame pixels) taken at presentation time `t`.
    /// Returns the confirmed tracks matched in this frame, plus recently lost ones when
    /// `output_lost_max_frames` > 0, sorted by id.
    pub fn update(&mut self, detections: &[Detection], t: Duration) -> Vec<TrackedObject> {
        let steps = self.advance_clock(t);
        let first_frame = self.updates == 0;
        self.updates += 1;
        // Predicting past the point where a lost track is dropped would be wasted work.
        let predict_steps = steps.min(self.max_lost_frames().saturating_add(2));
        for tr in &mut self.tracks {
            tr.age = tr.age.saturating_add(steps);
            tr.missed = tr.missed.saturating_add(steps);
            // As in ByteTrack, a track seen once is not predicted: it has no velocity yet.
            if tr.confirmed {
                for _ in 0..predict_steps {
                    tr.kf.predict(tr.state == State::Lost);
                }
            }
        }

        self.select_detections(detections);

        // Stage 1: confident detections against every confirmed track, followed or lost.
        self.pool.clear();
        self.pool.extend((0..self.tracks.len()).filter(|&i| self.tracks[i].confirmed));
        self.associate(Stage::First);
        for &(p, h) in &self.matches {
            let d = self.high[h];
            self.tracks[self.pool[p]].absorb(&self.dets[d]);
            self.taken[d] = true;
        }

        // Stage 2: weak detections only extend tracks that were followed until the previous frame.
        self.pool2.clear();
        for &i in &self.pool {
            let tr = &self.tracks[i];
            if tr.missed > 0 && tr.state == State::Tracked {
                self.pool2.push(i);
            }
        }
        self.associate(Stage::Second);
        for &(p, l) in &self.matches {
            let d = self.low[l];
            self.tracks[self.pool2[p]].absorb(&self.dets[d]);
            self.taken[d] = true;
        }
        for &i in &self.pool2 {
            let tr = &mut self.tracks[i];
            if tr.missed > 0 {
                tr.state = State::Lost;
            }
        }

        // Tracks seen once get one chance to meet a remaining confident detection.
        self.high.retain(|&d| !self.taken[d]);
        self.pool.clear();
        self.pool.extend((0..self.tracks.len()).filter(|&i| !self.tracks[i].confirmed));
        self.associate(Stage::Unconfirmed);
        for &(p, h) in &self.matches {
            let d = self.high[h];
            let tr = &mut self.tracks[self.pool[p]];
            tr.absorb(&self.dets[d]);
            self.taken[d] = true;
            if tr.hits >= self.cfg.min_hits_to_confirm {
                tr.confirmed = true;
                tr.id = self.next_id;
                self.next_id += 1;
            }
        }
        for &i in &self.pool {
            let tr = &mut self.tracks[i];
            if tr.missed > 0 {
                tr.removed = true;
            }
        }

        let confirm_now = first_frame || self.cfg.min_hits_to_confirm <= 1;
        for &d in &self.high {
            let det = &self.dets[d];
            if self.taken[d] || det.score < self.cfg.new_track_thresh {
                continue;
            }
            let mut tr = Track::new(det);
            if confirm_now {
                tr.confirmed = true;
                tr.id = self.next_id;
                self.next_id += 1;
            }
            self.tracks.push(tr);
        }

        let max_lost = self.max_lost_frames();
        for tr in &mut self.tracks {
            if tr.state == State::Lost && tr.missed > max_lost {
                tr.removed = true;
            }
        }
        self.remove_duplicates();
        self.tracks.retain(|t| !t.removed);
        self.report()
    }

    /// For a frame the detector skipped because nothing moved: every track stays as it is (no
    /// prediction, no progress toward deletion) and the tracks last reported are reported again.
    pub fn hold(&mut self, t: Duration) -> Vec<TrackedObject> {
        self.advance_clock(t);
        for tr in &mut self.tracks {
            tr.age = tr.age.saturating_add(1);
        }
        self.report()
    }

    /// For a frame the detector skipped to keep to the camera's analysis rate (`detect_fps`):
    /// tracks move on by their motion model exactly as over a gap between two detections (so the
    /// next detection meets them where they should be), but nobody is missed for a frame the
    /// detector never looked at: a followed track stays followed and reported. Lost tracks keep
    /// ageing toward deletion, since the time they are kept for (`lost_buffer_s`) is real time.
    pub fn predict(&mut self, t: Duration) -> Vec<TrackedObject> {
        let steps = self.advance_clock(t);
        let predict_steps = steps.min(self.max_lost_frames().saturating_add(2));
        for tr in &mut self.tracks {
            tr.age = tr.age.saturating_add(steps);
            if tr.state == State::Lost {
                tr.missed = tr.missed.saturating_add(steps);
            }
            // As in `update`, a track seen once has no velocity to predict with.
            if tr.confirmed {
                for _ in 0..predict_steps {
                    tr.kf.predict(tr.state == State::Lost);
                }
                tr.predicted = true;
            }
        }
        self.report()
    }

    /// Keeps valid detections above `low_thresh` and `min_box_area`, merges same-object
    /// duplicates of grouped classes, and splits them into confident and weak ones.
    fn select_detections(&mut self, detections: &[Detection]) {
        let cfg = &self.cfg;
        self.dets.clear();
        self.dets.extend(detections.iter().filter(|d| {
            let b = &d.bbox;
            [b.x1, b.y1, b.x2, b.y2, d.score].iter().all(|v| v.is_finite())
                && b.x2 > b.x1
                && b.y2 > b.y1
                && b.area() >= cfg.min_box_area
                && d.score >= cfg.low_thresh
        }));
        self.dets.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
        if cfg.group_nms_iou < 1.0 && !self.groups.of.is_empty() {
            let mut i = 0;
            while i < self.dets.len() {
                let keep = self.dets[i];
                let groups = &self.groups;
                let mut j = i + 1;
                while groups.group(keep.class_id).is_some() && j < self.dets.len() {
                    let d = &self.dets[j];
                    if d.class_id != keep.class_id
                        && groups.compatible(d.class_id, keep.class_id)
                        && iou(&d.bbox, &keep.bbox) > cfg.group_nms_iou
                    {
                        self.dets.remove(j);
                    } else {
                        j += 1;
                    }
                }
                i += 1;
            }
        }
        self.taken.clear();
        self.taken.resize(self.dets.len(), false);
        self.high.clear();
        self.low.clear();
        for (i, d) in self.dets.iter().enumerate() {
            if d.score >= cfg.high_thresh {
                self.high.push(i);
            } else {
                self.low.push(i);
            }
        }
    }

    /// Fills `self.matches` with `(position in pool, position in detection list)` pairs.
    fn associate(&mut self, stage: Stage) {
        let (pool, dets, fuse, min_iou) = match stage {
            Stage::First => (&self.pool, &self.high, self.cfg.fuse_score, self.cfg.match_iou),
            Stage::Second => (&self.pool2, &self.low, false, self.cfg.second_match_iou),
            Stage::Unconfirmed => (&self.pool, &self.high, self.cfg.fuse_score, self.cfg.unconfirmed_match_iou),
        };
        self.cost.clear();
        for &t in pool {
            let tr = &self.tracks[t];
            let tb = tr.kf.bbox();
            for &d in dets {
                let det = &self.dets[d];
                let c = if self.groups.compatible(tr.class_id, det.class_id) {
                    let iou = iou(&tb, &det.bbox);
                    1.0 - if fuse { iou * det.score } else { iou }
                } else {
                    f32::INFINITY
                };
                self.cost.push(c);
            }
        }
        self.la.solve(&self.cost, pool.len(), dets.len(), 1.0 - min_iou, &mut self.matches);
    }

    /// ByteTrack's `remove_duplicate_stracks`: a followed track and a lost one that overlap almost
    /// entirely are one object; the one followed for less time goes. Unlike ByteTrack (one class),
    /// tracks of classes that may not associate are never duplicates: a person who stops next to a
    /// parked car must not remove it.
    fn remove_duplicates(&mut self) {
        self.boxes.clear();
        self.boxes.extend(self.tracks.iter().map(|t| t.kf.bbox()));
        for a in 0..self.tracks.len() {
            if self.tracks[a].removed || self.tracks[a].state != State::Tracked {
                continue;
            }
            for b in 0..self.tracks.len() {
                let (ta, tb) = (&self.tracks[a], &self.tracks[b]);
                if tb.removed
                    || tb.state != State::Lost
                    || !self.groups.compatible(ta.class_id, tb.class_id)
                    || iou(&self.boxes[a], &self.boxes[b]) <= DUPLICATE_IOU
                {
                    continue;
                }
                if ta.followed_for() > tb.followed_for() {
                    self.tracks[b].removed = true;
                } else {
                    self.tracks[a].removed = true;
                    break;
                }
            }
        }
    }

    fn report(&self) -> Vec<TrackedObject> {
        let per_s = 1.0 / self.frame_interval_s();
        let lost_max = self.cfg.output_lost_max_frames;
        let mut out: Vec<TrackedObject> = self
            .tracks
            .iter()
            .filter(|t| t.confirmed && (t.missed == 0 || (t.state == State::Lost && t.missed <= lost_max)))
            .map(|t| {
                let bbox = if t.missed == 0 && !t.predicted && self.cfg.output_box == OutputBox::Detection {
                    t.det_box
                } else {
                    t.kf.bbox()
                };
                let (vx, vy) = t.kf.center_velocity();
                TrackedObject {
                    track_id: t.id,
                    bbox,
                    score: t.score,
                    class_id: t.class_id,
                    age: t.age,
                    frames_since_update: t.missed,
                    velocity: ((vx * per_s) as f32, (vy * per_s) as f32),
                }
            })
            .collect();
        out.sort_unstable_by_key(|o| o.track_id);
        out
    }
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    First,
    Second,
    Unconfirmed,
}
