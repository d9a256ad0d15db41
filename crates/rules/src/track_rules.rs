//! The rules that follow tracks: vehicle in a pedestrian zone and intrusion (dwell), crowd,
//! wrong way, person on the ground. Each keeps a little state per track and says, each frame,
//! whether its situation holds now ([`Observation`]); the engine turns that into events.

use crate::config::{CrowdParams, PersonDownParams, WrongWayParams};
use crate::rule::{FrameContext, Observation, RuleDef, GAP_S};
use crate::scene::{components, SceneModel, CELL, STATIC_MIN_S};
use std::collections::{HashMap, VecDeque};
use vigie_core::BBox;

/// Vehicle in a pedestrian zone, intrusion: a track of the rule's classes whose ground point
/// has stayed in the zone for the minimum duration.
#[derive(Default)]
pub(crate) struct DwellRule {
    tracks: HashMap<u64, Dwell>,
}

struct Dwell {
    since: f64,
    last_in: f64,
}

impl DwellRule {
    pub fn step(&mut self, def: &RuleDef, ctx: &FrameContext) -> Observation {
        let now = ctx.now;
        let mut obs = Observation::new("dwell_s");
        for t in ctx.tracks.iter().filter(|t| def.class_ok(t.class_id)) {
            let (fx, fy) = t.bbox.foot();
            if !def.zone.contains(fx, fy) {
                continue;
            }
            obs.holding = true;
            let e = self.tracks.entry(t.track_id).or_insert(Dwell { since: now, last_in: now });
            if now - e.last_in > GAP_S {
                e.since = now;
            }
            e.last_in = now;
            let dwell = now - e.since;
            if dwell >= def.timing.min_duration_s {
                obs.add(t, dwell);
            }
        }
        self.tracks.retain(|_, d| now - d.last_in <= GAP_S);
        obs
    }

    pub fn reset(&mut self) {
        self.tracks.clear();
    }
}

/// Gathering: at least `min_count` people (or `max_density_per_m2`) in the zone for the minimum
/// duration. Short dips in the count (a person hidden for a moment) do not restart the clock.
pub(crate) struct CrowdRule {
    min_count: Option<u32>,
    max_density_per_m2: Option<f64>,
    since: Option<f64>,
    last_true: f64,
}

impl CrowdRule {
    pub fn new(p: &CrowdParams) -> Self {
        CrowdRule { min_count: p.min_count, max_density_per_m2: p.max_density_per_m2, since: None, last_true: 0.0 }
    }

    pub fn step(&mut self, def: &RuleDef, ctx: &FrameContext) -> Observation {
        let now = ctx.now;
        let mut obs = Observation::new("count");
        obs.blur_all = true;
        let inside: Vec<_> = ctx
            .tracks
            .iter()
            .filter(|t| def.class_ok(t.class_id))
            .filter(|t| {
                let (fx, fy) = t.bbox.foot();
                def.zone.contains(fx, fy)
            })
            .collect();
        let count = inside.len();
        let by_count = self.min_count.is_some_and(|n| count >= n as usize);
        let by_density = match (self.max_density_per_m2, def.ground_area_m2) {
            (Some(d), Some(a)) if a > 0.0 => count as f64 / a >= d,
            _ => false,
        };
        obs.holding = by_count || by_density;
        if by_count || by_density {
            self.since.get_or_insert(now);
            self.last_true = now;
        } else if self.since.is_some() && now - self.last_true > GAP_S {
            self.since = None;
        }
        let active = self.since.is_some_and(|s| now - s >= def.timing.min_duration_s) && now - self.last_true <= GAP_S;
        if active {
            for t in &inside {
                obs.add(t, count as f64);
            }
            obs.measure = count as f64;
            obs.active = true;
        }
        obs
    }

    pub fn reset(&mut self) {
        self.since = None;
    }
}

