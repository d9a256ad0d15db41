//! Multi-object tracker of the ByteTrack family: Kalman motion model, two-stage association, no appearance features.
//!
//! [`ByteTracker::update`] takes one frame's detections and its presentation time and returns the
//! tracked objects; [`ByteTracker::hold`] carries the tracks over a frame the motion gate kept from
//! the detector. Only boxes, scores, classes and time are used: nothing about what people look
//! like is computed or stored, so a track cannot be used to recognise anyone.
//!
//! ```
//! use std::time::Duration;
//! use vigie_core::{BBox, Detection};
//! use vigie_track::{ByteTracker, TrackerConfig};
//!
//! let mut tracker = ByteTracker::new(TrackerConfig::default(), Some(7.0)).unwrap();
//! for frame in 0..3u32 {
//!     let x = 100.0 + 5.0 * frame as f32;
//!     let person = Detection { bbox: BBox::new(x, 50.0, x + 30.0, 130.0), score: 0.85, class_id: 0 };
//!     let tracks = tracker.update(&[person], Duration::from_secs_f64(frame as f64 / 7.0));
//!     assert_eq!(tracks[0].track_id, 1);
//! }
//! // The detector skipped a still frame: tracks are carried over unchanged.
//! assert_eq!(tracker.hold(Duration::from_secs_f64(3.0 / 7.0))[0].track_id, 1);
//! ```

pub mod assign;
mod config;
mod kalman;
mod tracker;

pub use config::{OutputBox, TrackerConfig};
pub use tracker::ByteTracker;
