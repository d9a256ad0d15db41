//! Issue 14: one node per data folder. A second `vigie run` on a folder in use stops at once
//! with a clear error; the maintenance commands still work beside the running node.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn vigie(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigie")).args(args).current_dir(root()).output().expect("run vigie")
}

fn add_user(data: &str, name: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["user", "add", "--data", data, "--role", "operator", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("password-of-{name}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_second_node_on_a_data_folder_in_use_stops_at_once_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let d = data.to_str().unwrap();
    assert!(add_user(d, "first").status.success());

    // The running node's lock, as `vigie run` holds it: the kernel's, with the holder's pid.
    let mut lock =
        std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(data.join("vigie.lock")).unwrap();
    lock.try_lock().unwrap();
    write!(lock, "4242").unwrap();

    let began = Instant::now();
    let out = vigie(&["run", "--config", "config/demo.toml", "--data", d, "--listen", "127.0.0.1:0"]);
    let took = began.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second node ran on the same data folder: {err}");
    assert!(err.contains(&format!("data folder {d} is in use by another vigie node (pid 4242)")), "{err}");
    println!("second node refused in {} ms", took.as_millis());
    assert!(took < Duration::from_secs(5), "the refusal took {took:?}");
    assert_eq!(std::fs::read_to_string(data.join("vigie.lock")).unwrap(), "4242", "the holder's pid is kept");

    // Maintenance beside the running node is fine: it takes no lock.
    let out = vigie(&["audit", "verify", "--data", d]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = add_user(d, "second");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
