//! Per-frame cost of the rules engine and scene models at 768×576 with 20 zones:
//! `cargo run --release -p vigie-eval --example bench_rules [-- FRAMES]`.
fn main() -> anyhow::Result<()> {
    let n = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(400);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    print!("{}", vigie_eval::bench::rules::run(&root, n)?);
    Ok(())
}
