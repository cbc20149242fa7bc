#!/usr/bin/env bash
# wasm: the core with `tokens` for wasm32, the browser package (node/pkg-web, loaded by the npm
# package's `browser` entry) and the shared token, usage and budget vectors run
# under wasm (Node).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
step "core with server tokens for wasm32-unknown-unknown"
cargo build --locked -p twinkey --target wasm32-unknown-unknown --features tokens

bindings/wasm/build.sh web
bindings/wasm/build.sh vectors

step "token, usage and budget vectors under wasm (keys, mint, verify, relay gate, browser cache, usage, budget)"
TWINKEY_WASM_VECTORS="$CARGO_TARGET_DIR/wasm-vectors" node --test bindings/wasm/tests/vectors.test.mjs \
  bindings/wasm/tests/usage-vectors.test.mjs

raw=$(stat -c %s node/pkg-web/twinkey_wasm_bg.wasm)
gz=$(gzip -9 -c node/pkg-web/twinkey_wasm_bg.wasm | wc -c)
echo "browser wasm: $raw bytes raw, $gz bytes gzip -9"
