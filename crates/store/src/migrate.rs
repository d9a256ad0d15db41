//! `vigie.db`'s numbered schema migrations, applied by the house runner ([`vigie_sqlite::migrate`]):
//! `PRAGMA user_version` holds the number of the last one applied; each runs in its own
//! transaction, so a crash mid-upgrade leaves the previous version intact.
//! Never edit a released migration: add the next one (and extend the upgrade test below).

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;

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
    // 4: the sectors a user is assigned to, as a JSON list of sector ids; empty: city-wide.
    r#"
    ALTER TABLE users ADD COLUMN sectors TEXT NOT NULL DEFAULT '[]';
    "#,
    // 5: rules in calibration mode: their alerts are kept apart (never in the operators' queue)
    // and marked right or wrong by a supervisor.
    r#"
    ALTER TABLE alerts ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
    ALTER TABLE alerts ADD COLUMN review TEXT;
    ALTER TABLE alerts ADD COLUMN reviewed_by TEXT;
    ALTER TABLE alerts ADD COLUMN reviewed_at_ms INTEGER;
    ALTER TABLE alerts ADD COLUMN review_note TEXT;
    CREATE INDEX alerts_calibration ON alerts(mode, camera, rule);
    "#,
    // 6: every version of each camera's privacy masks (the file holds the set in force).
    r#"
    CREATE TABLE privacy_mask_sets (
        camera TEXT NOT NULL,
        version INTEGER NOT NULL,
        masks TEXT NOT NULL,
        changed_at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        PRIMARY KEY (camera, version)
    );
    "#,
    // 7: shared work: the operator who holds (works) an alert and since when; both NULL when
    // nobody does. Others' actions on a held alert are refused unless they take it over.
    r#"
    ALTER TABLE alerts ADD COLUMN held_by TEXT;
    ALTER TABLE alerts ADD COLUMN held_at_ms INTEGER;
    "#,
];

pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

impl From<vigie_sqlite::Error> for StoreError {
    fn from(e: vigie_sqlite::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}

/// Opens (creating if needed) the catalogue at `path` and applies the migrations after its
/// `user_version`, in order.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let db = path.display().to_string();
    // WAL + NORMAL: a committed alert survives a process crash, and readers never block the
    // pipeline's inserts. Foreign keys on, 5 s busy timeout: the runner's defaults.
    let mut conn = vigie_sqlite::open(path, &db, &vigie_sqlite::Options::default())?;
    let m = vigie_sqlite::migrate(&mut conn, &db, MIGRATIONS)?;
    if m.applied() > 0 {
        tracing::info!(from = m.from, to = m.to, "catalogue schema migrated");
    }
    Ok(conn)
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
            vigie_sqlite::migrate(&mut c, "old", &MIGRATIONS[..1]).unwrap();
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
            let h1 = crate::audit::entry_hash(
                crate::audit::GENESIS_HASH,
                1,
                vigie_core::UnixMs(5),
                "a",
                "alert.view",
                "old",
                "{}",
            );
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

    /// Moonfire NVR's `upgrade_and_compare`: a catalogue filled at schema 1 and upgraded has
    /// exactly the schema of a fresh one, and its rows survive with the new columns filled in.
    #[test]
    fn an_upgraded_catalogue_equals_a_fresh_one() {
        let mut old = Connection::open_in_memory().unwrap();
        vigie_sqlite::migrate(&mut old, "old", &MIGRATIONS[..1]).unwrap();
        old.execute_batch(
            "INSERT INTO users VALUES (1, 'admin', 'h1', 'admin', 0, 1000), (2, 'ana', 'h2', 'operator', 1, 2000);
             INSERT INTO sessions VALUES ('tok', 1, 'csrf', 3000, 9000);
             INSERT INTO alerts (id, event_type, camera, zone, rule, rule_version, legal_basis, started_at_ms,
                 frame_seq, track_ids, peak_kind, peak_value, model_sha256, state, received_at_ms, updated_at_ms)
             VALUES ('down', 'person_down', 'cam', 'z', 'r', 1, 'law', 1000, 5, '[1]', 'dwell_s', 30.0, 'm', 'new', 1000, 1000),
                    ('tag', 'graffiti', 'cam', 'z', 'r', 2, 'law', 2000, 6, '[2]', 'area', 0.5, 'm', 'confirmed', 2000, 2100),
                    ('odd', 'something_else', 'cam2', 'z', 'r', 1, 'law', 3000, 7, '[]', 'n', 1.0, 'm', 'new', 3000, 3000);
             INSERT INTO decisions (alert_id, action, from_state, to_state, actor, at_ms, reason)
             VALUES ('tag', 'confirm', 'new', 'confirmed', 'ana', 2100, NULL);",
        )
        .unwrap();
        // The chain's hashes do not matter here (the test above verifies a real chain).
        old.execute_batch(
            "INSERT INTO audit VALUES (1, 10, 'admin', 'user.create', 'ana', '{}', 'h0', 'h1'),
                                      (2, 20, 'ana', 'alert.confirm', 'tag', '{}', 'h1', 'h2');",
        )
        .unwrap();

        let m = vigie_sqlite::migrate(&mut old, "old", MIGRATIONS).unwrap();
        assert_eq!((m.from, m.to), (1, latest()));
        let mut fresh = Connection::open_in_memory().unwrap();
        vigie_sqlite::migrate(&mut fresh, "fresh", MIGRATIONS).unwrap();
        let schema = vigie_sqlite::schema_of(&fresh).unwrap();
        assert!(schema.contains("table audit_head") && schema.contains("trigger audit_no_update"), "{schema}");
        assert_eq!(vigie_sqlite::schema_of(&old).unwrap(), schema);

        let q = |sql: &str| -> Vec<String> {
            let mut st = old.prepare(sql).unwrap();
            let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        assert_eq!(
            q("SELECT username || ':' || disabled || ':' || must_change_password || ':' || sectors FROM users ORDER BY id"),
            ["admin:0:0:[]", "ana:1:0:[]"]
        );
        assert_eq!(q("SELECT token_hash || ':' || user_id FROM sessions"), ["tok:1"]);
        assert_eq!(
            q("SELECT id || ':' || urgency || ':' || state || ':' || coalesce(clear_snapshot_path, '-') FROM alerts ORDER BY id"),
            ["down:7:new:-", "odd:0:new:-", "tag:1:confirmed:-"]
        );
        // Alerts raised before calibration existed were all live, none reviewed.
        assert_eq!(
            q("SELECT id || ':' || mode || ':' || coalesce(review, '-') FROM alerts ORDER BY id"),
            ["down:live:-", "odd:live:-", "tag:live:-"]
        );
        // Nobody held an alert before shared work existed.
        assert_eq!(
            q("SELECT id || ':' || coalesce(held_by, '-') || ':' || coalesce(held_at_ms, '-') FROM alerts ORDER BY id"),
            ["down:-:-", "odd:-:-", "tag:-:-"]
        );
        assert_eq!(q("SELECT alert_id || ':' || to_state FROM decisions"), ["tag:confirmed"]);
        assert_eq!(q("SELECT last_seq || ':' || last_hash FROM audit_head"), ["2:h2"]);
        assert_eq!(q("SELECT hash FROM audit ORDER BY seq"), ["h1", "h2"]);
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
