//! The motion gate, as in Frigate: a cheap look at each frame decides whether the detector needs
//! to run at all.
//!
//! The luma plane is shrunk by block averaging (which also removes sensor noise and
//! compression blocking), compared with a slowly updated background, and thresholded into a
//! coarse motion mask; connected moving cells become motion regions. The detector runs when
//! enough of the picture moves, when tracked objects are still moving, and at least every
//! `refresh_s` seconds so that tracks of standing objects are confirmed now and then. A change
//! over most of the picture at once is treated as a lighting change: the background is reset
//! and the detector runs.

use serde::Deserialize;
use std::time::Duration;
use vigie_core::{BBox, ConfigError, Frame, Polygon};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MotionConfig {
    /// Off: the detector runs on every frame (evaluation, benchmarks of accuracy).
    pub enabled: bool,
    /// Width of the analysis picture in pixels (height follows the aspect ratio).
    pub width: usize,
    /// Luma difference (0–255) from the background that counts as change.
    pub threshold: u8,
    /// Fraction of the picture that must change to run the detector.
    pub min_fraction: f32,
    /// Background adaptation rate per frame (0–1).
    pub alpha: f32,
    /// Longest time without running the detector, even in a still scene.
    pub refresh_s: f32,
    /// Above this changed fraction the change is global (lighting, camera gain).
    pub lighting_fraction: f32,
}

impl Default for MotionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            width: 192,
            threshold: 18,
            min_fraction: 0.0015,
            alpha: 0.05,
            refresh_s: 2.0,
            lighting_fraction: 0.6,
        }
    }
}

