//! Numbered schema migrations. `PRAGMA user_version` holds the number of the last one applied;
//! each runs in its own transaction, so a crash mid-upgrade leaves the previous version intact.
//! Never edit a released migration: add the next one.

use crate::{Db, Result, StoreError};
use rusqlite::Connection;

/// Index `i` holds migration number `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: users, sessions, audit trail, alerts and decisions.
    r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf_token TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        event_type TEXT NOT NULL,
        camera TEXT NOT NULL,
        zone TEXT NOT NULL,
        rule TEXT NOT NULL,
        rule_version INTEGER NOT NULL,
        legal_basis TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER,
        frame_seq INTEGER NOT NULL,
        track_ids TEXT NOT NULL,
        peak_kind TEXT NOT NULL,
        peak_value REAL NOT NULL,
        region TEXT,
        model_sha256 TEXT NOT NULL,
        snapshot_path TEXT,
        state TEXT NOT NULL DEFAULT 'new',
        received_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
    );
    CREATE INDEX alerts_started ON alerts(started_at_ms);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts(id),
        action TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        reason TEXT,
        text TEXT
    );
    CREATE INDEX decisions_alert ON decisions(alert_id);
    "#,
    // 2: unblurred evidence for unmasking, urgency for queue order, a head record so that
    // deleting the newest audit entries is detected.
    r#"
    ALTER TABLE alerts ADD COLUMN clear_snapshot_path TEXT;
    ALTER TABLE alerts ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0;
    UPDATE alerts SET urgency = CASE event_type
        WHEN 'person_down' THEN 7
        WHEN 'intrusion' THEN 6
        WHEN 'vehicle_in_pedestrian_zone' THEN 5
        WHEN 'crowd' THEN 4
        WHEN 'wrong_way' THEN 3
        WHEN 'abandoned_object' THEN 2
        WHEN 'graffiti' THEN 1
        ELSE 0 END;
    CREATE INDEX alerts_queue ON alerts(state, urgency, started_at_ms);
    CREATE TABLE unmask_grants (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts(id),
        username TEXT NOT NULL,
        reason TEXT NOT NULL,
        granted_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );
    CREATE INDEX unmask_alert ON unmask_grants(alert_id, username);
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL,
        last_hash TEXT NOT NULL
    );
    INSERT INTO audit_head (id, last_seq, last_hash) SELECT 1, seq, hash FROM audit ORDER BY seq DESC LIMIT 1;
    "#,
    // 3: passwords someone else chose (the generated first one, an administrator's reset) are
    // temporary: their holder must set their own before doing anything else.
    r#"
    ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
    "#,
];

pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Applies the migrations after the database's `user_version`, in order.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, latest())
}

/// Applies migrations up to `target` (tests use it to build an old database).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).db()?;
    if current > latest() {
        return Err(StoreError::Internal(format!(
            "the catalogue has schema version {current} but this vigie knows only up to {}: use a newer vigie",
            latest()
        )));
    }
    for v in current + 1..=target.min(latest()) {
        let tx = conn.transaction().db()?;
        tx.execute_batch(MIGRATIONS[v as usize - 1])
            .map_err(|e| StoreError::Internal(format!("schema migration {v} failed: {e}")))?;
        tx.pragma_update(None, "user_version", v).db()?;
        tx.commit().db()?;
        tracing::info!(version = v, "catalogue schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use std::sync::Arc;

    /// A catalogue written by the first release (schema 1) is upgraded in place: alerts gain an
    /// urgency, the audit trail gains a head record and still verifies, nothing is lost.
    #[test]
    fn upgrades_a_version_1_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut c = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
            migrate_to(&mut c, 1).unwrap();
            assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0)).unwrap(), 1);
            c.execute_batch(
                "INSERT INTO alerts (id, event_type, camera, zone, rule, rule_version, legal_basis, started_at_ms, \
                 frame_seq, track_ids, peak_kind, peak_value, model_sha256, state, received_at_ms, updated_at_ms) \
                 VALUES ('old', 'person_down', 'cam', 'z', 'r', 1, 'law', 1000, 5, '[1]', 'dwell_s', 30.0, 'm', \
                 'confirmed', 1000, 1000);",
            )
            .unwrap();
            let tx = c.transaction().unwrap();
            // v1 had no head table: write the chain by hand as v1 did.
            let h1 = crate::audit::entry_hash(crate::audit::GENESIS_HASH, 1, 5, "a", "alert.view", "old", "{}");
            tx.execute(
                "INSERT INTO audit VALUES (1, 5, 'a', 'alert.view', 'old', '{}', ?1, ?2)",
                [crate::audit::GENESIS_HASH, h1.as_str()],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let s = Store::open(dir.path(), Arc::new(vigie_core::SystemClock::default())).unwrap();
        assert_eq!(s.schema_version().unwrap(), latest());
        let a = s.alert("old").unwrap();
        assert_eq!(a.urgency, 7);
        assert_eq!(a.state, crate::AlertState::Confirmed);
        assert!(!a.has_clear_snapshot);
        assert_eq!(s.verify_audit().unwrap().unwrap().entries, 1);
        s.record("b", vigie_core::AuditAction::AlertView, "old", &serde_json::json!({})).unwrap();
        assert_eq!(s.verify_audit().unwrap().unwrap().entries, 2);
    }

    #[test]
    fn refuses_a_catalogue_from_the_future() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let e = Store::open(dir.path(), Arc::new(vigie_core::SystemClock::default())).unwrap_err();
        assert!(e.to_string().contains("schema version 99"), "{e}");
    }
}
