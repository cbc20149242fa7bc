# Installs the independent JOSE peers for the token vectors, cross-checks and benchmarks (sourced,
# after scripts/env.sh): a venv with PyJWT + cryptography, and `npm ci` of tests/tokens (jose).
# Sets TOKENS_PY to the venv's python.
PYJWT_VERSION=2.15.1
CRYPTOGRAPHY_VERSION=50.0.2
TOKENS_VENV="$TWINKEY_CACHE/venv-tokens"
TOKENS_PY="$TOKENS_VENV/bin/python"

tokens_deps() {
  step "Python venv with PyJWT==$PYJWT_VERSION, cryptography==$CRYPTOGRAPHY_VERSION ($TOKENS_VENV)"
  [ -x "$TOKENS_PY" ] || python3 -m venv "$TOKENS_VENV"
  if ! "$TOKENS_PY" -c "import jwt, cryptography, sys; sys.exit(jwt.__version__ != '$PYJWT_VERSION' or cryptography.__version__ != '$CRYPTOGRAPHY_VERSION')" 2>/dev/null; then
    "$TOKENS_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "PyJWT==$PYJWT_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
  fi

  step "npm ci in tests/tokens (jose, pinned by package-lock.json)"
  local dir="$TWINKEY_ROOT/tests/tokens" stamp hash
  stamp="$dir/node_modules/.twinkey-lock-hash"
  hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$hash" > "$stamp"
  fi
}
