# Installs the official SDK peers for the signing cross-checks and benchmarks (sourced, after
# scripts/env.sh): a venv with pip `oci` and `npm ci` of tests/crosscheck (oci-common).
# Sets CROSSCHECK_PY to the venv's python.
OCI_PY_VERSION=2.189.0
CROSSCHECK_VENV="$TWINKEY_CACHE/venv-crosscheck"
CROSSCHECK_PY="$CROSSCHECK_VENV/bin/python"

crosscheck_deps() {
  step "Python venv with oci==$OCI_PY_VERSION ($CROSSCHECK_VENV)"
  [ -x "$CROSSCHECK_PY" ] || python3 -m venv "$CROSSCHECK_VENV"
  if ! "$CROSSCHECK_PY" -c "import oci, sys; sys.exit(oci.__version__ != '$OCI_PY_VERSION')" 2>/dev/null; then
    "$CROSSCHECK_VENV/bin/pip" install --quiet --disable-pip-version-check "oci==$OCI_PY_VERSION"
  fi

  step "npm ci in tests/crosscheck (oci-common, pinned by package-lock.json)"
  local dir="$TWINKEY_ROOT/tests/crosscheck" stamp hash
  stamp="$dir/node_modules/.twinkey-lock-hash"
  hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$hash" > "$stamp"
  fi
}
