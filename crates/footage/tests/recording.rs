//! Recording, the startup check, storage limits and a full disk, on real segment files.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::UnixMs;
use vigie_decode::H264Decoder;
use vigie_footage::fmp4::parse_segment;
use vigie_footage::{ArchiveConfig, Recorder, RecorderState, SegmentState};

#[test]
fn segments_are_cut_at_key_frames_about_a_minute_long_and_hold_the_packets_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig::default(), audit);
    let (info, pkts) = packets("highway-cctv.mp4");
    let gop = {
        let keys: Vec<_> = pkts.iter().filter(|p| p.keyframe).map(|p| p.pts).collect();
        keys.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(pkts.last().unwrap().pts)
    };
    let input = looped(&info, &pkts, t(T0), 200.0);
    let mut rec = Recorder::new("highway", &info, archive.clone()).unwrap();
    let mut rows = Vec::new();
    for p in &input {
        rows.extend(rec.push(p).unwrap());
    }
    assert!(rec.status().recording);
    rows.extend(rec.finish().unwrap());
    assert!(rows.len() >= 3, "{} segments for 200 s", rows.len());
    assert_eq!(rows.iter().map(|r| r.frames).sum::<u64>(), input.len() as u64, "every packet recorded once");
    assert_eq!(archive.catalog().all().unwrap(), rows, "index matches what push returned");

    let mut next = 0usize;
    for (k, r) in rows.iter().enumerate() {
        let dur = Duration::from_millis(r.end_ms.ms_since(r.start_ms) as u64);
        if k + 1 < rows.len() {
            assert!(
                dur >= Duration::from_secs(60) && dur < Duration::from_secs(60) + gop + Duration::from_millis(50),
                "{dur:?}"
            );
        }
        let bytes = archive.store().read(&r.path).unwrap();
        assert_eq!(bytes.len() as u64, r.bytes);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), r.sha256);
        let seg = parse_segment(&bytes).unwrap();
        assert!(!seg.truncated && seg.fragments > 10, "about one fragment a second");
        assert_eq!(seg.samples.len() as u64, r.frames);
        assert!(seg.samples[0].key, "segment starts at a key frame");
        assert_eq!((seg.width, seg.height), (320, 240));
        // Byte for byte what the camera sent, with the right wall-clock times.
        for i in 0..seg.samples.len() {
            let p = seg.packet(&bytes, i, r.start_ms.into(), 0, String::new()).unwrap();
            let orig = &input[next + i];
            assert_eq!(p.data, orig.data, "segment {k} sample {i}");
            assert_eq!(p.keyframe, orig.keyframe);
            let drift = UnixMs::from(p.received_at).ms_since(UnixMs::from(orig.received_at));
            assert!(drift.abs() <= 2, "sample {i} of segment {k} off by {drift} ms");
        }
        next += seg.samples.len();
    }
    // The first segment decodes from start to end.
    let mut dec = H264Decoder::new("highway").unwrap();
    let mut n = 0;
    for p in archive.read_range("highway", rows[0].start_ms, UnixMs(rows[0].end_ms.0 - 1)).unwrap() {
        if dec.decode(&p.unwrap()).unwrap().is_some() {
            n += 1;
        }
    }
    assert_eq!(n as u64, rows[0].frames);
}

