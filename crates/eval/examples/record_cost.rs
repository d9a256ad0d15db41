//! What recording costs per camera: CPU time of the recorder per second of footage.
//!
//! `cargo run --release -p vigie-footage --example record_cost -- [CLIP] [LOOPS]`
//! (defaults: the bundled pets09 clip, 768×576 at 7 fps, looped 20 times ≈ 38 minutes).

use std::path::PathBuf;
use vigie_eval::bench::recording::recording_cost;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let clip = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/video/pets09-s2l1.mp4"));
    let loops: u32 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let dir = tempfile::tempdir()?;
    let cost = recording_cost(&clip, loops, dir.path())?;
    println!("{cost}");
    Ok(())
}