/// Wrong way: a track in a lane moving against the lane's direction for the minimum distance
/// (metres when calibrated, pixels otherwise) or, when asked, the minimum duration.
pub(crate) struct WrongWayRule {
    min_distance_m: Option<f64>,
    min_distance_px: Option<f64>,
    /// Whether a minimum duration against the lane was asked for (otherwise only distance counts).
    use_duration: bool,
    tracks: HashMap<u64, WrongWayTrack>,
}

struct WrongWayTrack {
    hist: VecDeque<(f64, (f64, f64))>,
    last: (f64, f64),
    /// Net distance travelled against the lane while moving (never below zero).
    against: f64,
    against_since: Option<f64>,
    last_against: f64,
    last_seen: f64,
}

/// Speed window over which the direction of travel is judged, seconds.
const WW_WINDOW_S: f64 = 1.0;

impl WrongWayRule {
    pub fn new(p: &WrongWayParams, duration_given: bool) -> Self {
        let (min_distance_m, min_distance_px) = p.distances(duration_given);
        WrongWayRule { min_distance_m, min_distance_px, use_duration: duration_given, tracks: HashMap::new() }
    }

    pub fn step(&mut self, def: &RuleDef, ctx: &FrameContext) -> Observation {
        let now = ctx.now;
        let calibrated = ctx.homography.is_some();
        let mut obs = Observation::new(if calibrated { "distance_m" } else { "distance_px" });
        let (min_v, min_dist) = if calibrated { (0.4, self.min_distance_m) } else { (8.0, self.min_distance_px) };
        for t in ctx.tracks.iter().filter(|t| def.class_ok(t.class_id)) {
            let (fx, fy) = t.bbox.foot();
            if !def.zone.contains(fx, fy) {
                continue;
            }
            let (fx, fy) = (fx as f64, fy as f64);
            let (p, u) = match ctx.homography {
                Some(h) => {
                    let g1 = h.apply(fx, fy);
                    let g2 = h.apply(fx + def.direction.0 * 5.0, fy + def.direction.1 * 5.0);
                    let (dx, dy) = (g2.0 - g1.0, g2.1 - g1.1);
                    let n = dx.hypot(dy).max(1e-12);
                    (g1, (dx / n, dy / n))
                }
                None => ((fx, fy), def.direction),
            };
            let e = self.tracks.entry(t.track_id).or_insert_with(|| WrongWayTrack {
                hist: VecDeque::new(),
                last: p,
                against: 0.0,
                against_since: None,
                last_against: now,
                last_seen: now,
            });
            if now - e.last_seen > GAP_S {
                e.hist.clear();
                e.last = p;
                e.against = 0.0;
                e.against_since = None;
            }
            e.last_seen = now;
            let along = (p.0 - e.last.0) * u.0 + (p.1 - e.last.1) * u.1;
            e.last = p;
            e.hist.push_back((now, p));
            while e.hist.len() > 2 && e.hist.front().is_some_and(|h| h.0 < now - WW_WINDOW_S) {
                e.hist.pop_front();
            }
            let (t0, p0) = *e.hist.front().expect("just pushed");
            let v = if now - t0 >= 0.3 * WW_WINDOW_S {
                ((p.0 - p0.0) * u.0 + (p.1 - p0.1) * u.1) / (now - t0)
            } else {
                0.0
            };
            // Only displacement while clearly moving counts: a parked car's jitter would
            // otherwise add up to metres over minutes.
            if v.abs() > min_v {
                e.against = (e.against - along).max(0.0);
            }
            if v < -min_v {
                obs.holding = true;
                e.against_since.get_or_insert(now);
                e.last_against = now;
            } else if now - e.last_against > GAP_S {
                e.against_since = None;
            }
            let by_dist = min_dist.is_some_and(|d| e.against >= d);
            let by_time = self.use_duration && e.against_since.is_some_and(|s| now - s >= def.timing.min_duration_s);
            if (by_dist || by_time) && e.against_since.is_some() {
                obs.add(t, e.against);
            }
        }
        self.tracks.retain(|_, e| now - e.last_seen <= GAP_S);
        obs
    }

