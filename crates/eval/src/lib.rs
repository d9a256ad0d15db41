//! Tracking metrics: MOTChallenge CLEAR (MOTA, MOTP), identity (IDF1) and HOTA.
