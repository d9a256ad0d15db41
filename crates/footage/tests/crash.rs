//! The write path survives `kill -9`: a child process records as fast as it can, is killed
//! mid-segment, and the startup check proves no indexed footage was lost.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use vigie_core::{Clock, SystemClock};
use vigie_decode::H264Decoder;
use vigie_footage::fmp4::parse_segment;
use vigie_footage::{Archive, ArchiveConfig, Recorder, SegmentState};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

const CHILD_ENV: &str = "VIGIE_ARCHIVE_CRASH_CHILD_DIR";

/// Entry point of the child process (does nothing in a normal test run).
#[test]
fn crash_child_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    let cfg = ArchiveConfig { segment_s: 10, ..Default::default() };
    let archive = Archive::open(&dir, cfg, clock.clone(), Arc::new(MemAudit::default())).unwrap();
    let opts = Mp4Options { looping: true, ..Default::default() };
    let mut src = Mp4FileSource::open_with_clock(clip("highway-cctv.mp4"), opts, clock).unwrap();
    let mut rec = Recorder::new("crash", src.info(), archive).unwrap();
    loop {
        let p = src.next_packet().unwrap().unwrap();
        if let Some(row) = rec.push(&p).unwrap() {
            println!("INDEXED {} {}", row.path, row.sha256);
        }
    }
}

#[test]
fn kill_9_mid_segment_loses_at_most_the_segment_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = Vec::new();
    while reported.len() < 4 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(rest) = line.strip_prefix("INDEXED ") {
            let (path, sha) = rest.split_once(' ').unwrap();
            reported.push((path.to_string(), sha.to_string()));
        }
    }
    // Kill while the next segment is being written (its partial file has fragments).
    let seg_dir = dir.path().join("segments");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let partial_bytes: u64 = walk(&seg_dir)
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".partial"))
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        if partial_bytes > 20_000 || std::time::Instant::now() > deadline {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Lines printed before the kill name segments indexed before it.
    for line in lines.map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("INDEXED ") {
            let (path, sha) = rest.split_once(' ').unwrap();
            reported.push((path.to_string(), sha.to_string()));
        }
    }

    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig { segment_s: 10, ..Default::default() }, audit);
    // Before any repair, the index already points only at complete files with the right hash.
    let before = archive.catalog().all().unwrap();
    assert!(before.len() >= reported.len());
    for r in &before {
        let b = archive.store().read(&r.path).unwrap_or_else(|e| panic!("indexed {} unreadable: {e}", r.path));
        assert_eq!(hex::encode(Sha256::digest(&b)), r.sha256, "{}", r.path);
    }
    let rep = archive.reconcile(true).unwrap();
    eprintln!("after kill -9: {} indexed before, startup check: {}", before.len(), rep.summary());
    assert!(rep.missing.is_empty() && rep.corrupt.is_empty() && rep.quarantined.is_empty(), "{rep:?}");
    assert!(rep.salvaged.len() + rep.partial_deleted.len() <= 1, "one segment in progress at most: {rep:?}");
    assert!(rep.indexed.len() <= 1, "{rep:?}");

    let after = archive.catalog().all().unwrap();
    for (path, sha) in &reported {
        let r = after.iter().find(|r| &r.path == path).unwrap_or_else(|| panic!("{path} lost"));
        assert_eq!(&r.sha256, sha);
    }
    // Every indexed segment is whole, hashed right and playable.
    for r in &after {
        assert_eq!(r.state, SegmentState::Ok);
        let b = archive.store().read(&r.path).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&b)), r.sha256);
        let seg = parse_segment(&b).unwrap();
        assert!(!seg.truncated);
        assert_eq!(seg.samples.len() as u64, r.frames);
    }
    let last = after.last().unwrap();
    let mut dec = H264Decoder::new("crash").unwrap();
    let mut n = 0;
    for p in archive.read_range("crash", last.start_ms, last.end_ms).unwrap() {
        if dec.decode(&p.unwrap()).unwrap().is_some() {
            n += 1;
        }
    }
    assert_eq!(n as u64, last.frames, "the last (possibly salvaged) segment decodes fully");
    assert!(archive.store().list().unwrap().iter().all(|o| !o.partial));
    // Footage is continuous: no gap between indexed segments but the one being written.
    let mut r = archive.read_range("crash", after[0].start_ms, last.end_ms).unwrap();
    let count = r.by_ref().count() as u64;
    assert_eq!(count, after.iter().map(|s| s.frames).sum::<u64>());
    assert!(r.gaps.is_empty(), "{:?}", r.gaps);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
