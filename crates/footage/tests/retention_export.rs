//! Retention with a simulated clock, the `vigie retention` command, and exports.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{BBox, Frame, UnixMs};
use vigie_decode::H264Decoder;
use vigie_footage::*;
use vigie_search::{Direction, NamedColor, TrackIndex, TrackRecord, TrackSummarizer};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

const DAY: u64 = 86_400;

fn ms(t: std::time::SystemTime) -> i64 {
    UnixMs::from(t).0
}

#[test]
fn a_pass_leaves_nothing_older_than_the_limit_and_everything_newer_and_audits_the_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let cfg = ArchiveConfig { retention_days: 10, snapshot_retention_days: 5, segment_s: 20, ..Default::default() };
    let (archive, clock) = open(dir.path(), cfg, audit.clone());
    // Footage on days 0, 4, 9.9 and 12 for two cameras.
    let mut all = Vec::new();
    for (cam, day) in [("a", 0.0), ("b", 0.0), ("a", 4.0), ("b", 9.9), ("a", 12.0)] {
        let start = t(T0 + (day * DAY as f64) as u64);
        all.extend(record(&archive, cam, start, 45.0));
    }
    // Snapshots: one 6 days old, one 1 day old at the pass.
    let snaps = dir.path().join("snapshots/2026-11");
    std::fs::create_dir_all(&snaps).unwrap();
    let now = t(T0 + 12 * DAY + 3600);
    for (name, age_days) in [("old.jpg", 6), ("new.jpg", 1)] {
        let p = snaps.join(name);
        std::fs::write(&p, name.as_bytes()).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(now - Duration::from_secs(age_days * DAY)).unwrap();
    }
    // Tracks with thumbnails in tracks.db.
    let ix = TrackIndex::open(dir.path().join("tracks.db")).unwrap();
    for (id, day) in [(1, 1u64), (2, 6), (3, 11)] {
        let mut r = sample_track(id, ms(t(T0 + day * DAY)));
        r.thumbnail_jpeg = Some(vec![0xFF, 0xD8, 0xFF, 0xD9]);
        ix.insert(&r).unwrap();
    }
    archive.set_track_purge(Arc::new(ix));

    clock.set(now);
    let status = archive.retention_status(now).unwrap();
    let a = status.cameras.iter().find(|c| c.camera == "a").unwrap();
    assert!(a.overdue, "day-0 footage is past 10 days at day 12");
    assert_eq!(a.oldest_footage, UnixMs(ms(t(T0))).rfc3339());
    assert!(status.to_text().contains("camera a: oldest footage"));

    let cutoff = UnixMs(ms(now) - 10 * DAY as i64 * 1000);
    let rep = archive.retention_pass(now).unwrap();
    let remaining = archive.catalog().all().unwrap();
    assert!(remaining.iter().all(|r| r.start_ms >= cutoff), "nothing older than the limit survives");
    let expected_deleted: Vec<_> = all.iter().filter(|r| r.start_ms < cutoff).collect();
    let expected_kept: Vec<_> = all.iter().filter(|r| r.start_ms >= cutoff).collect();
    assert!(!expected_deleted.is_empty() && !expected_kept.is_empty());
    assert_eq!(remaining.len(), expected_kept.len(), "everything newer survives");
    for r in &expected_deleted {
        assert!(!archive.store().exists(&r.path).unwrap());
    }
    assert_eq!(rep.segments.len(), expected_deleted.len());
    assert_eq!(rep.snapshots.len(), 1);
    assert!(rep.snapshots[0].path.ends_with("old.jpg"));
    assert!(snaps.join("new.jpg").exists() && !snaps.join("old.jpg").exists());
    assert_eq!(rep.tracks_deleted, 0, "track retention is 30 days");
    assert_eq!(rep.thumbnails_deleted, 2, "thumbnails follow the 5-day snapshot limit");

    // One audit entry for the pass, listing each deleted segment with its hash.
    let entries = audit.with_action("retention.delete");
    assert_eq!(entries.len(), 1);
    let listed = entries[0]["segments"].as_array().unwrap();
    assert_eq!(listed.len(), expected_deleted.len());
    for r in &expected_deleted {
        assert!(listed.iter().any(|s| s["sha256"] == r.sha256.as_str() && s["path"] == r.path.as_str()));
    }
    assert_eq!(entries[0]["snapshots"][0]["sha256"].as_str().unwrap().len(), 64);

    // The next deletion is when the oldest remaining footage reaches the limit.
    let st = archive.retention_status(now).unwrap();
    let oldest_left = remaining.iter().map(|r| r.start_ms).min().unwrap();
    assert_eq!(
        st.next_deletion,
        Some(UnixMs(oldest_left.0 + 10 * DAY as i64 * 1000).rfc3339().min(st.next_snapshot_deletion.clone().unwrap()))
    );
    assert!(st.cameras.iter().all(|c| !c.overdue));
    assert!(st.last_pass.is_some());
    // A second pass at the same instant deletes nothing, and still leaves its audit entry.
    assert!(archive.retention_pass(now).unwrap().segments.is_empty());
    assert_eq!(audit.with_action("retention.delete").len(), 2);
}

