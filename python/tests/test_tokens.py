"""TokenKeyRing and RelayGate: the API around the vectors, and key hygiene (no private key
material in repr, str, pickles, exceptions or logs)."""

from __future__ import annotations

import copy
import datetime
import json
import logging
import pickle
import traceback
from typing import Any

import pytest

import twinkey

from vectors import load

KEYS = load("tokens", "keys.json")
SCOPE = {"models": ["cohere.command-r"], "endpoints": ["chat.completions"], "max_requests": 2}
NOW = datetime.datetime(2027, 1, 15, 8, 0, tzinfo=datetime.timezone.utc)


def private_parts(ring: twinkey.TokenKeyRing) -> list[str]:
    keys = json.loads(ring.to_json(private=True))["keys"]
    return [k[p] for k in keys for p in ("d", "k") if p in k]


@pytest.fixture(params=["EdDSA", "HS256"])
def fresh(request: pytest.FixtureRequest) -> twinkey.TokenKeyRing:
    return twinkey.TokenKeyRing.generate(request.param, f"kid-{request.param}")


def test_generate_mint_and_verify(fresh: twinkey.TokenKeyRing) -> None:
    assert fresh.kids == [fresh.signing_kid]
    minted = fresh.mint({"subject": "user-1", "scope": SCOPE, "ttlSeconds": 60})
    claims = minted["claims"]
    assert claims["sub"] == "user-1" and claims["exp"] - claims["iat"] == 60
    assert claims["aud"] == "twinkey-relay" and claims["iss"] == "twinkey"
    verified = fresh.verify(minted["token"], {"audience": "twinkey-relay"})
    assert verified["kid"] == fresh.signing_kid and verified["claims"] == claims
    with pytest.raises(twinkey.TokenError) as info:
        fresh.verify(minted["token"], {"audience": "another-relay"})
    assert info.value.code == "TOKEN_AUDIENCE"
    with pytest.raises(twinkey.TokenError) as expired:
        fresh.verify(minted["token"], {"audience": "twinkey-relay", "now": "2099-01-01T00:00:00Z"})
    assert expired.value.code == "TOKEN_EXPIRED"


def test_two_tokens_get_different_ids(fresh: twinkey.TokenKeyRing) -> None:
    a = fresh.mint({"subject": "u", "scope": SCOPE}, now=NOW)
    b = fresh.mint({"subject": "u", "scope": SCOPE}, now=NOW)
    assert a["claims"]["jti"] != b["claims"]["jti"]


def test_public_json_leaves_private_material_out() -> None:
    ring = twinkey.TokenKeyRing.from_json(json.dumps(KEYS["rings"]["main"]))
    public = json.loads(ring.to_json())
    assert [k["kid"] for k in public["keys"]] == ["ed-2026-02", "ed-2026-01"]  # HS256 has no public half
    assert all("d" not in k and "k" not in k for k in public["keys"])
    assert json.loads(ring.to_json(private=True)) == KEYS["rings"]["main"]
    verifier = twinkey.TokenKeyRing.from_json(ring.to_json())
    assert verifier.signing_kid is None
    token = ring.mint({"subject": "u", "scope": SCOPE})["token"]
    assert verifier.verify(token, {"audience": "twinkey-relay"})["kid"] == "ed-2026-02"
    with pytest.raises(twinkey.TokenError) as info:
        verifier.mint({"subject": "u", "scope": SCOPE})
    assert info.value.code


def test_signing_kid_and_remove() -> None:
    ring = twinkey.TokenKeyRing.from_json(json.dumps(KEYS["rings"]["main"]))
    ring.set_signing_kid("hs-2026-01")
    token = ring.mint({"subject": "u", "scope": SCOPE})["token"]
    assert ring.verify(token, {"audience": "twinkey-relay"})["alg"] == "HS256"
    with pytest.raises(twinkey.TokenError) as unknown:
        ring.set_signing_kid("nope")
    assert unknown.value.code == "INVALID_TOKEN_KEY"
    assert ring.remove("hs-2026-01") is True
    assert ring.remove("hs-2026-01") is False
    assert ring.kids == ["ed-2026-02", "ed-2026-01"]
    assert ring.signing_kid == "ed-2026-02"
    with pytest.raises(twinkey.TokenError) as gone:
        ring.verify(token, {"audience": "twinkey-relay"})
    assert gone.value.code == "TOKEN_UNKNOWN_KEY"


