//! The rules that need the scene models: abandoned objects (anything the detector has no class
//! for: rubbish bags, a mattress, boxes) and graffiti tagging. Like the track rules, each says
//! per frame whether its situation holds ([`Observation`]); the engine turns that into events.

use crate::config::{AbandonedObjectParams, GraffitiParams, GRAFFITI_PERSIST_S, GRAFFITI_SETTLE_S};
use crate::rule::{FrameContext, Observation, RuleDef};
use crate::scene::{components, dilate, restrict, Component, SceneModel, CELL, STATIC_MIN_S};
use std::collections::{BTreeSet, HashMap};
use vigie_core::BBox;

/// The standard definition (PETS 2006, i-LIDS) keeps only the person who brought an object as
/// its keeper: a stranger lingering by a bag does not make it attended. Track ids change,
/// though (occlusion, a detector miss), so a person track that starts within this many seconds
/// of an owner's track ending, where that owner was last seen, continues the owner. Tracks
/// only: nothing about how anyone looks.
const HANDOVER_S: f64 = 3.0;
/// How far (in the owner's body heights) from the owner's last box a continuing track may start.
const HANDOVER_REACH: f32 = 1.0;
/// Person tracks unseen for this long are forgotten (kept only to tell new tracks from old).
const TRACK_MEMORY_S: f64 = 10.0;
/// An object region unseen (and not hidden behind a track) for this long is gone.
const BLOB_LOST_S: f64 = 2.0;
/// Seconds of track history searched, before a region became static, for who brought it.
const OWNER_LOOKBACK_S: f64 = 4.0;

/// Whether a track's box, grown by a margin proportional to its height (arm's reach), touches `b`.
pub(crate) fn near(track: &BBox, b: &BBox) -> bool {
    let mx = 0.5 * track.height();
    let my = 0.25 * track.height();
    let g = BBox::new(track.x1 - mx, track.y1 - my, track.x2 + mx, track.y2 + my);
    g.intersection(b) > 0.0
}

fn cell_iou(a: (usize, usize, usize, usize), b: (usize, usize, usize, usize)) -> f32 {
    let ix = (a.2.min(b.2) as i64 - a.0.max(b.0) as i64 + 1).max(0);
    let iy = (a.3.min(b.3) as i64 - a.1.max(b.1) as i64 + 1).max(0);
    let inter = (ix * iy) as f32;
    let area = |r: (usize, usize, usize, usize)| ((r.2 - r.0 + 1) * (r.3 - r.1 + 1)) as f32;
    inter / (area(a) + area(b) - inter)
}

struct Blob {
    bounds: (usize, usize, usize, usize),
    bbox: BBox,
    last_seen: f64,
    owners: BTreeSet<u64>,
    owner_last_near: f64,
    /// When and where an owner was last seen anywhere in the picture (for the handover).
    owner_seen: Option<(f64, BBox)>,
    /// A parked vehicle or a person the detector lost: tracked, not left.
    explained: bool,
}

/// Abandoned object / illegal dumping: a static region that appeared in the zone while someone
/// was near it, and has stayed for `min_duration_s` after they all left.
pub(crate) struct AbandonedObjectRule {
    /// Smallest object, full-frame pixels².
    min_area_px: f64,
    require_owner: bool,
    zone: Vec<bool>,
    zone_cells: usize,
    blobs: Vec<Blob>,
    /// Person tracks by id: first seen (time, box) and last seen time.
    people: HashMap<u64, (f64, BBox, f64)>,
    work: Vec<bool>,
    dilated: Vec<bool>,
}

impl AbandonedObjectRule {
    pub fn new(def: &RuleDef, p: &AbandonedObjectParams, scene: &SceneModel) -> Self {
        let zone = crate::geometry::rasterise(&def.zone, scene.w, scene.h, CELL as f32);
        let zone_cells = zone.iter().filter(|&&b| b).count();
        let n = scene.w * scene.h;
        Self {
            min_area_px: p.min_area_px(),
            require_owner: p.require_owner(),
            zone,
            zone_cells,
            blobs: Vec::new(),
            people: HashMap::new(),
            work: vec![false; n],
            dilated: vec![false; n],
        }
    }

