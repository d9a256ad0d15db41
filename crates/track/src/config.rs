use serde::Deserialize;
use vigie_core::ConfigError;

/// Which box a reported track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputBox {
    /// Kalman state after the update: smoother, lags a little on sudden stops.
    #[default]
    Filtered,
    /// The box of the detection matched in this frame (the prediction when none was).
    Detection,
}

/// Tracker settings. The association rules are ByteTrack's; the defaults differ from its MOT17
/// settings where the YOLOX-Nano detector and low frame rates call for it (measured with
/// `examples/track_dets.rs` on PETS09-S2L1 at 7 fps and on synthetic 7 fps scenes):
/// - `high_thresh` 0.6 / `new_track_thresh` 0.7 (ByteTrack 0.5 / 0.6): YOLOX-Nano scores people it
///   sees well at 0.7–0.9, while its steady false positives (a sign post taken for a person) sit
///   at 0.5–0.6 and would otherwise be tracked for the whole video;
/// - `match_iou` 0.1 (ByteTrack 0.2): at 7 fps a walker moves a quarter of their width per frame and
///   a stricter overlap splits tracks after every short occlusion;
/// - `lost_buffer_s` 6 s and `output_lost_max_frames` 2: people hidden by one another for a few
///   seconds keep their identity, and a two-frame gap (a lamp post) is bridged in the output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Detections scoring at least this take part in the first association and may start tracks.
    pub high_thresh: f32,
    /// Detections scoring in `[low_thresh, high_thresh)` only extend tracks already followed (second association).
    pub low_thresh: f32,
    /// Minimum score of an unmatched high detection to start a new track.
    pub new_track_thresh: f32,
    /// Minimum IoU (IoU × score with `fuse_score`) for the first association (ByteTrack's
    /// `match_thresh` 0.8 on the 1 − IoU cost is 0.2 here).
    pub match_iou: f32,
    /// Minimum IoU for the second association (low-score detections against tracks still followed).
    pub second_match_iou: f32,
    /// Minimum IoU (× score with `fuse_score`) to confirm a track seen once.
    pub unconfirmed_match_iou: f32,
    /// How long a track that lost its detection is kept for re-association, in seconds.
    pub lost_buffer_s: f64,
    /// Number of matched frames before a new track is reported (every track is confirmed at once
    /// on the very first frame the tracker sees, as in ByteTrack).
    pub min_hits_to_confirm: u32,
    /// Multiply IoU by the detection score in the first association and for unconfirmed tracks.
    pub fuse_score: bool,
    /// Also report a confirmed track whose detection is missing, at its predicted box, for up to
    /// this many frames after its last match (0: only tracks matched in the frame).
    pub output_lost_max_frames: u32,
    pub output_box: OutputBox,
    /// Sets of class ids that may associate with one another (a detector often flips car/truck);
    /// a class in no group only associates with itself.
    pub class_groups: Vec<Vec<u16>>,
    /// Detections of classes in the same group that overlap by more than this IoU are one object
    /// seen twice (class-aware NMS keeps both): only the highest-scoring one is kept. 1 disables.
    pub group_nms_iou: f32,
    /// Detections with a smaller area (px²) are ignored.
    pub min_box_area: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_thresh: 0.6,
            low_thresh: 0.1,
            new_track_thresh: 0.7,
            match_iou: 0.1,
            second_match_iou: 0.5,
            unconfirmed_match_iou: 0.3,
            lost_buffer_s: 6.0,
            min_hits_to_confirm: 2,
            fuse_score: true,
            output_lost_max_frames: 2,
            output_box: OutputBox::Filtered,
            class_groups: vec![vec![2, 5, 7]],
            group_nms_iou: 0.7,
            min_box_area: 10.0,
        }
    }
}

fn in_unit(v: f32) -> bool {
    v > 0.0 && v <= 1.0
}

