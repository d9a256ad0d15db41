//! Tracking metrics: MOTChallenge CLEAR (MOTA, MOTP), identity (IDF1) and HOTA.
//!
//! The numbers are those of TrackEval's `MotChallenge2DBox` (MOT15, no preprocessing) so that Vigie's
//! tracker can be compared with published results: [`parse_mot`]/[`read_mot`] read MOTChallenge files,
//! [`evaluate`] scores one sequence, [`combine`] builds the COMBINED row over several.

pub mod cli;
pub mod lsa;
pub mod metrics;
pub mod mot;

pub use cli::{evaluate_files, run_mot, EvalMotArgs, NamedMetrics};
pub use metrics::{combine, evaluate, format_table, hota_alphas, HotaAlpha, MotMetrics, HOTA_ALPHAS, MATCH_IOU};
pub use mot::{format_mot, parse_mot, read_mot, resolve_gt_path, EvalError, MotRow};
