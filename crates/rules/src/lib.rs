//! Zones, rules and scene models that turn tracked objects into events.
