#!/usr/bin/env python3
"""Writes seed inputs for the byte-level fuzz targets into fuzz/corpus/<target>/ from the shared
test vectors (tests/vectors/), so fuzzing starts from real keys, tokens, configs and streams.
Structure-aware targets (signer_request, signature_verify, relay_admission, body_filter,
engine_ops) start from libFuzzer's own inputs. Run after changing the vectors; files are named by
content hash, so re-running adds nothing twice. `seeds.py pem_key` writes one target's seeds
only (scripts/fuzz.sh does this at each run: pem_key's seeds are private keys, not committed)."""

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V = ROOT / "tests" / "vectors"
OUT = ROOT / "fuzz" / "corpus"


ONLY = set(sys.argv[1:])  # target names to write; none given: all


def put(target, data):
    if ONLY and target not in ONLY:
        return
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def load(rel):
    return json.loads((V / rel).read_text())


engine = load("engine/selection.json")
for key in engine["keys"].values():
    put("key_json", json.dumps(key))

keys = load("signing/keys.json")["keys"]
for k in keys.values():
    pass_ = (k.get("passphrase") or "").encode()
    flag = (0x80 | len(pass_)) if pass_ else 0
    put("pem_key", bytes([flag]) + pass_ + k["private_key_pem"].encode())
for e in load("signing/errors.json")["keys"]:
    put("pem_key", b"\x00" + e["private_key_pem"].encode())

for c in load("signing/config.json")["cases"]:
    put("oci_config", f"{c['profile']}\n{c['config']}")

for c in load("tokens/verify.json")["cases"]:
    if isinstance(c.get("token"), str):
        put("jws_verify", c["token"])
for c in load("tokens/mint.json")["cases"]:
    put("jws_verify", c["expect"]["token"])

for name in ["auto", "chat_completions", "responses"]:
    for c in load(f"stream/{name}.json")["cases"]:
        chunks = [ch.encode() if isinstance(ch, str) else bytes(ch) for ch in c.get("chunks", [])]
        cuts = [min(len(ch), 255) for ch in chunks[:7]]
        put("sse_stream", bytes([len(cuts)] + cuts) + b"".join(chunks))

for name in ["requests", "retry"]:
    doc = load(f"control/{name}.json")
    for group in doc.values():
        if not isinstance(group, list):
            continue
        for c in group:
            for field in ["body", "response", "reply"]:
                v = c.get(field) if isinstance(c, dict) else None
                if isinstance(v, (dict, list)):
                    put("control_response", json.dumps(v))
                elif isinstance(v, str):
                    put("control_response", v)

for c in load("destination/cases.json")["cases"]:
    put("destination", c["url"])

for t in sorted(p.name for p in OUT.iterdir() if not ONLY or p.name in ONLY):
    files = list((OUT / t).iterdir())
    print(f"{t}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
