#!/usr/bin/env python3
"""Verify-one-token benchmark: PyJWT next to twinkey's Python binding (when it exposes tokens).

    bench_pyjwt.py KEYS_EDDSA.json TOKEN_EDDSA KEYS_HS256.json TOKEN_HS256 [iterations]

Prints one JSON object: microseconds per verify (best of 5 rounds) for each implementation.
"""

import json
import sys
import time

import jwt


def best_us(fn, iterations: int, rounds: int = 5) -> float:
    for _ in range(min(iterations, 200)):
        fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(iterations):
            fn()
        best = min(best, (time.perf_counter() - t0) / iterations)
    return best * 1e6


def main() -> int:
    ed_keys, ed_token, hs_keys, hs_token = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 5000
    out = {"peer": f"PyJWT {jwt.__version__}", "iterations": n}
    for label, keys_path, token in (("eddsa", ed_keys, ed_token), ("hs256", hs_keys, hs_token)):
        jwk = json.load(open(keys_path))["keys"][0]
        key = jwt.PyJWK(jwk)
        alg = jwk["alg"]
        claims = jwt.decode(token, key, algorithms=[alg], audience="twinkey-relay")
        assert claims["sub"]
        out[f"pyjwt_{label}"] = best_us(
            lambda: jwt.decode(token, key, algorithms=[alg], audience="twinkey-relay"), n)
        try:
            import twinkey  # the binding, when it exposes server tokens

            ring = twinkey.TokenKeyRing.from_json(open(keys_path).read())
            opts = {"audience": "twinkey-relay"}
            ring.verify(token, opts)
            out[f"twinkey_{label}"] = best_us(lambda: ring.verify(token, opts), n)
        except (ImportError, AttributeError):
            out[f"twinkey_{label}"] = None
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
