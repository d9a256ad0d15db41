//! The per-camera rules engine: each frame, every rule says whether its situation holds, and a
//! small lifecycle turns that into events that open once, update while the situation lasts and
//! close after a hysteresis delay, with a cooldown before the same rule may open again.

use crate::config::{zone_polygon, Calibration, EventsConfig, RuleConfig, RuleParams, ZoneConfig};
use crate::geometry::{to_pixels, Homography};
use crate::rule::{ClassSets, FrameContext, History, Observation, RuleDef, HISTORY_S};
use crate::scene::{SceneModel, CELL};
use crate::scene_rules::{AbandonedObjectRule, GraffitiRule};
use crate::schedule::{local_time, Schedule};
use crate::track_rules::{CrowdRule, DwellRule, PersonDownRule, WrongWayRule};
use crate::validate::{calibration_homography, validate_camera};
use std::collections::VecDeque;
use std::time::SystemTime;
use vigie_core::{
    BBox, ClassMap, ConfigError, ConfigErrors, Event, EventPhase, EventType, Frame, PeakMeasure, Polygon,
    TrackedObject, UnixMs,
};

/// The logic of one rule, by type, with its state between frames.
enum RuleLogic {
    Dwell(DwellRule),
    Crowd(CrowdRule),
    WrongWay(WrongWayRule),
    PersonDown(PersonDownRule),
    AbandonedObject(AbandonedObjectRule),
    Graffiti(GraffitiRule),
}

impl RuleLogic {
    /// The logic for a rule; the scene-model rules need the scene built.
    fn new(def: &RuleDef, scene: Option<&SceneModel>) -> Self {
        let scene = || scene.expect("scene built for scene rules");
        match &def.config.params {
            RuleParams::VehicleInPedestrianZone(_) | RuleParams::Intrusion(_) => RuleLogic::Dwell(DwellRule::default()),
            RuleParams::Crowd(p) => RuleLogic::Crowd(CrowdRule::new(p)),
            RuleParams::WrongWay(p) => RuleLogic::WrongWay(WrongWayRule::new(p, def.config.min_duration_s.is_some())),
            RuleParams::PersonDown(p) => RuleLogic::PersonDown(PersonDownRule::new(p)),
            RuleParams::AbandonedObject(p) => RuleLogic::AbandonedObject(AbandonedObjectRule::new(def, p, scene())),
            RuleParams::Graffiti(p) => RuleLogic::Graffiti(GraffitiRule::new(def, p, scene())),
        }
    }

    fn reset(&mut self) {
        match self {
            RuleLogic::Dwell(d) => d.reset(),
            RuleLogic::Crowd(d) => d.reset(),
            RuleLogic::WrongWay(d) => d.reset(),
            RuleLogic::PersonDown(d) => d.reset(),
            RuleLogic::AbandonedObject(d) => d.reset(),
            RuleLogic::Graffiti(d) => d.reset(),
        }
    }
}

struct Open {
    id: String,
    started: f64,
    last_active: f64,
    tracks: Vec<u64>,
    kind: &'static str,
    peak: f64,
    region: Option<BBox>,
    last_emit: f64,
    dirty: bool,
    new_tracks: bool,
}

#[derive(Default)]
struct Lifecycle {
    open: Option<Open>,
    closed_at: Option<f64>,
}

struct RuleState {
    def: RuleDef,
    logic: RuleLogic,
    life: Lifecycle,
}

/// Minimum spacing of `Updated` events: 1 s when someone new joins the situation, 5 s for
/// growing measures alone.
const UPDATE_NEW_TRACKS_S: f64 = 1.0;
const UPDATE_MEASURE_S: f64 = 5.0;

