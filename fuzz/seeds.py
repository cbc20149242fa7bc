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

# usage_readers: the first byte picks the reader (0 body, 1 request, 2 stream, 3 headers,
# 4 budget options then NUL then a request body).
usage = load("usage/cases.json")
for c in usage["bodies"]:
    put("usage_readers", b"\x00" + c["body"].encode())
for c in usage["requests"]:
    body = c["body"] if isinstance(c["body"], str) else json.dumps(c["body"])
    put("usage_readers", b"\x01" + c["path"].encode() + b"\n" + body.encode())
for c in usage["streams"]:
    put("usage_readers", b"\x02\x00" + c["stream"].encode())
for c in usage["headers"]:
    put("usage_readers", b"\x03" + "".join(f"{n}: {v}\n" for n, v in c["headers"]).encode())
budget = load("budget/cases.json")
request = usage["requests"][0]["body"]
for c in budget["scenarios"] + budget["invalidOptions"]:
    put("usage_readers", b"\x04" + json.dumps(c["options"]).encode() + b"\x00" + request.encode())

# fleet_message: the message vectors, and the messages of the scenarios.
fleet = load("fleet/cases.json")
for c in fleet["messages"]:
    put("fleet_message", c["text"])
for sc in fleet["scenarios"]:
    for step in sc["steps"]:
        if "apply" in step:
            put("fleet_message", json.dumps(step["apply"]))

# fleet_usage: the usage hashes of the vectors, one `field=value` per line.
for c in load("fleet/usage.json")["parse"]:
    put("fleet_usage", "".join(f"{f}={v}\n" for f, v in c["fields"]))

for t in sorted(p.name for p in OUT.iterdir() if not ONLY or p.name in ONLY):
    files = list((OUT / t).iterdir())
    print(f"{t}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
