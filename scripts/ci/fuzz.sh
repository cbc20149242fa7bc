#!/usr/bin/env bash
# Fuzz smoke: every libFuzzer target for 20 s, two at a time on the two cores (the long runs are
# scripts/fuzz.sh; FUZZING.md).
set -euo pipefail
TWINKEY_FUZZ_JOBS="${TWINKEY_FUZZ_JOBS:-2}" exec "$(dirname "$0")/../fuzz.sh" "${TWINKEY_FUZZ_SECONDS:-20}"
