//! `vigie run` as operators meet it: the real binary, a real clip, the console over HTTP, and
//! the data directory on disk (a small tmpfs for the full-disk case; CI runs as root).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running node; stopped (SIGTERM, then SIGKILL) when dropped, even if the test failed.
struct Node {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Node {
    fn start(config: &Path, data: &Path, extra: &[&str]) -> Node {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["run", "--config", config.to_str().unwrap(), "--data", data.to_str().unwrap()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vigie run");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut node = Node { child, port, stderr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(l) if l.starts_with("console on") => break,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("node exited: {}", node.stderr()),
            }
            if Instant::now() > deadline {
                panic!("node did not start: {}", node.stderr());
            }
        }
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        node.wait_http();
        node
    }

    fn wait_http(&mut self) {
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("console not answering: {}", self.stderr());
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, as systemd stops it; waits for a clean exit.
    fn stop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "node exit {status}: {}", self.stderr());
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("node did not stop on SIGTERM: {}", self.stderr());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

#[derive(Clone, Default)]
struct Session {
    cookie: String,
    csrf: String,
}

fn http(port: u16, method: &str, path: &str, s: Option<&Session>, body: Option<&str>) -> Resp {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(s) = s {
        req += &format!("Cookie: vigie_session={}\r\nX-CSRF-Token: {}\r\n", s.cookie, s.csrf);
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        req += "Content-Type: application/json\r\n";
    }
    req += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    c.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Resp { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn login(port: u16, user: &str, password: &str) -> (Resp, Session) {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let r = http(port, "POST", "/api/login", None, Some(&body));
    let cookie = r
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("vigie_session="))
        .map(|(_, v)| v["vigie_session=".len()..].split(';').next().unwrap().to_string())
        .unwrap_or_default();
    let csrf = if r.status == 200 { r.json()["csrf_token"].as_str().unwrap().to_string() } else { String::new() };
    (r, Session { cookie, csrf })
}

/// The live feed, read on a thread: (event name, data) pairs, and the connection (to close it:
/// the node's graceful stop waits for open connections).
fn follow_feed(port: u16, s: &Session) -> (mpsc::Receiver<(String, serde_json::Value)>, TcpStream) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let req = format!(
        "GET /api/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: vigie_session={}\r\n\r\n",
        s.cookie
    );
    c.write_all(req.as_bytes()).unwrap();
    let conn = c.try_clone().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(c).lines().map_while(Result::ok) {
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                if let Ok(v) = serde_json::from_str(d.trim()) {
                    if tx.send((event.clone(), v)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (rx, conn)
}

fn add_user(data: &Path, role: &str, name: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["user", "add", "--data", data.to_str().unwrap(), "--role", role, name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.clone());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            }
        }
    }
    out
}

fn bytes_under(dir: &Path) -> u64 {
    files_under(dir).iter().filter_map(|p| std::fs::metadata(p).ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// A small tmpfs, unmounted (lazily, in case something still holds it) when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs", dir.path().to_str().unwrap()])
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs to mount a small tmpfs (run as root, as CI does): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", self.dir.path().to_str().unwrap()]).status();
    }
}

/// Writes until the volume refuses: what a runaway log or a copied file does to a disk.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0xA5u8; 64 << 10];
    let mut n = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    let _ = f.sync_all();
    n
}

