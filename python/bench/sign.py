"""Per-request OCI signing time (RSA-2048): twinkey.Signer vs pip `oci`'s oci.signer.Signer,
and twinkey with 2 threads signing at once (the GIL is released around the RSA operation).

    python sign.py [ITERATIONS]        # prints one JSON object (microseconds per request)

The requests are those of crates/twinkey/benches/signer.rs (GET; POST with a 1 KiB body) with a
fixed date header; both signers must produce the same signature (checked first). Warm-up, then
the median of 5 rounds. The oci rows sign prepared copies made beforehand (copying is not
timed).
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import oci
from oci._vendor import requests
from oci.signer import Signer as OciSigner

import twinkey

ROOT = Path(__file__).resolve().parents[2]
URL = (
    "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys"
    "?compartmentId=ocid1.compartment.oc1..aaaaaaaatwinkey&limit=10"
)
BODY = b'{"displayName":"bench","description":"'.ljust(1023, b"x") + b"}"
DATE = {"date": "Wed, 21 Jan 2026 10:00:00 GMT"}


def median_us(run_n: Callable[[int], float], n: int) -> float:
    """`run_n(k)` does k requests and returns the seconds they took."""
    run_n(min(200, n))
    return statistics.median(run_n(n) / n * 1e6 for _ in range(5))


def threaded_throughput(sign: Callable[[], Any], threads: int, n: int) -> float:
    """Signatures per second with `threads` threads each signing `n` requests."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(n):
            sign()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return threads * n / (time.perf_counter() - start)


def params(authorization: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in authorization[len("Signature ") :].replace('"', "").split(","))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    key = json.loads((ROOT / "tests/vectors/signing/keys.json").read_text())["keys"]["rsa2048-pkcs1"]
    tenancy, user = "ocid1.tenancy.oc1..aaaa", "ocid1.user.oc1..bbbb"
    ours = twinkey.Signer.from_pem(f"{tenancy}/{user}/{key['fingerprint']}", key["private_key_pem"])
    theirs = OciSigner(tenancy, user, key["fingerprint"], None, private_key_content=key["private_key_pem"])
    cases = {"get": ("GET", None), "post_1k": ("POST", BODY)}
    out: dict[str, Any] = {"oci": oci.__version__, "python": sys.version.split()[0], "iterations": n}
    for name, (method, body) in cases.items():
        template = requests.Request(method, URL, headers=dict(DATE), data=body).prepare()
        check = template.copy()
        theirs(check)
        mine = ours.sign(method, URL, DATE, body)["authorization"]
        assert params(mine)["signature"] == params(check.headers["authorization"])["signature"], name

        def twinkey_n(k: int, method: str = method, body: bytes | None = body) -> float:
            start = time.perf_counter()
            for _ in range(k):
                ours.sign(method, URL, DATE, body)
            return time.perf_counter() - start

        def oci_n(k: int, template: Any = template) -> float:
            copies = [template.copy() for _ in range(k)]  # made before the clock starts
            start = time.perf_counter()
            for c in copies:
                theirs(c)
            return time.perf_counter() - start

        out[f"twinkey_{name}_us"] = median_us(twinkey_n, n)
        out[f"oci_{name}_us"] = median_us(oci_n, n)

        def sign_one(method: str = method, body: bytes | None = body) -> None:
            ours.sign(method, URL, DATE, body)

        one = statistics.median(threaded_throughput(sign_one, 1, n) for _ in range(3))
        two = statistics.median(threaded_throughput(sign_one, 2, n) for _ in range(3))
        out[f"twinkey_{name}_1thread_per_s"] = one
        out[f"twinkey_{name}_2threads_per_s"] = two
        out[f"twinkey_{name}_2threads_speedup"] = two / one
    print(json.dumps(out))


if __name__ == "__main__":
    main()
