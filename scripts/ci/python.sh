#!/usr/bin/env bash
# Python: the PyO3 binding built once (maturin, release wheel) and installed into three venvs,
# openai 3.x + httpx2 (with the tools and the official `oci` SDK), openai 2.x + httpx, and the
# oldest claims: CPython 3.9 (the abi3 floor) with openai 1.x + httpx; then ruff, mypy --strict,
# stubtest, pytest in every venv, and the packaging check (a fresh venv
# with the wheel runs README's Python quick start against the emulator).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"

PY="${PYTHON:-python3}"
REQ="$TWINKEY_ROOT/python/requirements"
V3="$TWINKEY_CACHE/venv-py-openai3"
V2="$TWINKEY_CACHE/venv-py-openai2"
V1="$TWINKEY_CACHE/venv-py-py39-openai1"
export PIP_DISABLE_PIP_VERSION_CHECK=1 MYPY_CACHE_DIR="$TWINKEY_CACHE/mypy"

step "python venvs (openai 3.x + httpx2 + tools, openai 2.x + httpx, CPython 3.9 + openai 1.x) and the extension, built once"
python/tools/prepare.sh openai3 openai2 py39-openai1
WHEEL="$(ls "$CARGO_TARGET_DIR"/python-wheels/twinkey-*.whl)"

step "emulator binary (twinkey-cli)"
cargo build -p twinkey-cli --locked --quiet
export TWINKEY_BIN="$CARGO_TARGET_DIR/debug/twinkey"

step "ruff (lint + format)"
(cd python && "$V3/bin/ruff" check src tests e2e tools examples bench && "$V3/bin/ruff" format --check src tests e2e tools examples bench)

step "mypy --strict (package, typed example, tools)"
(cd python && "$V3/bin/python" -m mypy --strict src/twinkey examples bench tools)

step "stubtest twinkey._native"
"$V3/bin/python" -m mypy.stubtest twinkey._native

summary=()
for v in "$V3" "$V2" "$V1"; do
  name="$(basename "$v")"
  step "pytest ($name: $("$v/bin/python" -c 'import sys, openai; print("CPython", sys.version.split()[0], "openai", openai.__version__)'))"
  log="$(mktemp)"
  (cd python && "$v/bin/python" -m pytest -q -p no:cacheprovider) | tee "$log"
  summary+=("$name: $(grep -E '^[0-9]+ (passed|failed)' "$log" | tail -n1)")
  rm -f "$log"
done

step "packaging: a fresh venv with the wheel runs README's Python quick start"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
"$PY" -m venv "$fresh/venv"
"$fresh/venv/bin/pip" install -q "$WHEEL" "$(grep -E '^openai==' "$REQ/openai3.txt")" \
  -c "$REQ/openai3.txt"
"$fresh/venv/bin/python" python/tools/run_readme_quickstart.py --python "$fresh/venv/bin/python" \
  --emulator "$TWINKEY_BIN"

step "python summary"
printf '%s\n' "${summary[@]}"
