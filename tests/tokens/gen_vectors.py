#!/usr/bin/env python3
"""Writes tests/vectors/tokens/*.json: twinkey's server-token vectors.

Independent of twinkey: tokens are built here from first principles (RFC 7515 compact JWS, the
JSON written with `json.dumps`) and signed with Python `cryptography` (Ed25519) and the standard
library's `hmac` (HS256). `check_peers.py` and `check_jose.mjs` then verify every valid token with
PyJWT and npm `jose` and check that they refuse the hostile ones too.

Expected outcomes are written from the rules in tests/vectors/README.md ("Token vectors"), never
by running twinkey. Usage:

    gen_vectors.py            # (re)write the files
    gen_vectors.py --check    # exit 1 if the files differ from what this script writes
"""

import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

OUT = Path(__file__).resolve().parent.parent / "vectors" / "tokens"
T0 = 1_800_000_000  # 2027-01-15T08:00:00Z, seconds
T0_MS = T0 * 1000
AUD = "twinkey-relay"
ISS = "twinkey"
L = 2**252 + 27742317777372353535851937790883648493  # order of the Ed25519 base point


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def test_bytes(label: str) -> bytes:
    return hashlib.sha256(f"twinkey test-only token key {label}".encode()).digest()


# ---- keys -------------------------------------------------------------------------------------

ED1, ED2, HS1, HS_OTHER = "ed-2026-01", "ed-2026-02", "hs-2026-01", "hs-other"
ED_SK = {kid: Ed25519PrivateKey.from_private_bytes(test_bytes(kid)) for kid in (ED1, ED2)}
HS_KEY = {kid: test_bytes(kid) + b"-hs256" for kid in (HS1, HS_OTHER)}  # 38 bytes


def ed_public_raw(kid: str) -> bytes:
    return ED_SK[kid].public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def ed_jwk(kid: str, private: bool = True) -> dict:
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
           "x": b64(ed_public_raw(kid))}
    if private:
        jwk["d"] = b64(test_bytes(kid))
    return jwk


def hs_jwk(kid: str) -> dict:
    return {"kty": "oct", "kid": kid, "alg": "HS256", "use": "sig", "k": b64(HS_KEY[kid])}


RINGS = {
    # Rotation: the new key first (it signs), the old one still verifies, plus an HS256 key.
    "main": {"keys": [ed_jwk(ED2), ed_jwk(ED1), hs_jwk(HS1)]},
    # What a verifier elsewhere may hold: public halves only.
    "public": {"keys": [ed_jwk(ED2, False), ed_jwk(ED1, False)]},
    "hs": {"keys": [hs_jwk(HS1)]},
    # After the old key was retired.
    "retired": {"keys": [ed_jwk(ED2)]},
    "verify-only": {"keys": [ed_jwk(ED1, False)]},
}


def sign(alg: str, kid_or_secret, signing_input: bytes) -> bytes:
    if alg == "EdDSA":
        return ED_SK[kid_or_secret].sign(signing_input)
    if alg == "HS256":
        secret = HS_KEY[kid_or_secret] if isinstance(kid_or_secret, str) else kid_or_secret
        return hmac.new(secret, signing_input, hashlib.sha256).digest()
    raise ValueError(alg)


def compact(header_json: str, payload_json: str, alg: str, key) -> str:
    signing_input = f"{b64(header_json.encode())}.{b64(payload_json.encode())}"
    return f"{signing_input}.{b64(sign(alg, key, signing_input.encode()))}"


def header(alg: str, kid: str) -> str:
    return dumps({"alg": alg, "kid": kid, "typ": "JWT"})


def scope(models, endpoints, max_output_tokens=None, max_requests=None) -> dict:
    s = {"models": list(models), "endpoints": list(endpoints)}
    if max_output_tokens is not None:
        s["max_output_tokens"] = max_output_tokens
    if max_requests is not None:
        s["max_requests"] = max_requests
    return s


def claims(sub="user-42", aud=AUD, iss=ISS, iat=T0, nbf="iat", exp=None, jti="jti-0001",
           twk=None) -> dict:
    """Claims in twinkey's member order: iss, sub, aud, iat, nbf, exp, jti, twk."""
    c = {"iss": iss, "sub": sub, "aud": aud, "iat": iat}
    if nbf is not None:
        c["nbf"] = iat if nbf == "iat" else nbf
    c["exp"] = iat + 600 if exp is None else exp
    c["jti"] = jti
    c["twk"] = twk if twk is not None else scope(["cohere.command-r"], ["chat.completions"])
    return c


def token(c: dict, kid=ED2, alg="EdDSA") -> str:
    return compact(header(alg, kid), dumps(c), alg, kid)


# ---- mint vectors -----------------------------------------------------------------------------

