//! Instants as Unix milliseconds, the form the SQLite indexes, segment keys, JSON and reports use.
//!
//! Capture times stay `SystemTime` inside the pipeline; everything that stores, compares or prints an
//! instant goes through [`UnixMs`], so that an instant converts, prints and parses the same everywhere
//! and a count of milliseconds cannot be mistaken for a duration or for seconds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant as milliseconds since 1970-01-01T00:00:00Z (negative before, which only tests produce).
///
/// Transparent on the wire: JSON and SQLite see the bare `i64`, so formats do not change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

/// Text that is not an RFC 3339 instant; names the flag or field it was given for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: '{text}' is not an RFC 3339 time such as 2026-11-28T14:00:00Z ({reason})")]
pub struct InstantParseError {
    pub option: String,
    pub text: String,
    reason: String,
}

impl UnixMs {
    pub const EPOCH: UnixMs = UnixMs(0);

    /// The wall clock now, for tools and notification timestamps; the pipeline and the
    /// catalogue read time from their injected [`crate::Clock`] instead.
    pub fn now() -> Self {
        UnixMs::from(SystemTime::now())
    }

    pub const fn new(ms: i64) -> Self {
        UnixMs(ms)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// Saturates at the ends of `i64` instead of wrapping, for instants no clock produces.
    pub fn from_system_time(t: SystemTime) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UnixMs(ms(d)),
            Err(e) => UnixMs(-ms(e.duration())),
        }
    }

    pub fn to_system_time(self) -> SystemTime {
        if self.0 >= 0 {
            UNIX_EPOCH + Duration::from_millis(self.0 as u64)
        } else {
            UNIX_EPOCH - Duration::from_millis(self.0.unsigned_abs())
        }
    }

    /// From fractional Unix seconds, rounded to the nearest millisecond; NaN reads as the epoch and
    /// out-of-range values saturate (the `as` cast's semantics).
    pub fn from_secs_f64(secs: f64) -> Self {
        UnixMs((secs * 1000.0).round() as i64)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// `None` past the end of `i64` milliseconds.
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let ms = i64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).map(UnixMs)
    }

    pub fn checked_sub(self, d: Duration) -> Option<Self> {
        let ms = i64::try_from(d.as_millis()).ok()?;
        self.0.checked_sub(ms).map(UnixMs)
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        UnixMs(self.0.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }

    pub fn saturating_sub(self, d: Duration) -> Self {
        UnixMs(self.0.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }

    /// Signed milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn ms_since(self, earlier: UnixMs) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 UTC text, for reports, audit entries and API views. Instants jiff cannot represent
    /// print as the bare number rather than failing.
    pub fn rfc3339(self) -> String {
        jiff::Timestamp::from_millisecond(self.0).map(|t| t.to_string()).unwrap_or_else(|_| self.0.to_string())
    }

    pub fn to_timestamp(self) -> Option<jiff::Timestamp> {
        jiff::Timestamp::from_millisecond(self.0).ok()
    }

    /// Parses an RFC 3339 instant given for `option` (a flag or field name, quoted in the error).
    pub fn parse_rfc3339(option: &str, s: &str) -> Result<Self, InstantParseError> {
        let ts: jiff::Timestamp = s.trim().parse().map_err(|e: jiff::Error| InstantParseError {
            option: option.to_string(),
            text: s.to_string(),
            reason: e.to_string(),
        })?;
        Ok(UnixMs(ts.as_millisecond()))
    }
}

impl fmt::Display for UnixMs {
    /// The bare number, as it appears in JSON and segment keys; use [`UnixMs::rfc3339`] for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<SystemTime> for UnixMs {
    fn from(t: SystemTime) -> Self {
        UnixMs::from_system_time(t)
    }
}

impl From<UnixMs> for SystemTime {
    fn from(t: UnixMs) -> Self {
        t.to_system_time()
    }
}

impl From<jiff::Timestamp> for UnixMs {
    fn from(t: jiff::Timestamp) -> Self {
        UnixMs(t.as_millisecond())
    }
}

impl From<i64> for UnixMs {
    fn from(ms: i64) -> Self {
        UnixMs(ms)
    }
}

impl From<UnixMs> for i64 {
    fn from(t: UnixMs) -> Self {
        t.0
    }
}

#[cfg(feature = "rusqlite")]
mod sql {
    use super::UnixMs;
    use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

    impl ToSql for UnixMs {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.0))
        }
    }

    impl FromSql for UnixMs {
        fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
            i64::column_result(v).map(UnixMs)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stored_as_a_bare_integer() {
            let c = rusqlite::Connection::open_in_memory().unwrap();
            let (kind, back): (String, UnixMs) = c
                .query_row("SELECT typeof(?1), ?1", [UnixMs(-1_795_996_800_123)], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((kind.as_str(), back), ("integer", UnixMs(-1_795_996_800_123)));
            let n: i64 = c.query_row("SELECT ?1 + 1", [UnixMs(41)], |r| r.get(0)).unwrap();
            assert_eq!(n, 42);
            let e = c.query_row("SELECT 'noon'", [], |r| r.get::<_, UnixMs>(0));
            assert!(e.is_err(), "text is not an instant: {e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_on_both_sides_of_the_epoch() {
        for ms in [-1_500, 0, 1_795_996_800_123] {
            assert_eq!(UnixMs::from(SystemTime::from(UnixMs(ms))), UnixMs(ms));
        }
        assert_eq!(UnixMs(1_795_996_800_000).rfc3339(), "2026-11-30T00:00:00Z");
        assert_eq!(UnixMs::parse_rfc3339("--now", " 2026-11-30T00:00:00.5Z ").unwrap(), UnixMs(1_795_996_800_500));
        let e = UnixMs::parse_rfc3339("--now", "yesterday").unwrap_err().to_string();
        assert!(e.starts_with("--now: 'yesterday' is not an RFC 3339 time"), "{e}");
    }

    #[test]
    fn system_time_truncates_to_the_millisecond_and_saturates() {
        let t = UNIX_EPOCH + Duration::from_micros(1_999);
        assert_eq!(UnixMs::from(t), UnixMs(1), "sub-millisecond part is dropped, as as_millis does");
        let before = UNIX_EPOCH - Duration::from_micros(1_999);
        assert_eq!(UnixMs::from(before), UnixMs(-1));
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 1000);
        assert_eq!(UnixMs::from(far), UnixMs(i64::MAX), "beyond i64 ms saturates instead of wrapping");
    }

    #[test]
    fn seconds_round_to_the_nearest_millisecond() {
        assert_eq!(UnixMs::from_secs_f64(1.0004), UnixMs(1_000));
        assert_eq!(UnixMs::from_secs_f64(1.0006), UnixMs(1_001));
        assert_eq!(UnixMs::from_secs_f64(-0.0016), UnixMs(-2));
        assert_eq!(UnixMs::from_secs_f64(f64::NAN), UnixMs(0));
        assert_eq!(UnixMs::from_secs_f64(1e300), UnixMs(i64::MAX));
        assert_eq!(UnixMs(2_500).as_secs_f64(), 2.5);
    }

    #[test]
    fn duration_arithmetic_is_checked() {
        let t = UnixMs(10_000);
        assert_eq!(t.checked_add(Duration::from_millis(1_500)), Some(UnixMs(11_500)));
        assert_eq!(t.checked_sub(Duration::from_secs(20)), Some(UnixMs(-10_000)));
        assert_eq!(UnixMs(i64::MAX).checked_add(Duration::from_millis(1)), None);
        assert_eq!(UnixMs(i64::MIN).checked_sub(Duration::from_millis(1)), None);
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(UnixMs(i64::MAX - 1).saturating_add(Duration::from_secs(1)), UnixMs(i64::MAX));
        assert_eq!(UnixMs(i64::MIN + 1).saturating_sub(Duration::from_secs(1)), UnixMs(i64::MIN));
        assert_eq!(UnixMs(11_500).ms_since(t), 1_500);
        assert_eq!(t.ms_since(UnixMs(11_500)), -1_500);
    }

    #[test]
    fn clocks_give_unix_ms() {
        use crate::{Clock, SimClock};
        let c = SimClock::new(UNIX_EPOCH + Duration::from_millis(1_795_996_800_123));
        assert_eq!(c.now_ms(), UnixMs(1_795_996_800_123));
        c.advance(Duration::from_micros(2_500));
        assert_eq!(c.now_ms(), UnixMs(1_795_996_800_125));
    }

    #[test]
    fn transparent_on_the_wire_and_printed_as_text() {
        assert_eq!(serde_json::to_string(&UnixMs(1_795_996_800_123)).unwrap(), "1795996800123");
        assert_eq!(serde_json::from_str::<UnixMs>("-5").unwrap(), UnixMs(-5));
        assert_eq!(UnixMs(42).to_string(), "42");
        assert_eq!(UnixMs(1_795_996_800_000).rfc3339(), "2026-11-30T00:00:00Z");
        assert_eq!(UnixMs(i64::MAX).rfc3339(), i64::MAX.to_string(), "unrepresentable prints as the number");
        assert!(UnixMs(1) < UnixMs(2));
        let e = UnixMs::parse_rfc3339("from", "noon").unwrap_err();
        assert_eq!(e.option, "from");
        assert_eq!(e.text, "noon");
    }
}