ROTATE_WHILE_MINTING = """
import json, sys, threading, twinkey
ring = twinkey.TokenKeyRing.from_json(sys.argv[1])
scope = {"models": ["m"], "endpoints": ["chat.completions"]}
stop = threading.Event()
def work():
    while not stop.is_set():
        token = ring.mint({"subject": "u", "scope": scope})["token"]
        try:
            ring.verify(token, {"audience": "twinkey-relay"})
        except twinkey.TokenError:
            pass  # signed by a key another thread just removed
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for i in range(3000):
    ring.set_signing_kid(("ed-2026-02", "ed-2026-01")[i % 2])
stop.set()
for t in threads:
    t.join()
print("done")
"""


def test_rotating_the_signing_key_while_threads_mint_never_deadlocks() -> None:
    """Writers (set_signing_kid) and readers that release the GIL (mint, verify) never wait
    for each other while holding the GIL: run in a child process so a deadlock fails the test
    (by timeout) instead of hanging the suite."""
    import subprocess
    import sys

    ring = json.dumps(KEYS["rings"]["main"])
    done = subprocess.run(
        [sys.executable, "-c", ROTATE_WHILE_MINTING, ring], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "done"), done.stderr[-2000:]


def test_bad_input_gets_coded_errors() -> None:
    with pytest.raises(twinkey.TokenError) as alg:
        twinkey.TokenKeyRing.generate("RS256", "k")  # type: ignore[arg-type]
    assert alg.value.code == "INVALID_TOKEN_KEY"
    with pytest.raises(twinkey.TokenError) as text:
        twinkey.TokenKeyRing.from_json("not json")
    assert text.value.code == "INVALID_TOKEN_KEY"
    ring = twinkey.TokenKeyRing.generate("EdDSA", "k")
    with pytest.raises(twinkey.TokenError) as request:
        ring.mint({"subject": "u", "scope": SCOPE, "ttlSeconds": 86401})
    assert request.value.code == "INVALID_TOKEN_REQUEST"
    with pytest.raises(twinkey.KeyDocumentError) as options:
        ring.verify("a.b.c", {"audience": "x", "leewaySeconds": 301})
    assert options.value.code == "INVALID_OPTIONS"
    with pytest.raises(TypeError):
        ring.mint({"subject": "u", "scope": {"models": [object()], "endpoints": []}})
    with pytest.raises(TypeError):
        ring.verify("a.b.c", ["audience"])  # type: ignore[arg-type]


def test_verify_accepts_any_mapping() -> None:
    from types import MappingProxyType

    ring = twinkey.TokenKeyRing.generate("HS256", "k")
    token = ring.mint({"subject": "u", "scope": SCOPE})["token"]
    assert ring.verify(token, MappingProxyType({"audience": "twinkey-relay"}))["kid"] == "k"


