#!/usr/bin/env bash
# Prepares node/ for tests, benchmarks and the demo:
#   1. npm ci with the pinned devDependencies (skipped while package-lock.json is unchanged);
#   2. the N-API addon: `napi build --release` of bindings/node into node/native/ (the loader
#      index.js, index.d.ts and twinkey.linux-x64-gnu.node).
# Options:
#   --check-generated  fail if the loader or index.d.ts in the checkout differ from the build
#                      (they are committed; CI runs with this)
#   --if-stale         skip the build when the addon is newer than every Rust source it uses
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
cd "$TWINKEY_ROOT/node"

check=0
if_stale=0
for arg in "$@"; do
  case "$arg" in
    --check-generated) check=1 ;;
    --if-stale) if_stale=1 ;;
    *) echo "prepare.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

stamp=node_modules/.twinkey-lock-sha256
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  step "npm ci (node/)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi

addon=native/twinkey.linux-x64-gnu.node
if [ "$if_stale" = 1 ] && [ -f "$addon" ] && [ -z "$(find ../bindings/node ../crates/twinkey/src ../crates/twinkey/Cargo.toml ../Cargo.lock -newer "$addon" -print -quit)" ]; then
  echo "node/$addon is up to date"
  exit 0
fi

before="$(mktemp -d)"
trap 'rm -rf "$before"' EXIT
cp native/index.js native/index.d.ts "$before/" 2>/dev/null || true

step "napi build --release (bindings/node -> node/native)"
npx napi build --platform --release --manifest-path ../bindings/node/Cargo.toml --output-dir native

if [ "$check" = 1 ]; then
  for f in index.js index.d.ts; do
    if ! diff -u "$before/$f" "native/$f"; then
      echo "node/native/$f differs from a fresh build: commit the regenerated file" >&2
      exit 1
    fi
  done
  echo "node/native/index.js and index.d.ts match the build"
fi
