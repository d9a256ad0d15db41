//! The migration runner on a scratch schema: versions, refusal of a newer database, and an
//! interrupted upgrade.

use rusqlite::Connection;
use vigie_sqlite::{migrate, open, schema_of, user_version, Error, Migrated, Options, Synchronous};

const SCRATCH: &[&str] = &[
    "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    "ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'grey';
     CREATE INDEX things_colour ON things (colour);",
];

#[test]
fn applies_only_the_missing_migrations() {
    let mut c = Connection::open_in_memory().unwrap();
    assert_eq!(migrate(&mut c, "t.db", &SCRATCH[..1]).unwrap(), Migrated { from: 0, to: 1 });
    c.execute("INSERT INTO things (name) VALUES ('a')", []).unwrap();
    let m = migrate(&mut c, "t.db", SCRATCH).unwrap();
    assert_eq!((m, m.applied()), (Migrated { from: 1, to: 2 }, 1));
    assert_eq!(migrate(&mut c, "t.db", SCRATCH).unwrap().applied(), 0);
    assert_eq!(user_version(&c).unwrap(), 2);
    let colour: String = c.query_row("SELECT colour FROM things WHERE name = 'a'", [], |r| r.get(0)).unwrap();
    assert_eq!(colour, "grey");
}

#[test]
fn a_database_newer_than_the_program_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let mut c = open(&path, "t.db", &Options::default()).unwrap();
    let e = migrate(&mut c, "t.db", SCRATCH).unwrap_err();
    assert!(matches!(e, Error::TooNew { found: 99, known: 2, .. }), "{e:?}");
    assert_eq!(e.to_string(), "t.db has schema version 99, newer than this program knows (2); upgrade Vigie");
    assert_eq!(user_version(&c).unwrap(), 99);
    assert_eq!(schema_of(&c).unwrap(), "");
}

#[test]
fn an_interrupted_upgrade_leaves_the_previous_version_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let broken: &[&str] = &[
        SCRATCH[0],
        SCRATCH[1],
        // The first statement succeeds, the second fails: the transaction must undo both.
        "CREATE TABLE later (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1);",
    ];
    {
        let mut c = open(&path, "t.db", &Options::default()).unwrap();
        migrate(&mut c, "t.db", &SCRATCH[..1]).unwrap();
        c.execute("INSERT INTO things (name) VALUES ('kept')", []).unwrap();
        let e = migrate(&mut c, "t.db", broken).unwrap_err();
        assert!(matches!(e, Error::Migration { version: 3, .. }), "{e:?}");
        assert!(e.to_string().starts_with("t.db: schema migration 3 failed: "), "{e}");
    }
    // Reopened as after a crash: migration 2 stuck, migration 3 left no trace.
    let mut c = open(&path, "t.db", &Options::default()).unwrap();
    assert_eq!(user_version(&c).unwrap(), 2);
    let mut fresh = Connection::open_in_memory().unwrap();
    migrate(&mut fresh, "fresh", SCRATCH).unwrap();
    assert_eq!(schema_of(&c).unwrap(), schema_of(&fresh).unwrap());
    let n: i64 = c.query_row("SELECT count(*) FROM things WHERE name = 'kept'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    // The fixed list picks up where the broken one stopped.
    let fixed: &[&str] = &[SCRATCH[0], SCRATCH[1], "CREATE TABLE later (id INTEGER PRIMARY KEY);"];
    assert_eq!(migrate(&mut c, "t.db", fixed).unwrap(), Migrated { from: 2, to: 3 });
}

#[test]
fn schema_of_sees_column_and_index_differences() {
    let mut a = Connection::open_in_memory().unwrap();
    migrate(&mut a, "a", SCRATCH).unwrap();
    let s = schema_of(&a).unwrap();
    assert!(s.contains("index things_colour on things: CREATE INDEX things_colour ON things (colour)"), "{s}");
    assert!(s.contains("column colour TEXT notnull=1 default='grey' pk=0"), "{s}");
    let mut b = Connection::open_in_memory().unwrap();
    migrate(&mut b, "b", &SCRATCH[..1]).unwrap();
    b.execute_batch("ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'grey';").unwrap();
    assert_ne!(schema_of(&b).unwrap(), s, "the missing index must show");
    b.execute_batch("CREATE INDEX things_colour\n        ON things (colour);").unwrap();
    assert_eq!(schema_of(&b).unwrap(), s, "whitespace differences do not count");
}

#[test]
fn open_sets_the_requested_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let o = Options {
        synchronous: Synchronous::Full,
        foreign_keys: false,
        busy_timeout: std::time::Duration::from_secs(10),
        cache_kib: Some(65536),
        temp_store_memory: true,
    };
    let c = open(&path, "t.db", &o).unwrap();
    let q = |p: &str| c.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, rusqlite::types::Value>(0)).unwrap();
    use rusqlite::types::Value::{Integer, Text};
    assert_eq!(q("journal_mode"), Text("wal".into()));
    assert_eq!(q("synchronous"), Integer(2));
    assert_eq!(q("foreign_keys"), Integer(0));
    assert_eq!(q("busy_timeout"), Integer(10_000));
    assert_eq!(q("cache_size"), Integer(-65536));
    assert_eq!(q("temp_store"), Integer(2));
    let d = open(&dir.path().join("d.db"), "d.db", &Options::default()).unwrap();
    let q = |p: &str| d.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!((q("synchronous"), q("foreign_keys"), q("busy_timeout")), (1, 1, 5000));
}
