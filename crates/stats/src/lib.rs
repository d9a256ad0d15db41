//! Anonymous statistics: how many people and vehicles cross each counting line, in which
//! direction, and how many enter each counted area and how many stay there on average.
//!
//! [`Counter`] turns the tracker's tracks into per-minute aggregates per camera, zone and class;
//! nothing else leaves it: no track id, no picture, no trajectory, so what is kept cannot single
//! anyone out and may be retained for years, independently of footage. [`store`] keeps those
//! minutes in SQLite behind the [`StatsStore`] trait and writes them from a background thread so
//! the pipeline never waits on the disk.

pub mod counter;
mod geometry;
pub mod store;

pub use counter::{ClassCounts, CountKind, Counter, MinuteCounts, Totals};
pub use store::{Bucket, SeriesQuery, SqliteStats, StatsError, StatsStore, StatsWriter};
