//! Operator console and JSON API (axum): live alerts, decisions, camera wall, audit, reports.
