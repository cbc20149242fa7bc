#!/usr/bin/env bash
# Server-token vectors against independent JOSE implementations: the vectors still come out of
# their generator (Python cryptography + hmac), PyJWT and npm jose verify every valid token and
# refuse the hostile ones twinkey refuses (tests/vectors/README.md, "Token vectors").
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
source tests/tokens/deps.sh
tokens_deps

step "tests/vectors/tokens/*.json reproduce from tests/tokens/gen_vectors.py"
"$TOKENS_PY" tests/tokens/gen_vectors.py --check
step "PyJWT verifies the token vectors"
"$TOKENS_PY" tests/tokens/check_peers.py
step "npm jose verifies the token vectors"
node tests/tokens/check_jose.mjs