    pub fn step(
        &mut self,
        def: &RuleDef,
        ctx: &FrameContext,
        scene: &mut SceneModel,
        track_mask: &[bool],
    ) -> Observation {
        let now = ctx.now;
        let mut obs = Observation::new("dwell_s");
        for t in ctx.tracks.iter().filter(|t| Some(t.class_id) == ctx.classes.person) {
            self.people.entry(t.track_id).or_insert((now, t.bbox, now)).2 = now;
        }
        self.people.retain(|_, p| now - p.2 <= TRACK_MEMORY_S);
        let mut candidates = 0usize;
        for (i, w) in self.work.iter_mut().enumerate() {
            *w = self.zone[i] && !track_mask[i] && scene.static_s[i] >= STATIC_MIN_S;
            candidates += *w as usize;
        }
        let min_cells = (self.min_area_px / (CELL * CELL) as f64).ceil().max(2.0) as usize;
        if candidates < min_cells && self.blobs.is_empty() {
            // Nothing still in the zone: the usual case, kept cheap.
            return obs;
        }
        let max_cells = (self.zone_cells / 2).max(min_cells + 1);
        // Close small gaps first (textured objects break up on the cell grid), then keep each
        // region's own static cells.
        dilate(&self.work, &mut self.dilated, scene.w, scene.h);
        let comps: Vec<Component> = components(&self.dilated, scene.w, scene.h, min_cells)
            .into_iter()
            .filter_map(|c| restrict(c, &self.work, scene.w, min_cells))
            .collect();
        let mut matched = vec![false; self.blobs.len()];
        for comp in comps.iter().filter(|c| c.area() <= max_cells) {
            let b = (comp.x0, comp.y0, comp.x1, comp.y1);
            let best = self
                .blobs
                .iter()
                .enumerate()
                .map(|(i, bl)| (i, cell_iou(bl.bounds, b)))
                .filter(|&(_, iou)| iou >= 0.2)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, _)) = best {
                let bl = &mut self.blobs[i];
                bl.bounds = b;
                bl.bbox = comp.bbox_px();
                bl.last_seen = now;
                matched[i] = true;
                continue;
            }
            if scene.is_ghost(comp, &self.work) || scene.is_illumination(&comp.cells, &scene.cur, &scene.long) {
                scene.absorb(&comp.cells);
                continue;
            }
            let bbox = comp.bbox_px();
            let static_for = comp.cells.iter().map(|&c| scene.static_s[c as usize]).fold(0.0f32, f32::max) as f64;
            // Whoever was closest to the spot while the object settled brought it; people
            // merely crossing the plaza a few metres away did not.
            let settled = now - static_for;
            let since = settled - OWNER_LOOKBACK_S;
            let (bx, by) = bbox.center();
            let mut closest: HashMap<u64, f32> = HashMap::new();
            let mut explained = false;
            for (_, objs) in ctx.history.iter().filter(|(t, _)| *t >= since) {
                for &(id, class, b) in objs {
                    let overlap = b.intersection(&bbox) / bbox.area().max(1.0);
                    if ctx.classes.is_vehicle(class) && overlap >= 0.5 {
                        explained = true;
                    } else if Some(class) == ctx.classes.person {
                        if overlap >= 0.5 && bbox.area() >= 0.4 * b.area() {
                            explained = true;
                        } else if near(&b, &bbox) {
                            let (fx, fy) = b.foot();
                            let d = (fx - bx).hypot(fy - by) / b.height().max(1.0);
                            let e = closest.entry(id).or_insert(f32::MAX);
                            *e = e.min(d);
                        }
                    }
                }
            }
            let dmin = closest.values().copied().fold(f32::MAX, f32::min);
            let owners: BTreeSet<u64> =
                closest.iter().filter(|(_, d)| **d <= 1.2 * dmin + 0.1).map(|(id, _)| *id).collect();
            // With nobody near, the clock starts when the object came to rest.
            // Owners stay with it after it settled as well: the clock starts when they last were.
            let owner_last_near = ctx
                .history
                .iter()
                .filter(|(t, objs)| *t >= since && objs.iter().any(|o| owners.contains(&o.0) && near(&o.2, &bbox)))
                .map(|(t, _)| *t)
                .fold(settled, f64::max)
                .min(now);
            // Where an owner was last seen, so that a track of theirs that breaks from now on
            // can be continued.
            let owner_seen = ctx
                .history
                .iter()
                .filter(|(t, _)| *t >= since)
                .flat_map(|(t, objs)| objs.iter().filter(|o| owners.contains(&o.0)).map(move |o| (*t, o.2)))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            self.blobs.push(Blob { bounds: b, bbox, last_seen: now, owner_seen, owners, owner_last_near, explained });
            matched.push(true);
        }
        let (w, h) = (scene.w, scene.h);
        let mut keep = Vec::with_capacity(self.blobs.len());
        for (i, bl) in self.blobs.iter_mut().enumerate() {
            if !matched[i] {
                // Hidden behind someone: the object is probably still there.
                let (x0, y0, x1, y1) = bl.bounds;
                let mut hidden = 0usize;
                for y in y0..=y1.min(h - 1) {
                    for x in x0..=x1.min(w - 1) {
                        hidden += track_mask[y * w + x] as usize;
                    }
                }
                if hidden * 4 >= (x1 - x0 + 1) * (y1 - y0 + 1) {
                    bl.last_seen = now;
                }
            }
            keep.push(now - bl.last_seen <= BLOB_LOST_S);
        }
        let mut k = keep.iter();
        self.blobs.retain(|_| *k.next().unwrap_or(&true));

        for bl in &mut self.blobs {
            let people = ctx.tracks.iter().filter(|t| Some(t.class_id) == ctx.classes.person);
            let mut owner_here = false;
            for t in people.clone().filter(|t| bl.owners.contains(&t.track_id)) {
                owner_here = true;
                bl.owner_seen = Some((now, t.bbox));
                if near(&t.bbox, &bl.bbox) {
                    bl.owner_last_near = now;
                }
            }
            if let (false, Some((gone_at, last))) = (owner_here, bl.owner_seen) {
                // The owner's track ended: a person track born right then, where they were,
                // is the same person under a new id.
                let heir = people.clone().find(|t| {
                    let Some(&(born, first, _)) = self.people.get(&t.track_id) else { return false };
                    let (a, b) = (first.foot(), last.foot());
                    born >= gone_at - 0.5
                        && born - gone_at <= HANDOVER_S
                        && (a.0 - b.0).hypot(a.1 - b.1) <= HANDOVER_REACH * last.height().max(first.height())
                });
                if let Some(t) = heir {
                    bl.owners.insert(t.track_id);
                    bl.owner_seen = Some((now, t.bbox));
                    if near(&t.bbox, &bl.bbox) {
                        bl.owner_last_near = now;
                    }
                }
            }
            let left_for = now - bl.owner_last_near;
            if !bl.explained && (!bl.owners.is_empty() || !self.require_owner) && left_for >= def.timing.min_duration_s
            {
                obs.active = true;
                obs.holding = true;
                obs.measure = obs.measure.max(left_for);
                obs.region = Some(obs.region.map_or(bl.bbox, |r| r.union(&bl.bbox)));
                for &o in &bl.owners {
                    if !obs.tracks.contains(&o) {
                        obs.tracks.push(o);
                    }
                }
            }
        }
        obs
    }

    pub fn reset(&mut self) {
        self.blobs.clear();
    }
}

