//! The catalogue commands (`init`, `user`, `audit`) against a real catalogue in a temporary
//! directory, with what they print.

use super::audit::{self, AuditArgs, AuditCommand};
use super::init::{self, InitArgs};
use super::user::{self, UserArgs, UserCommand};
use std::sync::Arc;
use vigie_core::{SimClock, UnixMs};
use vigie_store::*;

const T0_MS: i64 = 1_750_000_000_000;

fn setup() -> (tempfile::TempDir, SimClock, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Store::open(dir.path(), Arc::new(clock.clone())).unwrap();
    (dir, clock, store)
}

fn raw(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(DB_FILE)).unwrap()
}

fn fill_audit(s: &Store, n: usize) {
    for i in 0..n {
        s.record("alice", vigie_core::AuditAction::AlertView, &format!("a{i}"), &serde_json::json!({"i": i})).unwrap();
    }
}

fn verify(s: &Store) -> Result<AuditSummary, AuditBreak> {
    s.verify_audit().unwrap()
}

fn tamper(dir: &std::path::Path, sql: &str) {
    let c = raw(dir);
    c.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    c.execute_batch(sql).unwrap();
}

fn entry(s: &Store, seq: i64) -> AuditEntry {
    s.audit_entries(&AuditQuery { limit: 10_000, ..Default::default() })
        .unwrap()
        .into_iter()
        .find(|e| e.seq == seq)
        .unwrap()
}

/// Deletes entries after `keep` and rewinds the head record to match: the database alone then
/// looks intact.
fn truncate_and_rewind(dir: &std::path::Path, s: &Store, keep: i64) {
    let last = entry(s, keep);
    tamper(
        dir,
        &format!(
            "DELETE FROM audit WHERE seq > {keep}; UPDATE audit_head SET last_seq = {keep}, last_hash = '{}'",
            last.hash
        ),
    );
}

