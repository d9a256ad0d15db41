#!/usr/bin/env bash
# Installs the pinned test dependencies and runs the console's end-to-end tests in Debian's
# Chromium, after the unit tests of the console modules that need no browser (mjpeg, scene, chart).
# Without VIGIE_SERVER_CMD it runs the real node: `vigie run` on a copy of config/demo.toml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
command -v node >/dev/null || { echo "run.sh: node is missing (Debian package nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: npm is missing (Debian package npm)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "run.sh: ${CHROMIUM:-/usr/bin/chromium} is missing (Debian package chromium)" >&2; exit 1; }
cd "$here"
npm ci --no-audit --no-fund
if [ -n "${VIGIE_BIN:-}" ]; then
  case "$VIGIE_BIN" in /*) ;; *) export VIGIE_BIN="$root/$VIGIE_BIN" ;; esac
  [ -x "$VIGIE_BIN" ] || { echo "run.sh: VIGIE_BIN=$VIGIE_BIN is not an executable" >&2; exit 1; }
elif [ -z "${VIGIE_SERVER_CMD:-}" ]; then
  (cd "$root" && cargo build --release -p vigie)
  target="${CARGO_TARGET_DIR:-$root/target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  export VIGIE_BIN="$target/release/vigie"
fi
# The module tests that need no browser first, then every other *.test.mjs (each starts its own node).
unit=(mjpeg.test.mjs scene.test.mjs chart.test.mjs)
rest=()
for f in *.test.mjs; do case " ${unit[*]} " in *" $f "*) ;; *) rest+=("$f") ;; esac; done
exec node --test --test-concurrency=1 "${unit[@]}" "${rest[@]}"
