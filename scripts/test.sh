#!/usr/bin/env bash
# Runs every test: each step script in scripts/ci/ installs what it needs, then tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TWINKEY_ROOT"

steps=(rust crosscheck fidelity tokens python node tpm fleet wasm browser soak fuzz)
passed=0; failed=()
start=$SECONDS
for s in "${steps[@]}"; do
  t=$SECONDS
  if bash "scripts/ci/$s.sh"; then
    passed=$((passed + 1)); printf '==> step %s passed (%ss)\n' "$s" $((SECONDS - t))
  else
    failed+=("$s"); printf '==> step %s FAILED (%ss)\n' "$s" $((SECONDS - t))
  fi
done
printf '\ntotal: %d steps passed, %d failed%s in %ss\n' "$passed" "${#failed[@]}" \
  "${failed[*]:+ (${failed[*]})}" $((SECONDS - start))
[ ${#failed[@]} -eq 0 ]
