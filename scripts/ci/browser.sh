#!/usr/bin/env bash
# Browser: the TokenClient (npm package `browser` entry, wasm inside) against the real relay and
# emulator, first under Node with the openai SDK, then in a real headless Chromium page bundled
# with esbuild. Installs Chromium (apt) and the npm test dependencies when missing.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

step "the twinkey binary (relay, emulator, token mint)"
cargo build --locked -p twinkey-cli
bindings/wasm/prepare.sh

step "TypeScript: the browser entry's types as a page uses them (tsc, condition browser)"
(cd bindings/wasm && npx tsc -p tests/types)

export TWINKEY_BIN="$CARGO_TARGET_DIR/debug/twinkey"
step "TokenClient under Node: openai SDK -> relay -> emulator"
(cd bindings/wasm && node --test tests/client.test.mjs)
step "headless Chromium: esbuild bundle (openai + TokenClient) -> relay -> emulator"
(cd bindings/wasm && node --test tests/browser.test.mjs)