/// The rules of one camera, with their state. Build one per camera; feed every decoded frame.
///
/// Reloading: parse the new config and build a new engine with [`CameraRules::new`]; if that
/// fails, keep the old one. When it succeeds, call [`CameraRules::take_over`] with the old
/// engine: rules whose definition did not change keep their open events and state (no
/// duplicate alerts), the others' open events are closed.
pub struct CameraRules {
    camera: String,
    width: usize,
    height: usize,
    model_sha256: String,
    tz: jiff::tz::TimeZone,
    any_schedule: bool,
    homography: Option<Homography>,
    classes: ClassSets,
    rules: Vec<RuleState>,
    scene: Option<SceneModel>,
    track_mask: Vec<bool>,
    history: History,
    counter: u64,
    last_t: Option<f64>,
    /// What the pictures of the events opened by the last [`CameraRules::process`] must show.
    evidence: Vec<Evidence>,
}

/// What the evidence pictures of an event that just opened must show. The engine only says
/// what matters; the node renders the pictures (one renderer, one anonymisation policy).
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub event_id: String,
    /// The frame the event opened on (`Frame::seq`).
    pub frame_seq: u64,
    /// The event's subjects: the only people an unmasked picture may show clearly.
    pub subjects: Vec<u64>,
    /// The subject's box or the changed region, framed in the picture.
    pub region: Option<BBox>,
    /// No single subject (a crowd): every person stays pixelated, even unmasked.
    pub blur_all: bool,
    /// The rule's zone in pixels, outlined.
    pub zone: Polygon,
}