fn sample_track(id: u64, start_ms: i64) -> TrackRecord {
    TrackRecord {
        camera: "a".into(),
        track_id: id,
        class: "car".into(),
        start_ms: UnixMs(start_ms),
        end_ms: UnixMs(start_ms + 5000),
        zones: vec![],
        direction: Some(Direction::E),
        displacement_px: 100.0,
        color: Some(NamedColor::Red),
        mean_width: 80.0,
        mean_height: 50.0,
        observations: 30,
        event_ids: vec![],
        descriptor: None,
        thumbnail_jpeg: None,
    }
}

#[test]
fn retention_command_uses_the_stored_settings_and_a_given_now() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let cfg = ArchiveConfig { retention_days: 2, segment_s: 20, ..Default::default() };
    {
        let (archive, _) = open(dir.path(), cfg, audit.clone());
        record(&archive, "a", t(T0), 30.0);
        record(&archive, "a", t(T0 + 3 * DAY), 30.0);
    }
    let d = dir.path().to_str().unwrap();
    let run = |r: RetentionRequest| run_retention(&r, None, None, audit.clone());
    let status = |data: &str, json: bool| RetentionRequest::Status { data: data.into(), json };
    let run_at = |now: &str| RetentionRequest::Run { data: d.into(), now: Some(now.into()), json: false, actor: None };
    let out = run(status(d, false)).unwrap();
    assert!(out.contains("footage 2 days"), "stored setting used: {out}");
    assert!(out.contains("camera a: oldest footage 2026-11-01T00:00:00Z"), "{out}");
    let out = run(run_at("2026-11-04T12:00:00Z")).unwrap();
    assert!(out.contains("1 segment(s)") || out.contains("2 segment(s)"), "{out}");
    let json = run(status(d, true)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["cameras"][0]["oldest_footage"], "2026-11-04T00:00:00Z");
    let e = run(run_at("yesterday")).unwrap_err().to_string();
    assert!(e.contains("--now") && e.contains("RFC 3339"), "{e}");
    let e = run(status("/nonexistent/x", false)).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/x") && e.contains("archive.db"), "{e}");
}

fn decode_all(path: &std::path::Path) -> Vec<Frame> {
    let mut src = Mp4FileSource::open(path, Mp4Options::default()).unwrap();
    let mut dec = H264Decoder::new("export").unwrap();
    let mut frames = Vec::new();
    while let Some(p) = src.next_packet().unwrap() {
        if let Some(f) = dec.decode(&p).unwrap() {
            frames.push(f);
        }
    }
    frames
}

