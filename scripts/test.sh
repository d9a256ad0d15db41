#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls this): set-up, format check, every Rust test in
# release mode (one build shared with the demo), then the console's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo test --release --workspace --no-fail-fast
cargo build --release -p vigie
tests/browser/run.sh
