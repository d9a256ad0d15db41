//! MOTChallenge files on disk, as `vigie eval mot <GT> <RESULT>` names them: a ground-truth file or
//! sequence directory and a tracker result.

use std::path::Path;

use serde::Serialize;

use crate::metrics::{evaluate, MotMetrics};
use crate::mot::{read_mot, resolve_gt_path, EvalError};

/// Metrics of one sequence with the name it is reported under, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct NamedMetrics {
    pub sequence: String,
    #[serde(flatten)]
    pub metrics: MotMetrics,
}

/// Reads both files and evaluates them; `gt` may be a sequence directory. Returns the sequence name
/// (the directory's name for MOTChallenge layouts, else the file stem) with the metrics.
pub fn evaluate_files(gt: &Path, result: &Path) -> Result<NamedMetrics, EvalError> {
    let gt_file = resolve_gt_path(gt)?;
    let gt_rows = read_mot(&gt_file)?;
    let res_rows = read_mot(result)?;
    Ok(NamedMetrics { sequence: sequence_name(gt, &gt_file), metrics: evaluate(&gt_rows, &res_rows) })
}

fn sequence_name(given: &Path, gt_file: &Path) -> String {
    let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    if given.is_dir() {
        return file_name(&given.canonicalize().unwrap_or_else(|_| given.to_path_buf())).unwrap_or_default();
    }
    // `<seq>/gt/gt.txt` and `<seq>/gt.txt` are named after `<seq>`; any other file after its stem.
    if gt_file.file_name().is_some_and(|n| n == "gt.txt") {
        let parent = gt_file.parent().map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()));
        if let Some(mut dir) = parent {
            if dir.file_name().is_some_and(|n| n == "gt") {
                dir.pop();
            }
            if let Some(name) = file_name(&dir) {
                return name;
            }
        }
    }
    gt_file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn reference(seq: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/annotations/mot-reference").join(seq)
    }

    #[test]
    fn directory_and_file_gt_give_the_same_named_result() {
        let res = reference("TUD-Campus/test.txt");
        let by_dir = evaluate_files(&reference("TUD-Campus"), &res).unwrap();
        let by_file = evaluate_files(&reference("TUD-Campus/gt.txt"), &res).unwrap();
        assert_eq!(by_dir.sequence, "TUD-Campus");
        assert_eq!(by_file.sequence, "TUD-Campus");
        assert_eq!(by_dir.metrics, by_file.metrics);
    }

    #[test]
    fn directory_without_gt_is_a_clear_error() {
        let dir = reference("");
        let msg = evaluate_files(&dir, &reference("TUD-Campus/test.txt")).unwrap_err().to_string();
        assert!(msg.starts_with("no ground truth in directory ") && msg.contains("gt/gt.txt or "), "{msg}");
    }

    #[test]
    fn json_output_carries_the_sequence_name_and_metrics() {
        let named = evaluate_files(&reference("TUD-Campus"), &reference("TUD-Campus/test.txt")).unwrap();
        let v: serde_json::Value = serde_json::to_value(&named).unwrap();
        assert_eq!(v["sequence"], "TUD-Campus");
        assert_eq!(v["clr_fp"], 13);
        assert_eq!(v["hota_alphas"].as_array().unwrap().len(), 19);
    }
}