impl TrackerConfig {
    /// Checks every key; the error names the first one at fault (relative to this section).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !in_unit(self.high_thresh) {
            return Err(ConfigError::new("high_thresh", format!("must be in (0,1], got {}", self.high_thresh)));
        }
        if !(self.low_thresh >= 0.0 && self.low_thresh <= self.high_thresh) {
            return Err(ConfigError::new(
                "low_thresh",
                format!("must be in [0,high_thresh={}], got {}", self.high_thresh, self.low_thresh),
            ));
        }
        if !(self.new_track_thresh >= self.high_thresh && self.new_track_thresh <= 1.0) {
            return Err(ConfigError::new(
                "new_track_thresh",
                format!(
                    "must be in [high_thresh={},1] (only high detections start tracks), got {}",
                    self.high_thresh, self.new_track_thresh
                ),
            ));
        }
        for (key, v) in [
            ("match_iou", self.match_iou),
            ("second_match_iou", self.second_match_iou),
            ("unconfirmed_match_iou", self.unconfirmed_match_iou),
            ("group_nms_iou", self.group_nms_iou),
        ] {
            if !in_unit(v) {
                return Err(ConfigError::new(key, format!("must be in (0,1], got {v}")));
            }
        }
        if !(self.lost_buffer_s >= 0.0 && self.lost_buffer_s <= 3600.0) {
            return Err(ConfigError::new(
                "lost_buffer_s",
                format!("must be in [0,3600] seconds, got {}", self.lost_buffer_s),
            ));
        }
        if self.min_hits_to_confirm == 0 {
            return Err(ConfigError::new("min_hits_to_confirm", "must be at least 1"));
        }
        if !(self.min_box_area >= 0.0 && self.min_box_area.is_finite()) {
            return Err(ConfigError::new(
                "min_box_area",
                format!("must be a finite area >= 0 px², got {}", self.min_box_area),
            ));
        }
        let mut seen: Vec<(u16, usize)> = Vec::new();
        for (g, group) in self.class_groups.iter().enumerate() {
            let key = format!("class_groups[{g}]");
            if group.is_empty() {
                return Err(ConfigError::new(key, "must list at least one class id"));
            }
            for &c in group {
                if let Some(&(_, first)) = seen.iter().find(|(s, _)| *s == c) {
                    let msg = if first == g {
                        format!("lists class {c} twice")
                    } else {
                        format!("class {c} is already in class_groups[{first}]")
                    };
                    return Err(ConfigError::new(key, msg));
                }
                seen.push((c, g));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        TrackerConfig::default().validate().unwrap();
    }

    fn err(cfg: TrackerConfig) -> ConfigError {
        cfg.validate().unwrap_err()
    }

    #[test]
    fn validation_names_the_key() {
        let d = TrackerConfig::default;
        let e = err(TrackerConfig { high_thresh: 0.0, ..d() });
        assert_eq!(e.to_string(), "high_thresh: must be in (0,1], got 0");
        assert_eq!(e.key, "high_thresh");
        assert!(e.message.contains("(0,1]"), "{e}");
        assert_eq!(err(TrackerConfig { high_thresh: f32::NAN, ..d() }).key, "high_thresh");
        assert_eq!(err(TrackerConfig { low_thresh: 0.7, ..d() }).key, "low_thresh");
        assert_eq!(err(TrackerConfig { new_track_thresh: 0.5, ..d() }).key, "new_track_thresh");
        assert_eq!(err(TrackerConfig { match_iou: 0.0, ..d() }).key, "match_iou");
        assert_eq!(err(TrackerConfig { second_match_iou: 1.5, ..d() }).key, "second_match_iou");
        assert_eq!(err(TrackerConfig { unconfirmed_match_iou: -0.1, ..d() }).key, "unconfirmed_match_iou");
        assert_eq!(err(TrackerConfig { group_nms_iou: 0.0, ..d() }).key, "group_nms_iou");
        assert_eq!(err(TrackerConfig { lost_buffer_s: -1.0, ..d() }).key, "lost_buffer_s");
        assert_eq!(err(TrackerConfig { lost_buffer_s: f64::INFINITY, ..d() }).key, "lost_buffer_s");
        assert_eq!(err(TrackerConfig { min_hits_to_confirm: 0, ..d() }).key, "min_hits_to_confirm");
        assert_eq!(err(TrackerConfig { min_box_area: f32::NAN, ..d() }).key, "min_box_area");
        let e = err(TrackerConfig { class_groups: vec![vec![2, 5], vec![7, 5]], ..d() });
        assert_eq!(e.key, "class_groups[1]");
        assert!(e.message.contains("class 5 is already in class_groups[0]"), "{e}");
        assert_eq!(err(TrackerConfig { class_groups: vec![vec![]], ..d() }).key, "class_groups[0]");
        let e = err(TrackerConfig { class_groups: vec![vec![3, 3]], ..d() });
        assert!(e.message.contains("twice"), "{e}");
    }

    #[test]
    fn parses_toml_with_defaults_and_rejects_unknown_keys() {
        let cfg: TrackerConfig = toml::from_str(
            "high_thresh = 0.55\nnew_track_thresh = 0.65\noutput_box = \"detection\"\nclass_groups = [[1, 3]]",
        )
        .unwrap();
        assert_eq!((cfg.high_thresh, cfg.new_track_thresh), (0.55, 0.65));
        assert_eq!(cfg.output_box, OutputBox::Detection);
        assert_eq!(cfg.class_groups, vec![vec![1, 3]]);
        assert_eq!(cfg.low_thresh, TrackerConfig::default().low_thresh);
        cfg.validate().unwrap();
        let e = toml::from_str::<TrackerConfig>("track_buffer = 30").unwrap_err();
        assert!(e.to_string().contains("track_buffer"), "{e}");
        assert!(toml::from_str::<TrackerConfig>("output_box = \"kalman\"").is_err());
    }
}