struct Visit {
    start: f64,
    last_near: f64,
    /// The wall as it looked when the visit began, in the long-term background's illumination.
    ref_y: Vec<f32>,
    ref_u: Vec<f32>,
    ref_v: Vec<f32>,
    /// Cells whose look before the visit is known.
    known: Vec<bool>,
    /// Cells within reach of the people of this visit: where a tag can be.
    reach: Vec<bool>,
    tracks: BTreeSet<u64>,
}

impl Visit {
    /// The wall's look before anyone touches it: the long-term background, except where that
    /// is stale (something there changed earlier and was never absorbed, such as the place a
    /// person stood when the camera started); there the settled short-term picture, unless
    /// someone stands on it now (then the cell is unknown and not compared).
    fn begin(now: f64, scene: &SceneModel, zone: &[bool], track_mask: &[bool]) -> Visit {
        let n = scene.w * scene.h;
        let g = scene.gain;
        let mut v = Visit {
            start: now,
            last_near: now,
            ref_y: scene.long.clone(),
            ref_u: vec![128.0; n],
            ref_v: vec![128.0; n],
            known: vec![true; n],
            reach: vec![false; n],
            tracks: BTreeSet::new(),
        };
        if let Some(c) = &scene.chroma {
            v.ref_u.copy_from_slice(&c.long_u);
            v.ref_v.copy_from_slice(&c.long_v);
        }
        for i in (0..n).filter(|&i| zone[i]) {
            let l = g * scene.long[i];
            let mut stale = (scene.short[i] - l).abs() > WALL_CHANGE + 0.08 * l;
            if let Some(c) = &scene.chroma {
                let du = (c.short_u[i] - 128.0) - g * (c.long_u[i] - 128.0);
                let dv = (c.short_v[i] - 128.0) - g * (c.long_v[i] - 128.0);
                stale |= du.abs() + dv.abs() > CHROMA_CHANGE;
            }
            if !stale {
                continue;
            }
            if track_mask[i] {
                v.known[i] = false;
            } else {
                v.ref_y[i] = scene.short[i] / g;
                if let Some(c) = &scene.chroma {
                    v.ref_u[i] = 128.0 + (c.short_u[i] - 128.0) / g;
                    v.ref_v[i] = 128.0 + (c.short_v[i] - 128.0) / g;
                }
            }
        }
        v
    }
}

