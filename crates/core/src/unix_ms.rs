//! Instants as Unix milliseconds, the form the SQLite indexes, segment keys and reports use.
//!
//! Footage and search both convert between `SystemTime`, Unix milliseconds and RFC 3339 text;
//! they share these so that an instant prints and parses the same everywhere.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix milliseconds of `t` (negative before 1970, which only tests produce).
pub fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// The instant `ms` Unix milliseconds after (or before) the epoch.
pub fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// RFC 3339 text of a Unix-ms instant, for reports and audit entries.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_else(|_| ms.to_string())
}

/// Parses an RFC 3339 instant given for `option` (a flag or field name, quoted in the error).
pub fn parse_instant(option: &str, s: &str) -> Result<SystemTime, String> {
    let ts: jiff::Timestamp = s
        .trim()
        .parse()
        .map_err(|e| format!("{option}: '{s}' is not an RFC 3339 time such as 2026-11-28T14:00:00Z ({e})"))?;
    Ok(from_ms(ts.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_on_both_sides_of_the_epoch() {
        for ms in [-1_500, 0, 1_795_996_800_123] {
            assert_eq!(to_ms(from_ms(ms)), ms);
        }
        assert_eq!(rfc3339(1_795_996_800_000), "2026-11-30T00:00:00Z");
        assert_eq!(to_ms(parse_instant("--now", " 2026-11-30T00:00:00.5Z ").unwrap()), 1_795_996_800_500);
        let e = parse_instant("--now", "yesterday").unwrap_err();
        assert!(e.starts_with("--now: 'yesterday' is not an RFC 3339 time"), "{e}");
    }
}
