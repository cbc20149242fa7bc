#!/usr/bin/env bash
# The demo (`make demo`): the local OCI Generative AI emulator, traffic through each of
# twinkey's adapters, the secret in use revoked half-way, and a short report per path.
# Exits non-zero if any request failed. Stops everything it started.
#
# Steps:
#   1. build the twinkey CLI (release, once)
#   2. start `twinkey emulate` on a free loopback port with a fresh key (--init)
#   3. Rust path: `twinkey demo` drives requests through twinkey-client
#   (Python, Node, browser, rotation and fleet paths are appended after step 3; see the note there.)
#   last: stop the emulator, print the summary
#
# Knobs: DEMO_REQUESTS (default 300), DEMO_CONCURRENCY (default 16).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TWINKEY_ROOT"

REQUESTS="${DEMO_REQUESTS:-300}"
CONCURRENCY="${DEMO_CONCURRENCY:-16}"
work="$(mktemp -d "${TMPDIR:-/tmp}/twinkey-demo.XXXXXX")"
emulator_pid=""
paths_run=()
paths_failed=()

stop_emulator() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  emulator_pid=""
}
cleanup() {
  stop_emulator
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A field of the emulator's one-line JSON start report.
emulator_field() {
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$work/emulator.json" | head -n 1
}

# new_key_file PATH: asks the emulator for a new key (both secrets ACTIVE, usable at once)
# and writes it, with its secret values, to PATH (mode 0600). For paths that need a key of
# their own instead of the one the Rust path revoked.
new_key_file() {
  (umask 077 && curl -fsS -X POST -H 'content-type: application/json' -d '{}' \
    "$TWINKEY_DEMO_ADMIN_URL/keys" >"$1")
}

# run_path NAME COMMAND...: runs one path's driver and records its outcome.
run_path() {
  local name="$1"
  shift
  paths_run+=("$name")
  if ! "$@"; then
    paths_failed+=("$name")
  fi
}

step "1. build the twinkey CLI and the Rust fleet worker (release)"
cargo build --release --locked -p twinkey-cli --bin twinkey --example fleet_worker
TWINKEY="$CARGO_TARGET_DIR/release/twinkey"

step "2. start the emulator on a free loopback port"
"$TWINKEY" emulate --listen 127.0.0.1:0 --init "$work/emulator" --json \
  >"$work/emulator.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 1 600); do
  grep -q '"url":' "$work/emulator.json" 2>/dev/null && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    cat "$work/emulator.log" "$work/emulator.json" >&2 || true
    echo "demo: the emulator did not start" >&2
    exit 1
  fi
  sleep 0.1
done
TWINKEY_DEMO_BASE_URL="$(emulator_field base_url)"
TWINKEY_DEMO_ADMIN_URL="$(emulator_field admin_url)"
TWINKEY_DEMO_KEY_FILE="$(emulator_field key_file)"
if [ -z "$TWINKEY_DEMO_BASE_URL" ] || [ -z "$TWINKEY_DEMO_KEY_FILE" ]; then
  echo "demo: cannot read the emulator's address" >&2
  exit 1
fi
export TWINKEY_DEMO_BASE_URL TWINKEY_DEMO_ADMIN_URL TWINKEY_DEMO_KEY_FILE
echo "emulator (pid $emulator_pid) serving $TWINKEY_DEMO_BASE_URL"
echo "key file $TWINKEY_DEMO_KEY_FILE (mode 0600: both secret values)"

step "3. Rust: $REQUESTS requests through twinkey-client, $CONCURRENCY at a time; the secret in use is revoked half-way"
run_path rust "$TWINKEY" demo \
  --base-url "$TWINKEY_DEMO_BASE_URL" \
  --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
  --key-file "$TWINKEY_DEMO_KEY_FILE" \
  --requests "$REQUESTS" \
  --concurrency "$CONCURRENCY"

# ---------------------------------------------------------------------------------------------
# Further paths (Python, Node, browser) go here, one step each, in the same shape:
#   step "4. Python: ..."
#   new_key_file "$work/python-key.json"     # a fresh key: the Rust path revoked key-one
#   run_path python <command printing its report and exiting non-zero on a failed request>
# The emulator is reachable at $TWINKEY_DEMO_BASE_URL (admin: $TWINKEY_DEMO_ADMIN_URL).
# ---------------------------------------------------------------------------------------------

# --- Python path (owner: the Python binding; python/tools/demo.py) ---------------------------
step "Python: $REQUESTS requests through openai-python 3.x with twinkey.openai.client (Httpx2Auth), $CONCURRENCY threads; the secret in use is revoked half-way"
new_key_file "$work/python-key.json"   # a fresh key: the Rust path revoked key-one
if python/tools/prepare.sh openai3 >"$work/python-prepare.log" 2>&1; then # venv (once) + wheel
  run_path python "$TWINKEY_CACHE/venv-py-openai3/bin/python" python/tools/demo.py \
    --base-url "$TWINKEY_DEMO_BASE_URL" \
    --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
    --key-file "$work/python-key.json" \
    --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY"
else
  cat "$work/python-prepare.log" >&2
  echo "demo: cannot prepare the Python environment (venv / maturin build failed)" >&2
  paths_run+=(python)
  paths_failed+=(python)
fi
# --- end of the Python path -------------------------------------------------------------------

# --- Node path (owner: the Node binding; node/examples/demo.mjs) ------------------------------
step "Node: $REQUESTS requests through the openai npm SDK with fetch: engine.fetch, $CONCURRENCY at a time; the secret in use is revoked half-way"
new_key_file "$work/node-key.json"     # a fresh key: the Rust path revoked key-one
if node/scripts/prepare.sh --if-stale; then # npm ci (once) and the N-API addon (when stale)
  run_path node node node/examples/demo.mjs \
    --base-url "$TWINKEY_DEMO_BASE_URL" \
    --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
    --key-file "$work/node-key.json" \
    --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY"
else
  echo "demo: cannot prepare node/ (npm ci / napi build failed)" >&2
  paths_run+=(node)
  paths_failed+=(node)
fi
# --- end of the Node path ---------------------------------------------------------------------

# --- Browser path (owner: browser tooling; bindings/wasm/demo.mjs) ----------------------------
BROWSER_REQUESTS=$(( REQUESTS < 120 ? REQUESTS : 120 ))
step "Browser: headless Chromium, openai npm SDK + TokenClient (wasm) -> twinkey relay -> emulator; $BROWSER_REQUESTS requests with server tokens only; the secret in use is revoked half-way"
new_key_file "$work/browser-key.json"   # a fresh key: the Rust path revoked key-one
if bindings/wasm/prepare.sh; then       # wasm build, npm ci (once), Chromium
  run_path browser node bindings/wasm/demo.mjs \
    --twinkey "$TWINKEY" \
    --base-url "$TWINKEY_DEMO_BASE_URL" \
    --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
    --key-file "$work/browser-key.json" \
    --work "$work" \
    --requests "$BROWSER_REQUESTS" \
    --concurrency "$(( CONCURRENCY < 6 ? CONCURRENCY : 6 ))"
else
  echo "demo: cannot prepare the browser path (wasm build, npm ci or Chromium failed)" >&2
  paths_run+=(browser)
  paths_failed+=(browser)
fi
# --- end of the Browser path ------------------------------------------------------------------

# --- Rotation path (owner: control plane / rotation; `twinkey rotate` + `twinkey demo --until`) --
# The documented zero-downtime rotation through the OCI-signed control plane (key-one -> key-two)
# while twinkey-client traffic flows on the old secret; state changes take 1.5 s to propagate.
ROTATION_CONCURRENCY=$(( CONCURRENCY < 4 ? CONCURRENCY : 4 ))
step "Rotation: twinkey rotate through the control plane (OCI-signed; key-one -> key-two, propagation 1.5 s) while traffic flows through twinkey-client, $ROTATION_CONCURRENCY at a time"
rotation_path() {
  local config url key_id traffic rc=0
  config="$(emulator_field oci_config)"   # written by `twinkey emulate --init`
  url="$(emulator_field url)"
  new_key_file "$work/rotation-key.json"
  key_id="$(sed -n 's/.*"id": *"\(ocid1\.generativeaiapikey[^"]*\)".*/\1/p' "$work/rotation-key.json" | head -n 1)"
  # The documented starting point: key-one in use, key-two the INACTIVE standby.
  "$TWINKEY" keys set-state "$key_id" --secret key-two --state INACTIVE \
    --config "$config" --endpoint "$url" >/dev/null
  curl -fsS -X PUT -H 'content-type: application/json' -d '{"propagationMs": 1500}' \
    "$TWINKEY_DEMO_ADMIN_URL/config" >/dev/null
  "$TWINKEY" demo --base-url "$TWINKEY_DEMO_BASE_URL" --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
    --key-file "$work/rotation-key.json" --requests 50 --concurrency "$ROTATION_CONCURRENCY" \
    --revoke-after 0 --until "$work/rotation.done" --watch 1s >"$work/rotation-traffic.txt" 2>&1 &
  traffic=$!
  # The traffic follows its key file (a key watch, every 1 s); the rotation rewrites the file
  # at its switch and gives the watch 2.1 s (1 s + 10 % jitter + 1 s) before it retires key-one.
  "$TWINKEY" rotate "$key_id" --key-file "$work/rotation-key.json" \
    --secret-out "$work/rotation-key.json" --watch-grace 2100ms \
    --state-file "$work/rotation-state.json" --config "$config" --endpoint "$url" || rc=1
  sleep 2 # traffic goes on until the deactivation of key-one has propagated (1.5 s)
  touch "$work/rotation.done"
  wait "$traffic" || rc=1
  sed 's/^Rust (twinkey-client)/Traffic during the rotation (twinkey-client)/' "$work/rotation-traffic.txt"
  curl -fsS -X PUT -H 'content-type: application/json' -d '{"propagationMs": 0}' \
    "$TWINKEY_DEMO_ADMIN_URL/config" >/dev/null
  return "$rc"
}
run_path rotation rotation_path
# --- end of the Rotation path -----------------------------------------------------------------

# --- Fleet path (owner: fleets; python/e2e/fleet_demo.py) -------------------------------------
# Three processes (Rust, Python, Node) on one key share a redis-server on loopback: a revocation
# seen by one reaches the others before they send, one budget, fleet-wide usage.
step "Fleet: $REQUESTS requests from 3 processes (Rust, Python, Node) sharing a redis-server; the secret in use is revoked a third of the way"
fleet_path() {
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends redis-server >/dev/null || return 1
  fi
  new_key_file "$work/fleet-key.json"
  (cd python/e2e && TWINKEY_FLEET_WORKER="$CARGO_TARGET_DIR/release/examples/fleet_worker" \
    "$TWINKEY_CACHE/venv-py-openai3/bin/python" fleet_demo.py --twinkey "$TWINKEY" \
    --base-url "$TWINKEY_DEMO_BASE_URL" --admin-url "$TWINKEY_DEMO_ADMIN_URL" \
    --key-file "$work/fleet-key.json" --requests "$REQUESTS" \
    --concurrency "$(( CONCURRENCY < 8 ? CONCURRENCY : 8 ))")
}
run_path fleet fleet_path
# --- end of the Fleet path --------------------------------------------------------------------

step "stop the emulator"
stop_emulator
echo "stopped"

printf '\ndemo: %d path(s) run (%s), %d with failed requests%s\n' \
  "${#paths_run[@]}" "${paths_run[*]}" "${#paths_failed[@]}" \
  "${paths_failed[*]:+ (${paths_failed[*]})}"
[ ${#paths_failed[@]} -eq 0 ]
