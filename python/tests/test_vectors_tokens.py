"""The shared server-token vectors (tests/vectors/tokens/, format: tests/vectors/README.md) run
through the binding: keys, mint (exact strings), verify (the hostile table), the relay gate."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

import twinkey

from vectors import load

KEYS = load("tokens", "keys.json")
MINT = load("tokens", "mint.json")
VERIFY = load("tokens", "verify.json")
GATE = load("tokens", "gate.json")
KNOWN_CLAIMS = ("iss", "sub", "aud", "iat", "nbf", "exp", "jti", "twk")


def ring(name: str) -> twinkey.TokenKeyRing:
    return twinkey.TokenKeyRing.from_json(json.dumps(KEYS["rings"][name]))


def at(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def names(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


@pytest.mark.parametrize("name", sorted(KEYS["rings"]))
def test_rings_load_with_their_signing_kid(name: str) -> None:
    r = ring(name)
    assert r.signing_kid == KEYS["signingKids"][name]
    assert r.kids == [k["kid"] for k in KEYS["rings"][name]["keys"]]


@pytest.mark.parametrize("case", KEYS["badKeys"], ids=names(KEYS["badKeys"]))
def test_bad_keys_are_refused(case: dict[str, Any]) -> None:
    with pytest.raises(twinkey.TokenError) as info:
        twinkey.TokenKeyRing.from_json(json.dumps(case["jwk"]))
    assert info.value.code == case["expect"]["error"]
    for secret in ("d", "k"):
        value = case["jwk"].get(secret) if isinstance(case["jwk"], dict) else None
        if isinstance(value, str) and len(value) > 8:
            assert value not in str(info.value)


def test_a_duplicate_kid_is_refused() -> None:
    with pytest.raises(twinkey.TokenError) as info:
        twinkey.TokenKeyRing.from_json(json.dumps(KEYS["duplicateKidRing"]))
    assert info.value.code == "INVALID_TOKEN_KEY"


@pytest.mark.parametrize("case", MINT["cases"], ids=names(MINT["cases"]))
def test_mint_gives_the_exact_token(case: dict[str, Any]) -> None:
    r = ring(case["ring"])
    if "signingKid" in case:
        r.set_signing_kid(case["signingKid"])
    minted = r.mint(case["request"], now=at(case["nowMs"]), random=bytes.fromhex(case["rngHex"]))
    assert minted["token"] == case["expect"]["token"]
    assert minted["claims"] == case["expect"]["claims"]
    # The claims dict lists the members in the token's own order.
    assert list(minted["claims"]) == list(case["expect"]["claims"])


@pytest.mark.parametrize("case", MINT["errors"], ids=names(MINT["errors"]))
def test_mint_errors(case: dict[str, Any]) -> None:
    r = ring(case["ring"])
    with pytest.raises(twinkey.TwinkeyError) as info:
        r.mint(case["request"], now=at(case["nowMs"]), random=bytes.fromhex(case["rngHex"]))
    assert info.value.code == case["expect"]["error"]


@pytest.mark.parametrize("case", VERIFY["cases"], ids=names(VERIFY["cases"]))
def test_verify_table(case: dict[str, Any]) -> None:
    r = ring(case["ring"])
    options = {**case["options"], "now": at(case["nowMs"])}
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(twinkey.TwinkeyError) as info:
            r.verify(case["token"], options)
        assert info.value.code == expect["error"], str(info.value)
        # No error message repeats the token or a part of it.
        for part in case["token"].split("."):
            if len(part) > 8:
                assert part not in str(info.value)
        return
    verified = r.verify(case["token"], options)
    assert verified["kid"] == expect["kid"]
    assert verified["alg"] == expect["alg"]
    known = {k: v for k, v in expect["claims"].items() if k in KNOWN_CLAIMS}
    assert verified["claims"] == known


def test_the_verify_table_is_large() -> None:
    assert len(VERIFY["cases"]) >= 60


def admission(a: twinkey.Admission) -> dict[str, Any]:
    return {
        "endpoint": a.endpoint,
        "upstreamPath": a.upstream_path,
        "model": a.model,
        "maxOutputTokens": a.max_output_tokens,
        "body": None if a.body is None else json.loads(a.body),
        "remaining": a.remaining,
    }


@pytest.mark.parametrize("scenario", GATE["scenarios"], ids=names(GATE["scenarios"]))
def test_gate_scenarios(scenario: dict[str, Any]) -> None:
    gate = twinkey.RelayGate(ring(scenario["ring"]), scenario["options"])
    last: twinkey.Admission | None = None
    for i, step in enumerate(scenario["steps"]):
        where = f"step {i}"
        if step["op"] == "release":
            assert last is not None, where
            gate.release(last)
            continue
        expect = step["expect"]
        call = (step["method"], step["path"], step["authorization"], step["body"])
        if "error" in expect:
            with pytest.raises(twinkey.TwinkeyError) as info:
                gate.admit(*call, now=at(step["nowMs"]))
            e = info.value
            assert e.code == expect["error"], f"{where}: {e}"
            assert e.http_status == expect["status"], where
            assert e.reply_body is not None
            body = json.loads(e.reply_body)
            assert body["error"]["code"] == expect["error"], where
            assert body["error"]["type"] == expect["error"].lower(), where
            continue
        last = gate.admit(*call, now=at(step["nowMs"]))
        assert admission(last) == expect["admit"], where
        assert last.to_dict() == expect["admit"], where