fn wait_until<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The plaza with four narrow forbidden strips across it: people crossing them raise an alert
/// about every second.
fn busy_camera_config(dir: &Path, reserve_mb: u64) -> PathBuf {
    let cfg = dir.join("vigie.toml");
    let zones: String = [0.1, 0.3, 0.5, 0.7]
        .iter()
        .enumerate()
        .map(|(i, x)| {
            format!(
                "[[cameras.zones]]\nname = \"s{i}\"\nkind = \"forbidden\"\n\
                 polygon = [[{x}, 0.0], [{r}, 0.0], [{r}, 1.0], [{x}, 1.0]]\n\n\
                 [[cameras.rules]]\nid = \"r{i}\"\ntype = \"intrusion\"\nzone = \"s{i}\"\nlegal_basis = \"test\"\n\
                 min_duration_s = 0.2\ncooldown_s = 0.0\nhysteresis_s = 0.2\n\n",
                r = x + 0.06
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            r#"
[archive]
segment_s = 10
recording_retry_s = 1
reserve_mb = {reserve_mb}

[pipeline]
detector_workers = 1

[[cameras]]
id = "plaza"
url = "assets/video/pets09-s2l1.mp4"
loop = true
realtime = false

{zones}"#
        ),
    )
    .unwrap();
    cfg
}

/// Records the whole plaza clip for `camera` as if it had been filmed two hours ago (simulated
/// clock, so at disk speed); returns the bytes written.
fn record_earlier_footage(data: &Path, camera: &str) -> u64 {
    use vigie_source::VideoSource;
    let start = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    let clock = Arc::new(vigie_core::SimClock::new(start));
    let store = Arc::new(vigie_store::Store::open(data, clock.clone()).unwrap());
    let cfg = vigie_footage::ArchiveConfig { segment_s: 10, reserve_mb: 0, ..Default::default() };
    let archive = vigie_footage::Archive::open(data, cfg, clock.clone(), store).unwrap();
    let opts = vigie_source::Mp4Options { pacing: vigie_source::Pacing::RealTime, ..Default::default() };
    let mut src =
        vigie_source::Mp4FileSource::open_with_clock(root().join("assets/video/pets09-s2l1.mp4"), opts, clock).unwrap();
    let info = src.info().clone();
    let mut rec = vigie_footage::Recorder::new(camera, &info, archive).unwrap();
    while let Some(p) = src.next_packet().unwrap() {
        rec.push(&p).unwrap();
    }
    rec.finish().unwrap();
    bytes_under(&data.join("segments"))
}

/// Defect 3: the data volume fills up (here: a file written until the disk refuses). Footage
/// gives way to alerts and the audit trail: the recorder evicts the oldest footage to restore
/// the free-space reserve, alerts keep reaching the live feed and then the catalogue, logins
/// and audited routes keep answering, and no snapshot file is left without its alert.
#[test]
fn a_full_data_volume_never_stops_alerts_or_the_console() {
    let disk = Tmpfs::mount("40m");
    let data = disk.path().join("data");
    let cfgdir = tempfile::tempdir().unwrap();
    let cfg = busy_camera_config(cfgdir.path(), 3);
    add_user(&data, "supervisor", "sup", "sup-password-123");
    // Footage of earlier hours, well above the reserve: what a full disk holds.
    let seeded = record_earlier_footage(&data, "plaza");
    assert!(seeded > 6 << 20, "{seeded}");
    let mut node = Node::start(&cfg, &data, &[]);
    let (r, sup) = login(node.port, "sup", "sup-password-123");
    assert_eq!(r.status, 200, "{}", r.body);
    let (feed, feed_conn) = follow_feed(node.port, &sup);

    let ballast = disk.path().join("ballast");
    let filled = fill(&ballast);
    assert!(filled > 0);
    let filled_at = Instant::now();
    // Everything the feed says from now on happened on a volume that was full.
    while feed.try_recv().is_ok() {}

    // The node keeps analysing and alerting: new alerts reach the live feed.
    let mut live_ids: HashSet<String> = HashSet::new();
    wait_until("alerts on the live feed after the disk filled", 30, || {
        while let Ok((kind, v)) = feed.try_recv() {
            if kind == "alert" {
                live_ids.insert(v["id"].as_str().unwrap().to_string());
            }
        }
        (!live_ids.is_empty()).then_some(())
    });

    // The console keeps working: a new login and audited routes answer 200.
    let (r, sup2) = wait_until("a login on the full volume", 20, || {
        let (r, s) = login(node.port, "sup", "sup-password-123");
        (r.status == 200).then_some((r, s))
    });
    assert_eq!(r.status, 200);
    // Every alert shown live is in the catalogue (stored at once, or from the retry queue).
    let stored = wait_until("the live alerts in the catalogue", 20, || {
        let r = http(node.port, "GET", "/api/alerts?limit=5000", Some(&sup2), None);
        assert_eq!(r.status, 200, "audited route on a full volume: {}", r.body);
        let ids: HashSet<String> =
            r.json()["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
        live_ids.is_subset(&ids).then_some(r.json())
    });
    let first = live_ids.iter().next().unwrap();
    let r = http(node.port, "GET", &format!("/api/alerts/{first}"), Some(&sup2), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(filled_at.elapsed() < Duration::from_secs(60));
    let _ = feed_conn.shutdown(std::net::Shutdown::Both);
    node.stop();

    // Footage was evicted for the reserve, and said so in the audit trail.
    let store = vigie_store::Store::open(&data, Arc::new(vigie_core::SystemClock::default())).unwrap();
    let q = vigie_store::AuditQuery { action_prefix: Some("archive.evict".into()), limit: 100, ..Default::default() };
    let evictions = store.audit_entries(&q).unwrap();
    assert!(
        evictions.iter().any(|e| e.details.contains("free space reserve")),
        "no reserve eviction audited: {evictions:?}"
    );
    assert!(store.verify_audit().unwrap().is_ok());

    // No orphan: every snapshot file belongs to a stored alert that names it, no half-written file.
    let alerts = store.alerts(&vigie_store::AlertQuery { limit: 5000, ..Default::default() }).unwrap();
    let with_snapshot: HashSet<String> = alerts.iter().filter(|a| a.has_snapshot).map(|a| a.id.clone()).collect();
    assert!(!with_snapshot.is_empty(), "{stored}");
    for dir in ["snapshots", "evidence-clear"] {
        for f in files_under(&data.join(dir)) {
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            assert_eq!(f.extension().and_then(|e| e.to_str()), Some("jpg"), "stray file {}", f.display());
            assert!(with_snapshot.contains(&stem), "orphan snapshot {}", f.display());
        }
    }
    // Logs captured by a pipe carry no colour codes.
    let err = node.stderr();
    assert!(!err.contains('\u{1b}'), "ANSI escapes in captured logs: {}", &err[..err.len().min(400)]);
    drop(store);
    drop(node);
    drop(disk);
}

/// Defect 9 and the first administrator (issue 11): a node started on a data directory that
/// others could read tightens it and says so; everything it writes is owner-only; the generated
/// first password must be replaced before anything else, and its file goes once it is. Logs in
/// `--log-format json` are one JSON object per line.
#[test]
fn data_is_owner_only_and_the_first_password_must_be_changed() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = tmp.path().join("vigie.toml");
    std::fs::write(
        &cfg,
        "[archive]\nsegment_s = 10\n\n[[cameras]]\nid = \"rocade\"\nurl = \"assets/video/highway-cctv.mp4\"\nloop = true\n",
    )
    .unwrap();
    let mut node = Node::start(&cfg, &data, &["--log-format", "json"]);
    assert_eq!(mode(&data), 0o700);

    // Issue 14: a second node on the same data folder is refused at once, naming the folder.
    let second = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["run", "--config", cfg.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .current_dir(root())
        .output()
        .expect("start a second vigie run");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second node ran on the same data folder: {err}");
    assert!(err.contains("is in use by another vigie node") && err.contains(data.to_str().unwrap()), "{err}");
    assert!(err.contains(&format!("pid {}", node.child.id())), "{err}");

    let pw_file = data.join("initial-admin-password.txt");
    let pw = std::fs::read_to_string(&pw_file).unwrap().trim().to_string();
    assert_eq!(mode(&pw_file), 0o600);
    let (r, adm) = login(node.port, "admin", &pw);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["password_change_required"], true, "{}", r.body);
    // Nothing but the password change until it is done.
    let r = http(node.port, "GET", "/api/users", Some(&adm), None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("password change required"), "{}", r.body);
    let r = http(node.port, "GET", "/api/me", Some(&adm), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["password_change_required"], true);
    let change = |old: &str, new: &str| {
        let body = serde_json::json!({"old_password": old, "new_password": new}).to_string();
        http(node.port, "POST", "/api/me/password", Some(&adm), Some(&body))
    };
    let r = change("not-the-password", "a brand new password");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("old_password"), "{}", r.body);
    let r = change(&pw, &pw);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(pw_file.exists(), "kept until the password is changed");
    let r = change(&pw, "a brand new password");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["password_change_required"], false);
    assert!(!pw_file.exists(), "the initial password's file outlived the password");
    let r = http(node.port, "GET", "/api/users", Some(&adm), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(login(node.port, "admin", &pw).0.status, 401);
    assert_eq!(login(node.port, "admin", "a brand new password").0.status, 200);

    // Let the recorder write a little, then stop (the open segment is closed on the way).
    wait_until("footage", 30, || (bytes_under(&data.join("segments")) > 0).then_some(()));
    node.stop();

    let err = node.stderr();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
        assert!(v.is_object() && v["level"].is_string(), "{l}");
    }
    assert!(
        lines.iter().any(|l| l.contains("WARN") && l.contains(data.to_str().unwrap()) && l.contains("owner-only")),
        "no warning naming {}: {err}",
        data.display()
    );

    let all = files_under(&data);
    assert!(all.iter().any(|p| p.extension().is_some_and(|e| e == "mp4")), "{all:?}");
    assert!(all.iter().any(|p| p.file_name().is_some_and(|n| n == "vigie.db")), "{all:?}");
    for p in all {
        let md = std::fs::symlink_metadata(&p).unwrap();
        let want = if md.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "{} is {:o}", p.display(), mode(&p));
    }
}