fn verify_cli(data: &std::path::Path, checkpoints: &[&std::path::Path], key: Option<&str>) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let command = AuditCommand::Verify {
        data: data.to_path_buf(),
        checkpoint: checkpoints.iter().map(|p| p.to_path_buf()).collect(),
        public_key: key.map(String::from),
    };
    audit::run_with(AuditArgs { command }, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

fn checkpoint_cli(data: &std::path::Path, out_file: &std::path::Path) -> String {
    let mut out = Vec::new();
    let command = AuditCommand::Checkpoint { data: data.to_path_buf(), out: Some(out_file.to_path_buf()) };
    audit::run_with(AuditArgs { command }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_checkpoint_detects_truncation_with_a_rewound_head() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 6);
    let kept = dir.path().join("auditor-copy.json");
    let printed = checkpoint_cli(dir.path(), &kept);
    let head6 = entry(&s, 6).hash;
    assert!(printed.contains(&format!("seq 6 head hash {head6}")), "{printed}");
    // The node keeps its own copy too.
    assert_eq!(std::fs::read_dir(dir.path().join(checkpoint::CHECKPOINT_DIR)).unwrap().count(), 1);
    fill_audit(&s, 2);
    // Untouched (and grown since): passes.
    let ok = verify_cli(dir.path(), &[&kept], None).unwrap();
    assert!(ok.contains("audit trail intact: 8 entries") && ok.contains("seq 6"), "{ok}");

    truncate_and_rewind(dir.path(), &s, 4);
    assert_eq!(verify(&s).unwrap().entries, 4, "the database alone cannot tell");
    let err = format!("{:#}", verify_cli(dir.path(), &[&kept], None).unwrap_err());
    assert!(
        err.contains(&format!("chain truncated: checkpoint at seq 6 hash {head6}, database head at seq 4")),
        "{err}"
    );
    assert!(err.contains("auditor-copy.json"), "{err}");

    // Truncated, then refilled past the checkpoint through the normal path: entry 6 differs.
    fill_audit(&s, 3);
    assert_eq!(verify(&s).unwrap().entries, 7);
    let err = format!("{:#}", verify_cli(dir.path(), &[&kept], None).unwrap_err());
    assert!(
        err.contains(&format!("chain rewritten: checkpoint at seq 6 hash {head6}, database entry 6 has hash")),
        "{err}"
    );
}

#[test]
fn a_checkpoint_with_a_bad_signature_or_key_is_refused() {
    let (dir, _c, s) = setup();
    fill_audit(&s, 3);
    let kept = dir.path().join("cp.json");
    checkpoint_cli(dir.path(), &kept);
    let public = std::fs::read_to_string(dir.path().join(checkpoint::PUBLIC_KEY_FILE)).unwrap();
    let mut key_out = Vec::new();
    audit::run_with(AuditArgs { command: AuditCommand::PublicKey { data: dir.path().into() } }, &mut key_out).unwrap();
    assert_eq!(String::from_utf8(key_out).unwrap(), public, "the printed key is the exported one");
    verify_cli(dir.path(), &[&kept], Some(public.trim())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(checkpoint::KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is owner-only");
    }

    // Claiming an older head (to cover a truncation) breaks the signature.
    let mut cp: Checkpoint = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    cp.seq = 2;
    cp.head_hash = entry(&s, 2).hash;
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string(&cp).unwrap()).unwrap();
    let err = format!("{:#}", verify_cli(dir.path(), &[&edited], None).unwrap_err());
    assert!(err.contains("checkpoint signature is not valid") && err.contains("edited.json"), "{err}");

    // A well-signed checkpoint from another key (an attacker's) against the auditor's pinned key.
    let other = tempfile::tempdir().unwrap();
    let mallory = NodeKey::load_or_create(other.path()).unwrap();
    let forged = mallory.sign(2, &entry(&s, 2).hash, vigie_core::UnixMs(T0_MS));
    forged.verify_signature(None).unwrap();
    let forged_file = dir.path().join("forged.json");
    std::fs::write(&forged_file, serde_json::to_string(&forged).unwrap()).unwrap();
    let err = format!("{:#}", verify_cli(dir.path(), &[&forged_file], Some(public.trim())).unwrap_err());
    assert!(err.contains(&format!("not by the trusted key {}", public.trim())), "{err}");
    // Without --public-key, the node's own exported key is the reference.
    let err = format!("{:#}", verify_cli(dir.path(), &[&forged_file], None).unwrap_err());
    assert!(err.contains("not by the trusted key"), "{err}");

    // Garbage is named.
    std::fs::write(&edited, "{\"seq\": 1}").unwrap();
    let err = format!("{:#}", verify_cli(dir.path(), &[&edited], None).unwrap_err());
    assert!(err.contains("edited.json") && err.contains("not a checkpoint"), "{err}");
}

#[test]
fn cli_manages_users_and_verifies_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let mut out = Vec::new();
    init::run_with(InitArgs { data: data.clone(), admin: "root".into() }, &mut &b"first admin pw\n"[..], &mut out)
        .unwrap();
    let again =
        init::run_with(InitArgs { data: data.clone(), admin: "x".into() }, &mut &b"first admin pw\n"[..], &mut out);
    assert!(again.unwrap_err().to_string().contains("already initialised"));
    let add = |role: &str, name: &str, pw: &[u8]| {
        let mut out = Vec::new();
        user::run_with(
            UserArgs {
                command: UserCommand::Add {
                    data: data.clone(),
                    role: role.into(),
                    temporary: false,
                    sectors: vec![],
                    config: None,
                    name: name.into(),
                },
            },
            &mut &pw[..],
            &mut out,
        )
    };
    add("operator", "olive", b"operator password\n").unwrap();
    assert!(add("operator", "short", b"abc\n").unwrap_err().to_string().contains("too short"));
    assert!(add("operator", "empty", b"").unwrap_err().to_string().contains("no password on standard input"));
    assert!(add("wizard", "w", b"long enough pw\n").unwrap_err().to_string().contains("unknown role"));
    user::run_with(
        UserArgs { command: UserCommand::Passwd { data: data.clone(), temporary: false, name: "olive".into() } },
        &mut &b"a new operator pw\r\n"[..],
        &mut out,
    )
    .unwrap();
    user::run_with(
        UserArgs { command: UserCommand::Disable { data: data.clone(), name: "olive".into() } },
        &mut &b""[..],
        &mut out,
    )
    .unwrap();
    let missing = dir.path().join("missing");
    let e = user::run_with(
        UserArgs { command: UserCommand::Disable { data: missing.clone(), name: "x".into() } },
        &mut &b""[..],
        &mut out,
    );
    assert!(e.unwrap_err().to_string().contains("no Vigie catalogue"));
    assert!(!missing.exists(), "a mistyped --data must not create a catalogue");
    {
        let s = Store::open(&data, Arc::new(vigie_core::SystemClock::default())).unwrap();
        assert!(matches!(
            s.authenticate("olive", "a new operator pw").unwrap(),
            LoginOutcome::Failed { reason: "account disabled" }
        ));
        assert!(
            matches!(s.authenticate("root", "first admin pw").unwrap(), LoginOutcome::Ok(u) if u.role == Role::Admin)
        );
        let actions: Vec<String> = s
            .audit_entries(&AuditQuery { limit: 10, ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["user.disable", "user.passwd", "user.add", "user.add"]);
    }
    let mut out = Vec::new();
    audit::run_with(
        AuditArgs { command: AuditCommand::Verify { data: data.clone(), checkpoint: vec![], public_key: None } },
        &mut out,
    )
    .unwrap();
    assert!(String::from_utf8(out).unwrap().starts_with("audit trail intact: 4 entries"));
    tamper(&data, "UPDATE audit SET actor = 'nobody' WHERE seq = 2");
    let verify = AuditCommand::Verify { data, checkpoint: vec![], public_key: None };
    let err = audit::run_with(AuditArgs { command: verify }, &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "audit trail broken at entry 2: edited: its content no longer matches its hash");
}

/// `vigie user add|set --sector`: names checked against the config's `[[sectors]]` before
/// anything is written, the assignment audited, `--city-wide` to undo it.
#[test]
fn cli_assigns_sectors_checked_against_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, "[[sectors]]\nid = \"centre\"\nname = \"Centre-ville\"\n[[sectors]]\nid = \"gare\"\n")
        .unwrap();
    let run = |command: UserCommand, input: &[u8]| -> anyhow::Result<String> {
        let mut out = Vec::new();
        user::run_with(UserArgs { command }, &mut &input[..], &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    };
    let add = |name: &str, sectors: &[&str], config: Option<&std::path::Path>| UserCommand::Add {
        data: data.clone(),
        role: "operator".into(),
        temporary: false,
        sectors: sectors.iter().map(|s| s.to_string()).collect(),
        config: config.map(|c| c.to_path_buf()),
        name: name.into(),
    };
    let set = |name: &str, sectors: &[&str], city_wide: bool| UserCommand::Set {
        data: data.clone(),
        config: config.clone(),
        sectors: sectors.iter().map(|s| s.to_string()).collect(),
        city_wide,
        name: name.into(),
    };
    let out = run(add("olive", &["gare", "centre"], Some(&config)), b"operator password\n").unwrap();
    assert_eq!(out, "user 'olive' added with role operator, sees the cameras of sector(s) centre, gare\n");
    // Refusals name what is wrong and create nothing.
    let e = run(add("paul", &["plage"], Some(&config)), b"operator password\n").unwrap_err().to_string();
    assert_eq!(
        e,
        format!("config {}: sector: unknown sector 'plage': declared sectors are centre, gare", config.display())
    );
    let e = run(add("paul", &["centre"], None), b"operator password\n").unwrap_err().to_string();
    assert!(e.contains("--sector needs --config FILE"), "{e}");
    let e = run(add("paul", &["a b"], Some(&config)), b"operator password\n").unwrap_err().to_string();
    assert!(e.contains("invalid id 'a b'"), "{e}");
    let store = || Store::open(&data, Arc::new(vigie_core::SystemClock::default())).unwrap();
    assert!(store().user("paul").is_err(), "a refused user was created");

    assert_eq!(
        run(set("olive", &["centre"], false), b"").unwrap(),
        "user 'olive', sees the cameras of sector(s) centre\n"
    );
    let e = run(set("olive", &["centre", "plage"], false), b"").unwrap_err().to_string();
    assert!(e.contains("unknown sector 'plage'"), "{e}");
    assert_eq!(store().user("olive").unwrap().sectors, ["centre"], "a refusal changed the user");
    let e = run(set("nobody", &["centre"], false), b"").unwrap_err().to_string();
    assert!(e.contains("no user 'nobody'"), "{e}");
    assert_eq!(run(set("olive", &[], true), b"").unwrap(), "user 'olive', city-wide (every camera)\n");
    assert!(store().user("olive").unwrap().sectors.is_empty());
    let trail: Vec<(String, serde_json::Value)> = store()
        .audit_entries(&AuditQuery { limit: 10, ..Default::default() })
        .unwrap()
        .into_iter()
        .map(|e| (e.action, serde_json::from_str(&e.details).unwrap()))
        .collect();
    assert_eq!(trail.len(), 3, "{trail:?}");
    assert_eq!(trail[0], ("user.sectors".into(), serde_json::json!({"after": [], "before": ["centre"]})));
    assert_eq!(
        trail[1],
        ("user.sectors".into(), serde_json::json!({"after": ["centre"], "before": ["centre", "gare"]}))
    );
    assert_eq!((trail[2].0.as_str(), &trail[2].1["sectors"]), ("user.add", &serde_json::json!(["centre", "gare"])));
}
