//! Prints vigie-eval metrics as JSON for a TrackEval-style tree, for `tools/trackeval_crosscheck.py`:
//! `<root>/gt/<seq>/gt/gt.txt` against `<root>/tr/t/data/<seq>.txt`, one entry per sequence plus
//! `COMBINED_SEQ` (TrackEval's name for the combined row).
//!
//! Run: `cargo run --release -p vigie-eval --example trackeval_layout -- <root>`

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: trackeval_layout <root>"))?);
    let mut seqs = Vec::new();
    for entry in std::fs::read_dir(root.join("gt"))? {
        seqs.push(entry?.file_name().to_string_lossy().into_owned());
    }
    seqs.sort();
    let mut out = serde_json::Map::new();
    let mut all = Vec::new();
    for s in &seqs {
        let gt = vigie_eval::read_mot(root.join("gt").join(s).join("gt").join("gt.txt"))?;
        let res = vigie_eval::read_mot(root.join("tr/t/data").join(format!("{s}.txt")))?;
        let m = vigie_eval::evaluate(&gt, &res);
        out.insert(s.clone(), serde_json::to_value(&m)?);
        all.push(m);
    }
    out.insert("COMBINED_SEQ".into(), serde_json::to_value(vigie_eval::combine(&all))?);
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
