//! Search benchmark over a generated track index.
//!
//! `cargo run --release -p vigie-search --example bench_search -- [DIR] [TRACKS] [RUNS]`
//! (defaults: a temporary directory, 10 000 000 tracks, 200 runs per query type). An existing
//! `DIR/tracks.db` with the requested number of tracks is reused.

use std::path::PathBuf;
use vigie_search::bench::{bench_search, generate_index};
use vigie_search::TrackIndex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp;
    let dir = match args.first() {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let n: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000_000);
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(200);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("tracks.db");
    let existing = path.exists().then(|| TrackIndex::open(&path).map(|ix| ix.len()).unwrap_or(0));
    if existing != Some(n) {
        println!("generating {n} tracks into {} ...", path.display());
        let g = generate_index(&path, n, 42)?;
        println!(
            "generated {} tracks and {} zone visits in {:.1} s ({:.2} GB)",
            g.tracks,
            g.zone_visits,
            g.seconds,
            g.bytes as f64 / 1e9
        );
    }
    let report = bench_search(&path, runs, 7)?;
    print!("{report}");
    Ok(())
}
