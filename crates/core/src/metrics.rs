//! A latency histogram shared by the stages that time themselves (the detector pool, the alert
//! hub) and the server that exposes them: fixed buckets, lock-free to record from any thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets (seconds) for one detector run: tens of milliseconds on a CPU, a few on a GPU.
pub const INFERENCE_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5];

/// Buckets (seconds) for frame capture to alert published: the target is under a second.
pub const ALERT_LATENCY_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0];

/// Durations counted into buckets with upper bounds `bounds` (seconds, ascending), plus an
/// unbounded one, and their sum.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, then the unbounded bucket; not cumulative.
    buckets: Box<[AtomicU64]>,
    /// Microseconds: an integer sum can be added to without a lock.
    sum_us: AtomicU64,
}

/// A histogram as read at one instant, in the exposition format's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound in seconds, observations at or under it)`, cumulative, ascending.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bounds must be ascending");
        let buckets = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram { bounds, buckets, sum_us: AtomicU64::new(0) }
    }

    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = self.bounds.iter().position(|&b| s <= b).unwrap_or(self.bounds.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(d.as_micros().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    /// The count is the buckets' total, so a reader racing a writer still sees a consistent
    /// histogram (the last bucket equals the count).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (i, &b) in self.bounds.iter().enumerate() {
            total += self.buckets[i].load(Ordering::Relaxed);
            buckets.push((b, total));
        }
        total += self.buckets[self.bounds.len()].load(Ordering::Relaxed);
        HistogramSnapshot { buckets, count: total, sum_seconds: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_cumulative_buckets() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(100));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(3));
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(0.1, 1), (1.0, 2)]);
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 3.6).abs() < 1e-9, "{}", s.sum_seconds);
    }
}
