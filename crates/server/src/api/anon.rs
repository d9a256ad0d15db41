//! Audit entries that people who are not logged in can cause (refused requests, refused and
//! rate-limited logins). Everything they send is shortened before it is recorded, and repeats are
//! counted rather than written: per source address, kind and minute, the first refusal is written
//! in full and the others become one `<kind>.repeated` entry with their count when the minute
//! closes (or when the next entry is written, or when the server stops). The trail therefore grows
//! by a few entries per source and minute, whatever a client sends.

use super::{now_ms, write_entry, AppState};
use crate::error::ApiError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::AuditAction;

/// Longest path recorded (bytes); longer ones are cut, with their length.
pub(crate) const MAX_PATH_BYTES: usize = 256;
/// Longest user name recorded for an anonymous caller (bytes).
pub(crate) const MAX_NAME_BYTES: usize = 64;
/// Distinct (source, kind) pairs followed per minute; past that, new sources share one count, so
/// spraying addresses (IPv6 gives plenty) cannot grow the trail without bound either.
const MAX_BUCKETS: usize = 256;
const OTHER_SOURCES: &str = "other-addresses";

/// `s` if it fits in `max` bytes, else its start with a marker giving the original length.
pub(crate) fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated, {} bytes]", &s[..end], s.len())
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repeats {
    pub source: String,
    pub action: AuditAction,
    /// Start of the minute, Unix ms.
    pub minute_ms: i64,
    /// Refusals after the first one (which was written in full).
    pub count: u64,
    pub last_at_ms: i64,
}

#[derive(Default)]
struct Minute {
    index: i64,
    buckets: HashMap<(String, AuditAction), (u64, i64)>,
}

impl Minute {
    fn drain(&mut self) -> Vec<Repeats> {
        let minute_ms = self.index * 60_000;
        let mut out: Vec<Repeats> = self
            .buckets
            .drain()
            .filter(|(_, (n, _))| *n > 0)
            .map(|((source, action), (count, last_at_ms))| Repeats { source, action, minute_ms, count, last_at_ms })
            .collect();
        out.sort_by(|a, b| (&a.source, a.action).cmp(&(&b.source, b.action)));
        out
    }
}

#[derive(Default)]
pub(crate) struct RefusalCounter {
    minute: Mutex<Minute>,
}

impl RefusalCounter {
    /// Whether this refusal is written in full, and the counts of a minute that has closed.
    fn admit(&self, now_ms: i64, source: &str, action: AuditAction) -> (bool, Vec<Repeats>) {
        let index = now_ms.div_euclid(60_000);
        let mut m = self.minute.lock();
        let closed = if m.index != index {
            let c = m.drain();
            m.index = index;
            c
        } else {
            Vec::new()
        };
        let mut key = (source.to_string(), action);
        if !m.buckets.contains_key(&key) && m.buckets.len() >= MAX_BUCKETS {
            key.0 = OTHER_SOURCES.to_string();
        }
        let write = match m.buckets.get_mut(&key) {
            Some((n, last)) => {
                *n += 1;
                *last = now_ms;
                false
            }
            None => {
                m.buckets.insert(key, (0, now_ms));
                true
            }
        };
        (write, closed)
    }

    /// Counts of minutes that have closed by `now_ms`.
    pub(crate) fn take_closed(&self, now_ms: i64) -> Vec<Repeats> {
        let mut m = self.minute.lock();
        if m.index == now_ms.div_euclid(60_000) || m.buckets.is_empty() {
            return Vec::new();
        }
        m.drain()
    }

    /// Every count, the current minute's included (the server is stopping).
    pub(crate) fn take_all(&self) -> Vec<Repeats> {
        self.minute.lock().drain()
    }
}

pub(crate) async fn write_repeats(st: &Arc<AppState>, reps: Vec<Repeats>) -> Result<(), ApiError> {
    for r in reps {
        let d = serde_json::json!({
            "source": r.source,
            "action": r.action,
            "minute": vigie_core::UnixMs(r.minute_ms).rfc3339(),
            "count": r.count,
            "last_at_ms": r.last_at_ms,
        });
        // Only the refusals anonymous callers can repeat are counted (see `audit_refusal`).
        let action = r.action.repeated().unwrap_or(r.action);
        write_entry(st, "anonymous", action, &r.source, d).await?;
    }
    Ok(())
}

/// Records a refusal of someone not logged in (`source` is their address): shortened, and
/// written in full only once per source, kind and minute.
pub(crate) async fn audit_refusal(
    st: &Arc<AppState>,
    source: &str,
    actor: &str,
    action: AuditAction,
    target: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    let (write, closed) = st.refusals.admit(now_ms(st).0, source, action);
    write_repeats(st, closed).await?;
    if write {
        write_entry(st, &cap(actor, MAX_NAME_BYTES), action, &cap(target, MAX_PATH_BYTES), details).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: AuditAction = AuditAction::LoginRefused;
    const Y: AuditAction = AuditAction::LoginRateLimited;

    #[test]
    fn caps_keep_the_start_and_say_how_long() {
        assert_eq!(cap("short", 64), "short");
        let c = cap(&"é".repeat(100), 5);
        assert_eq!(c, "éé…[truncated, 200 bytes]");
    }

    #[test]
    fn repeats_are_counted_per_source_kind_and_minute() {
        let c = RefusalCounter::default();
        assert_eq!(c.admit(60_000, "a", X), (true, vec![]));
        assert_eq!(c.admit(60_500, "a", X), (false, vec![]));
        assert_eq!(c.admit(61_000, "a", X), (false, vec![]));
        assert_eq!(c.admit(61_000, "b", X), (true, vec![]));
        assert_eq!(c.admit(61_000, "a", Y), (true, vec![]));
        assert!(c.take_closed(119_999).is_empty());
        let closed = c.take_closed(120_000);
        assert_eq!(
            closed,
            [Repeats { source: "a".into(), action: X, minute_ms: 60_000, count: 2, last_at_ms: 61_000 }]
        );
        assert_eq!(c.admit(120_000, "a", X), (true, vec![]), "a new minute starts with a full entry");
        for i in 0..MAX_BUCKETS + 10 {
            c.admit(120_001, &format!("10.0.{}.{}", i / 250, i % 250), X);
        }
        let all = c.take_all();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].source.as_str(), all[0].count), (OTHER_SOURCES, 10));
    }
}
