//! After-the-fact search over what the cameras saw, without keeping anything biometric.
//!
//! - [`TrackSummarizer`] turns tracker output into one [`TrackRecord`] per finished track
//!   (class, times, zones, direction, and for vehicles and objects a named colour).
//! - [`TrackIndex`] stores them in `<data>/tracks.db` and searches them by time, camera, zone,
//!   class, colour, direction, dwell and events, from typed filters ([`SearchParams`]) or a text
//!   query ([`parse_text_query`]). Every search is audited.
//!
//! Callers hold the index as a [`TrackStore`] (and footage retention as a
//! [`vigie_core::TrackPurge`]), so a city-scale deployment can put the tracks in PostgreSQL
//! without touching the node, the server or footage.

pub mod bench;
pub mod colour;
mod db;
mod index;
mod query;
mod store;
mod summarize;
mod text;

pub use colour::{ColorVotes, NamedColor};
pub use db::DbError;
pub use index::TrackIndex;
pub use query::{
    AppliedFilters, PlaceCamera, PlaceZone, SearchError, SearchParams, SearchQuery, SearchResult, TrackHit, ZoneDwell,
    COUNT_CAP, DEFAULT_LIMIT, MAX_LIMIT, MAX_SPAN_MS,
};
pub use store::TrackStore;
pub use summarize::{Descriptor, Direction, SummarizerConfig, TrackRecord, TrackSummarizer, ZoneVisit};
pub use text::{class_word, fold, parse_text_query, ParsedQuery, PlaceAlias, Vocabulary};