#[test]
fn startup_check_fixes_index_and_files_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let (archive, _) = open(dir.path(), ArchiveConfig { segment_s: 20, ..Default::default() }, audit.clone());
    let rows = record(&archive, "cam", t(T0), 65.0);
    assert!(rows.len() >= 3);
    let store = archive.store().clone();

    // 1. A file deleted behind the archive's back.
    std::fs::remove_file(dir.path().join("segments").join(&rows[1].path)).unwrap();
    // 2. A complete segment that never got its index row (crash between rename and insert).
    let orphan_key = vigie_footage::segment_key("cam", UnixMs(rows[2].end_ms.0 + 10_000));
    let good = store.read(&rows[0].path).unwrap();
    std::fs::create_dir_all(dir.path().join("segments").join(&orphan_key).parent().unwrap()).unwrap();
    std::fs::write(dir.path().join("segments").join(&orphan_key), &good).unwrap();
    // 3. Garbage under a segment name.
    let junk_key = vigie_footage::segment_key("cam", UnixMs(rows[2].end_ms.0 + 90_000));
    std::fs::write(dir.path().join("segments").join(&junk_key), b"not a video").unwrap();
    // 4. A crash mid-segment: the recorder is lost without closing (no Drop runs on a kill).
    let (info, pkts) = packets("highway-cctv.mp4");
    let crash_start = t(T0 + 1000);
    let mut rec = Recorder::new("cam", &info, archive.clone()).unwrap();
    let input = looped(&info, &pkts, crash_start, 12.5);
    for p in &input {
        assert!(rec.push(p).unwrap().is_none());
    }
    std::mem::forget(rec);
    // 5. A crash right after creating a segment: nothing but the header.
    let empty_key = vigie_footage::segment_key("cam", UnixMs((T0 as i64 + 2000) * 1000));
    let mut w = store.create(&empty_key).unwrap();
    std::io::Write::write_all(&mut w, &good[..200]).unwrap();
    std::mem::forget(w);

    let rep = archive.reconcile(true).unwrap();
    assert_eq!(rep.missing, vec![rows[1].path.clone()], "{rep:?}");
    assert_eq!(rep.indexed, vec![orphan_key.clone()]);
    assert_eq!(rep.quarantined.len(), 1);
    assert!(rep.quarantined[0].starts_with(&junk_key));
    assert_eq!(rep.salvaged.len(), 1, "{rep:?}");
    assert_eq!(rep.partial_deleted, vec![empty_key.clone()]);
    assert!(rep.corrupt.is_empty() && rep.errors.is_empty(), "{rep:?}");
    assert!(rep.summary().contains("missing"));
    assert_eq!(audit.with_action("archive.reconcile").len(), 1, "fixes are audited");

    let all = archive.catalog().all().unwrap();
    let missing = all.iter().find(|r| r.path == rows[1].path).unwrap();
    assert_eq!(missing.state, SegmentState::Missing, "kept and marked, not forgotten");
    let salvaged = all.iter().find(|r| r.start_ms == UnixMs::from(crash_start)).unwrap();
    // Complete one-second fragments of the 12.5 s written: 11 or 12 s worth.
    assert!(salvaged.frames >= 11 * 25 && salvaged.frames < input.len() as u64, "{}", salvaged.frames);
    let b = store.read(&salvaged.path).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&b)), salvaged.sha256);
    assert!(!parse_segment(&b).unwrap().truncated);
    for r in all.iter().filter(|r| r.state == SegmentState::Ok) {
        assert!(store.exists(&r.path).unwrap(), "index points at {}", r.path);
    }

    // A missing file is reported by export, not crashed on.
    let res = archive
        .export(
            &vigie_footage::ExportRequest {
                camera: "cam".into(),
                from_ms: rows[0].start_ms,
                to_ms: rows[2].end_ms,
                blur_people: false,
                unmask_reason: Some("case 42".into()),
                actor: "sup".into(),
            },
            None,
        )
        .unwrap();
    assert!(res.gaps.iter().any(|g| g.reason.contains("missing")), "{:?}", res.gaps);

    // Second run: nothing left to fix; the file coming back is noticed.
    std::fs::write(dir.path().join("segments").join(&rows[1].path), &good).unwrap();
    let rep = archive.reconcile(false).unwrap();
    assert_eq!(rep.restored, vec![rows[1].path.clone()]);
    assert!(archive.reconcile(false).unwrap().is_clean());
}

#[test]
fn a_file_deleted_while_reading_is_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = open(dir.path(), ArchiveConfig { segment_s: 20, ..Default::default() }, Default::default());
    let rows = record(&archive, "cam", t(T0), 45.0);
    std::fs::remove_file(dir.path().join("segments").join(&rows[0].path)).unwrap();
    let mut reader = archive.read_range("cam", rows[0].start_ms, UnixMs(rows[1].end_ms.0 - 1)).unwrap();
    let n = reader.by_ref().count();
    assert_eq!(n as u64, rows[1].frames, "the remaining segment is still read");
    assert_eq!(reader.gaps.len(), 1);
    assert!(reader.gaps[0].reason.contains(&rows[0].path));
    let row = archive.catalog().by_path(&rows[0].path).unwrap().unwrap();
    assert_eq!(row.state, SegmentState::Missing);
    assert_eq!(archive.storage_status().unwrap().alerts.len(), 1);
}