def test_relay_gate_admits_caps_and_counts() -> None:
    ring = twinkey.TokenKeyRing.generate("EdDSA", "k")
    scope = {**SCOPE, "max_output_tokens": 16}
    token = ring.mint({"subject": "u", "scope": scope})["token"]
    gate = twinkey.RelayGate(ring, {"audience": "twinkey-relay"})
    body = json.dumps({"model": "cohere.command-r", "messages": [], "max_tokens": 999})
    first = gate.admit("POST", "/v1/chat/completions", f"Bearer {token}", body)
    assert first.endpoint == "chat.completions" and first.upstream_path == "chat/completions"
    assert first.body is not None and json.loads(first.body)["max_tokens"] == 16
    assert first.remaining == 1 and first.subject == "u" and first.model == "cohere.command-r"
    gate.release(first)
    nothing_sent = gate.admit("POST", "/v1/chat/completions", f"Bearer {token}", body.encode())
    gate.settle_failure(nothing_sent, 0)  # back to the budget
    reached = gate.admit("POST", "/v1/chat/completions", f"Bearer {token}", body)
    gate.settle_failure(reached, 1)  # the service saw it: still counted
    gate.admit("POST", "/v1/chat/completions", f"Bearer {token}", body)
    with pytest.raises(twinkey.TokenError) as spent:
        gate.admit("POST", "/v1/chat/completions", f"Bearer {token}", body)
    assert (spent.value.code, spent.value.http_status) == ("TOKEN_BUDGET_EXHAUSTED", 403)
    with pytest.raises(twinkey.TokenError) as missing:
        gate.admit("POST", "/v1/chat/completions", None, body)
    assert (missing.value.code, missing.value.http_status) == ("TOKEN_MISSING", 401)
    other = twinkey.TokenKeyRing.generate("EdDSA", "k2")
    gate.replace_keys(other)
    with pytest.raises(twinkey.TokenError) as rotated:
        gate.admit("GET", "/v1/models", f"Bearer {token}")
    assert rotated.value.code == "TOKEN_UNKNOWN_KEY"
    again = pickle.loads(pickle.dumps(rotated.value))
    assert (again.code, again.http_status, again.reply_body) == (
        "TOKEN_UNKNOWN_KEY",
        401,
        rotated.value.reply_body,
    )


# --- hygiene -------------------------------------------------------------------------------


@pytest.fixture
def full_ring() -> twinkey.TokenKeyRing:
    return twinkey.TokenKeyRing.from_json(json.dumps(KEYS["rings"]["main"]))


def assert_clean(text: str, secrets: list[str]) -> None:
    assert secrets
    for s in secrets:
        assert s not in text


def test_repr_and_str_show_kids_and_algorithms_only(full_ring: twinkey.TokenKeyRing) -> None:
    secrets = private_parts(full_ring)
    assert repr(full_ring) == (
        "TokenKeyRing([ed-2026-02 EdDSA (signing), ed-2026-01 EdDSA, hs-2026-01 HS256])"
    )
    assert_clean(repr(full_ring) + str(full_ring), secrets)
    gate = twinkey.RelayGate(full_ring, {"audience": "twinkey-relay"})
    assert_clean(repr(gate) + str(gate), secrets)


def test_rings_refuse_to_be_pickled(full_ring: twinkey.TokenKeyRing) -> None:
    secrets = private_parts(full_ring)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot pickle a twinkey") as info:
            pickle.dumps(full_ring, protocol=protocol)
        assert_clean(str(info.value), secrets)
    assert copy.copy(full_ring) is full_ring and copy.deepcopy(full_ring) is full_ring


def test_errors_and_logs_never_show_key_material(
    full_ring: twinkey.TokenKeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = private_parts(full_ring)
    texts: list[str] = []
    bad_jwks: list[Any] = []
    for key in KEYS["rings"]["main"]["keys"]:
        tampered = dict(key)
        if "d" in tampered:
            others = [k["x"] for k in KEYS["rings"]["public"]["keys"] if k["kid"] != key["kid"]]
            tampered["x"] = others[0]  # x does not match d
        else:
            tampered["k"] = tampered["k"][:10]  # too short
        bad_jwks.append(tampered)
    caplog.set_level(logging.DEBUG)
    for jwk in bad_jwks:
        with pytest.raises(twinkey.TokenError) as info:
            twinkey.TokenKeyRing.from_json(json.dumps(jwk))
        e = info.value
        texts.append("".join(traceback.format_exception(type(e), e, e.__traceback__)) + repr(e))
    token = full_ring.mint({"subject": "u", "scope": SCOPE})["token"]
    for options in ({"audience": "x"}, {"audience": "twinkey-relay", "issuer": "y"}):
        with pytest.raises(twinkey.TokenError) as refused:
            full_ring.verify(token, options)
        texts.append(str(refused.value) + repr(refused.value))
    texts.append(caplog.text)
    assert_clean("\n".join(texts), secrets)
    assert_clean("\n".join(texts), [k["k"][:10] for k in bad_jwks if "k" in k])