/// Luma change (on 4×4 averages) that counts as a change of the wall.
const WALL_CHANGE: f32 = 14.0;

/// Graffiti tagging: someone stays at the wall for `min_duration_s`, and after they leave the
/// wall differs, persistently, from how it looked when they arrived.
pub(crate) struct GraffitiRule {
    /// Smallest changed region, full-frame pixels².
    min_area_px: f64,
    zone: Vec<bool>,
    visit: Option<Visit>,
    eval_from: Option<f64>,
    changed_since: Option<f64>,
    work: Vec<bool>,
}

/// Fraction of a person's box that must lie on the wall zone for them to be at the wall.
const AT_WALL_FRACTION: f32 = 0.2;
const CHROMA_CHANGE: f32 = 10.0;

fn fraction_inside(b: &BBox, def: &RuleDef) -> f32 {
    let mut n = 0;
    for i in 0..5 {
        for j in 0..5 {
            let x = b.x1 + b.width() * (i as f32 + 0.5) / 5.0;
            let y = b.y1 + b.height() * (j as f32 + 0.5) / 5.0;
            n += def.zone.contains(x, y) as u32;
        }
    }
    n as f32 / 25.0
}

impl GraffitiRule {
    pub fn new(def: &RuleDef, p: &GraffitiParams, scene: &SceneModel) -> Self {
        let zone = crate::geometry::rasterise(&def.zone, scene.w, scene.h, CELL as f32);
        Self {
            min_area_px: p.min_area_px(),
            zone,
            visit: None,
            eval_from: None,
            changed_since: None,
            work: vec![false; scene.w * scene.h],
        }
    }

