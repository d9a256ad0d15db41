#!/usr/bin/env bash
# The demo: the whole system on the bundled clips with the embedded defaults (cameras, analysis,
# alerts, archive and the console on http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Shares the test build's artifacts (same features, see scripts/test.sh): after `cargo test
# --release --workspace` this compiles nothing.
cargo build --release -p vigie
exec target/release/vigie run --config config/demo.toml --data "${VIGIE_DATA:-data/demo}"
