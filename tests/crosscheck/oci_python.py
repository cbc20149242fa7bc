#!/usr/bin/env python3
"""Cross-check: re-sign every request of a twinkey corpus with the official Python SDK.

    python oci_python.py CORPUS.json

For each request (written by `cargo run -p twinkey --example signing_corpus`), pip `oci` signs
the same request: oci.signer.Signer (user keyId) or oci.auth.signers.SecurityTokenSigner
(ST$ keyId), with the SDK's header lists for `date` and the oci-common lists for `x-date`;
`enforce_content_headers=False` for exclude-body requests; the body as bytes. The SDK is given
the *raw* URL, so its own URL normalization (requests/urllib3) must land on the path and query
twinkey sent. The `signature="..."` value and the `headers="..."` list must equal twinkey's
exactly, and the SDK's request target must equal twinkey's. Exits 1 on any mismatch.
"""

import json
import os
import sys
from urllib.parse import urlsplit

import oci
from oci._vendor import requests
from oci.auth.signers import SecurityTokenSigner
from oci.signer import Signer, load_private_key

LISTS = {
    "date": (["date", "(request-target)", "host"], ["content-length", "content-type", "x-content-sha256"]),
    "x-date": (["x-date", "(request-target)", "host"], ["content-type", "content-length", "x-content-sha256"]),
}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def params_of(authorization):
    out = {}
    for part in authorization[len("Signature "):].split('",'):
        name, _, value = part.partition('="')
        out[name] = value.rstrip('"')
    return out


class Signers:
    """One SDK signer per (key, keyId, date style), as an application would keep them."""

    def __init__(self, keys):
        self.keys, self.cache = keys, {}

    def get(self, case):
        ident = (case["key"], case["key_id"], case["date_header"])
        if ident not in self.cache:
            k = self.keys[case["key"]]
            generic, body = LISTS[case["date_header"]]
            if case["key_id"].startswith("ST$"):
                private_key = load_private_key(k["private_key_pem"], k["passphrase"])
                signer = SecurityTokenSigner(case["key_id"][3:], private_key, generic_headers=generic,
                                             body_headers=body)
            else:
                tenancy, user, fingerprint = case["key_id"].split("/")
                signer = Signer(tenancy, user, fingerprint, None, pass_phrase=k["passphrase"],
                                private_key_content=k["private_key_pem"])
                if case["date_header"] == "x-date":
                    signer.create_signers(signer.api_key, signer.private_key, generic, body)
            self.cache[ident] = signer
        return self.cache[ident]


def check(case, signers):
    headers = dict(case["headers"])
    if case["date_header"] not in headers:  # twinkey added it from its injected clock
        headers[case["date_header"]] = case["added_headers"][case["date_header"]]
    body = None if case["body"] is None else case["body"].encode("utf-8")
    req = requests.Request(case["method"], case["url"], headers=headers, data=body).prepare()
    signer = signers.get(case)
    if case["exclude_body_headers"]:
        signer(req, enforce_content_headers=False)
    else:
        signer(req)
    p = params_of(req.headers["authorization"])
    sent = urlsplit(case["sent_url"])
    target = sent.path + (f"?{sent.query}" if sent.query else "")
    problems = []
    if req.path_url != target:
        problems.append(f"request target: sdk {req.path_url!r} twinkey {target!r}")
    if p["headers"].split(" ") != case["signed_headers"]:
        problems.append(f"headers: sdk {p['headers']!r} twinkey {' '.join(case['signed_headers'])!r}")
    if p["signature"] != case["signature"]:
        problems.append("signature differs")
    return problems


def main():
    corpus = json.load(open(sys.argv[1]))
    keys = json.load(open(os.path.join(ROOT, corpus["keys_file"])))["keys"]
    signers = Signers(keys)
    ok, bad = 0, []
    for case in corpus["cases"]:
        problems = check(case, signers)
        if problems:
            bad.append((case["name"], case["url"], problems))
        else:
            ok += 1
    by_style = {}
    for case in corpus["cases"]:
        style = ("session " if case["key_id"].startswith("ST$") else "user ") + case["date_header"]
        by_style[style] = by_style.get(style, 0) + 1
    print(f"oci {oci.__version__} (Python): {ok}/{len(corpus['cases'])} signatures and header lists identical "
          f"({', '.join(f'{v} {k}' for k, v in sorted(by_style.items()))})")
    for name, url, problems in bad[:10]:
        print(f"  MISMATCH {name} {url!r}: {'; '.join(problems)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
