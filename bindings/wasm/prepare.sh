#!/usr/bin/env bash
# Prepares the browser path (tests and demo): the browser wasm in node/pkg-web, the npm test
# dependencies of bindings/wasm (esbuild, openai, playwright-core, typescript; `npm ci` when the lock
# changed) and Chromium (Debian `chromium`, installed with apt when missing).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
cd "$TWINKEY_ROOT"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  step "apt-get install -y chromium"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

bindings/wasm/build.sh web   # a no-op when it is current

stamp="bindings/wasm/node_modules/.twinkey-lock-hash"
hash=$(sha256sum bindings/wasm/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  step "npm ci in bindings/wasm (esbuild, openai, playwright-core, typescript; pinned by package-lock.json)"
  (cd bindings/wasm && npm ci --no-audit --no-fund --loglevel=error)
  echo "$hash" > "$stamp"
fi
