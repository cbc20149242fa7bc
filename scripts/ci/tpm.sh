#!/usr/bin/env bash
# Tokens per minute end to end: the emulator's real per-key limit (`--tokens-per-minute`)
# against the budget, with openai-python (async, httpx2) and openai-node (engine.fetch) side by
# side, 16 requests at a time, three limits' worth each: `wait` fails nothing and draws no 429;
# `fail_fast` refuses with TPM_BUDGET_EXCEEDED and sends nothing it refused. The minute is
# real, so both languages run at once (about two minutes). Reuses what the python and node
# steps built (their prepare scripts skip what is up to date).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

step "the emulator binary, the Python extension and the Node addon (up to date after their steps)"
cargo build --locked -p twinkey-cli --quiet
export TWINKEY_BIN="$CARGO_TARGET_DIR/debug/twinkey"
python/tools/prepare.sh openai3
node/scripts/prepare.sh

step "openai-python and openai-node against the emulator's limit, in parallel"
py_log="$(mktemp)"; node_log="$(mktemp)"
(cd python && "$TWINKEY_CACHE/venv-py-openai3/bin/python" -m pytest -q -p no:cacheprovider -s e2e/test_tpm_limit.py) >"$py_log" 2>&1 &
py=$!
(cd node && node --test --test-reporter=spec e2e/tpm-limit.test.mjs) >"$node_log" 2>&1 &
nd=$!
rc=0
wait "$py" || rc=1
wait "$nd" || rc=1
echo "--- python"; cat "$py_log"
echo "--- node"; cat "$node_log"
rm -f "$py_log" "$node_log"
exit "$rc"