fn secs(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

fn ms(t: f64) -> UnixMs {
    UnixMs::from_secs_f64(t)
}

impl CameraRules {
    /// Builds the engine of one camera. Rules that are disabled (`enabled = false`) or whose
    /// type is switched off city-wide are not run. Every error is reported, each naming its key.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        camera_id: &str,
        zones: &[ZoneConfig],
        rules: &[RuleConfig],
        calibration: Option<&Calibration>,
        events: &EventsConfig,
        frame_size: (usize, usize),
        model_sha256: &str,
        class_map: &ClassMap,
    ) -> Result<Self, ConfigErrors> {
        validate_camera(camera_id, zones, rules, calibration, events)?;
        let (w, h) = frame_size;
        let cam = format!("cameras.{camera_id}");
        let mut errs = ConfigErrors::new();
        let tz = events.time_zone()?;
        let homography = match calibration {
            Some(c) => errs.check(calibration_homography(c, w, h, &format!("{cam}.calibration"))),
            None => None,
        };
        for z in zones {
            let outside = to_pixels(&z.polygon, w, h)
                .into_iter()
                .enumerate()
                .find(|(_, p)| p.0 > w as f64 + 1.0 || p.1 > h as f64 + 1.0);
            if let Some((i, p)) = outside {
                errs.push(ConfigError::new(
                    format!("{cam}.zones.{}.polygon", z.name),
                    format!("point {} ({}, {}) is outside the {w}×{h} frame", i + 1, p.0, p.1),
                ));
            }
        }
        let classes = ClassSets::new(class_map);
        let mut out = Vec::new();
        let mut needs_scene = false;
        for r in rules.iter().filter(|r| r.enabled && !events.is_disabled(r.event_type())) {
            let rk = format!("{cam}.rules.{}", r.id);
            let zc = zones.iter().find(|z| z.name == r.zone).expect("validated").clone();
            let mut class_mask = vec![false; class_map.len()];
            for n in &r.classes() {
                match class_map.id(n) {
                    Some(i) => class_mask[i as usize] = true,
                    None if r.params.classes().is_some() => errs.push(ConfigError::new(
                        format!("{rk}.classes"),
                        format!("\"{n}\" is not a class of the detector (it knows: {})", class_map.names().join(", ")),
                    )),
                    // A default class the model lacks is simply not looked for.
                    None => {}
                }
            }
            if !class_mask.contains(&true) && r.params.classes().is_none() {
                errs.push(ConfigError::new(
                    format!("{rk}.classes"),
                    "none of the rule's classes is known to the detector".to_string(),
                ));
            }
            let zpx = to_pixels(&zc.polygon, w, h);
            let ground_area_m2 = match &homography {
                Some(hm)
                    if matches!(r.event_type(), EventType::Crowd | EventType::WrongWay | EventType::PersonDown) =>
                {
                    let ref_sign = calibration
                        .map(|c| to_pixels(&c.image, w, h))
                        .and_then(|p| p.first().map(|q| hm.w(q.0, q.1).signum()))
                        .unwrap_or(1.0);
                    if let Some(i) = zpx.iter().position(|p| hm.w(p.0, p.1).signum() != ref_sign) {
                        let k = format!("{cam}.zones.{}.polygon", zc.name);
                        // Several rules on one zone: the zone's fault is told once.
                        if !errs.iter().any(|e| e.key == k) {
                            errs.push(ConfigError::new(
                                k,
                                format!("point {} lies beyond the horizon of the ground calibration", i + 1),
                            ));
                        }
                        continue;
                    }
                    let g: Vec<(f64, f64)> = zpx.iter().map(|p| hm.apply(p.0, p.1)).collect();
                    Some(crate::geometry::polygon_area(&g))
                }
                _ => None,
            };
            let direction = zc.direction.map_or((0.0, 0.0), |d| {
                let n = d[0].hypot(d[1]);
                (d[0] / n, d[1] / n)
            });
            let def = RuleDef {
                id: r.id.clone(),
                event_type: r.event_type(),
                version: r.version,
                legal_basis: r.legal_basis.clone().unwrap_or_default(),
                zone_name: zc.name.clone(),
                zone: zone_polygon(&zc, w, h),
                timing: r.timing(),
                class_mask,
                schedule: Schedule::parse(&r.schedule).expect("validated"),
                direction,
                ground_area_m2,
                config: r.clone(),
                zone_config: zc,
            };
            needs_scene |=
                matches!(r.event_type(), EventType::AbandonedObject | EventType::Graffiti | EventType::PersonDown);
            out.push(def);
        }
        errs.into_result()?;
        let scene = needs_scene.then(|| SceneModel::new(w, h, true));
        let rules: Vec<RuleState> = out
            .into_iter()
            .map(|def| RuleState { logic: RuleLogic::new(&def, scene.as_ref()), def, life: Lifecycle::default() })
            .collect();
        let any_schedule = rules.iter().any(|r| !r.def.schedule.is_always());
        let track_mask = scene.as_ref().map_or(Vec::new(), |s| vec![false; s.w * s.h]);
        Ok(CameraRules {
            camera: camera_id.to_string(),
            width: w,
            height: h,
            model_sha256: model_sha256.to_string(),
            tz,
            any_schedule,
            homography,
            classes,
            rules,
            scene,
            track_mask,
            history: VecDeque::new(),
            counter: 0,
            last_t: None,
            evidence: Vec::new(),
        })
    }

    pub fn camera(&self) -> &str {
        &self.camera
    }

    /// Ids of the rules that run (enabled, type not switched off city-wide).
    pub fn active_rules(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.def.id.as_str()).collect()
    }

    /// Whether the scene models (background) run for this camera.
    pub fn has_scene_model(&self) -> bool {
        self.scene.is_some()
    }

    /// Moves the state of unchanged rules (same id, definition and zone) over from the engine
    /// this one replaces, so their open events go on without a second alert; returns `Closed`
    /// events for the old engine's open events that have no continuation here.
    pub fn take_over(&mut self, mut old: CameraRules, now: SystemTime) -> Vec<Event> {
        let t = secs(now);
        let mut closed = Vec::new();
        let same_frame = old.width == self.width && old.height == self.height;
        if same_frame && self.scene.is_some() && old.scene.is_some() {
            let (a, b) =
                (old.scene.as_ref().map(|s| s.chroma.is_some()), self.scene.as_ref().map(|s| s.chroma.is_some()));
            if a == b {
                self.scene = old.scene.take();
                self.history = std::mem::take(&mut old.history);
                self.last_t = old.last_t;
            }
        }
        self.counter = self.counter.max(old.counter);
        for o in old.rules.drain(..) {
            let successor = self.rules.iter_mut().find(|n| {
                n.def.id == o.def.id && n.def.config == o.def.config && n.def.zone_config == o.def.zone_config
            });
            match successor {
                Some(n) if same_frame => {
                    n.logic = o.logic;
                    n.life = o.life;
                }
                _ => {
                    if let Some(open) = o.life.open {
                        closed.push(old_event_closed(&old.camera, &old.model_sha256, &o.def, &open, t));
                    }
                }
            }
        }
        closed
    }

    /// Closes every open event (shutdown, camera removed).
    pub fn close_all(&mut self, now: SystemTime) -> Vec<Event> {
        let t = secs(now);
        let mut out = Vec::new();
        for r in &mut self.rules {
            if let Some(open) = r.life.open.take() {
                out.push(old_event_closed(&self.camera, &self.model_sha256, &r.def, &open, t));
                r.life.closed_at = Some(t);
            }
        }
        out
    }

    /// What the pictures of the events opened by the last [`CameraRules::process`] must show,
    /// one per `Opened` event.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// Feeds one frame and the tracks for it (held tracks on frames the detector skipped).
    /// `now` is the frame's wall-clock time; durations, schedules and cooldowns follow it.
    pub fn process(&mut self, frame: &Frame, tracks: &[TrackedObject], now: SystemTime) -> Vec<Event> {
        self.evidence.clear();
        let t = secs(now);
        let dt = self.last_t.map_or(0.0, |l| (t - l).max(0.0));
        self.last_t = Some(t);
        let size_ok = frame.width == self.width && frame.height == self.height;
        if let (Some(scene), true) = (&mut self.scene, size_ok) {
            scene.update(frame, dt as f32);
            self.track_mask.iter_mut().for_each(|m| *m = false);
            for tr in tracks.iter().filter(|tr| !self.classes.is_bag(tr.class_id)) {
                mark_cells(&mut self.track_mask, scene.w, scene.h, &tr.bbox);
            }
            self.history.push_back((t, tracks.iter().map(|tr| (tr.track_id, tr.class_id, tr.bbox)).collect()));
            while self.history.front().is_some_and(|h| h.0 < t - HISTORY_S) {
                self.history.pop_front();
            }
        }
        let local = self.any_schedule.then(|| local_time(now, &self.tz));
        let ctx = FrameContext {
            now: t,
            tracks,
            homography: self.homography.as_ref(),
            classes: &self.classes,
            history: &self.history,
        };
        let mut events = Vec::new();
        for r in &mut self.rules {
            let in_force = local.is_none_or(|lt| r.def.schedule.is_active(lt));
            let obs = if !in_force {
                r.logic.reset();
                Observation::new("")
            } else {
                match &mut r.logic {
                    RuleLogic::Dwell(d) => d.step(&r.def, &ctx),
                    RuleLogic::Crowd(d) => d.step(&r.def, &ctx),
                    RuleLogic::WrongWay(d) => d.step(&r.def, &ctx),
                    RuleLogic::PersonDown(d) => {
                        let scene = match (&self.scene, size_ok) {
                            (Some(s), true) => Some((s, self.track_mask.as_slice())),
                            _ => None,
                        };
                        d.step(&r.def, &ctx, scene)
                    }
                    RuleLogic::AbandonedObject(d) => match (&mut self.scene, size_ok) {
                        (Some(s), true) => d.step(&r.def, &ctx, s, &self.track_mask),
                        _ => Observation::new("dwell_s"),
                    },
                    RuleLogic::Graffiti(d) => match (&mut self.scene, size_ok) {
                        (Some(s), true) => d.step(&r.def, &ctx, s, &self.track_mask),
                        _ => Observation::new("area_px"),
                    },
                }
            };
            let life = &mut r.life;
            match &mut life.open {
                None => {
                    let cooled = life.closed_at.is_none_or(|c| t - c >= r.def.timing.cooldown_s);
                    if obs.active && cooled {
                        self.counter += 1;
                        let id = format!("{}-{}-{}-{}", self.camera, r.def.id, ms(t), self.counter);
                        self.evidence.push(Evidence {
                            event_id: id.clone(),
                            frame_seq: frame.seq,
                            subjects: obs.tracks.clone(),
                            region: obs.region,
                            blur_all: obs.blur_all,
                            zone: r.def.zone.clone(),
                        });
                        let open = Open {
                            id,
                            started: t,
                            last_active: t,
                            tracks: obs.tracks.clone(),
                            kind: obs.kind,
                            peak: obs.measure,
                            region: obs.region,
                            last_emit: t,
                            dirty: false,
                            new_tracks: false,
                        };
                        let mut ev = make_event(&self.camera, &self.model_sha256, &r.def, &open, EventPhase::Opened);
                        ev.frame_seq = frame.seq;
                        events.push(ev);
                        life.open = Some(open);
                    }
                }
                Some(open) => {
                    if obs.active || obs.holding {
                        open.last_active = t;
                        for id in &obs.tracks {
                            if !open.tracks.contains(id) {
                                open.tracks.push(*id);
                                open.new_tracks = true;
                                open.dirty = true;
                            }
                        }
                        if obs.measure > open.peak {
                            open.peak = obs.measure;
                            open.dirty = true;
                        }
                        if let Some(rg) = obs.region {
                            open.region = Some(rg);
                        }
                        let wait = if open.new_tracks { UPDATE_NEW_TRACKS_S } else { UPDATE_MEASURE_S };
                        if open.dirty && t - open.last_emit >= wait {
                            open.dirty = false;
                            open.new_tracks = false;
                            open.last_emit = t;
                            let mut ev =
                                make_event(&self.camera, &self.model_sha256, &r.def, open, EventPhase::Updated);
                            ev.frame_seq = frame.seq;
                            events.push(ev);
                        }
                    } else if t - open.last_active >= r.def.timing.hysteresis_s {
                        let mut ev = make_event(&self.camera, &self.model_sha256, &r.def, open, EventPhase::Closed);
                        ev.frame_seq = frame.seq;
                        ev.ended_at_ms = Some(ms(open.last_active));
                        events.push(ev);
                        life.open = None;
                        life.closed_at = Some(t);
                    }
                }
            }
        }
        events
    }
}