    pub fn reset(&mut self) {
        self.tracks.clear();
    }
}

/// Person on the ground: a person's box lying (wider than tall, and low: under a metre on the
/// ground scale when calibrated, or well under the height the same track had standing) for the
/// minimum duration.
///
/// Small detectors rarely see people lying down, so there is a second way in: a person track
/// that vanishes away from the frame's edges, where a still region shaped like a lying body
/// (wider than tall, about a body long) then stays: the person fell and the detector lost them.
pub(crate) struct PersonDownRule {
    lying_aspect: f64,
    max_lying_height_m: f64,
    tracks: HashMap<u64, PersonDownTrack>,
    vanished: Vec<Vanished>,
    work: Vec<bool>,
}

struct PersonDownTrack {
    stand_h: f32,
    since: Option<f64>,
    last_lying: f64,
    last_seen: f64,
    last_box: BBox,
}

/// A person track lost in the middle of the picture.
struct Vanished {
    id: u64,
    last_box: BBox,
    at: f64,
    lying_since: Option<f64>,
    last_lying: f64,
    region: Option<BBox>,
}

/// How long after losing a track a lying shape may still turn up where it was.
const VANISH_WINDOW_S: f64 = 6.0;

impl PersonDownRule {
    pub fn new(p: &PersonDownParams) -> Self {
        PersonDownRule {
            lying_aspect: p.lying_aspect(),
            max_lying_height_m: p.max_lying_height_m(),
            tracks: HashMap::new(),
            vanished: Vec::new(),
            work: Vec::new(),
        }
    }

    pub fn step(&mut self, def: &RuleDef, ctx: &FrameContext, scene: Option<(&SceneModel, &[bool])>) -> Observation {
        let now = ctx.now;
        let mut obs = Observation::new("dwell_s");
        if let Some((sc, mask)) = scene {
            self.fallen_out_of_sight(def, ctx, sc, mask, &mut obs);
        }
        for t in ctx.tracks.iter().filter(|t| def.class_ok(t.class_id)) {
            let (fx, fy) = t.bbox.foot();
            if !def.zone.contains(fx, fy) {
                continue;
            }
            let (w, h) = (t.bbox.width(), t.bbox.height());
            if h <= 0.0 {
                continue;
            }
            let e = self.tracks.entry(t.track_id).or_insert(PersonDownTrack {
                stand_h: 0.0,
                since: None,
                last_lying: now,
                last_seen: now,
                last_box: t.bbox,
            });
            e.last_seen = now;
            e.last_box = t.bbox;
            let aspect = (w / h) as f64;
            if aspect < 0.8 {
                e.stand_h = e.stand_h.max(h);
            }
            let low = match ctx.homography {
                Some(hm) => h as f64 * hm.metres_per_px(fx as f64, fy as f64) <= self.max_lying_height_m,
                None => e.stand_h == 0.0 || h <= 0.7 * e.stand_h,
            };
            if aspect >= self.lying_aspect && low {
                obs.holding = true;
                e.since.get_or_insert(now);
                e.last_lying = now;
            } else if now - e.last_lying > GAP_S {
                e.since = None;
            }
            if let Some(s) = e.since {
                if now - s >= def.timing.min_duration_s && now - e.last_lying <= GAP_S {
                    obs.add(t, now - s);
                }
            }
        }
        self.tracks.retain(|_, e| now - e.last_seen <= 5.0);
        obs
    }

