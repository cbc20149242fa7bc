#!/usr/bin/env bash
# Soak smoke: 200 streaming clients through the relay for 30 s under faults (the long run is
# scripts/soak.sh; figures in BENCHMARKS.md).
set -euo pipefail
exec "$(dirname "$0")/../soak.sh" "${TWINKEY_SOAK_SECONDS:-30}" 200
