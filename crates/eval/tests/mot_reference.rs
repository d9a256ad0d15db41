//! The two MOT15 sequences shipped with `motmetrics`, scored against the metrics three reference tools
//! agree on (testdata/annotations/mot-reference/expected_metrics.json), for every field given there.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vigie_eval::{combine, evaluate, read_mot, MotMetrics};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/annotations/mot-reference")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(reference_dir().join("expected_metrics.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn score(seq: &str) -> MotMetrics {
    let dir = reference_dir().join(seq);
    evaluate(&read_mot(dir.join("gt.txt")).unwrap(), &read_mot(dir.join("test.txt")).unwrap())
}

/// Our field for each key of expected_metrics.json. A key missing here fails the test, so every
/// reference figure is checked.
fn field_for(key: &str) -> &'static str {
    match key {
        "seqLength" => "frames",
        "gt_rows" => "gt_rows",
        "res_rows" => "res_rows",
        "IDF1" => "idf1",
        "IDP" => "idp",
        "IDR" => "idr",
        "Rcll" => "recall",
        "Prcn" => "precision",
        "GT" => "gt_ids",
        "MT" => "mt",
        "PT" => "pt",
        "ML" => "ml",
        "FP" => "clr_fp",
        "FN" => "clr_fn",
        "IDs" => "id_switches",
        "FM" => "frag",
        "MOTA" => "mota",
        "MOTP_pct" => "motp",
        "motmetrics_motp_distance" => "motp_distance",
        "MOTAL_devkit" => "motal",
        "HOTA" => "hota",
        "DetA" => "det_a",
        "AssA" => "ass_a",
        "LocA" => "loc_a",
        "IDTP" => "idtp",
        "IDFN" => "idfn",
        "IDFP" => "idfp",
        other => panic!("expected_metrics.json has `{other}`, which this test does not map to a metric"),
    }
}

/// Checks every figure of `want` against `got`: integers exactly, decimals to the precision printed
/// in the reference (half a unit of its last digit, plus float noise).
fn check(label: &str, want: &Value, got: &MotMetrics) -> usize {
    let got = serde_json::to_value(got).unwrap();
    let mut checked = 0;
    for (key, want) in want.as_object().unwrap() {
        let field = field_for(key);
        let have = &got[field];
        if let Some(w) = want.as_u64() {
            assert_eq!(have.as_u64(), Some(w), "{label} {key} ({field}): got {have}, want {w}");
        } else {
            let w = want.as_f64().unwrap();
            let printed = w.to_string();
            let decimals = printed.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
            let tol = 0.5 * 10f64.powi(-decimals) + 1e-9;
            let h = have.as_f64().unwrap();
            assert!((h - w).abs() <= tol, "{label} {key} ({field}): got {h}, want {printed} ± {tol}");
        }
        checked += 1;
    }
    checked
}

#[test]
fn tud_campus_matches_reference_tools() {
    let exp = expected();
    assert_eq!(check("TUD-Campus", &exp["TUD-Campus"], &score("TUD-Campus")), 27);
}

#[test]
fn tud_stadtmitte_matches_reference_tools() {
    let exp = expected();
    assert_eq!(check("TUD-Stadtmitte", &exp["TUD-Stadtmitte"], &score("TUD-Stadtmitte")), 27);
}

#[test]
fn combined_row_matches_reference_tools() {
    let exp = expected();
    let combined = combine(&[score("TUD-Campus"), score("TUD-Stadtmitte")]);
    assert_eq!(check("COMBINED", &exp["COMBINED"], &combined), 13);
}