#[test]
fn storage_limits_evict_the_oldest_footage_first_never_the_newest_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let limit = 16u64 << 20;
    let cfg =
        ArchiveConfig { max_bytes_per_camera: Some(limit), max_total_bytes: Some(24 << 20), ..Default::default() };
    let (archive, _) = open(dir.path(), cfg, audit.clone());
    // Camera a first, then camera b later: both exceed the per-camera limit, together the total.
    let a = record(&archive, "a", t(T0), 660.0);
    let b = record(&archive, "b", t(T0 + 3600), 660.0);
    let per_seg = a.iter().map(|r| r.bytes).max().unwrap();
    let usage = archive.catalog().usage().unwrap();
    let total: u64 = usage.iter().map(|u| u.bytes).sum();
    assert!(total <= (24 << 20) + per_seg, "total {total}");
    for u in &usage {
        assert!(u.bytes <= limit + per_seg, "{u:?}");
    }
    let kept = archive.catalog().all().unwrap();
    let newest_a = a.last().unwrap();
    let newest_b = b.last().unwrap();
    assert!(kept.iter().any(|r| r.id == newest_a.id) && kept.iter().any(|r| r.id == newest_b.id), "newest kept");
    // Oldest first: what is kept of each camera is a contiguous run ending at its newest.
    for rows in [&a, &b] {
        let kept_ids: Vec<bool> = rows.iter().map(|r| kept.iter().any(|k| k.id == r.id)).collect();
        let first_kept = kept_ids.iter().position(|k| *k).unwrap();
        assert!(first_kept > 0, "something was evicted");
        assert!(kept_ids[first_kept..].iter().all(|k| *k), "{kept_ids:?}");
    }
    // Audited with reason and hashes, visible to operators.
    let evictions = audit.with_action("archive.evict");
    assert!(!evictions.is_empty());
    let listed: Vec<String> = evictions
        .iter()
        .flat_map(|e| e["segments"].as_array().unwrap().iter().map(|s| s["sha256"].as_str().unwrap().to_string()))
        .collect();
    let evicted: Vec<_> = a.iter().chain(&b).filter(|r| !kept.iter().any(|k| k.id == r.id)).collect();
    assert_eq!(listed.len(), evicted.len());
    for r in &evicted {
        assert!(listed.contains(&r.sha256));
        assert!(!archive.store().exists(&r.path).unwrap());
    }
    assert!(evictions.iter().all(|e| e["reason"] == "storage limit"));
    let status = archive.storage_status().unwrap();
    assert!(status.alerts.iter().any(|a| a.contains("storage limit")), "{:?}", status.alerts);
    assert!(status.recent_deletions.iter().any(|d| d.reason == "storage limit"));
}

#[test]
fn a_full_disk_stops_recording_visibly_without_panicking_and_recording_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(MemAudit::default());
    let clock = vigie_core::SimClock::new(t(T0));
    let cfg = ArchiveConfig { segment_s: 10, recording_retry_s: 5, ..Default::default() };
    let archive =
        vigie_footage::Archive::open_with_quota(dir.path(), cfg, Some(1_500_000), Arc::new(clock.clone()), audit)
            .unwrap();
    let (info, pkts) = packets("highway-cctv.mp4");
    let input = looped(&info, &pkts, t(T0), 120.0);
    let mut rec = Recorder::new("cam", &info, archive.clone()).unwrap();
    let mut errors = Vec::new();
    let mut written_before_error = None;
    for p in &input {
        match rec.push(p) {
            Ok(_) => {}
            Err(e) => {
                written_before_error.get_or_insert(rec.status().segments_written);
                errors.push(e);
                if errors.len() == 1 {
                    let st = rec.status();
                    assert!(!st.recording && st.state == RecorderState::Stopped);
                    assert!(st.last_error.as_deref().unwrap().contains("disk full"), "{st:?}");
                    let alerts = archive.storage_status().unwrap().alerts;
                    assert!(
                        alerts.iter().any(|a| a.contains("recording stopped") && a.contains("disk full")),
                        "{alerts:?}"
                    );
                    // Make room, as retention or an operator would.
                    let oldest = archive.catalog().oldest(Some("cam"), 1).unwrap();
                    archive.store().delete(&oldest[0].path).unwrap();
                    archive.catalog().delete(&[oldest[0].id]).unwrap();
                }
            }
        }
    }
    assert!(errors.iter().all(|e| e.is_storage_full()), "{errors:?}");
    assert!(!errors.is_empty());
    let st = rec.status().clone();
    assert!(st.packets_dropped > 0, "packets after the failure are dropped quietly");
    assert!(st.segments_written > written_before_error.unwrap(), "recording resumed after the retry delay: {st:?}");
    drop(rec);
    // Nothing indexed points at a missing or partial file, and no partial file is left.
    for r in archive.catalog().all().unwrap() {
        let b = archive.store().read(&r.path).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&b)), r.sha256);
    }
    assert!(archive.store().list().unwrap().iter().all(|o| !o.partial));
}
