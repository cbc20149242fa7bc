#!/usr/bin/env bash
# Soak of `twinkey relay` under the emulator's faults, on loopback with the release binaries
# (crates/twinkey-cli/examples/soak.rs explains what is measured and what fails the run).
#
#   scripts/soak.sh [SECONDS] [CLIENTS]     # default 300 s, 200 streaming clients
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TWINKEY_ROOT"
seconds="${1:-300}"
clients="${2:-200}"

step "twinkey CLI and the soak client (release)"
cargo build --release --locked -p twinkey-cli --bin twinkey --example soak
ulimit -n 8192 2>/dev/null || true
step "soak: $clients streaming clients for ${seconds}s under faults"
"$CARGO_TARGET_DIR/release/examples/soak" --twinkey "$CARGO_TARGET_DIR/release/twinkey" \
  --seconds "$seconds" --clients "$clients"
