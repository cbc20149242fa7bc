#!/usr/bin/env bash
# Fidelity of the emulator's control plane, checked with the real peer: the official OCI
# Python SDK (`oci`, GenerativeAiClient: its signer, retry strategy and models) drives create,
# get, list (pages), update, set state, renew, change compartment and delete against
# `twinkey emulate`, with the OCI config that `--init` writes; then twinkey's own CLI rotates a
# key on the same emulator and the SDK reads the result back. Installs `oci` itself, into the
# venv (and at the pin) of the signing cross-check.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

OCI_PY_VERSION=2.189.0
CROSSCHECK_VENV="$TWINKEY_CACHE/venv-crosscheck"
# Same venv and pin as scripts/ci/crosscheck.sh, when that is present.
if [ -f tests/crosscheck/deps.sh ]; then source tests/crosscheck/deps.sh; fi
PY="$CROSSCHECK_VENV/bin/python"

step "Python venv with oci==$OCI_PY_VERSION ($CROSSCHECK_VENV)"
[ -x "$PY" ] || python3 -m venv "$CROSSCHECK_VENV"
if ! "$PY" -c "import oci, sys; sys.exit(oci.__version__ != '$OCI_PY_VERSION')" 2>/dev/null; then
  "$CROSSCHECK_VENV/bin/pip" install --quiet --disable-pip-version-check "oci==$OCI_PY_VERSION"
fi

step "twinkey CLI (release)"
cargo build --release --locked -p twinkey-cli
TWINKEY="$CARGO_TARGET_DIR/release/twinkey"

work="$(mktemp -d "${TMPDIR:-/tmp}/twinkey-fidelity.XXXXXX")"
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step "twinkey emulate --init (OCI config profile + RSA key), propagation 200 ms"
"$TWINKEY" emulate --listen 127.0.0.1:0 --init "$work/emu" --propagation-ms 200 --json \
  >"$work/emulator.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 1 600); do
  grep -q '"url":' "$work/emulator.json" 2>/dev/null && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
  sleep 0.1
done
field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$work/emulator.json"; }
url="$(field x "['url']")"
key_id="$(field x "['keys'][0]['id']")"
config="$work/emu/oci/config"
echo "emulator $url; OCI config $config"

step "oci $OCI_PY_VERSION GenerativeAiClient: the eight operations against the emulator"
"$PY" tests/fidelity/oci_genai_client.py --config "$config" --endpoint "$url"

step "twinkey keys / rotate on the same emulator, read back with the SDK"
"$TWINKEY" keys list --config "$config" --endpoint "$url"
"$TWINKEY" rotate "$key_id" --key-file "$work/emu/key.json" --state-file "$work/rotation.json" --watch-grace 0s \
  --config "$config" --endpoint "$url"
"$PY" tests/fidelity/oci_genai_client.py --config "$config" --endpoint "$url" \
  --expect-states "$key_id" key-one=INACTIVE key-two=ACTIVE
