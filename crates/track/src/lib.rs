//! Multi-object tracker of the ByteTrack family: Kalman motion model, two-stage association, no appearance features.
