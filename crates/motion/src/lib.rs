//! Motion gate: cheap per-frame motion measure that lets the detector skip still frames.
