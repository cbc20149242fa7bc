#!/usr/bin/env python3
"""Cross-checks tests/vectors/tokens with PyJWT (an independent JOSE implementation).

Every minted token and every valid verify case must verify with PyJWT (key chosen by `kid`,
algorithm pinned by the key, audience, issuer and skew as in the case) and give the same
claims; every hostile case must be refused, except those marked `peers: accept` (PyJWT accepts
them: twinkey is stricter) or `peers: either`.
"""

import json
import sys
from datetime import datetime as _dt
from datetime import timezone
from pathlib import Path

import jwt
import jwt.api_jwt

VEC = Path(__file__).resolve().parent.parent / "vectors" / "tokens"


def at(now_ms):
    class Frozen(_dt):
        @classmethod
        def now(cls, tz=None):
            return _dt.fromtimestamp(now_ms / 1000, tz=tz or timezone.utc)

    jwt.api_jwt.datetime = Frozen


def pyjwt_verify(ring, token, now_ms, audience, issuer=None, leeway=30):
    at(now_ms)
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in ring["keys"] if k["kid"] == kid), None)
    if jwk is None:
        raise jwt.InvalidTokenError("unknown kid")
    key = jwt.PyJWK(jwk)
    return jwt.decode(token, key, algorithms=[jwk["alg"]], audience=audience, issuer=issuer,
                      leeway=leeway, options={"require": ["exp", "iat"]})


def main() -> int:
    keys = json.loads((VEC / "keys.json").read_text(encoding="utf-8"))
    rings = keys["rings"]
    fails, checked = [], 0
    mint = json.loads((VEC / "mint.json").read_text(encoding="utf-8"))
    for c in mint["cases"]:
        e = c["expect"]
        got = pyjwt_verify(rings[c["ring"]], e["token"], c["nowMs"], e["claims"]["aud"])
        checked += 1
        if got != e["claims"]:
            fails.append(f"mint/{c['name']}: claims differ: {got}")
    verify = json.loads((VEC / "verify.json").read_text(encoding="utf-8"))
    for c in verify["cases"]:
        o = c["options"]
        try:
            got = pyjwt_verify(rings[c["ring"]], c["token"], c["nowMs"], o["audience"],
                               o.get("issuer"), o.get("leewaySeconds", 30))
            err = None
        except Exception as ex:  # noqa: BLE001 - any refusal counts
            got, err = None, type(ex).__name__
        checked += 1
        want_ok = "error" not in c["expect"]
        peers = c.get("peers")
        if want_ok and (err or got != c["expect"]["claims"]):
            fails.append(f"verify/{c['name']}: PyJWT refused or differs: {err or got}")
        elif not want_ok and peers is None and err is None:
            fails.append(f"verify/{c['name']}: PyJWT accepted a token twinkey refuses "
                         f"({c['expect']['error']})")
        elif not want_ok and peers == "accept" and err is not None:
            fails.append(f"verify/{c['name']}: marked peers=accept but PyJWT refused ({err})")
    for f in fails:
        print("FAIL", f)
    print(f"PyJWT {jwt.__version__}: {checked - len(fails)}/{checked} token vectors agree")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
