//! A real node stopped while an alert is open: the alert must not stay "ongoing" forever.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_store::{Alert, AlertQuery, AuditQuery, Store};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// People cross the whole plaza all the time: an intrusion opens within a second and stays open.
fn config(dir: &Path) -> PathBuf {
    let cfg = dir.join("vigie.toml");
    let clip = root().join("assets/video/pets09-s2l1.mp4");
    std::fs::write(
        &cfg,
        format!(
            r#"
[pipeline]
detector_workers = 1

[[cameras]]
id = "plaza"
url = {clip:?}
loop = true
record = false

[[cameras.zones]]
name = "everywhere"
kind = "forbidden"
polygon = [[0, 0], [768, 0], [768, 576], [0, 576]]

[[cameras.rules]]
id = "anyone"
type = "intrusion"
zone = "everywhere"
legal_basis = "test"
min_duration_s = 0.5
"#
        ),
    )
    .unwrap();
    cfg
}

/// A running node, killed if the test fails before stopping it.
struct Node(Child, PathBuf);

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn start(cfg: &Path, data: &Path) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["run", "--config", cfg.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(root())
        .stdout(std::fs::File::create(data.with_extension("out")).unwrap())
        .stderr(std::fs::File::create(data.with_extension("log")).unwrap())
        .spawn()
        .expect("start vigie run");
    let mut node = Node(child, data.with_extension("log"));
    // The test reads the catalogue only once the node has created it (two processes migrating an
    // empty database at once collide).
    wait_for("the console", &mut node, || {
        std::fs::read_to_string(data.with_extension("out")).unwrap_or_default().contains("console on").then_some(())
    });
    node
}

fn alerts(data: &Path) -> Vec<Alert> {
    let s = Store::open(data, Arc::new(vigie_core::SystemClock::default())).unwrap();
    s.alerts(&AlertQuery { limit: 1000, ..Default::default() }).unwrap()
}

fn audited(data: &Path, action: &str) -> Vec<String> {
    let s = Store::open(data, Arc::new(vigie_core::SystemClock::default())).unwrap();
    let q = AuditQuery { action_prefix: Some(action.into()), limit: 1000, ..Default::default() };
    s.audit_entries(&q).unwrap().into_iter().map(|e| e.target).collect()
}

fn wait_for<T>(what: &str, node: &mut Node, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Some(status) = node.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(&node.1).unwrap_or_default();
            panic!("the node exited ({status}) while waiting for {what}:\n{log}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn signal(node: &Node, sig: i32) {
    assert_eq!(unsafe { libc::kill(node.0.id() as i32, sig) }, 0);
}

#[test]
fn alerts_are_closed_when_the_node_stops_or_after_it_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = config(dir.path());

    // A crash (kill -9) leaves the open alert ongoing...
    let mut node = start(&cfg, &data);
    let crashed = wait_for("an open alert", &mut node, || alerts(&data).into_iter().find(|a| a.ended_at_ms.is_none()));
    signal(&node, libc::SIGKILL);
    node.0.wait().unwrap();
    let mut left: Vec<String> = alerts(&data).into_iter().filter(|a| a.ended_at_ms.is_none()).map(|a| a.id).collect();
    assert!(left.contains(&crashed.id), "{left:?}");
    left.sort();

    // ...until the next start closes it, marked as interrupted.
    let mut node = start(&cfg, &data);
    let open = wait_for("an open alert of the second run", &mut node, || {
        alerts(&data).into_iter().find(|a| a.ended_at_ms.is_none() && !left.contains(&a.id))
    });
    let closed = alerts(&data).into_iter().find(|a| a.id == crashed.id).unwrap();
    assert!(closed.ended_at_ms.is_some_and(|e| e >= closed.started_at_ms), "{closed:?}");
    let interrupted = || {
        let mut v = audited(&data, "alert.interrupted");
        v.sort();
        v
    };
    assert_eq!(interrupted(), left);

    // A clean stop (SIGTERM) closes what is open.
    signal(&node, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = node.0.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            panic!("the node did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let all = alerts(&data);
    assert!(all.iter().all(|a| a.ended_at_ms.is_some()), "alerts left ongoing: {all:?}");
    let stopped = all.iter().find(|a| a.id == open.id).unwrap();
    assert!(stopped.ended_at_ms.unwrap() >= stopped.started_at_ms);
    assert_eq!(interrupted(), left, "a clean stop is not an interruption");

    // The node signed checkpoints (at each start and at the stop); the last one holds the trail.
    let mut cps: Vec<PathBuf> =
        std::fs::read_dir(data.join("checkpoints")).unwrap().map(|e| e.unwrap().path()).collect();
    cps.sort();
    assert!(cps.len() >= 3, "{cps:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["audit", "verify", "--data", data.to_str().unwrap(), "--checkpoint"])
        .arg(cps.last().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