#[test]
fn an_unblurred_export_is_a_playable_remux_of_exactly_the_range_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit.clone());
    let (info, pkts) = packets("highway-cctv.mp4");
    let input = looped(&info, &pkts, t(T0), 150.0);
    let rows = record(&archive, "hw", t(T0), 150.0);
    assert!(rows.len() >= 2);
    // Across a segment boundary.
    let from = ms(t(T0)) + 50_000;
    let to = ms(t(T0)) + 75_000;
    let req = ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(from),
        to_ms: UnixMs(to),
        blur_people: false,
        unmask_reason: Some("requisition 2026-118".into()),
        actor: "supervisor1".into(),
    };
    let res = archive.export(&req, None).unwrap();
    let key_before = input.iter().rfind(|p| p.keyframe && ms(p.received_at) <= from).unwrap();
    let expected: Vec<_> =
        input.iter().filter(|p| p.received_at >= key_before.received_at && ms(p.received_at) <= to).collect();
    assert_eq!(res.frames, expected.len() as u64);
    let mut src = Mp4FileSource::open(res.path.as_deref().unwrap(), Mp4Options::default()).unwrap();
    assert_eq!((src.info().width, src.info().height), (320, 240));
    let mut n = 0;
    while let Some(p) = src.next_packet().unwrap() {
        assert_eq!(p.keyframe, expected[n].keyframe);
        n += 1;
    }
    assert_eq!(n, expected.len(), "frames in the file");
    assert_eq!(decode_all(res.path.as_deref().unwrap()).len(), expected.len(), "every frame decodes");
    let bytes = std::fs::read(res.path.as_deref().unwrap()).unwrap();
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)), res.sha256);
    assert!((res.duration_s - (to - ms(key_before.received_at)) as f64 / 1000.0).abs() < 0.1, "{}", res.duration_s);
    let entries = audit.0.lock().clone();
    let (actor, action, target, details) = entries.iter().find(|e| e.1 == "export").unwrap();
    assert_eq!((actor.as_str(), action.as_str(), target.as_str()), ("supervisor1", "export", "hw"));
    let d: serde_json::Value = serde_json::from_str(details).unwrap();
    assert_eq!(d["sha256"], res.sha256.as_str());
    assert_eq!(d["unmask_reason"], "requisition 2026-118");
    assert_eq!(d["blurred"], false);
}

#[test]
fn bad_export_requests_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), Default::default());
    record(&archive, "hw", t(T0), 20.0);
    let base = ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(ms(t(T0)) + 1000),
        to_ms: UnixMs(ms(t(T0)) + 5000),
        blur_people: false,
        unmask_reason: None,
        actor: "op".into(),
    };
    let err = |r: ExportRequest| archive.export(&r, None).unwrap_err().to_string();
    assert!(err(base.clone()).contains("needs a reason"));
    assert!(err(ExportRequest { blur_people: true, ..base.clone() }).contains("people detector"));
    let reason = Some("case".to_string());
    assert!(err(ExportRequest {
        from_ms: base.to_ms,
        to_ms: base.from_ms,
        unmask_reason: reason.clone(),
        ..base.clone()
    })
    .contains("must be before"));
    assert!(
        err(ExportRequest { camera: "nope".into(), unmask_reason: reason.clone(), ..base.clone() }).contains("'nope'")
    );
    let far = ms(t(T0 + 86_400));
    let e = archive
        .export(
            &ExportRequest {
                from_ms: UnixMs(far),
                to_ms: UnixMs(far + 1000),
                unmask_reason: reason.clone(),
                ..base.clone()
            },
            None,
        )
        .unwrap_err();
    assert!(matches!(e, ArchiveError::NotFound(_)), "{e}");
    let e = err(ExportRequest { to_ms: UnixMs(base.from_ms.0 + 5 * 3_600_000), unmask_reason: reason, ..base });
    assert!(e.contains("max_export_s"), "{e}");
}

fn mean_abs_diff(a: &Frame, b: &Frame, inside: impl Fn(usize, usize) -> bool) -> f64 {
    let (mut sum, mut n) = (0u64, 0u64);
    for y in 0..a.height {
        for x in 0..a.width {
            if inside(x, y) {
                sum += (a.y[y * a.width + x] as i64 - b.y[y * b.width + x] as i64).unsigned_abs();
                n += 1;
            }
        }
    }
    sum as f64 / n.max(1) as f64
}

