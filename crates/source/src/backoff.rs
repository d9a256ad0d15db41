use std::time::Duration;

/// Capped exponential backoff for reconnecting cameras: `initial`, doubling up to `max`.
/// Kept free of clocks and sleeps so the schedule is tested directly and the caller sleeps
/// on its own (injectable) clock.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max: max.max(initial), attempt: 0 }
    }

    /// Delay before the next attempt; each call doubles the following one, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.attempt = self.attempt.saturating_add(1);
        self.initial.checked_mul(factor).unwrap_or(self.max).min(self.max)
    }

    /// Number of consecutive failures so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Call after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_then_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(4));
        let d: Vec<_> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(d, vec![500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
        for _ in 0..100 {
            b.next_delay();
        }
        assert_eq!(b.next_delay(), Duration::from_secs(4));
    }
}
