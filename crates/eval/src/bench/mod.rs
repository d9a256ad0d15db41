//! The measurements behind `vigie bench`: [`figures`] (speed and memory, side by side with the
//! Python reference), [`rules`] (the rules engine and scene models per frame), [`latency`]
//! (frame → console with live RTSP cameras), [`capacity`] (cameras per node at their analysis
//! rate) and [`fuzz`] (every input parser for a bounded time).

pub mod capacity;
pub mod figures;
pub mod fuzz;
pub mod latency;
pub mod pixelation;
pub mod recording;
pub mod rules;