#[test]
fn a_blurred_export_pixelates_inside_the_people_boxes_and_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit.clone());
    let (info, pkts) = packets("highway-cctv.mp4");
    let input = looped(&info, &pkts, t(T0), 20.0);
    record(&archive, "hw", t(T0), 20.0);
    let from = ms(t(T0)) + 2000;
    let to = ms(t(T0)) + 6000;
    let person = BBox::new(120.0, 90.0, 200.0, 200.0);
    let mut calls = 0;
    // The cars' own motion stays clear: the detector reports the road as one vehicle.
    let mut detector = |_: &Frame| {
        calls += 1;
        Ok(Seen { people: vec![person], vehicles: vec![BBox::new(0.0, 0.0, 320.0, 240.0)] })
    };
    let req = ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(from),
        to_ms: UnixMs(to),
        blur_people: true,
        unmask_reason: None,
        actor: "op".into(),
    };
    let res = archive.export(&req, Some(&mut detector)).unwrap();
    assert!(res.blurred);
    let blurred = decode_all(res.path.as_deref().unwrap());
    // Reference: the original frames at the same instants.
    let mut dec = H264Decoder::new("ref").unwrap();
    let mut orig = Vec::new();
    for p in &input {
        if let Some(f) = dec.decode(p).unwrap() {
            if ms(p.received_at) >= from && ms(p.received_at) <= to {
                orig.push(f);
            }
        }
    }
    assert_eq!(blurred.len(), orig.len(), "one output frame per frame in range");
    assert_eq!(calls, orig.len(), "the detector saw every exported frame");
    let grown = BBox::new(person.x1 - 8.0, person.y1 - 8.0, person.x2 + 8.0, person.y2 + 8.0);
    let (mut inside, mut outside) = (0.0, 0.0);
    for (b, o) in blurred.iter().zip(&orig) {
        inside += mean_abs_diff(b, o, |x, y| person.contains_point(x as f32, y as f32));
        outside += mean_abs_diff(b, o, |x, y| !grown.contains_point(x as f32, y as f32));
    }
    let (inside, outside) = (inside / orig.len() as f64, outside / orig.len() as f64);
    eprintln!("blurred export: mean |Δluma| inside the box {inside:.2}, outside {outside:.2}, {} bytes", res.bytes);
    assert!(inside > 8.0, "inside the box must change: {inside:.2}");
    assert!(outside < 3.0, "outside only re-encoding noise: {outside:.2}");
    assert!(inside > 3.0 * outside, "{inside:.2} vs {outside:.2}");
    // Detail inside is gone: neighbouring pixels inside a block are (almost) equal.
    let f = &blurred[blurred.len() / 2];
    let row = 140 * f.width;
    let steps: u64 = (130..190).map(|x| (f.y[row + x] as i64 - f.y[row + x + 1] as i64).unsigned_abs()).sum();
    let o = &orig[orig.len() / 2];
    let steps_orig: u64 = (130..190).map(|x| (o.y[row + x] as i64 - o.y[row + x + 1] as i64).unsigned_abs()).sum();
    assert!(steps * 2 < steps_orig.max(1), "{steps} vs original {steps_orig}");
    let d = audit.with_action("export");
    assert_eq!(d[0]["blurred"], true);
    assert_eq!(d[0]["sha256"], res.sha256.as_str());
}

/// Frames of an export, decoded, and the original frames at the same instants.
fn exported_and_original(
    archive: &Archive,
    req: &ExportRequest,
    people: Option<PeopleBoxes<'_>>,
) -> (ExportResult, Vec<Frame>, Vec<Frame>) {
    let (info, pkts) = packets("highway-cctv.mp4");
    let input = looped(&info, &pkts, t(T0), 20.0);
    let res = archive.export(req, people).unwrap();
    let out = decode_all(res.path.as_deref().unwrap());
    let mut dec = H264Decoder::new("ref").unwrap();
    let mut orig = Vec::new();
    for p in &input {
        if let Some(f) = dec.decode(p).unwrap() {
            if ms(p.received_at) >= req.from_ms.0 && ms(p.received_at) <= req.to_ms.0 {
                orig.push(f);
            }
        }
    }
    // Re-encoded exports hold the frames of the range only (earlier ones were references).
    assert_eq!(out.len(), orig.len(), "one output frame per frame in range");
    (res, out, orig)
}

