# Shared environment for twinkey's scripts (sourced, not run).
# Caches live outside the checkout so fresh clones reuse them; all are created on demand.
TWINKEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TWINKEY_ROOT
export TWINKEY_CACHE="${TWINKEY_CACHE:-$HOME/.cache/twinkey}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TWINKEY_ROOT/target}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$TWINKEY_CACHE/pip}"
export npm_config_cache="${npm_config_cache:-$TWINKEY_CACHE/npm}"
export TWINKEY_TOOLS="${TWINKEY_TOOLS:-$TWINKEY_CACHE/tools}"
mkdir -p "$TWINKEY_CACHE" "$TWINKEY_TOOLS"

step() { printf '\n==> %s\n' "$*"; }
