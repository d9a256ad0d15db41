//! Search requests and answers for the track index.

use crate::colour::NamedColor;
use crate::summarize::Direction;
use serde::{Deserialize, Serialize};
use vigie_core::UnixMs;

/// Longest time range one search may cover. Ranges are required: an unbounded search would
/// read the whole index, and the index never holds more than 30 days anyway.
pub const MAX_SPAN_MS: i64 = 31 * 86_400_000;
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// Totals are counted up to this; beyond it the answer says "at least".
pub const COUNT_CAP: u64 = 10_000;

/// Typed search filters. All given filters must match (AND); a list matches any of its values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Tracks overlapping `[from_ms, to_ms]` (Unix ms). Both are required.
    pub from_ms: Option<UnixMs>,
    pub to_ms: Option<UnixMs>,
    pub cameras: Vec<String>,
    /// Tracks that crossed any of these zones (with `min_dwell_s`: stayed that long in one).
    pub zones: Vec<String>,
    /// Detector class names (`car`, `person`...).
    pub classes: Vec<String>,
    pub colors: Vec<NamedColor>,
    pub direction: Option<Direction>,
    /// With zones: seconds in one of them; without: seconds in view.
    pub min_dwell_s: Option<f64>,
    /// Only tracks linked to an event (true) or not linked (false).
    pub event_linked: Option<bool>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Why a search was refused. Everything but `Db` is the caller's mistake (HTTP 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum SearchError {
    #[error("time range: {0}")]
    TimeRange(String),
    #[error("unknown camera '{0}'")]
    UnknownCamera(String),
    #[error("unknown zone '{0}'")]
    UnknownZone(String),
    #[error("unknown class '{0}'")]
    UnknownClass(String),
    #[error("{param}: {message}")]
    BadParam { param: String, message: String },
    #[error("could not understand: {}", not_understood.join(", "))]
    Unparsed { understood: Vec<String>, not_understood: Vec<String> },
    #[error("the object's descriptor: {0}")]
    NotComparable(String),
    #[error("track index: {0}")]
    Db(String),
}

impl SearchError {
    /// Whether the request was at fault (400) rather than the server (500).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, SearchError::Db(_))
    }
}

impl From<rusqlite::Error> for SearchError {
    fn from(e: rusqlite::Error) -> Self {
        SearchError::Db(e.to_string())
    }
}

/// A camera of the node as people name it, so a search may say "the square" or "Place de la
/// Gare" rather than an internal id. Set by the server from the running configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaceCamera {
    pub id: String,
    /// The name shown to operators (may be empty).
    pub name: String,
    pub zones: Vec<PlaceZone>,
}

/// One zone of a [`PlaceCamera`]: its name and kind (`square`, `pedestrian_street`...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaceZone {
    pub name: String,
    pub kind: String,
}

/// Query-string parameters of `GET /api/search`, as text. Lists may repeat the parameter or
/// separate values with commas. An unknown parameter is refused rather than silently ignored,
/// so a misspelt filter (`colour=`) never widens a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchParams {
    /// RFC 3339, or a date (`2026-11-28`) or date and time (`2026-11-28T18:00`) read in the
    /// city's time zone. A date as `to` means the end of that day, so `from` = `to` is one day.
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(deserialize_with = "string_or_list", serialize_with = "list_as_text")]
    pub camera: Vec<String>,
    #[serde(deserialize_with = "string_or_list", serialize_with = "list_as_text")]
    pub zone: Vec<String>,
    #[serde(deserialize_with = "string_or_list", serialize_with = "list_as_text")]
    pub class: Vec<String>,
    #[serde(deserialize_with = "string_or_list", serialize_with = "list_as_text")]
    pub color: Vec<String>,
    pub direction: Option<String>,
    pub min_dwell_s: Option<f64>,
    pub event_linked: Option<bool>,
    /// Free text such as `red car in "rue piétonne" after 14:00 yesterday`.
    pub q: Option<String>,
    /// 32 bits, as the HTTP API has always parsed them: a larger number is refused (400).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Only these cameras (what the caller's sectors cover), set by the server and never read
    /// from the query string: a camera named outside them is refused as unknown, and none
    /// named means all of them. `None`: any camera.
    #[serde(skip)]
    pub within_cameras: Option<Vec<String>>,
    /// The node's cameras with their names and zones (set by the server, never read from the
    /// query string): words naming them are understood, and a camera may be given by name.
    #[serde(skip)]
    pub places: Vec<PlaceCamera>,
}

/// A list written back as the query string gave it (`"a,b"`, none: null), so the audit trail
/// records a search's parameters as they were asked.
fn list_as_text<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(&v.join(","))
    }
}

/// One value (`camera=a,b` as most query-string decoders give it) or a list (`camera=a&camera=b`).
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    // Null too: what `list_as_text` writes for an empty list.
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// A zone a track crossed and how long it stayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneDwell {
    pub zone: String,
    pub dwell_s: f64,
}

/// One matching track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackHit {
    /// Row id: thumbnail at `thumbnail(id)`, similar objects at `similar(id, ..)`.
    pub id: i64,
    pub camera: String,
    pub track_id: u64,
    pub class: String,
    pub color: Option<NamedColor>,
    pub start: String,
    pub end: String,
    pub start_ms: UnixMs,
    pub end_ms: UnixMs,
    pub duration_s: f64,
    pub zones: Vec<ZoneDwell>,
    pub direction: Option<Direction>,
    pub displacement_px: f32,
    pub width: f32,
    pub height: f32,
    pub event_ids: Vec<String>,
    pub has_thumbnail: bool,
    /// The clip to open for this track: a few seconds either side of it (Unix ms).
    pub clip_from_ms: UnixMs,
    pub clip_to_ms: UnixMs,
    /// Descriptor distance, for "similar object" answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
}

/// The filters actually applied, echoed back so the console can show what was understood.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppliedFilters {
    pub from: String,
    pub to: String,
    pub cameras: Vec<String>,
    pub zones: Vec<String>,
    pub classes: Vec<String>,
    pub colors: Vec<NamedColor>,
    pub direction: Option<Direction>,
    pub min_dwell_s: Option<f64>,
    pub event_linked: Option<bool>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub tracks: Vec<TrackHit>,
    /// Number of matches, counted up to [`COUNT_CAP`].
    pub total: u64,
    /// More than `total` tracks match.
    pub total_is_lower_bound: bool,
    pub has_more: bool,
    pub filters: AppliedFilters,
    /// What the text query was read as, one phrase per filter (empty without `q`).
    pub understood: Vec<String>,
    pub took_ms: f64,
}
