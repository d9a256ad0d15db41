//! Exports under limits: a time budget and cancellation stop the work, a viewing leaves no file,
//! and a kept copy is deleted with the footage it holds.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use vigie_core::{Frame, StopToken, Stopped, UnixMs};
use vigie_footage::*;

const DAY: u64 = 86_400;

fn ms(t: std::time::SystemTime) -> i64 {
    UnixMs::from(t).0
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn request(from_ms: i64, to_ms: i64, blur: bool) -> ExportRequest {
    ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(from_ms),
        to_ms: UnixMs(to_ms),
        blur_people: blur,
        unmask_reason: (!blur).then(|| "case 7".to_string()),
        actor: "op".into(),
    }
}

/// What an export thread ends with, and how long it took.
type Outcome = (Result<(ExportResult, Vec<u8>), ArchiveError>, Duration);

/// A blurred export whose (slow) detector would take ~20 s over the range; `started` is told
/// at its first frame.
fn slow_export(
    archive: Arc<Archive>,
    stop: StopToken,
    started: mpsc::Sender<()>,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Outcome> {
    std::thread::spawn(move || {
        let began = Instant::now();
        let mut first = Some(started);
        let mut detector = |_: &Frame| {
            if let Some(s) = first.take() {
                let _ = s.send(());
            }
            std::thread::sleep(Duration::from_millis(10));
            Ok(Seen::default())
        };
        let r = archive.export_to_memory(&request(ms(t(T0)), ms(t(T0)) + 80_000, true), Some(&mut detector), &stop);
        done.store(true, Ordering::SeqCst);
        (r, began.elapsed())
    })
}

#[test]
fn an_export_over_its_budget_is_stopped_while_another_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit.clone());
    record(&archive, "hw", t(T0), 90.0);

    let budget = Duration::from_millis(1500);
    let (tx, rx) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let slow = slow_export(archive.clone(), StopToken::new(Some(budget)), tx, done.clone());
    rx.recv_timeout(Duration::from_secs(10)).expect("the long export started");

    // Meanwhile, another export is served in full.
    let (res, mp4) = archive
        .export_to_memory(&request(ms(t(T0)) + 10_000, ms(t(T0)) + 20_000, false), None, &StopToken::never())
        .unwrap();
    assert!(res.frames > 200 && mp4.len() as u64 == res.bytes, "{res:?}");
    assert!(!done.load(Ordering::SeqCst), "the second export did not wait for the first to end");

    let (r, took) = slow.join().unwrap();
    match r {
        Err(ArchiveError::Stopped(Stopped::OverBudget(b))) => assert_eq!(b, budget),
        other => panic!("expected a stop over budget, got {:?}", other.map(|r| r.0)),
    }
    eprintln!("export over a {budget:?} budget stopped after {took:?}");
    assert!(took < budget + Duration::from_secs(2), "stopped soon after its budget: {took:?}");
    // Only the served export is accounted for, and neither left a file.
    assert_eq!(audit.with_action("export").len(), 1);
    assert!(files_in(&archive.exports_dir()).is_empty(), "{:?}", files_in(&archive.exports_dir()));
}

#[test]
fn a_cancelled_export_stops_at_the_next_frame() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit.clone());
    record(&archive, "hw", t(T0), 90.0);
    let stop = StopToken::never();
    let (tx, rx) = mpsc::channel();
    let slow = slow_export(archive.clone(), stop.clone(), tx, Arc::new(AtomicBool::new(false)));
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let cancelled_at = Instant::now();
    drop(stop.cancel_on_drop());
    let (r, _) = slow.join().unwrap();
    assert!(matches!(r, Err(ArchiveError::Stopped(Stopped::Cancelled))), "{:?}", r.map(|r| r.0));
    assert!(cancelled_at.elapsed() < Duration::from_millis(500), "{:?}", cancelled_at.elapsed());
    assert!(audit.with_action("export").is_empty());
}

#[test]
fn a_viewing_leaves_no_file_and_a_kept_copy_goes_with_its_footage() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let cfg = ArchiveConfig { retention_days: 2, segment_s: 20, ..Default::default() };
    let (archive, clock) = open(dir.path(), cfg, audit.clone());
    let rows = record(&archive, "hw", t(T0), 65.0);
    assert!(rows.len() >= 3, "{}", rows.len());

    // A viewing: the MP4 comes from memory, nothing is written under exports/.
    let (res, mp4) = archive
        .export_to_memory(
            &request(rows[0].start_ms.0 + 1000, rows[0].start_ms.0 + 6000, false),
            None,
            &StopToken::never(),
        )
        .unwrap();
    assert_eq!(res.path, None);
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&mp4)), res.sha256);
    assert_eq!(&mp4[4..8], b"ftyp");
    assert!(files_in(&archive.exports_dir()).is_empty(), "{:?}", files_in(&archive.exports_dir()));
    assert_eq!(audit.with_action("export")[0]["file"], serde_json::Value::Null);

    // A copy kept a day later, from the second segment's footage. Its file date is then set to
    // "now" (as a copy put back would be): it must still go with its footage, not 2 days later.
    clock.set(t(T0 + DAY));
    let kept = archive.export(&request(rows[1].start_ms.0 + 1000, rows[1].start_ms.0 + 6000, false), None).unwrap();
    let path = kept.path.clone().unwrap();
    assert_eq!(path.parent().unwrap(), archive.exports_dir());
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(t(T0 + DAY)).unwrap();
    drop(f);

    // Retention while the second segment is still within the limit: the copy stays.
    let before = archive.retention_pass(from_ms_(rows[0].start_ms.0 + 1 + 2 * DAY as i64 * 1000)).unwrap();
    assert_eq!(before.segments.len(), 1);
    assert!(before.exports.is_empty() && path.exists());
    // The pass that deletes that footage deletes the copy too.
    let when = from_ms_(rows[1].start_ms.0 + 1 + 2 * DAY as i64 * 1000);
    let rep = archive.retention_pass(when).unwrap();
    assert!(rep.segments.iter().any(|s| s.path == rows[1].path), "{:?}", rep.segments);
    assert_eq!(rep.exports.len(), 1, "{:?}", rep.exports);
    assert!(!path.exists());
    assert!(archive.catalog().all().unwrap().iter().any(|r| r.path == rows[2].path), "later footage kept");
}

fn from_ms_(ms: i64) -> std::time::SystemTime {
    UnixMs(ms).into()
}
