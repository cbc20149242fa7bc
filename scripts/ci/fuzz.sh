#!/usr/bin/env bash
# Fuzz smoke: every libFuzzer target for 12 s (the long runs are scripts/fuzz.sh; FUZZING.md).
set -euo pipefail
exec "$(dirname "$0")/../fuzz.sh" "${TWINKEY_FUZZ_SECONDS:-12}"
