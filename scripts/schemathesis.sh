#!/usr/bin/env bash
# Schema-driven test of the console API: schemathesis (PyPI, in the ignored .venv-schemathesis/)
# against the real node's /api/openapi.yaml, logged in as each role (session cookie + X-CSRF-Token),
# with no cameras so that it is quick. Passes when no request got a 5xx and no response
# contradicts the document (status code, content type, headers, body schema). A benchmark-style
# check (a few minutes), not part of the CI suite; figures are in the README.
#
#   scripts/schemathesis.sh [EXAMPLES_PER_OPERATION]     (default 25)
#
# Not exercised: POST /api/logout (it would end the session mid-run; tests/api.rs covers it) and
# GET /api/alerts/stream (an endless event stream; tests cover it).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-25}
version=4.32.5
venv=.venv-schemathesis
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi
# VIGIE_BIN: a binary already built (e.g. by the test suite), instead of building one here.
bin=${VIGIE_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p vigie --bin vigie
  bin=target/release/vigie
fi

tmp=$(mktemp -d)
node=
cleanup() {
  if [ -n "$node" ]; then kill "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cat >"$tmp/vigie.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
EOF
roles=${ROLES:-operator supervisor auditor admin}
password=schemathesis-password-1
for role in $roles; do
  printf '%s\n' "$password" | "$bin" user add --data "$tmp/data" --role "$role" "st-$role" >/dev/null
done
"$bin" run --config "$tmp/vigie.toml" --data "$tmp/data" >"$tmp/node.log" 2>&1 &
node=$!
for _ in $(seq 1 120); do
  curl -fsS "$base/api/openapi.yaml" >/dev/null 2>&1 && break
  kill -0 "$node" 2>/dev/null || { cat "$tmp/node.log"; echo "the node did not start" >&2; exit 1; }
  sleep 0.5
done

# Every session first: schemathesis fuzzes the login too, which rate-limits this address.
declare -A cookie csrf
for role in $roles; do
  hdrs=$(curl -fsS -D - -o "$tmp/login.json" -H 'content-type: application/json' \
    -d "{\"username\":\"st-$role\",\"password\":\"$password\"}" "$base/api/login")
  cookie[$role]=$(printf '%s' "$hdrs" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(vigie_session=[0-9a-f]*\).*/\1/p')
  csrf[$role]=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$tmp/login.json")
done

status=0
summary=()
# Admin last: it may disable or re-password users, which would end the other sessions.
for role in $roles; do
  echo "== schemathesis as $role ($examples examples per operation)"
  set +e
  "$venv/bin/schemathesis" run "$base/api/openapi.yaml" \
    -H "Cookie: ${cookie[$role]}" -H "X-CSRF-Token: ${csrf[$role]}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --exclude-path /api/logout --exclude-path /api/alerts/stream \
    --max-examples "$examples" --seed 1 --workers 1 --request-timeout 20 --no-color \
    --report ndjson --report-ndjson-path "$tmp/$role.ndjson" 2>&1 | tee "$tmp/$role.out" | tail -n 40
  rc=${PIPESTATUS[0]}
  set -e
  # The failures and errors section, when the tail above cut it.
  [ "$rc" -eq 0 ] || sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* SUMMARY =*$/p' "$tmp/$role.out" | head -n 150
  [ "$rc" -eq 0 ] || status=1
  summary+=("$role: exit $rc; test cases: $(grep -A1 '^Test cases:' "$tmp/$role.out" | tail -n 1 | sed 's/^ *//')")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
if grep -q 'panicked' "$tmp/node.log"; then
  echo "the node logged a panic:" >&2
  grep -A3 panicked "$tmp/node.log" >&2
  status=1
fi
exit $status
