//! Footage archive: fragmented-MP4 segments, retention with proof of deletion, track index and search.
