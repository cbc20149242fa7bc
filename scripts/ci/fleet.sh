#!/usr/bin/env bash
# Fleets end to end with four real processes on one key (a Rust worker, a Python worker under
# openai-python, a Node worker under openai-node, a `twinkey relay`) sharing a real
# redis-server against the emulator: 1 000 requests through Redis stopped, killed and replaced
# and a revocation (no request fails; the revoked secret's rejections stay within what was in
# flight), then the shared budget against the emulator's tokens-per-minute limit (no 429; the
# minute is real, about 70 s). Then key watch without Redis: a CLI `twinkey rotate` while a Python
# application (following its key file) and a Node one (following the control plane) send
# traffic: no 401 reaches either. Reuses what the rust, python and node steps built.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

if ! command -v redis-server >/dev/null; then
  step "apt-get install -y redis-server"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server
fi

step "the relay binary, the Rust fleet worker, the Python extension and the Node addon (up to date after their steps)"
cargo build --locked -p twinkey-cli --bin twinkey --example fleet_worker --quiet
export TWINKEY_BIN="$CARGO_TARGET_DIR/debug/twinkey"
python/tools/prepare.sh openai3
node/scripts/prepare.sh

step "four processes on one key through Redis (chaos, a revocation, the shared budget); a CLI rotation reaching watching Python and Node applications"
(cd python && "$TWINKEY_CACHE/venv-py-openai3/bin/python" -m pytest -q -p no:cacheprovider -s \
  e2e/test_fleet_processes.py e2e/test_watch_processes.py)