fn mark_cells(mask: &mut [bool], w: usize, h: usize, b: &BBox) {
    // One cell of margin: boxes are loose and people's edges must not leak into the models.
    let x0 = ((b.x1.max(0.0) as usize) / CELL).saturating_sub(1);
    let y0 = ((b.y1.max(0.0) as usize) / CELL).saturating_sub(1);
    let x1 = ((b.x2.max(0.0) as usize) / CELL + 1).min(w.saturating_sub(1));
    let y1 = ((b.y2.max(0.0) as usize) / CELL + 1).min(h.saturating_sub(1));
    if x0 > x1 || y0 > y1 || w == 0 || h == 0 {
        return;
    }
    for y in y0..=y1 {
        mask[y * w + x0..=y * w + x1].iter_mut().for_each(|m| *m = true);
    }
}

fn make_event(camera: &str, model: &str, def: &RuleDef, open: &Open, phase: EventPhase) -> Event {
    Event {
        id: open.id.clone(),
        event_type: def.event_type,
        phase,
        camera: camera.to_string(),
        zone: def.zone_name.clone(),
        rule: def.id.clone(),
        rule_version: def.version,
        mode: def.config.mode,
        legal_basis: def.legal_basis.clone(),
        started_at_ms: ms(open.started),
        ended_at_ms: None,
        frame_seq: 0,
        track_ids: open.tracks.clone(),
        peak: PeakMeasure { kind: open.kind.to_string(), value: open.peak },
        region: open.region,
        model_sha256: model.to_string(),
        snapshot_jpeg: None,
    }
}

fn old_event_closed(camera: &str, model: &str, def: &RuleDef, open: &Open, now: f64) -> Event {
    let mut ev = make_event(camera, model, def, open, EventPhase::Closed);
    ev.ended_at_ms = Some(ms(open.last_active.min(now)));
    ev
}
