#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ (or the ones named) for SECONDS each, one after the other.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default 60 s per target; FUZZING.md has the figures
#
# cargo-fuzz is installed into $TWINKEY_TOOLS; libFuzzer's -Z flags come from the stable toolchain
# with RUSTC_BOOTSTRAP=1 (no nightly needed). Builds go to $TWINKEY_CACHE/fuzz-target (AddressSanitizer,
# with debug assertions, so overflows and leaks count as crashes). Each run starts from the committed
# seeds in fuzz/corpus/<target> plus what earlier runs found ($TWINKEY_CACHE/fuzz-corpus/<target>);
# crashes, timeouts and leaks are written to $TWINKEY_CACHE/fuzz-artifacts/<target>/ and fail the script.
# A summary line per target (executions, seconds, executions/s, coverage) goes to stdout and to
# $TWINKEY_CACHE/fuzz-summary.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TWINKEY_ROOT/fuzz"

CARGO_FUZZ_VERSION=0.13.2
seconds="${1:-60}"
shift || true
if ! "$TWINKEY_TOOLS/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  step "cargo-fuzz $CARGO_FUZZ_VERSION into $TWINKEY_TOOLS"
  CARGO_TARGET_DIR="$TWINKEY_CACHE/cargo-fuzz-build" \
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$TWINKEY_TOOLS"
fi
export PATH="$TWINKEY_TOOLS/bin:$PATH"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$TWINKEY_CACHE/fuzz-target"

# Seeds from the shared vectors (pem_key's are never committed: they are private keys).
python3 seeds.py pem_key >/dev/null
mapfile -t all < <(cargo fuzz list)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

step "build ${#targets[@]} fuzz targets (AddressSanitizer, debug assertions)"
cargo fuzz build --debug-assertions

summary="$TWINKEY_CACHE/fuzz-summary.txt"
: >"$summary"
# Targets run $jobs at a time (TWINKEY_FUZZ_JOBS, default 1: long runs want every core each).
jobs="${TWINKEY_FUZZ_JOBS:-1}"

# run_one TARGET: one run; writes its summary line to $TWINKEY_CACHE/fuzz-TARGET.summary.
run_one() {
  local t="$1" ok
  local corpus="$TWINKEY_CACHE/fuzz-corpus/$t" artifacts="$TWINKEY_CACHE/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "corpus/$t"
  local log="$TWINKEY_CACHE/fuzz-$t.log"
  if cargo fuzz run --debug-assertions "$t" "$corpus" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    ok=ok
  else
    ok=FAILED; tail -40 "$log"
  fi
  local execs secs cov rate
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "$seconds")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  rate=$(( execs / (secs > 0 ? secs : 1) ))
  printf '%-18s %-6s %12s execs %6ss %8s/s  cov %s\n' "$t" "$ok" "$execs" "$secs" "$rate" "$cov" \
    | tee "$TWINKEY_CACHE/fuzz-$t.summary"
}

for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  step "fuzz $t for ${seconds}s"
  rm -f "$TWINKEY_CACHE/fuzz-$t.summary"
  run_one "$t" &
done
wait

failed=()
for t in "${targets[@]}"; do
  line="$(cat "$TWINKEY_CACHE/fuzz-$t.summary" 2>/dev/null || printf '%-18s FAILED (no summary)' "$t")"
  echo "$line" >>"$summary"
  case "$line" in *" FAILED"*) failed+=("$t") ;; esac
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $TWINKEY_CACHE/fuzz-artifacts/)"
  exit 1
fi
