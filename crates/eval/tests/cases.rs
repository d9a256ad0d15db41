//! Small hand-built sequences whose metrics can be worked out on paper.

use std::io::Write as _;
use std::path::Path;

use vigie_eval::{combine, evaluate, read_mot, MotMetrics, MotRow};

fn row(frame: u32, id: i64, x: f64, y: f64, w: f64, h: f64) -> MotRow {
    MotRow { frame, id, x, y, w, h, conf: 1.0 }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn stadtmitte_gt() -> Vec<MotRow> {
    read_mot(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/annotations/mot-reference/TUD-Stadtmitte/gt.txt"),
    )
    .unwrap()
}

#[test]
fn identical_result_scores_100_everywhere() {
    let gt = stadtmitte_gt();
    // Tracker ids are arbitrary labels: renaming them must not change anything.
    let res: Vec<MotRow> = gt.iter().map(|r| MotRow { id: r.id + 100, ..*r }).collect();
    let m = evaluate(&gt, &res);
    for (name, v) in [("MOTA", m.mota), ("MOTP", m.motp), ("IDF1", m.idf1), ("HOTA", m.hota), ("LocA", m.loc_a)] {
        assert!(close(v, 100.0), "{name} = {v}");
    }
    assert!(m.hota_alphas.iter().all(|a| close(a.loc_a, 100.0) && close(a.hota, 100.0) && a.fp == 0 && a.fn_ == 0));
    assert_eq!((m.clr_fp, m.clr_fn, m.id_switches, m.frag, m.ml, m.pt), (0, 0, 0, 0, 0, 0));
    assert_eq!((m.mt, m.idtp, m.idfp, m.idfn), (10, 1156, 0, 0));
    assert!(close(m.motp_distance, 0.0));
}

/// One person, 10 frames; the tracker follows them throughout but changes id at frame 6.
#[test]
fn an_id_change_is_exactly_one_switch() {
    let gt: Vec<MotRow> = (1..=10).map(|f| row(f, 1, 10.0 * f as f64, 50.0, 40.0, 100.0)).collect();
    let res: Vec<MotRow> = gt.iter().map(|r| MotRow { id: if r.frame <= 5 { 7 } else { 8 }, ..*r }).collect();
    let m = evaluate(&gt, &res);
    assert_eq!((m.id_switches, m.frag, m.clr_fp, m.clr_fn, m.mt), (1, 0, 0, 0, 1));
    assert!(close(m.mota, 90.0), "MOTA {}", m.mota);
    // The best single id pairing keeps 5 of 10 frames.
    assert_eq!((m.idtp, m.idfn, m.idfp), (5, 5, 5));
    assert!(close(m.idf1, 50.0));
    // Detection is perfect; each half of the track is a 5-frame match over a 10-frame gt and a 5-frame
    // tracker id: AssA = 5/(10+5-5) = 0.5, HOTA = sqrt(1 × 0.5).
    assert!(close(m.det_a, 100.0) && close(m.ass_a, 50.0), "DetA {} AssA {}", m.det_a, m.ass_a);
    assert!(close(m.hota, 100.0 * 0.5f64.sqrt()), "HOTA {}", m.hota);
}

/// Two people cross-swapping ids between the tracker's two tracks at frame 3: both gts switch.
#[test]
fn swapping_two_tracks_is_two_switches() {
    let mut gt = Vec::new();
    let mut res = Vec::new();
    for f in 1..=4 {
        gt.push(row(f, 1, 0.0, 0.0, 50.0, 100.0));
        gt.push(row(f, 2, 300.0, 0.0, 50.0, 100.0));
        let (a, b) = if f < 3 { (1, 2) } else { (2, 1) };
        res.push(row(f, a, 0.0, 0.0, 50.0, 100.0));
        res.push(row(f, b, 300.0, 0.0, 50.0, 100.0));
    }
    let m = evaluate(&gt, &res);
    assert_eq!(m.id_switches, 2);
    assert!(close(m.mota, 75.0));
}

/// CLEAR keeps last frame's pair while it still has IoU >= 0.5, even when another box fits better.
#[test]
fn matching_prefers_continuing_the_previous_frame_pair() {
    let gt = vec![row(1, 1, 0.0, 0.0, 100.0, 100.0), row(2, 1, 0.0, 0.0, 100.0, 100.0)];
    let res = vec![
        row(1, 1, 0.0, 0.0, 100.0, 100.0),
        row(2, 1, 20.0, 0.0, 100.0, 100.0), // IoU 80/120
        row(2, 2, 5.0, 0.0, 100.0, 100.0),  // IoU 95/105, better but a new id
    ];
    let m = evaluate(&gt, &res);
    assert_eq!((m.id_switches, m.clr_tp, m.clr_fp), (0, 2, 1));
    assert!(close(m.motp, 100.0 * (1.0 + 80.0 / 120.0) / 2.0));
}

/// A gt lost for a frame then picked up under another id: one switch (against the last id it ever had)
/// and one fragmentation.
#[test]
fn switch_is_counted_against_the_last_id_ever_matched() {
    let gt: Vec<MotRow> = (1..=3).map(|f| row(f, 1, 0.0, 0.0, 100.0, 100.0)).collect();
    let res =
        vec![row(1, 5, 0.0, 0.0, 100.0, 100.0), row(2, 5, 400.0, 0.0, 100.0, 100.0), row(3, 6, 0.0, 0.0, 100.0, 100.0)];
    let m = evaluate(&gt, &res);
    assert_eq!((m.id_switches, m.frag, m.clr_tp, m.clr_fn, m.clr_fp), (1, 1, 2, 1, 1));
    assert_eq!((m.mt, m.pt, m.ml), (0, 1, 0));
}

#[test]
fn empty_result_is_all_misses() {
    let gt = stadtmitte_gt();
    let m = evaluate(&gt, &[]);
    assert_eq!((m.clr_fn, m.clr_tp, m.clr_fp, m.id_switches), (1156, 0, 0, 0));
    assert_eq!((m.ml, m.gt_ids, m.idtp, m.idfn), (10, 10, 0, 1156));
    assert!(close(m.mota, 0.0) && close(m.recall, 0.0) && close(m.idf1, 0.0) && close(m.hota, 0.0));
    // TrackEval's convention: with no matches LocA is 1 at every alpha.
    assert!(m.hota_alphas.iter().all(|a| close(a.loc_a, 100.0) && a.fn_ == 1156));
}

#[test]
fn empty_ground_truth_is_all_false_positives() {
    let res = vec![row(1, 1, 0.0, 0.0, 10.0, 10.0), row(2, 1, 0.0, 0.0, 10.0, 10.0)];
    let m = evaluate(&[], &res);
    assert_eq!((m.clr_fp, m.clr_fn, m.idfp, m.gt_ids), (2, 0, 2, 0));
    assert!(close(m.precision, 0.0) && close(m.hota, 0.0));
    // No denominator: TrackEval reports 0 rather than -200%.
    assert!(close(m.mota, 0.0) && close(m.motal, 0.0));
}

#[test]
fn zero_confidence_ground_truth_is_ignored() {
    let person: Vec<MotRow> = (1..=5).map(|f| row(f, 1, 0.0, 0.0, 50.0, 100.0)).collect();
    let ignored: Vec<MotRow> = (1..=5).map(|f| MotRow { conf: 0.0, ..row(f, 2, 300.0, 0.0, 50.0, 100.0) }).collect();
    let gt: Vec<MotRow> = person.iter().chain(&ignored).copied().collect();

    let m = evaluate(&gt, &person);
    assert_eq!((m.gt_ids, m.gt_rows, m.gt_rows_ignored, m.clr_fn, m.ml), (1, 5, 5, 0, 0));
    assert!(close(m.mota, 100.0) && close(m.idf1, 100.0) && close(m.hota, 100.0));
    assert_eq!(m, MotMetrics { gt_rows_ignored: 5, ..evaluate(&person, &person) });

    // Without MOTChallenge's preprocessing (MOT15), boxes on ignored people are ordinary false positives.
    let both: Vec<MotRow> = gt.iter().map(|r| MotRow { conf: 1.0, ..*r }).collect();
    assert_eq!(evaluate(&gt, &both).clr_fp, 5);
}

#[test]
fn frames_present_in_only_one_file_count() {
    let gt: Vec<MotRow> = (1..=3).map(|f| row(f, 1, 0.0, 0.0, 50.0, 100.0)).collect();
    let res: Vec<MotRow> = (2..=5).map(|f| row(f, 1, 0.0, 0.0, 50.0, 100.0)).collect();
    let m = evaluate(&gt, &res);
    assert_eq!((m.clr_tp, m.clr_fn, m.clr_fp, m.frames), (2, 1, 2, 5));
    assert_eq!((m.idtp, m.idfn, m.idfp), (2, 1, 2));
    assert!(m.hota_alphas.iter().all(|a| (a.tp, a.fn_, a.fp) == (2, 1, 2)));
}

/// A tracker always off by IoU 80/120 ≈ 0.667: matched at thresholds 0.05–0.65, missed at 0.70–0.95.
#[test]
fn hota_integrates_over_localisation_thresholds() {
    let gt: Vec<MotRow> = (1..=4).map(|f| row(f, 1, 0.0, 0.0, 100.0, 100.0)).collect();
    let res: Vec<MotRow> = gt.iter().map(|r| MotRow { x: 20.0, ..*r }).collect();
    let m = evaluate(&gt, &res);
    let iou = 80.0 / 120.0;
    assert!(close(m.mota, 100.0) && close(m.motp, 100.0 * iou));
    let matched: Vec<bool> = m.hota_alphas.iter().map(|a| a.tp == 4).collect();
    assert_eq!(matched, (0..19).map(|i| i < 13).collect::<Vec<_>>());
    assert!(close(m.hota, 100.0 * 13.0 / 19.0), "HOTA {}", m.hota);
    assert!(close(m.det_a, 100.0 * 13.0 / 19.0) && close(m.ass_a, 100.0 * 13.0 / 19.0));
    assert!(close(m.loc_a, (13.0 * 100.0 * iou + 6.0 * 100.0) / 19.0), "LocA {}", m.loc_a);
}

#[test]
fn combining_one_sequence_changes_nothing_and_none_is_empty() {
    let gt = stadtmitte_gt();
    let res: Vec<MotRow> = gt.iter().filter(|r| r.frame % 3 != 0).map(|r| MotRow { x: r.x + 4.0, ..*r }).collect();
    let m = evaluate(&gt, &res);
    let c = combine(std::slice::from_ref(&m));
    let pairs = [
        (m.mota, c.mota),
        (m.motp, c.motp),
        (m.idf1, c.idf1),
        (m.hota, c.hota),
        (m.ass_a, c.ass_a),
        (m.loc_a, c.loc_a),
    ];
    assert!(pairs.iter().all(|&(a, b)| close(a, b)), "{pairs:?}");
    assert_eq!((c.clr_fn, c.idtp, c.frag, c.mt), (m.clr_fn, m.idtp, m.frag, m.mt));

    let none = combine(&[]);
    assert_eq!((none.clr_tp, none.gt_rows, none.frames), (0, 0, 0));
    assert!(close(none.mota, 0.0) && close(none.hota, 0.0));
}

#[test]
fn malformed_file_error_names_file_and_line() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(f, "1,1,10,10,20,40,1,-1,-1,-1\n2,1,10,10,twenty,40,1,-1,-1,-1\n").unwrap();
    let msg = read_mot(f.path()).unwrap_err().to_string();
    assert_eq!(msg, format!("{}:2: column 5 (w): `twenty` is not a number", f.path().display()));
}

#[test]
fn table_lists_every_column_with_three_decimals() {
    let gt = stadtmitte_gt();
    let t = evaluate(&gt, &gt).table("seq");
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 2);
    let header: Vec<&str> = lines[0].split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(
        header,
        [
            "Sequence", "MOTA", "MOTP", "IDF1", "IDP", "IDR", "HOTA", "DetA", "AssA", "LocA", "FP", "FN", "IDsw", "MT",
            "PT", "ML", "Frag", "Rcll", "Prcn", "GT ids", "gt rows", "res rows"
        ]
    );
    let values: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(values[..4], ["seq", "100.000", "100.000", "100.000"]);
    assert_eq!(values[values.len() - 3..], ["10", "1156", "1156"]);
}