    pub fn step(
        &mut self,
        def: &RuleDef,
        ctx: &FrameContext,
        scene: &mut SceneModel,
        track_mask: &[bool],
    ) -> Observation {
        let now = ctx.now;
        let mut obs = Observation::new("area_px");
        let at_wall: Vec<_> = ctx
            .tracks
            .iter()
            .filter(|t| def.class_ok(t.class_id) && fraction_inside(&t.bbox, def) >= AT_WALL_FRACTION)
            .collect();
        if !at_wall.is_empty() {
            let zone = &self.zone;
            let v = self.visit.get_or_insert_with(|| Visit::begin(now, scene, zone, track_mask));
            v.last_near = now;
            for t in &at_wall {
                v.tracks.insert(t.track_id);
                let b = &t.bbox;
                // Only where they stood: a tag is painted standing, and walking past the rest
                // of the wall on the way out must not widen the area compared.
                if t.velocity.0.hypot(t.velocity.1) > 0.2 * b.height() {
                    continue;
                }
                // Arm's reach around the body: about 0.4 of a person's height sideways.
                let (mx, my) = (0.4 * b.height(), 0.1 * b.height());
                let x0 = ((b.x1 - mx).max(0.0) as usize / CELL).min(scene.w - 1);
                let x1 = ((b.x2 + mx).max(0.0) as usize / CELL).min(scene.w - 1);
                let y0 = ((b.y1 - my).max(0.0) as usize / CELL).min(scene.h - 1);
                let y1 = ((b.y2 + my).max(0.0) as usize / CELL).min(scene.h - 1);
                for y in y0..=y1 {
                    v.reach[y * scene.w + x0..=y * scene.w + x1].iter_mut().for_each(|c| *c = true);
                }
            }
            self.eval_from = None;
            self.changed_since = None;
            return obs;
        }
        let Some(v) = &self.visit else { return obs };
        if self.eval_from.is_none() && now - v.last_near > GAP_VISIT_S {
            if v.last_near - v.start >= def.timing.min_duration_s {
                self.eval_from = Some(v.last_near + GRAFFITI_SETTLE_S);
            } else {
                self.visit = None;
                return obs;
            }
        }
        let Some(t0) = self.eval_from else { return obs };
        if now < t0 {
            return obs;
        }
        let g = scene.gain;
        for (i, w) in self.work.iter_mut().enumerate() {
            *w = false;
            if !self.zone[i] || !v.reach[i] || !v.known[i] || track_mask[i] {
                continue;
            }
            let r = g * v.ref_y[i];
            let mut changed = (scene.short[i] - r).abs() > WALL_CHANGE + 0.08 * r;
            if let Some(c) = &scene.chroma {
                let du = (c.short_u[i] - 128.0) - g * (v.ref_u[i] - 128.0);
                let dv = (c.short_v[i] - 128.0) - g * (v.ref_v[i] - 128.0);
                changed |= du.abs() + dv.abs() > CHROMA_CHANGE;
            }
            *w = changed;
        }
        let min_cells = (self.min_area_px / (CELL * CELL) as f64).ceil().max(2.0) as usize;
        let comps: Vec<_> = components(&self.work, scene.w, scene.h, min_cells)
            .into_iter()
            .filter(|c| !scene.is_illumination(&c.cells, &scene.short, &v.ref_y))
            .collect();
        if comps.is_empty() {
            self.changed_since = None;
            if now - t0 > GRAFFITI_PERSIST_S + 3.0 {
                self.visit = None;
                self.eval_from = None;
            }
            return obs;
        }
        let since = *self.changed_since.get_or_insert(now);
        if now - since < GRAFFITI_PERSIST_S {
            return obs;
        }
        // The tag is the main change; specks far smaller than it (a reflection, a last
        // trace of the person leaving) are absorbed but not reported.
        let largest = comps.iter().map(|c| c.area()).max().unwrap_or(0);
        let mut region: Option<BBox> = None;
        let mut cells = 0usize;
        for c in &comps {
            if c.area() * 4 >= largest {
                region = Some(region.map_or(c.bbox_px(), |r| r.union(&c.bbox_px())));
                cells += c.area();
            }
            scene.absorb_settled(&c.cells);
        }
        obs.active = true;
        obs.measure = (cells * CELL * CELL) as f64;
        obs.region = region;
        obs.tracks = v.tracks.iter().copied().collect();
        self.visit = None;
        self.eval_from = None;
        self.changed_since = None;
        obs
    }

    pub fn reset(&mut self) {
        self.visit = None;
        self.eval_from = None;
        self.changed_since = None;
    }
}

/// A visit at the wall ends when nobody has been there for this long.
const GAP_VISIT_S: f64 = 1.0;