def mint_case(name, ring, now_ms, rng_hex, request, signing_kid=None, what=""):
    """Builds the expected token of a mint request from the rules, independently."""
    keys = {k["kid"]: k for k in RINGS[ring]["keys"]}
    kid = signing_kid or next(k["kid"] for k in RINGS[ring]["keys"] if "d" in k or "k" in k)
    alg = keys[kid]["alg"]
    iat = now_ms // 1000
    ttl = request.get("ttlSeconds", 600)
    jti = request.get("tokenId") or b64(bytes.fromhex(rng_hex)[:16])
    c = {"iss": request.get("issuer", ISS), "sub": request["subject"],
         "aud": request.get("audience", AUD), "iat": iat,
         "nbf": iat + request.get("notBeforeDelaySeconds", 0), "exp": iat + ttl, "jti": jti,
         "twk": request["scope"]}
    tok = compact(header(alg, kid), dumps(c), alg, kid)
    case = {"name": name, "description": what, "ring": ring, "nowMs": now_ms, "rngHex": rng_hex,
            "request": request, "expect": {"token": tok, "header": json.loads(header(alg, kid)),
                                           "claims": c}}
    if signing_kid:
        case["signingKid"] = signing_kid
    return case


def mint_vectors():
    rng = "a1" * 16
    s_full = scope(["cohere.command-r", "meta.llama-3.3-70b-instruct"],
                   ["chat.completions", "responses"], 256, 20)
    cases = [
        mint_case("eddsa-defaults", "main", T0_MS, rng,
                  {"subject": "user-42", "scope": s_full},
                  what="EdDSA with the ring's signing key (the first that can sign), 10 min, "
                       "nbf = iat, jti = base64url of the first 16 RNG bytes"),
        mint_case("hs256", "hs", T0_MS + 999, "00112233445566778899aabbccddeeff",
                  {"subject": "user-42", "scope": scope(["*"], ["models"])},
                  what="HS256; iat is the current second (milliseconds dropped); wildcard "
                       "model, no caps"),
        mint_case("rotation-sign-with-old-kid", "main", T0_MS, rng,
                  {"subject": "svc", "scope": s_full}, signing_kid=ED1,
                  what="signing kid set explicitly"),
        mint_case("all-overrides", "main", T0_MS, rng,
                  {"subject": "usér-42 ✓", "audience": "relay.example", "issuer": "app.example",
                   "ttlSeconds": 86400, "notBeforeDelaySeconds": 5, "tokenId": "order-7/attempt-1",
                   "scope": scope(["m"], ["chat.completions", "responses", "completions",
                                         "embeddings", "models"], 1, 1)},
                  what="non-ASCII subject (UTF-8 in the payload), 24 h (the maximum), nbf "
                       "delayed, explicit jti, every endpoint"),
    ]
    errors = [
        {"name": "ttl-over-24h", "ring": "main",
         "request": {"subject": "u", "ttlSeconds": 86401, "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "ttl-zero", "ring": "main",
         "request": {"subject": "u", "ttlSeconds": 0, "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "empty-models", "ring": "main",
         "request": {"subject": "u", "scope": scope([], ["chat.completions"])},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "unknown-endpoint", "ring": "main",
         "request": {"subject": "u", "scope": scope(["m"], ["chat/completions"])},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "zero-budget", "ring": "main",
         "request": {"subject": "u", "scope": scope(["m"], ["models"], None, 0)},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "empty-subject", "ring": "main",
         "request": {"subject": "", "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "nbf-not-before-exp", "ring": "main",
         "request": {"subject": "u", "ttlSeconds": 60, "notBeforeDelaySeconds": 60, "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "oversized-token", "ring": "main",
         "request": {"subject": "u", "scope": scope([f"model-{i:04d}" for i in range(400)],
                                                   ["chat.completions"])},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "control-char-subject", "ring": "main",
         "request": {"subject": "u\n2026-01-01 INFO forged", "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "escape-in-issuer", "ring": "main",
         "request": {"subject": "u", "issuer": "\u001b[31mapp", "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_REQUEST"}},
        {"name": "no-signing-key", "ring": "public",
         "request": {"subject": "u", "scope": s_full},
         "expect": {"error": "INVALID_TOKEN_KEY"}},
    ]
    for e in errors:
        e.setdefault("nowMs", T0_MS)
        e.setdefault("rngHex", rng)
    return {"description": "Minting: fixed keys, request, clock and RNG -> the exact token. "
                           "Tokens written by tests/tokens/gen_vectors.py (Python cryptography "
                           "+ hmac), verified by PyJWT and jose.",
            "cases": cases, "errors": errors}


# ---- verify vectors (the hostile table) -------------------------------------------------------

def flip_last_byte(seg: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
    raw[-1] ^= 0x01
    return b64(bytes(raw))


def verify_vectors():
    good = token(claims())
    h, p, s = good.split(".")
    cases = []

    def case(name, tok, expect, ring="main", now_ms=T0_MS, options=None, what="", peers=None):
        c = {"name": name, "description": what, "ring": ring, "nowMs": now_ms,
             "options": options or {"audience": AUD}, "token": tok, "expect": expect}
        if peers:
            c["peers"] = peers
        cases.append(c)

    ok = lambda kid, alg, c: {"kid": kid, "alg": alg, "claims": c}  # noqa: E731
    err = lambda code: {"error": code}  # noqa: E731

    # Valid tokens.
    case("valid-eddsa", good, ok(ED2, "EdDSA", claims()))
    c_hs = claims(jti="jti-hs")
    case("valid-hs256", token(c_hs, HS1, "HS256"), ok(HS1, "HS256", c_hs))
    c_old = claims(jti="jti-old")
    case("valid-rotated-old-kid", token(c_old, ED1), ok(ED1, "EdDSA", c_old),
         what="signed by the previous key, still in the ring")
    case("valid-public-only-ring", good, ok(ED2, "EdDSA", claims()), ring="public")
    c_multi = claims(aud=["other", AUD], jti="jti-aud")
    case("valid-audience-list", token(c_multi), ok(ED2, "EdDSA", c_multi))
    c_nonbf = claims(nbf=None, jti="jti-nonbf")
    case("valid-without-nbf", token(c_nonbf), ok(ED2, "EdDSA", c_nonbf))
    c_extra = dict(claims(jti="jti-extra"), scope="read write", foo={"bar": 1})
    case("valid-unknown-claims-ignored", token(c_extra), ok(ED2, "EdDSA", c_extra))
    no_typ = compact(dumps({"alg": "EdDSA", "kid": ED2}), dumps(claims()), "EdDSA", ED2)
    case("valid-without-typ", no_typ, ok(ED2, "EdDSA", claims()))

    # Time, with the default skew of 30 s.
    case("expired", good, err("TOKEN_EXPIRED"), now_ms=(T0 + 600 + 30) * 1000)
    case("expired-within-skew", good, ok(ED2, "EdDSA", claims()),
         now_ms=(T0 + 600 + 30) * 1000 - 1)
    case("expired-zero-skew", good, err("TOKEN_EXPIRED"), now_ms=(T0 + 600) * 1000,
         options={"audience": AUD, "leewaySeconds": 0})
    case("not-yet-valid-nbf", token(claims(nbf=T0 + 120, jti="jti-nbf")),
         err("TOKEN_NOT_YET_VALID"), what="nbf two minutes ahead")
    c_nbf_skew = claims(nbf=T0 + 30, jti="jti-nbf30")
    case("nbf-within-skew", token(c_nbf_skew), ok(ED2, "EdDSA", c_nbf_skew))
    case("not-yet-valid-iat", good, err("TOKEN_NOT_YET_VALID"), now_ms=(T0 - 31) * 1000,
         what="issued in the future")
    case("lifetime-over-24h", token(claims(exp=T0 + 86401, jti="jti-long")), err("INVALID_TOKEN"),
         peers="accept")
    case("exp-before-iat", token(claims(exp=T0 - 1, nbf=None, jti="jti-neg")),
         err("INVALID_TOKEN"), peers="accept", what="peers accept it within their 30 s skew")

    # Audience and issuer.
    case("wrong-audience", token(claims(aud="someone-else")), err("TOKEN_AUDIENCE"))
    case("wrong-issuer", good, err("TOKEN_ISSUER"),
         options={"audience": AUD, "issuer": "app.example"})
    case("right-issuer", good, ok(ED2, "EdDSA", claims()),
         options={"audience": AUD, "issuer": ISS})

    # Signatures.
    tampered = dict(claims(), sub="admin")
    case("tampered-payload", f"{h}.{b64(dumps(tampered).encode())}.{s}", err("TOKEN_SIGNATURE"))
    case("tampered-signature", f"{h}.{p}.{flip_last_byte(s)}", err("TOKEN_SIGNATURE"))
    case("truncated-signature", f"{h}.{p}.{b64(base64.urlsafe_b64decode(s + '==')[:63])}",
         err("TOKEN_SIGNATURE"))
    raw_sig = base64.urlsafe_b64decode(s + "==")
    s_int = int.from_bytes(raw_sig[32:], "little")
    malleated = raw_sig[:32] + (s_int + L).to_bytes(32, "little")
    case("malleated-signature-s-plus-l", f"{h}.{p}.{b64(malleated)}", err("TOKEN_SIGNATURE"),
         what="S + L verifies under lax Ed25519; RFC 8032 requires S < L")
    hs_wrong = compact(header("HS256", HS1), dumps(claims()), "HS256", HS_KEY[HS_OTHER])
    case("hs256-wrong-secret", hs_wrong, err("TOKEN_SIGNATURE"))
    case("signature-of-other-key", f"{h}.{p}.{token(claims(), ED1).split('.')[2]}",
         err("TOKEN_SIGNATURE"), what="ED1's signature under ED2's kid")
    case("empty-signature", f"{h}.{p}.", err("TOKEN_SIGNATURE"))

    # Algorithms (RFC 8725 3.1: the key pins the algorithm).
    none_h = dumps({"alg": "none", "kid": ED2, "typ": "JWT"})
    case("alg-none", f"{b64(none_h.encode())}.{p}.", err("TOKEN_ALGORITHM"))
    case("alg-none-with-signature", f"{b64(none_h.encode())}.{p}.{s}", err("TOKEN_ALGORITHM"))
    for spelling in ("None", "NONE"):
        hh = dumps({"alg": spelling, "kid": ED2, "typ": "JWT"})
        case(f"alg-{spelling}", f"{b64(hh.encode())}.{p}.", err("TOKEN_ALGORITHM"))
    pub_raw = ed_public_raw(ED2)
    pub_pem = ED_SK[ED2].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for label, secret in (("raw", pub_raw), ("jwk-x", b64(pub_raw).encode()), ("pem", pub_pem)):
        case(f"alg-swapped-hs256-public-key-{label}",
             compact(header("HS256", ED2), dumps(claims()), "HS256", secret),
             err("TOKEN_ALGORITHM"),
             what=f"HS256 keyed with the Ed25519 public key ({label}) under the EdDSA kid")
    case("alg-eddsa-on-hs256-kid", token(claims(), ED2).replace(h, b64(header("EdDSA", HS1).encode())),
         err("TOKEN_ALGORITHM"))
    for alg in ("RS256", "ES256", "HS512", "Ed25519"):
        hh = dumps({"alg": alg, "kid": ED2, "typ": "JWT"})
        case(f"alg-unsupported-{alg}", f"{b64(hh.encode())}.{p}.{s}", err("TOKEN_ALGORITHM"))

    # Keys.
    case("unknown-kid", token(claims()).replace(h, b64(header("EdDSA", "ed-1999").encode())),
         err("TOKEN_UNKNOWN_KEY"))
    case("missing-kid", compact(dumps({"alg": "EdDSA", "typ": "JWT"}), dumps(claims()), "EdDSA", ED2),
         err("TOKEN_UNKNOWN_KEY"))
    case("retired-kid", token(c_old, ED1), err("TOKEN_UNKNOWN_KEY"), ring="retired")

    # Size and encoding.
    case("oversized-junk", "a" * 4097, err("TOKEN_TOO_LARGE"))
    big = claims(twk=scope([f"model-{i:04d}" for i in range(300)], ["chat.completions"]),
                 jti="jti-big")
    big_tok = token(big)
    assert len(big_tok) > 4096, len(big_tok)
    case("oversized-signed", big_tok, err("TOKEN_TOO_LARGE"),
         what="validly signed, but over 4096 bytes: refused before parsing", peers="accept")
    case("bad-base64-plus", f"{h[:-1]}+.{p}.{s}", err("INVALID_TOKEN"))
    case("bad-base64-padding", f"{h}=.{p}.{s}", err("INVALID_TOKEN"), peers="either")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanonical = alphabet[alphabet.index(s[-1]) + 1]  # a set bit among the 4 padding bits
    case("bad-base64-noncanonical", f"{h}.{p}.{s[:-1]}{noncanonical}",
         err("INVALID_TOKEN"), what="the signature's last character carries non-zero padding bits",
         peers="either")
    case("bad-base64-whitespace", f"{h}.{p} .{s}", err("INVALID_TOKEN"), peers="either")
    case("two-segments", f"{h}.{p}", err("INVALID_TOKEN"))
    case("four-segments", f"{h}.{p}.{s}.{s}", err("INVALID_TOKEN"))
    case("jwe-shape", f"{h}.{p}.{s}.{s}.{s}", err("INVALID_TOKEN"))
    case("empty", "", err("INVALID_TOKEN"))
    case("header-not-json", f"{b64(b'not json')}.{p}.{s}", err("INVALID_TOKEN"))
    case("header-not-object", f"{b64(b'[1]')}.{p}.{s}", err("INVALID_TOKEN"))

    # Duplicates and malformed members.
    dup_claims = header("EdDSA", ED2), dumps(claims())[:-1] + ',"sub":"admin"}'
    case("duplicate-claims", compact(*dup_claims, "EdDSA", ED2), err("INVALID_TOKEN"),
         what="sub given twice; a last-wins parser would read admin", peers="accept")
    dup_nested = dumps(claims())[:-2] + ',"models":["*"]}}'
    case("duplicate-scope-member", compact(header("EdDSA", ED2), dup_nested, "EdDSA", ED2),
         err("INVALID_TOKEN"), peers="accept")
    dup_alg_h = '{"alg":"EdDSA","kid":"%s","typ":"JWT","alg":"none"}' % ED2
    case("duplicate-header-alg", compact(dup_alg_h, dumps(claims()), "EdDSA", ED2),
         err("INVALID_TOKEN"), peers="either")
    crit_h = dumps({"alg": "EdDSA", "kid": ED2, "typ": "JWT", "crit": ["exp"], "exp": 1})
    case("crit-header", compact(crit_h, dumps(claims()), "EdDSA", ED2), err("INVALID_TOKEN"),
         peers="either")
    typ_h = dumps({"alg": "EdDSA", "kid": ED2, "typ": "at+jwt"})
    case("typ-not-jwt", compact(typ_h, dumps(claims()), "EdDSA", ED2), err("INVALID_TOKEN"),
         peers="accept")
    case("payload-not-object", compact(header("EdDSA", ED2), "[1,2]", "EdDSA", ED2),
         err("INVALID_TOKEN"), peers="either")
    for label, mutate in (
        ("exp-missing", lambda c: c.pop("exp")),
        ("exp-float", lambda c: c.__setitem__("exp", T0 + 600.5)),
        ("exp-string", lambda c: c.__setitem__("exp", str(T0 + 600))),
        ("sub-missing", lambda c: c.pop("sub")),
        ("jti-missing", lambda c: c.pop("jti")),
        ("scope-missing", lambda c: c.pop("twk")),
        ("scope-models-not-list", lambda c: c["twk"].__setitem__("models", "cohere.command-r")),
        ("aud-number", lambda c: c.__setitem__("aud", 7)),
    ):
        c = claims(jti=f"jti-{label}")
        mutate(c)
        case(f"claim-{label}", token(c), err("INVALID_TOKEN"), peers="either")

    # Control characters in claims could forge log lines where a relay writes them.
    for label, mutate in (
        ("sub-newline", lambda c: c.__setitem__("sub", "user-42\nINFO relayed subject=admin")),
        ("sub-ansi", lambda c: c.__setitem__("sub", "user-42\u001b[2K\u001b[1Gadmin")),
        ("iss-cr", lambda c: c.__setitem__("iss", "twinkey\r")),
        ("aud-tab", lambda c: c.__setitem__("aud", ["twinkey-relay", "x\ty"])),
        ("scope-model-nul", lambda c: c["twk"]["models"].append("m\u0000")),
        ("sub-c1", lambda c: c.__setitem__("sub", "user\u0085x")),
    ):
        c = claims(jti=f"jti-{label}")
        mutate(c)
        case(f"claim-control-{label}", token(c), err("INVALID_TOKEN"), peers="accept",
             what="a control character in a claim is refused (log injection)")

    return {"description": "Verification, including the hostile table. Tokens written by "
                           "tests/tokens/gen_vectors.py; `peers` marks where PyJWT/jose differ "
                           "(accept: they take it, twinkey is stricter; either: varies).",
            "cases": cases}


# ---- relay gate vectors -----------------------------------------------------------------------

def gate_vectors():
    chat = "/v1/chat/completions"
    s = scope(["cohere.command-r"], ["chat.completions", "responses"], 100, 3)
    tok = token(claims(twk=s, jti="jti-gate"))
    bearer = f"Bearer {tok}"
    body = lambda **kw: dumps(dict({"model": "cohere.command-r", "messages": [  # noqa: E731
        {"role": "user", "content": "hi"}]}, **kw))

    def admit(endpoint, path, model, cap, body_obj, remaining):
        return {"admit": {"endpoint": endpoint, "upstreamPath": path, "model": model,
                          "maxOutputTokens": cap, "body": body_obj, "remaining": remaining}}

    def msg(**kw):
        return dict({"model": "cohere.command-r", "messages": [{"role": "user", "content": "hi"}]},
                    **kw)

    def refuse(code, status):
        return {"error": code, "status": status}

    scenarios = []

    def scenario(name, steps, what="", ring="main", options=None):
        scenarios.append({"name": name, "description": what, "ring": ring,
                          "options": options or {"audience": AUD}, "steps": steps})

    def step(expect, authorization=bearer, method="POST", path=chat, body_text=None, now=T0_MS,
             op="admit"):
        st = {"op": op, "nowMs": now, "authorization": authorization, "method": method,
              "path": path, "body": body_text, "expect": expect}
        return st

    scenario("scope-budget-and-caps", [
        step(admit("chat.completions", "chat/completions", "cohere.command-r", 100,
                   msg(max_tokens=100), 2), body_text=body()),
        step(admit("chat.completions", "chat/completions", "cohere.command-r", 100,
                   msg(max_tokens=100, max_completion_tokens=40), 1),
             body_text=body(max_tokens=5000, max_completion_tokens=40)),
        step(refuse("TOKEN_SCOPE", 403), body_text=body(model="meta.llama-3.3-70b-instruct")),
        step(refuse("TOKEN_SCOPE", 403), body_text=dumps({"messages": []})),
        step(refuse("TOKEN_SCOPE", 403), path="/v1/embeddings", body_text=body()),
        step(refuse("TOKEN_SCOPE", 403), method="GET", path="/v1/models"),
        step(refuse("INVALID_REQUEST", 400), body_text="{not json"),
        step(refuse("INVALID_REQUEST", 400),
             body_text='{"model":"cohere.command-r","model":"meta.llama-3.3-70b-instruct"}'),
        step(refuse("INVALID_REQUEST", 400), body_text=body(max_tokens="lots")),
        step(admit("responses", "responses", "cohere.command-r", 100,
                   {"model": "cohere.command-r", "input": "hi", "max_output_tokens": 100}, 0),
             path="/v1/responses", body_text=dumps({"model": "cohere.command-r", "input": "hi"})),
        step(refuse("TOKEN_BUDGET_EXHAUSTED", 403), body_text=body()),
        step({"released": True}, op="release"),
        step(admit("chat.completions", "chat/completions", "cohere.command-r", 100,
                   msg(max_tokens=100), 0), body_text=body()),
        step(refuse("TOKEN_BUDGET_EXHAUSTED", 403), body_text=body()),
    ], what="refused requests use no budget; a release gives one back (nothing was sent)")

    wild = token(claims(twk=scope(["*"], ["models", "chat.completions"]), jti="jti-wild"))
    scenario("wildcard-and-bodiless", [
        step(admit("models", "models", None, None, None, None), authorization=f"bearer {wild}",
             method="GET", path="/v1/models"),
        step(admit("models", "models/cohere.command-r", None, None, None, None),
             authorization=f"Bearer {wild}", method="GET", path="/v1/models/cohere.command-r"),
        # A GET carries no body: one sent anyway would reach the upstream unchecked (found by
        # fuzz/fuzz_targets/relay_admission.rs).
        step(refuse("INVALID_REQUEST", 400), authorization=f"Bearer {wild}", method="GET",
             path="/v1/models", body_text="]]]/e`"),
        step(refuse("INVALID_REQUEST", 400), authorization=f"Bearer {wild}", method="GET",
             path="/v1/models/cohere.command-r", body_text="{}"),
        step(admit("chat.completions", "chat/completions", "anything", None,
                   {"model": "anything", "messages": []}, None),
             authorization=f"Bearer {wild}",
             body_text=dumps({"model": "anything", "messages": []})),
        step(refuse("UNKNOWN_ENDPOINT", 404), authorization=f"Bearer {wild}", method="GET",
             path="/v1/models/../../admin"),
        step(refuse("UNKNOWN_ENDPOINT", 404), authorization=f"Bearer {wild}", method="GET",
             path="/v1/files"),
        step(refuse("UNKNOWN_ENDPOINT", 404), authorization=f"Bearer {wild}", method="GET",
             path="/openai/v1/models"),
    ])

    capped = token(claims(twk=scope(["cohere.command-r"], ["chat.completions", "responses"], 16, 5),
                          jti="jti-hardening"))
    hb = f"Bearer {capped}"
    scenario("hardening", [
        step(refuse("TOKEN_SCOPE", 403), authorization=hb, body_text=body(n=128, max_tokens=16)),
        step(refuse("INVALID_REQUEST", 400), authorization=hb, body_text=body(n="two")),
        step(admit("chat.completions", "chat/completions", "cohere.command-r", 16,
                   msg(n=1, max_tokens=16), 4), authorization=hb, body_text=body(n=1)),
        step(refuse("INVALID_REQUEST", 400), authorization=hb,
             path="/v1/chat/completions?api-version=2024-01-01", body_text=body()),
        step(refuse("RESPONSE_NOT_OWNED", 404), authorization=hb, method="GET",
             path="/v1/responses/resp_someone_elses"),
        step(refuse("RESPONSE_NOT_OWNED", 404), authorization=hb, method="DELETE",
             path="/v1/responses/resp_someone_elses"),
        step(refuse("RESPONSE_NOT_OWNED", 404), authorization=hb, path="/v1/responses",
             body_text=dumps({"model": "cohere.command-r", "input": "hi",
                              "previous_response_id": "resp_someone_elses"})),
        step(refuse("INVALID_REQUEST", 400), authorization=hb, path="/v1/responses",
             body_text=dumps({"model": "cohere.command-r", "input": "hi",
                              "previous_response_id": 7})),
        step(admit("responses", "responses", "cohere.command-r", 16,
                   {"model": "cohere.command-r", "input": "hi", "max_output_tokens": 16}, 3),
             authorization=hb, path="/v1/responses",
             body_text=dumps({"model": "cohere.command-r", "input": "hi"})),
    ], what="an output cap is not multiplied by n; query strings only from an allow-list; "
            "stored responses only for the subject that created them through the relay")

    scenario("authentication-first", [
        step(refuse("TOKEN_MISSING", 401), authorization=None),
        step(refuse("TOKEN_MISSING", 401), authorization="Basic dXNlcjpwYXNz"),
        step(refuse("TOKEN_MISSING", 401), authorization="Bearer "),
        step(refuse("TOKEN_TOO_LARGE", 401), authorization="Bearer " + "a" * 5000),
        step(refuse("INVALID_TOKEN", 401), authorization="Bearer not.a.token!"),
        step(refuse("TOKEN_EXPIRED", 401), now=(T0 + 700) * 1000),
        step(refuse("TOKEN_SIGNATURE", 401), authorization=bearer[:-2] + ("AA" if bearer[-2:] != "AA" else "QQ")),
        step(refuse("TOKEN_MISSING", 401), authorization=None, method="GET", path="/v1/nowhere"),
        step(refuse("TOKEN_AUDIENCE", 401),
             authorization="Bearer " + token(claims(aud="elsewhere", twk=s, jti="jti-aud2"))),
    ], what="an unauthenticated caller learns nothing about endpoints or scope")

    return {"description": "The relay's admission gate (twinkey::token::Gate): token, endpoint, "
                           "scope, output cap and request budget, in that order.",
            "scenarios": scenarios}


# ---- browser cache vectors --------------------------------------------------------------------

def cache_vectors():
    t10 = token(claims(jti="c1"))                    # 600 s lifetime
    t10b = token(claims(jti="c2", iat=T0 + 500, exp=T0 + 1100))
    short = token(claims(jti="c3", exp=T0 + 20))     # 20 s lifetime: margin is half (10 s)

    def nxt(now, expect):
        return {"op": "next", "nowMs": now, "expect": expect}

    scenarios = [
        {"name": "one-fetch-for-concurrent-callers", "marginMs": 30000, "steps": [
            nxt(0, {"step": "fetch", "as": "f1"}),
            nxt(1, {"step": "wait"}),
            nxt(2, {"step": "wait"}),
            {"op": "store", "ticket": "f1", "token": t10, "nowMs": 100, "expect": {"as": "g1"}},
            nxt(101, {"step": "use", "token": t10, "generation": "g1"}),
            nxt(100 + 570_000 - 1, {"step": "use", "token": t10, "generation": "g1"}),
            nxt(100 + 570_000, {"step": "fetch", "as": "f2"}),
            nxt(100 + 570_001, {"step": "wait"}),
            {"op": "store", "ticket": "f2", "token": t10b, "nowMs": 570_200, "expect": {"as": "g2"}},
            nxt(570_201, {"step": "use", "token": t10b, "generation": "g2"}),
        ], "description": "the local clock (0 ms here) is far from the server's: only the "
                          "lifetime exp - iat counts, from arrival, minus the margin"},
        {"name": "short-token-half-life", "marginMs": 30000, "steps": [
            nxt(0, {"step": "fetch", "as": "f1"}),
            {"op": "store", "ticket": "f1", "token": short, "nowMs": 0, "expect": {"as": "g1"}},
            nxt(9_999, {"step": "use", "token": short, "generation": "g1"}),
            nxt(10_000, {"step": "fetch", "as": "f2"}),
        ]},
        {"name": "provider-failures", "marginMs": 30000, "steps": [
            nxt(0, {"step": "fetch", "as": "f1"}),
            nxt(1, {"step": "wait"}),
            {"op": "fetchFailed", "ticket": "f1"},
            nxt(2, {"step": "fetch", "as": "f2"}),
            {"op": "store", "ticket": "f2", "token": "not-a-token", "nowMs": 3,
             "expect": {"error": "TOKEN_PROVIDER"}},
            nxt(4, {"step": "fetch", "as": "f3"}),
            {"op": "store", "ticket": "f3", "token": b64(b'{"alg":"EdDSA"}') + "." +
             b64(b'{"exp":5}') + ".c2ln", "nowMs": 5, "expect": {"error": "TOKEN_PROVIDER"}},
            nxt(6, {"step": "fetch", "as": "f4"}),
            {"op": "store", "ticket": "f4", "token": t10, "nowMs": 7, "expect": {"as": "g1"}},
            nxt(8, {"step": "use", "token": t10, "generation": "g1"}),
        ], "description": "a failed or bogus fetch ends the fetch; the next request starts one"},
        {"name": "replay-once-on-stale-token", "marginMs": 30000, "steps": [
            nxt(0, {"step": "fetch", "as": "f1"}),
            {"op": "store", "ticket": "f1", "token": t10, "nowMs": 0, "expect": {"as": "g1"}},
            {"op": "judge", "generation": "g1", "replayed": False, "status": 200, "code": None,
             "expect": {"after": "deliver"}},
            {"op": "judge", "generation": "g1", "replayed": False, "status": 401,
             "code": "TOKEN_SIGNATURE", "expect": {"after": "deliver"}},
            {"op": "judge", "generation": "g1", "replayed": False, "status": 403,
             "code": "TOKEN_SCOPE", "expect": {"after": "deliver"}},
            {"op": "judge", "generation": "g1", "replayed": False, "status": 401,
             "code": None, "expect": {"after": "deliver"}},
            {"op": "judge", "generation": "g1", "replayed": True, "status": 401,
             "code": "TOKEN_EXPIRED", "expect": {"after": "deliver"}},
            nxt(1, {"step": "use", "token": t10, "generation": "g1"}),
            {"op": "judge", "generation": "g1", "replayed": False, "status": 401,
             "code": "TOKEN_EXPIRED", "expect": {"after": "refresh_and_replay"}},
            nxt(2, {"step": "fetch", "as": "f2"}),
            {"op": "judge", "generation": "g1", "replayed": False, "status": 401,
             "code": "TOKEN_EXPIRED", "expect": {"after": "refresh_and_replay"}},
            nxt(3, {"step": "wait"}),
            {"op": "store", "ticket": "f2", "token": t10b, "nowMs": 4, "expect": {"as": "g2"}},
            {"op": "judge", "generation": "g1", "replayed": False, "status": 401,
             "code": "TOKEN_UNKNOWN_KEY", "expect": {"after": "refresh_and_replay"}},
            nxt(5, {"step": "use", "token": t10b, "generation": "g2"}),
            {"op": "clear"},
            nxt(6, {"step": "fetch", "as": "f3"}),
        ], "description": "only a first attempt refused with 401 + TOKEN_EXPIRED or "
                          "TOKEN_UNKNOWN_KEY replays; a late verdict on an old token never "
                          "drops the new one"},
    ]
    return {"description": "The browser client's token cache (twinkey::token::TokenCache).",
            "scenarios": scenarios}


def keys_vectors():
    bad = []

    def bad_key(name, jwk):
        bad.append({"name": name, "jwk": jwk, "expect": {"error": "INVALID_TOKEN_KEY"}})

    bad_key("x-does-not-match-d", dict(ed_jwk(ED1), x=ed_jwk(ED2)["x"]))
    bad_key("missing-alg", {k: v for k, v in ed_jwk(ED1).items() if k != "alg"})
    bad_key("alg-none", dict(ed_jwk(ED1), alg="none"))
    bad_key("alg-kty-mismatch", dict(hs_jwk(HS1), alg="EdDSA"))
    bad_key("hs256-too-short", dict(hs_jwk(HS1), k=b64(b"0123456789abcdef0123456789abcde")))
    bad_key("use-enc", dict(ed_jwk(ED1), use="enc"))
    bad_key("wrong-curve", dict(ed_jwk(ED1, False), crv="X25519"))
    bad_key("bad-base64", dict(ed_jwk(ED1, False), x="not+base64"))
    bad_key("short-x", dict(ed_jwk(ED1, False), x=b64(b"\x01" * 31)))
    bad_key("small-order-x", dict(ed_jwk(ED1, False), x=b64(b"\x01" + b"\x00" * 31)))
    bad_key("empty-kid", dict(ed_jwk(ED1), kid=""))
    bad_key("rsa", {"kty": "RSA", "kid": "r", "alg": "RS256", "n": "AQAB", "e": "AQAB"})
    return {"description": "Fixed test-only keys (JWK, RFC 7517/8037) and the rings the other "
                           "files name. Never use them outside tests.",
            "rings": RINGS,
            "signingKids": {"main": ED2, "public": None, "hs": HS1, "retired": ED2,
                            "verify-only": None},
            "badKeys": bad,
            "duplicateKidRing": {"keys": [ed_jwk(ED1), ed_jwk(ED1, False)]}}


def main() -> int:
    files = {"keys.json": keys_vectors(), "mint.json": mint_vectors(),
             "verify.json": verify_vectors(), "gate.json": gate_vectors(),
             "cache.json": cache_vectors()}
    check = "--check" in sys.argv
    OUT.mkdir(parents=True, exist_ok=True)
    differ = []
    for name, data in files.items():
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                differ.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if differ:
        print("token vectors differ from the generator:", ", ".join(differ))
        return 1
    print(("checked " if check else "wrote ") + ", ".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
