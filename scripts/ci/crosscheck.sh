#!/usr/bin/env bash
# Cross-checks twinkey's OCI request signatures against the official SDK signers (real peers):
# pip `oci` (oci.signer.Signer / SecurityTokenSigner) and npm `oci-common` (DefaultRequestSigner,
# plus its http-signature for the date header lists). Installs what it needs itself.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
source tests/crosscheck/deps.sh
crosscheck_deps
corpus="$CARGO_TARGET_DIR/crosscheck/corpus.json"

step "signing vectors still reproduce with pip oci (tests/vectors/signing/{cases,errors,config}.json)"
"$CROSSCHECK_PY" tests/crosscheck/gen_signing_vectors.py --check

step "corpus of twinkey-signed requests"
cargo run --quiet --locked -p twinkey --example signing_corpus -- "$corpus" --count 300

step "pip oci re-signs the corpus"
"$CROSSCHECK_PY" tests/crosscheck/oci_python.py "$corpus"

step "npm oci-common re-signs the corpus and the signing vectors"
node tests/crosscheck/oci_common.mjs "$corpus" tests/vectors/signing/cases.json \
  tests/vectors/signing/oci-reference.json
