#!/usr/bin/env python3
"""Per-request signing time of pip `oci` (oci.signer.Signer), RSA-2048, for BENCHMARKS.md.

    python bench_oci_python.py [ITERATIONS]

Signs the same two requests as crates/twinkey/benches/signer.rs (GET, POST with a 1 KiB body),
fixed date header. Each iteration copies a prepared request (so the SDK hashes the body again)
and signs it; the copy alone is timed too and subtracted. Warm-up, then 5 rounds; prints the
medians as JSON in microseconds per request: wall clock and this thread's CPU time (`_cpu`).
"""

import json
import os
import statistics
import sys
import time

import oci
from oci._vendor import requests
from oci.signer import Signer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
URL = ("https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys"
       "?compartmentId=ocid1.compartment.oc1..aaaaaaaatwinkey&limit=10")
BODY = (b'{"displayName":"bench","description":"').ljust(1023, b"x") + b"}"


def per_request_us(fn, n):
    """(wall, cpu) medians over 5 rounds, microseconds per call."""
    for _ in range(min(200, n)):
        fn()
    wall, cpu = [], []
    for _ in range(5):
        t, c = time.perf_counter(), time.thread_time()
        for _ in range(n):
            fn()
        wall.append((time.perf_counter() - t) / n * 1e6)
        cpu.append((time.thread_time() - c) / n * 1e6)
    return statistics.median(wall), statistics.median(cpu)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    k = json.load(open(os.path.join(ROOT, "tests/vectors/signing/keys.json")))["keys"]["rsa2048-pkcs1"]
    signer = Signer("ocid1.tenancy.oc1..aaaa", "ocid1.user.oc1..bbbb", k["fingerprint"], None,
                    private_key_content=k["private_key_pem"])
    date = {"date": "Wed, 21 Jan 2026 10:00:00 GMT"}
    get = requests.Request("GET", URL, headers=dict(date)).prepare()
    post = requests.Request("POST", URL, headers=dict(date), data=BODY).prepare()
    out = {"peer": f"oci {oci.__version__} (Python {sys.version.split()[0]}) oci.signer.Signer"}
    for name, template in (("get", get), ("post_1k", post)):
        copy_wall, copy_cpu = per_request_us(template.copy, n)
        wall, cpu = per_request_us(lambda t=template: signer(t.copy()), n)
        out[name] = round(wall - copy_wall, 1)
        out[f"{name}_cpu"] = round(cpu - copy_cpu, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