/// Issue 11: a retention pass run by hand is audited under the person who ran it (the name
/// they give, and their operating-system account), not as `system`.
#[test]
fn retention_run_by_hand_is_audited_under_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(vigie_core::SystemClock::default());
    let store = Arc::new(vigie_store::Store::open(dir.path(), clock.clone()).unwrap());
    drop(vigie_footage::Archive::open(dir.path(), Default::default(), clock, store.clone()).unwrap());
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
        c.args(["retention", "run", "--data", data, "--json"]).args(args).current_dir(root());
        c.env_remove("SUDO_USER").env_remove("USER");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let last = || {
        let q = vigie_store::AuditQuery { action_prefix: Some("retention.".into()), limit: 1, ..Default::default() };
        store.audit_entries(&q).unwrap().remove(0)
    };

    let rep = run(&["--actor", "Jeanne Martin"], &[("USER", "jmartin")]);
    assert_eq!(rep["run_by"], serde_json::json!({"os_user": "jmartin", "actor": "Jeanne Martin"}));
    let e = last();
    assert_eq!(e.actor, "Jeanne Martin");
    assert!(e.details.contains("\"os_user\":\"jmartin\""), "{}", e.details);

    // Through sudo, the person behind it; with no name given, their account is the actor.
    run(&[], &[("USER", "root"), ("SUDO_USER", "alice")]);
    assert_eq!(last().actor, "alice");
    run(&[], &[]);
    assert!(last().actor.starts_with("uid "), "{}", last().actor);

    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["retention", "run", "--data", data, "--actor", "bad\nname"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--actor"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Issue 13: real footage through the whole node counts people crossing a line and standing in
/// an area, and what reaches `stats.db` is per-minute sums only, written as the node stops.
#[test]
fn real_footage_fills_the_statistics_with_minutes_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("vigie.toml");
    // The PETS plaza: a line down the middle of the picture, and the whole lower half counted.
    std::fs::write(
        &cfg,
        r#"
[pipeline]
detector_workers = 1

[[cameras]]
id = "plaza"
url = "assets/video/pets09-s2l1.mp4"
record = false
realtime = false

[[cameras.zones]]
name = "middle"
kind = "line"
points = [[384, 150], [384, 570]]

[[cameras.zones]]
name = "lower"
kind = "square"
polygon = [[0, 300], [767, 300], [767, 575], [0, 575]]
count = true
"#,
    )
    .unwrap();
    let mut node = Node::start(&cfg, &data, &[]);
    std::thread::sleep(Duration::from_secs(30));
    node.stop();
    let db = rusqlite::Connection::open(data.join("stats.db")).unwrap();
    let (crossings, entries, occupancy): (i64, i64, f64) = db
        .query_row(
            "SELECT sum(crossings_in + crossings_out), sum(entries), sum(occupancy_ms) FROM minutes WHERE camera = 'plaza'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let observed: i64 = db.query_row("SELECT sum(observed_ms) FROM coverage", [], |r| r.get(0)).unwrap();
    eprintln!("PETS plaza, 30 s of node: watched {observed} ms, {crossings} crossings of 'middle', {entries} entries into 'lower', occupancy {:.2}", occupancy / observed.max(1) as f64);
    assert!(observed > 5_000, "watched {observed} ms: {}", node.stderr());
    assert!(crossings > 0 && occupancy > 0.0, "crossings {crossings}, entries {entries}, occupancy {occupancy}");
    let classes: Vec<String> = db
        .prepare("SELECT DISTINCT class FROM minutes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(classes.contains(&"person".to_string()), "{classes:?}");
    // Nothing but sums per camera, zone, class and minute.
    let cols: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('minutes')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        cols,
        ["camera", "zone", "class", "minute_ms", "kind", "crossings_in", "crossings_out", "entries", "occupancy_ms"]
    );
    let odd: i64 = db.query_row("SELECT count(*) FROM minutes WHERE minute_ms % 60000 != 0", [], |r| r.get(0)).unwrap();
    assert_eq!(odd, 0);
}
