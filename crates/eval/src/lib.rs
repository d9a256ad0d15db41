//! Evaluation and benchmarks: how right and how fast Vigie is, measured on footage.
//!
//! - Tracking metrics: MOTChallenge CLEAR (MOTA, MOTP), identity (IDF1) and HOTA, the numbers of
//!   TrackEval's `MotChallenge2DBox` (MOT15, no preprocessing) so that Vigie's tracker can be
//!   compared with published results: [`parse_mot`]/[`read_mot`] read MOTChallenge files,
//!   [`evaluate`] scores one sequence, [`combine`] builds the COMBINED row over several.
//! - Event scenarios ([`scenario`]): a clip, a camera's zones and rules and the expected events;
//!   [`events`] runs them through the live pipeline and [`scenario::score`] compares. Generated
//!   scenarios are made with [`scenario_gen`].
//! - Benchmarks ([`bench`]): speed and memory figures, rules cost, alert latency with live
//!   cameras, and fuzzing of every input parser; [`probe`] is the console client they measure with.
//!
//! The `vigie eval …` and `vigie bench …` commands are thin wrappers over this crate.

pub mod bench;
pub mod events;
pub mod lsa;
pub mod metrics;
pub mod mot;
pub mod mot_files;
pub mod privacy;
pub mod probe;
pub mod scenario;
pub mod scenario_gen;

pub use metrics::{combine, evaluate, format_table, hota_alphas, HotaAlpha, MotMetrics, HOTA_ALPHAS, MATCH_IOU};
pub use mot::{format_mot, parse_mot, read_mot, resolve_gt_path, EvalError, MotRow};
pub use mot_files::{evaluate_files, NamedMetrics};
