//! Zones, rules and scene models that turn tracked objects into events an operator can act on.
//!
//! A camera's config names its zones (polygons with a kind) and rules (an event type bound to a
//! zone, with parameters and a legal basis); [`CameraRules`] runs them frame by frame and emits
//! [`vigie_core::Event`]s that open once, update while the situation lasts and close after a
//! hysteresis delay. Abandoned objects, graffiti and people lying out of the detector's sight
//! use the scene models ([`scene`]: long- and short-term backgrounds on a downscaled picture).
//! Scenarios ([`scenario`], generated ones from [`scenario_gen`]) measure how often each rule is
//! right; [`bench`] measures what it costs.

pub mod bench;
pub mod config;
mod engine;
pub mod geometry;
mod kinds;
mod objects;
pub mod scenario;
pub mod scenario_gen;
pub mod scene;
pub mod schedule;

pub use config::{
    classes_needed, validate_camera, Calibration, EventsConfig, RuleConfig, RuleParams, ZoneConfig, ZoneKind,
};
pub use engine::{CameraRules, Evidence};
pub use geometry::Homography;
pub use schedule::Schedule;

#[cfg(test)]
mod tests;
