//! Catalogue: users, sessions, alerts and their decisions, hash-chained audit trail (SQLite).
