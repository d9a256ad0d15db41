//! Zones, rules and scene models that turn tracked objects into events an operator can act on.
//!
//! A camera's config names its zones (polygons with a kind) and rules (an event type bound to a
//! zone, with its type's parameters and a legal basis: [`config`], checked by [`validate`], every
//! mistake reported with its key); [`CameraRules`] runs them frame by frame and emits
//! [`vigie_core::Event`]s that open once, update while the situation lasts and close after a
//! hysteresis delay. Abandoned objects, graffiti and people lying out of the detector's sight
//! use the scene models ([`scene`]: long- and short-term backgrounds on a downscaled picture).
//! Inside, the engine (lifecycle of events) sits on top of the rule logics (`track_rules`,
//! `scene_rules`), which share only what a rule sees and reports (`rule`).
//! How often each rule is right and what it costs are measured in `vigie-eval`, which owns the
//! scenarios and the video they need; this crate reads no video.

pub mod config;
mod engine;
pub mod geometry;
mod rule;
pub mod scene;
mod scene_rules;
pub mod schedule;
mod track_rules;
pub mod validate;
pub mod versions;

pub use config::{
    classes_needed, AbandonedObjectParams, Calibration, CrowdParams, EventsConfig, GraffitiParams, IntrusionParams,
    PersonDownParams, RuleConfig, RuleParams, RuleTiming, VehicleParams, WrongWayParams, ZoneConfig, ZoneKind,
};
pub use engine::{CameraRules, Evidence};
pub use geometry::Homography;
pub use schedule::Schedule;
pub use validate::validate_camera;
pub use versions::bump_changed_versions;

#[cfg(test)]
mod tests;