#[test]
fn a_detector_failing_during_a_blurred_export_pixelates_those_frames_whole_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit.clone());
    record(&archive, "hw", t(T0), 20.0);
    let mut calls = 0u64;
    // Every third call fails, as an overloaded or broken inference session would.
    let mut detector = |_: &Frame| {
        calls += 1;
        if calls % 3 == 0 {
            Err(format!("inference failed on call {calls} (injected)"))
        } else {
            Ok(Seen { people: Vec::new(), vehicles: vec![BBox::new(0.0, 0.0, 320.0, 240.0)] })
        }
    };
    let req = ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(ms(t(T0)) + 2000),
        to_ms: UnixMs(ms(t(T0)) + 6000),
        blur_people: true,
        unmask_reason: None,
        actor: "op".into(),
    };
    let (res, out, orig) = exported_and_original(&archive, &req, Some(&mut detector));
    assert_eq!(res.pixelated_whole, calls / 3, "{res:?}");
    // A whole frame pixelated differs from its original everywhere; the others only by noise.
    let diffs: Vec<f64> = out.iter().zip(&orig).map(|(a, b)| mean_abs_diff(a, b, |_, _| true)).collect();
    eprintln!("mean |Δluma| per exported frame: {diffs:.1?}");
    // (The first frame is pixelated whole anyway if the motion model met no earlier frame.)
    for (i, d) in diffs.iter().enumerate().skip(1) {
        if (i + 1) % 3 == 0 {
            assert!(*d > 6.0, "frame {i} (detector failed) left in clear: {d:.2}");
        } else {
            assert!(*d < 4.0, "frame {i} (decided) should only carry encoding noise: {d:.2}");
        }
    }
    let d = audit.with_action("export");
    assert_eq!(d[0]["pixelated_whole"], calls / 3);
}

#[test]
fn an_unmasked_export_still_fills_the_privacy_masks() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), Default::default());
    record(&archive, "hw", t(T0), 20.0);
    let mask = vigie_core::Polygon::new(vec![(200.0, 20.0), (300.0, 20.0), (300.0, 100.0), (200.0, 100.0)]);
    archive.set_privacy_masks("hw", vec![mask]);
    let req = ExportRequest {
        camera: "hw".into(),
        from_ms: UnixMs(ms(t(T0)) + 2000),
        to_ms: UnixMs(ms(t(T0)) + 4000),
        blur_people: false,
        unmask_reason: Some("requisition 2026-118".into()),
        actor: "supervisor1".into(),
    };
    let (_, out, orig) = exported_and_original(&archive, &req, None);
    for (a, b) in out.iter().zip(&orig) {
        for (x, y) in [(210, 30), (250, 60), (290, 90)] {
            let v = a.y[y * a.width + x];
            assert!(
                (v as i32 - vigie_imaging::privacy::MASK_YUV[0] as i32).abs() <= 3,
                "mask not opaque at ({x},{y}): {v}"
            );
        }
        let outside = mean_abs_diff(a, b, |x, y| x < 190 || y > 110);
        assert!(outside < 4.0, "outside the mask only encoding noise: {outside:.2}");
    }
}

#[test]
fn the_background_task_runs_passes_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, clock) = open(dir.path(), ArchiveConfig { retention_days: 1, ..Default::default() }, audit.clone());
    let rows = record(&archive, "a", t(T0), 20.0);
    clock.set(t(T0 + 2 * DAY));
    let task = RetentionTask::spawn(archive.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while audit.with_action("retention.delete").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    task.stop();
    let passes = audit.with_action("retention.delete");
    assert_eq!(passes.len(), 1, "one pass at start, the next only after the interval");
    assert_eq!(passes[0]["segments"][0]["sha256"], rows[0].sha256.as_str());
    assert!(archive.catalog().all().unwrap().is_empty());
}

#[test]
fn archive_types_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Archive>();
    send_sync::<TrackIndex>();
    send::<Recorder>();
    send::<TrackSummarizer>();
}
