#!/usr/bin/env bash
# Rust: format, lints, every test of the workspace (redis-server installed with apt when missing,
# for the fleet tests), and the core built for wasm32.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

# The fleet tests start and kill redis-server processes of their own (Debian's package); the
# rediss:// test makes its certificates with openssl.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v openssl >/dev/null; then
  step "apt-get install -y redis-server openssl"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server openssl
fi

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (workspace, all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test (workspace)"
cargo test --workspace --locked
step "core for wasm32-unknown-unknown"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build -p twinkey --target wasm32-unknown-unknown --locked
