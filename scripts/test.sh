#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls this): set-up, format check, every Rust test in
# release mode, a check that the release binary is not compiled a second time, the console's
# browser tests on the binary that build made, then clippy.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo test --release --workspace --no-fail-fast
# The release binary is compiled once: `cargo build -p vigie` (the demo's, the browser tests')
# resolves the same features as the test build and must find everything built. When it does
# not, a dev-dependency turned on a feature the binary's own dependencies lack: name it in
# crates/vigie/Cargo.toml (see the comment there).
rebuilt="$(cargo build --release -p vigie 2>&1 | grep -E '^ *Compiling' || true)"
if [ -n "$rebuilt" ]; then
  printf '%s\n' "$rebuilt" >&2
  echo "test.sh: cargo build -p vigie recompiled the crates above after the test build" >&2
  exit 1
fi
VIGIE_BIN="${CARGO_TARGET_DIR:-target}/release/vigie" tests/browser/run.sh
cargo clippy --release --workspace --all-targets -- -D warnings
