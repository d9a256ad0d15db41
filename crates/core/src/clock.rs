//! Injectable time, so that pacing, retries, rule durations and retention are tested with
//! simulated time instead of sleeps.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Wall-clock time (UTC).
    fn now(&self) -> SystemTime;
    /// Wall-clock time as Unix milliseconds, the form stores and APIs keep.
    fn now_ms(&self) -> crate::UnixMs {
        crate::UnixMs::from(self.now())
    }
    /// Monotonic time since an arbitrary origin fixed for this clock.
    fn monotonic(&self) -> Duration;
    /// Blocks the calling thread for `d` of this clock's time.
    fn sleep(&self, d: Duration);
}

#[derive(Debug, Clone)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self { origin: std::time::Instant::now() }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// A clock that only moves when told to. `sleep` advances it immediately, so code that paces
/// itself runs at full speed in tests while seeing consistent time.
#[derive(Debug, Clone)]
pub struct SimClock {
    inner: Arc<(Mutex<SimState>, Condvar)>,
}

#[derive(Debug)]
struct SimState {
    wall_origin: SystemTime,
    elapsed: Duration,
}

impl SimClock {
    pub fn new(start: SystemTime) -> Self {
        Self { inner: Arc::new((Mutex::new(SimState { wall_origin: start, elapsed: Duration::ZERO }), Condvar::new())) }
    }

    pub fn advance(&self, d: Duration) {
        let (m, cv) = &*self.inner;
        m.lock().elapsed += d;
        cv.notify_all();
    }

    pub fn set(&self, t: SystemTime) {
        let (m, cv) = &*self.inner;
        let mut s = m.lock();
        let target = t.duration_since(s.wall_origin).unwrap_or(Duration::ZERO);
        if target > s.elapsed {
            s.elapsed = target;
        }
        cv.notify_all();
    }
}

impl Clock for SimClock {
    fn now(&self) -> SystemTime {
        let s = self.inner.0.lock();
        s.wall_origin + s.elapsed
    }
    fn monotonic(&self) -> Duration {
        self.inner.0.lock().elapsed
    }
    fn sleep(&self, d: Duration) {
        self.advance(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_moves_only_when_told() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let c = SimClock::new(start);
        assert_eq!(c.now(), start);
        c.sleep(Duration::from_secs(5));
        assert_eq!(c.monotonic(), Duration::from_secs(5));
        c.set(start + Duration::from_secs(3)); // never goes backwards
        assert_eq!(c.now(), start + Duration::from_secs(5));
        c.set(start + Duration::from_secs(60));
        assert_eq!(c.monotonic(), Duration::from_secs(60));
    }
}
