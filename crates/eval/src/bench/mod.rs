//! The measurements behind `vigie bench`: [`figures`] (speed and memory, side by side with the
//! Python reference), [`rules`] (the rules engine and scene models per frame), [`latency`]
//! (frame → console with live RTSP cameras), [`capacity`] (cameras per node at their analysis
//! rate), [`fuzz`] (every input parser for a bounded time) and [`seed_alerts`] (a busy alert
//! queue for the console's scaling tests).

pub mod capacity;
pub mod figures;
pub mod fuzz;
pub mod latency;
pub mod pixelation;
pub mod recording;
pub mod rules;
pub mod seed_alerts;
