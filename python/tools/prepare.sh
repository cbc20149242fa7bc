#!/usr/bin/env bash
# Prepares Python environments with the twinkey extension, for CI, the benchmarks and the demo:
#   python/tools/prepare.sh openai3 [openai2 py39-openai1 ...]
# For each NAME: (re)creates $TWINKEY_CACHE/venv-py-NAME from python/requirements/NAME.txt when
# the locked requirements or the interpreter changed. Then builds the extension ONCE
# (`maturin build --release` into $CARGO_TARGET_DIR/python-wheels; a no-op for cargo when
# nothing changed) and installs that wheel into every named venv.
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
cd "$TWINKEY_ROOT"

PY="${PYTHON:-python3}"
REQ="$TWINKEY_ROOT/python/requirements"
WHEELS="$CARGO_TARGET_DIR/python-wheels"
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ $# -gt 0 ] || set -- openai3

# The interpreter of a venv: its .in file's `# python: X.Y` line (python3.X on PATH, else
# pyenv's newest X.Y), else $PYTHON / python3.
interpreter() {
  local want found
  want="$(sed -n 's/^# python: *\([0-9.]*\).*/\1/p' "$REQ/$1.in" 2>/dev/null | head -n1)"
  if [ -z "$want" ]; then echo "$PY"; return; fi
  found="$(command -v "python$want" || true)"
  # (a pyenv shim is on PATH without the version being selected: it does not run)
  if [ -z "$found" ] || ! "$found" -c '' 2>/dev/null; then
    found="$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/$want".*/bin/python 2>/dev/null | sort -V | tail -n1)"
  fi
  [ -n "$found" ] || { echo "python: no CPython $want for $1 (python$want or pyenv's $want.x)" >&2; exit 1; }
  echo "$found"
}

for name in "$@"; do
  dir="$TWINKEY_CACHE/venv-py-$name"
  py="$(interpreter "$name")"
  stamp="$(sha256sum "$REQ/$name.txt" | cut -c1-16) $("$py" -c 'import sys; print(sys.version.split()[0])')"
  if [ "$(cat "$dir/.twinkey-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "python: creating $dir ($name.txt)"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/pip" install -q -r "$REQ/$name.txt"
    echo "$stamp" >"$dir/.twinkey-stamp"
  fi
done

# maturin comes from the openai3 venv (it carries the tools).
builder="$TWINKEY_CACHE/venv-py-openai3/bin/maturin"
if [ ! -x "$builder" ]; then
  "$0" openai3
fi
rm -f "$WHEELS"/twinkey-*.whl
(cd python && "$builder" build --release --locked --quiet --out "$WHEELS")
wheel="$(ls "$WHEELS"/twinkey-*.whl)"
for name in "$@"; do
  "$TWINKEY_CACHE/venv-py-$name/bin/pip" install -q --force-reinstall --no-deps "$wheel"
done
echo "python: $(basename "$wheel") installed in: $*"
