#!/usr/bin/env bash
# Rust: format, lints, every test of the workspace, and the core built for wasm32.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (workspace, all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test (workspace)"
cargo test --workspace --locked
step "core for wasm32-unknown-unknown"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build -p twinkey --target wasm32-unknown-unknown --locked