impl MotionConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(32..=1024).contains(&self.width) {
            return Err(ConfigError::new("width", "must be between 32 and 1024 pixels"));
        }
        if self.threshold == 0 {
            return Err(ConfigError::new("threshold", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.min_fraction) {
            return Err(ConfigError::new("min_fraction", "must be in [0, 1)"));
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(ConfigError::new("alpha", "must be in (0, 1]"));
        }
        if !(self.refresh_s >= 0.0 && self.refresh_s.is_finite()) {
            return Err(ConfigError::new("refresh_s", "must be a non-negative number of seconds"));
        }
        if !(self.lighting_fraction > self.min_fraction && self.lighting_fraction <= 1.0) {
            return Err(ConfigError::new("lighting_fraction", "must be in (min_fraction, 1]"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Disabled,
    FirstFrame,
    Motion,
    MovingTracks,
    Refresh,
    Lighting,
    Still,
}

#[derive(Debug, Clone)]
pub struct MotionResult {
    /// Fraction of the analysis picture that changed.
    pub fraction: f32,
    /// Moving areas in full-frame coordinates.
    pub regions: Vec<BBox>,
    pub run_detector: bool,
    pub reason: Reason,
    /// Whether `regions` can be trusted to show every moving thing: not on the first frame (no
    /// background yet) nor on a lighting change (the background was just reset). Pictures of a
    /// frame without it are pixelated whole.
    pub ready: bool,
}

pub struct MotionGate {
    cfg: MotionConfig,
    small_w: usize,
    small_h: usize,
    block: usize,
    background: Vec<f32>,
    current: Vec<u8>,
    mask: Vec<bool>,
    last_detect: Option<Duration>,
    frame_w: usize,
    frame_h: usize,
    /// Privacy masks: nothing inside them is analysed.
    ignore: Vec<Polygon>,
    /// `ignore` rasterised on the analysis picture.
    ignored: Vec<bool>,
}

/// Motion cells are this many analysis pixels wide, so regions stay few and cheap to label.
const CELL: usize = 8;

impl MotionGate {
    pub fn new(cfg: MotionConfig) -> Self {
        Self {
            cfg,
            small_w: 0,
            small_h: 0,
            block: 1,
            background: Vec::new(),
            current: Vec::new(),
            mask: Vec::new(),
            last_detect: None,
            frame_w: 0,
            frame_h: 0,
            ignore: Vec::new(),
            ignored: Vec::new(),
        }
    }

    /// Areas (full-frame pixels) where motion is ignored: a camera's privacy masks.
    pub fn set_ignore(&mut self, masks: &[Polygon]) {
        self.ignore = masks.to_vec();
        self.rasterise_ignore();
    }

    fn rasterise_ignore(&mut self) {
        self.ignored.clear();
        if self.ignore.is_empty() || self.small_w == 0 {
            return;
        }
        let b = self.block as f32;
        self.ignored = (0..self.small_w * self.small_h)
            .map(|i| {
                let (x, y) = ((i % self.small_w) as f32 * b + b / 2.0, (i / self.small_w) as f32 * b + b / 2.0);
                self.ignore.iter().any(|m| m.contains(x, y))
            })
            .collect();
    }

    fn shrink(&mut self, f: &Frame) {
        if (f.width, f.height) != (self.frame_w, self.frame_h) {
            self.frame_w = f.width;
            self.frame_h = f.height;
            self.block = (f.width / self.cfg.width).max(1);
            self.small_w = f.width / self.block;
            self.small_h = f.height / self.block;
            self.current = vec![0; self.small_w * self.small_h];
            self.background.clear();
            self.rasterise_ignore();
        }
        let b = self.block;
        let area = (b * b) as u32;
        let mut sums = vec![0u32; self.small_w];
        for sy in 0..self.small_h {
            sums.iter_mut().for_each(|s| *s = 0);
            for y in sy * b..sy * b + b {
                let row = &f.y[y * f.width..y * f.width + self.small_w * b];
                for (sx, chunk) in row.chunks_exact(b).enumerate() {
                    sums[sx] += chunk.iter().map(|&v| v as u32).sum::<u32>();
                }
            }
            let row = &mut self.current[sy * self.small_w..(sy + 1) * self.small_w];
            for (c, s) in row.iter_mut().zip(&sums) {
                *c = (s / area) as u8;
            }
        }
    }

    /// Looks at one frame. `tracks_moving`: whether the tracker currently follows objects that
    /// move (their next positions need the detector even if the picture barely changes).
    pub fn update(&mut self, frame: &Frame, tracks_moving: bool) -> MotionResult {
        // Regions are computed even with the gate off: pictures need them to hide people the
        // detector missed.
        self.shrink(frame);
        let now = frame.pts;
        let enabled = self.cfg.enabled;
        let disabled = |mut r: MotionResult| {
            if !enabled {
                r.run_detector = true;
                r.reason = Reason::Disabled;
            }
            r
        };
        if self.background.is_empty() {
            self.background = self.current.iter().map(|&v| v as f32).collect();
            self.last_detect = Some(now);
            return disabled(MotionResult {
                fraction: 0.0,
                regions: Vec::new(),
                run_detector: true,
                reason: Reason::FirstFrame,
                ready: false,
            });
        }
        let thr = self.cfg.threshold as f32;
        self.mask.clear();
        self.mask.extend(self.current.iter().zip(&self.background).map(|(&c, &b)| (c as f32 - b).abs() > thr));
        if !self.ignored.is_empty() {
            for (m, &ig) in self.mask.iter_mut().zip(&self.ignored) {
                *m &= !ig;
            }
        }
        let changed = self.mask.iter().filter(|&&m| m).count();
        let fraction = changed as f32 / self.current.len() as f32;

        let lighting = fraction >= self.cfg.lighting_fraction;
        if lighting {
            for (b, &c) in self.background.iter_mut().zip(&self.current) {
                *b = c as f32;
            }
        } else {
            let a = self.cfg.alpha;
            for (b, &c) in self.background.iter_mut().zip(&self.current) {
                *b += a * (c as f32 - *b);
            }
        }
        let regions = if lighting { Vec::new() } else { self.regions() };
        let due = self.last_detect.is_none_or(|t| now.saturating_sub(t).as_secs_f32() >= self.cfg.refresh_s);
        let reason = if lighting {
            Reason::Lighting
        } else if fraction >= self.cfg.min_fraction && !regions.is_empty() {
            Reason::Motion
        } else if tracks_moving {
            Reason::MovingTracks
        } else if due {
            Reason::Refresh
        } else {
            Reason::Still
        };
        let run_detector = reason != Reason::Still || !enabled;
        if run_detector {
            self.last_detect = Some(now);
        }
        disabled(MotionResult { fraction, regions, run_detector, reason, ready: !lighting })
    }

    /// Groups moving cells into boxes (4-connected components on a coarse grid).
    fn regions(&self) -> Vec<BBox> {
        let cw = self.small_w.div_ceil(CELL);
        let ch = self.small_h.div_ceil(CELL);
        let mut cells = vec![false; cw * ch];
        for cy in 0..ch {
            for cx in 0..cw {
                let mut n = 0;
                let mut tot = 0;
                for y in cy * CELL..((cy + 1) * CELL).min(self.small_h) {
                    for x in cx * CELL..((cx + 1) * CELL).min(self.small_w) {
                        tot += 1;
                        n += self.mask[y * self.small_w + x] as usize;
                    }
                }
                // Two changed pixels in a cell are noise; a walking person fills far more.
                cells[cy * cw + cx] = n * 8 >= tot.max(1);
            }
        }
        let mut seen = vec![false; cells.len()];
        let mut out = Vec::new();
        let scale = (self.block * CELL) as f32;
        for start in 0..cells.len() {
            if !cells[start] || seen[start] {
                continue;
            }
            let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % cw, i / cw);
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
                let mut push = |j: usize| {
                    if cells[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    push(i - 1);
                }
                if x + 1 < cw {
                    push(i + 1);
                }
                if y > 0 {
                    push(i - cw);
                }
                if y + 1 < ch {
                    push(i + cw);
                }
            }
            out.push(
                BBox::new(x0 as f32 * scale, y0 as f32 * scale, (x1 + 1) as f32 * scale, (y1 + 1) as f32 * scale)
                    .clamp(self.frame_w as f32, self.frame_h as f32),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t_ms: u64, square_at: Option<(usize, usize)>, base: u8) -> Frame {
        let mut f = Frame::solid(320, 240, [base, 128, 128]);
        f.pts = Duration::from_millis(t_ms);
        if let Some((x0, y0)) = square_at {
            for y in y0..y0 + 40 {
                for x in x0..x0 + 20 {
                    f.y[y * 320 + x] = 220;
                }
            }
        }
        f
    }

    fn gate() -> MotionGate {
        MotionGate::new(MotionConfig { width: 160, refresh_s: 1.0, ..Default::default() })
    }

    #[test]
    fn still_scene_skips_detector_until_refresh() {
        let mut g = gate();
        assert_eq!(g.update(&frame(0, None, 80), false).reason, Reason::FirstFrame);
        let r = g.update(&frame(100, None, 80), false);
        assert!(!r.run_detector && r.reason == Reason::Still);
        assert_eq!(g.update(&frame(1100, None, 80), false).reason, Reason::Refresh);
        assert!(!g.update(&frame(1200, None, 80), false).run_detector);
        assert_eq!(g.update(&frame(1300, None, 80), true).reason, Reason::MovingTracks);
    }

    #[test]
    fn moving_object_runs_detector_with_a_region_around_it() {
        let mut g = gate();
        g.update(&frame(0, None, 80), false);
        let r = g.update(&frame(100, Some((100, 60)), 80), false);
        assert!(r.run_detector);
        assert_eq!(r.reason, Reason::Motion);
        assert_eq!(r.regions.len(), 1);
        let b = r.regions[0];
        assert!(b.x1 <= 100.0 && b.x2 >= 120.0 && b.y1 <= 60.0 && b.y2 >= 100.0, "{b:?}");
        assert!(b.width() < 80.0, "region stays local: {b:?}");
    }

    #[test]
    fn global_brightness_change_is_lighting_not_motion() {
        let mut g = gate();
        g.update(&frame(0, None, 80), false);
        let r = g.update(&frame(100, None, 140), false);
        assert_eq!(r.reason, Reason::Lighting);
        assert!(r.regions.is_empty());
        // The background took the new level at once: the next frame is still.
        assert_eq!(g.update(&frame(200, None, 140), false).reason, Reason::Still);
    }

    #[test]
    fn motion_inside_an_ignored_area_is_not_seen_and_readiness_is_reported() {
        let mut g = gate();
        g.set_ignore(&[Polygon::new(vec![(80.0, 40.0), (160.0, 40.0), (160.0, 120.0), (80.0, 120.0)])]);
        assert!(!g.update(&frame(0, None, 80), false).ready, "no background on the first frame");
        let r = g.update(&frame(100, Some((100, 60)), 80), false);
        assert!(r.ready && r.regions.is_empty(), "{r:?}");
        let r = g.update(&frame(200, Some((220, 60)), 80), false);
        assert_eq!(r.regions.len(), 1, "outside the mask: seen");
        assert!(!g.update(&frame(300, None, 160), false).ready, "lighting change: not ready");
    }

    #[test]
    fn disabled_gate_still_finds_regions_for_pictures() {
        let mut g = MotionGate::new(MotionConfig { enabled: false, width: 160, ..Default::default() });
        g.update(&frame(0, None, 80), false);
        let r = g.update(&frame(100, Some((100, 60)), 80), false);
        assert!(r.run_detector && r.reason == Reason::Disabled && r.ready);
        assert_eq!(r.regions.len(), 1);
    }

    #[test]
    fn disabled_gate_always_runs_and_config_is_checked() {
        let mut g = MotionGate::new(MotionConfig { enabled: false, ..Default::default() });
        assert!(g.update(&frame(0, None, 80), false).run_detector);
        let bad = MotionConfig { alpha: 0.0, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().key, "alpha");
    }
}
