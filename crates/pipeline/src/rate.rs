//! A camera's analysis rate (`detect_fps`): which frames the detector should see, and the rate
//! it achieved.
//!
//! The detector costs far more than decoding, and a person does not cross a street between two
//! frames 200 ms apart: analysing 5 frames a second and predicting tracks on the others keeps
//! tracks and rules right at a fraction of the cost, so a CPU node holds many more cameras.

use std::collections::VecDeque;
use std::time::Duration;

/// Frames analysed per second when the configuration says nothing: enough for people and cars
/// in a city street, a fraction of a 25 fps stream's cost.
pub const DEFAULT_DETECT_FPS: f64 = 5.0;

/// Highest `detect_fps` accepted anywhere (more is a typo: no camera streams that fast).
pub const MAX_DETECT_FPS: f64 = 1000.0;

/// Why a `detect_fps` value is refused; the caller names the key (`cameras.X.detect_fps`).
pub fn check_detect_fps(v: f64) -> Result<(), String> {
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("{v} is not a rate: give frames analysed per second, above 0 (5 is the default)"));
    }
    if v > MAX_DETECT_FPS {
        return Err(format!("{v} is above {MAX_DETECT_FPS}: no stream is that fast"));
    }
    Ok(())
}

/// What the detector is asked for, given the stream's own rate: above it, every frame. A
/// stream's rate is only known once connected (and may change when the camera is reconfigured),
/// so a too-high setting is clamped with a warning rather than refused at start.
pub fn effective_detect_fps(detect_fps: f64, stream_fps: Option<f64>) -> (f64, bool) {
    match stream_fps {
        Some(s) if s.is_finite() && s > 0.0 && detect_fps > s => (s, true),
        _ => (detect_fps, false),
    }
}

/// When the next detection is due, on the stream's timeline (frame timestamps): one every
/// `1/detect_fps` seconds on a fixed grid, so that a 7 fps stream asked for 5 detections a second
/// gets 5, not the 3.5 that "at least 200 ms after the last one" would give.
#[derive(Debug, Clone)]
pub struct Cadence {
    period: Duration,
    next_due: Option<Duration>,
    last_t: Option<Duration>,
    /// Interval between the last two frames: a frame half of it early is the due one.
    interval: Duration,
}

impl Cadence {
    /// `detect_fps` must have passed [`check_detect_fps`].
    pub fn new(detect_fps: f64) -> Self {
        Self {
            period: Duration::from_secs_f64(1.0 / detect_fps),
            next_due: None,
            last_t: None,
            interval: Duration::ZERO,
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Whether the frame at `t` should go to the detector (call once per frame, in order).
    pub fn is_due(&mut self, t: Duration) -> bool {
        match self.last_t {
            // Timestamps going back (a looping file, a new session): start a new grid.
            Some(prev) if t < prev => {
                self.next_due = None;
                self.interval = Duration::ZERO;
            }
            Some(prev) => self.interval = (t - prev).min(self.period),
            None => {}
        }
        self.last_t = Some(t);
        self.next_due.is_none_or(|due| t + self.interval / 2 >= due)
    }

    /// The frame at `t` was detected: the next one is due a period after the last due time, or
    /// half a period from now when the detector was late (so a camera that waited catches up a
    /// little, without a burst of detections on consecutive frames).
    pub fn ran(&mut self, t: Duration) {
        let grid = self.next_due.map_or(t + self.period, |d| d + self.period);
        self.next_due = Some(grid.max(t + self.period / 2));
    }
}

/// Detections per second over a sliding window of the camera's monotonic clock.
#[derive(Debug, Clone)]
pub struct RateMeter {
    window: Duration,
    times: VecDeque<Duration>,
    since: Option<Duration>,
}

impl RateMeter {
    pub fn new(window: Duration) -> Self {
        Self { window, times: VecDeque::new(), since: None }
    }

    /// Notes that time `now` was reached, and whether a detection happened then.
    pub fn tick(&mut self, now: Duration, detected: bool) {
        self.since.get_or_insert(now);
        if detected {
            self.times.push_back(now);
        }
        while self.times.front().is_some_and(|&t| now.saturating_sub(t) > self.window) {
            self.times.pop_front();
        }
    }

    /// The rate over the window (or the time seen so far when shorter than it, from one second).
    pub fn rate(&self, now: Duration) -> f64 {
        let Some(since) = self.since else { return 0.0 };
        let span = now.saturating_sub(since).min(self.window);
        if span < Duration::from_secs(1) {
            return 0.0;
        }
        let n = self.times.iter().filter(|&&t| now.saturating_sub(t) <= span).count();
        n as f64 / span.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1000.0)
    }

    /// Detections the cadence gives over `seconds` of a `fps` stream.
    fn detections(fps: f64, detect_fps: f64, seconds: f64) -> usize {
        let mut c = Cadence::new(detect_fps);
        let n = (fps * seconds).round() as usize;
        (0..n)
            .filter(|&i| {
                let t = ms(i as f64 * 1000.0 / fps);
                let due = c.is_due(t);
                if due {
                    c.ran(t);
                }
                due
            })
            .count()
    }

    #[test]
    fn the_grid_gives_the_asked_rate_whatever_the_stream_rate() {
        for (fps, want) in [(25.0, 5.0), (30.0, 5.0), (7.0, 5.0), (12.5, 5.0), (10.0, 5.0), (5.0, 5.0)] {
            let got = detections(fps, 5.0, 20.0) as f64 / 20.0;
            assert!((got - want).abs() < 0.1, "{fps} fps stream: {got} detections/s, want {want}");
        }
        assert_eq!(detections(25.0, 25.0, 4.0), 100, "as fast as the stream: every frame");
        assert_eq!(detections(25.0, 1000.0, 4.0), 100);
    }

    #[test]
    fn a_late_detector_lets_the_camera_catch_up_without_a_burst() {
        let mut c = Cadence::new(5.0);
        assert!(c.is_due(ms(0.0)));
        c.ran(ms(0.0));
        assert!(!c.is_due(ms(40.0)));
        // Served 600 ms late: due again 100 ms later, not at once.
        assert!(c.is_due(ms(800.0)));
        c.ran(ms(800.0));
        assert!(!c.is_due(ms(840.0)));
        assert!(c.is_due(ms(900.0)));
        // Timestamps going back start a new grid (a looping file).
        c.ran(ms(900.0));
        assert!(c.is_due(ms(0.0)));
    }

    #[test]
    fn bad_rates_are_refused_and_high_ones_clamped_to_the_stream() {
        for v in [0.0, -5.0, f64::NAN, f64::INFINITY, 5000.0] {
            assert!(check_detect_fps(v).is_err(), "{v}");
        }
        assert!(check_detect_fps(5.0).is_ok());
        assert_eq!(effective_detect_fps(30.0, Some(25.0)), (25.0, true));
        assert_eq!(effective_detect_fps(5.0, Some(25.0)), (5.0, false));
        assert_eq!(effective_detect_fps(30.0, None), (30.0, false));
    }

    #[test]
    fn the_meter_counts_over_its_window() {
        let mut m = RateMeter::new(Duration::from_secs(10));
        for i in 0..300u64 {
            // 5 a second for 30 s, then none.
            m.tick(Duration::from_millis(i * 100), i % 2 == 0);
        }
        let now = Duration::from_millis(29_900);
        assert!((m.rate(now) - 5.0).abs() < 0.15, "{}", m.rate(now));
        m.tick(Duration::from_secs(35), false);
        assert!((m.rate(Duration::from_secs(35)) - 2.5).abs() < 0.15, "{}", m.rate(Duration::from_secs(35)));
    }
}
