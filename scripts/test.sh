#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls this): set-up, format check, every Rust test in
# release mode, the console's browser tests on the binary that build made, then clippy.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo test --release --workspace --no-fail-fast
# The browser tests run the binary that the test build just made: `cargo build -p vigie` alone
# resolves other crate features (no dev-dependencies) and would compile half the workspace again.
VIGIE_BIN="${CARGO_TARGET_DIR:-target}/release/vigie" tests/browser/run.sh
cargo clippy --release --workspace --all-targets -- -D warnings