    fn fallen_out_of_sight(
        &mut self,
        def: &RuleDef,
        ctx: &FrameContext,
        sc: &SceneModel,
        mask: &[bool],
        obs: &mut Observation,
    ) {
        let now = ctx.now;
        let (fw, fh) = ((sc.w * CELL) as f32, (sc.h * CELL) as f32);
        // Tracks seen last frame and gone now, away from the edges (not walking out of view).
        for (&id, e) in &self.tracks {
            let gone = now - e.last_seen > 0.0 && !ctx.tracks.iter().any(|t| t.track_id == id);
            let b = e.last_box;
            let m = 0.01 * fw.max(fh);
            let inner = b.x1 > m && b.y1 > m && b.x2 < fw - m && b.y2 < fh - m;
            if gone && inner && now - e.last_seen < 0.5 && !self.vanished.iter().any(|v| v.id == id) {
                self.vanished.push(Vanished {
                    id,
                    last_box: b,
                    at: e.last_seen,
                    lying_since: None,
                    last_lying: now,
                    region: None,
                });
            }
        }
        if self.work.len() != sc.w * sc.h {
            self.work = vec![false; sc.w * sc.h];
        }
        let min_d = def.timing.min_duration_s;
        for v in &mut self.vanished {
            let b = v.last_box;
            let h = b.height();
            // Where a body that fell from this box lies: around its feet, a body length each way.
            let r = BBox::new(b.x1 - 0.8 * h, b.y2 - 0.6 * h, b.x2 + 0.8 * h, b.y2 + 0.3 * h);
            let (x0, y0) =
                ((r.x1.max(0.0) as usize / CELL).min(sc.w - 1), (r.y1.max(0.0) as usize / CELL).min(sc.h - 1));
            let (x1, y1) =
                ((r.x2.max(0.0) as usize / CELL).min(sc.w - 1), (r.y2.max(0.0) as usize / CELL).min(sc.h - 1));
            self.work.iter_mut().for_each(|c| *c = false);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let i = y * sc.w + x;
                    self.work[i] = sc.static_s[i] >= STATIC_MIN_S && !mask[i];
                }
            }
            let min_cells = ((0.05 * h * h) / (CELL * CELL) as f32).ceil().max(4.0) as usize;
            let best = components(&self.work, sc.w, sc.h, min_cells).into_iter().max_by_key(|c| c.area());
            let lying = best.filter(|c| {
                let bb = c.bbox_px();
                bb.width() >= 1.2 * bb.height() && bb.width() >= 0.5 * h
            });
            match lying {
                Some(c) => {
                    let bb = c.bbox_px();
                    let (fx, fy) = bb.foot();
                    if !def.zone.contains(fx, fy) {
                        continue;
                    }
                    // Still since: the region's own static time says when the body stopped.
                    let still = c.cells.iter().map(|&i| sc.static_s[i as usize]).fold(0.0f32, f32::max) as f64;
                    let since = *v.lying_since.get_or_insert((now - still).max(v.at));
                    v.last_lying = now;
                    v.region = Some(bb);
                    obs.holding = true;
                    if now - since >= min_d {
                        obs.active = true;
                        obs.measure = obs.measure.max(now - since);
                        obs.region = Some(obs.region.map_or(bb, |r| r.union(&bb)));
                        if !obs.tracks.contains(&v.id) {
                            obs.tracks.push(v.id);
                        }
                    }
                }
                None => {
                    if v.lying_since.is_some() && now - v.last_lying > GAP_S {
                        v.lying_since = None;
                        v.region = None;
                    }
                }
            }
        }
        // Forget candidates that never showed a lying shape, and those a track now covers
        // again (they got up, or the detector found them: the track path takes over).
        self.vanished.retain(|v| {
            let seen_again = ctx
                .tracks
                .iter()
                .any(|t| Some(t.class_id) == ctx.classes.person && v.region.unwrap_or(v.last_box).iou(&t.bbox) > 0.2);
            !seen_again && (v.lying_since.is_some() || now - v.at <= VANISH_WINDOW_S)
        });
    }

    pub fn reset(&mut self) {
        for e in self.tracks.values_mut() {
            e.since = None;
        }
        self.vanished.clear();
    }
}
