"""twinkey.Signer agrees with the official `oci` SDK signer on generated requests.

300 requests (seeded; methods, paths, queries, headers, bodies, user and session keyIds) are
signed by both; the signature, the signed-header list and the keyId must be identical, and
the SDK must send the path and query twinkey signed. Needs `oci` (installed in the openai-3
venv; conftest.py does not collect this file where `oci` is missing).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from oci._vendor import requests
from oci.auth.signers import SecurityTokenSigner
from oci.signer import Signer, load_private_key

import twinkey

from conftest import TEST_KEY, TEST_KEY_ID

pytestmark = pytest.mark.oci_peer

COUNT = 300
HOSTS = [
    "https://generativeai.us-chicago-1.oci.oraclecloud.com",
    "https://inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com",
    "https://generativeai.ap-tokyo-1.oci.oraclecloud.com:8443",
    "http://127.0.0.1:8080",
]
SEGMENTS = [
    "20231130",
    "apikeys",
    "actions",
    "openai",
    "v1",
    "chat",
    "completions",
    "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaa",
    "a-b_c~d",
    "x%2Fy",
    "with%20space",
    "caf%C3%A9",
]
QUERY_KEYS = ["compartmentId", "limit", "page", "sortBy", "lifecycleState", "q"]
QUERY_VALUES = [
    "ocid1.compartment.oc1..aaaa",
    "10",
    "Pjwf%3A%20PHX-AD-1",
    "timeCreated",
    "ACTIVE",
    "a%2Bb",
    "x-y_z.~",
]
CONTENT_TYPES = [None, "application/json", "text/plain; charset=utf-8", "application/octet-stream"]
SESSION_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0d2lua2V5LXRlc3QifQ.c2lnbmF0dXJl"
DATES = ["Wed, 21 Jan 2026 10:00:00 GMT", "Thu, 05 Jan 2014 21:31:40 GMT", "Fri, 27 Nov 2026 03:00:00 GMT"]


def generate(rng: random.Random, i: int) -> dict[str, Any]:
    method = rng.choice(["GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    path = "/" + "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 5)))
    query = "&".join(f"{rng.choice(QUERY_KEYS)}={rng.choice(QUERY_VALUES)}" for _ in range(rng.randint(0, 3)))
    url = rng.choice(HOSTS) + path + (f"?{query}" if query else "")
    headers: dict[str, str] = {"date": rng.choice(DATES)}
    if rng.random() < 0.3:
        headers["opc-request-id"] = f"req-{i:04d}"
    body: bytes | None = None
    if method in ("POST", "PUT", "PATCH"):
        content_type = rng.choice(CONTENT_TYPES)
        if content_type:
            headers["content-type"] = content_type
        body = rng.choice(
            [
                b"",
                b'{"keyName":"key-two","state":"ACTIVE"}',
                f'{{"displayName":"caf\u00e9 {i}"}}'.encode(),
                bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))),
            ]
        )
    return {"method": method, "url": url, "headers": headers, "body": body, "session": rng.random() < 0.25}


def params(authorization: str) -> dict[str, str]:
    out = {}
    for part in authorization[len("Signature ") :].split('",'):
        name, _, value = part.partition('="')
        out[name] = value.rstrip('"')
    return out


@pytest.fixture(scope="module")
def sdk_signers() -> dict[bool, Any]:
    tenancy, user, fingerprint = TEST_KEY_ID.split("/")
    return {
        False: Signer(tenancy, user, fingerprint, None, private_key_content=TEST_KEY["private_key_pem"]),
        True: SecurityTokenSigner(SESSION_TOKEN, load_private_key(TEST_KEY["private_key_pem"], None)),
    }


@pytest.fixture(scope="module")
def twinkey_signers() -> dict[bool, twinkey.Signer]:
    return {
        False: twinkey.Signer.from_pem(TEST_KEY_ID, TEST_KEY["private_key_pem"]),
        True: twinkey.Signer.session(SESSION_TOKEN, TEST_KEY["private_key_pem"]),
    }


def test_generated_requests_agree_with_the_oci_sdk(
    sdk_signers: dict[bool, Any], twinkey_signers: dict[bool, twinkey.Signer]
) -> None:
    rng = random.Random(20260121)
    mismatches = []
    for i in range(COUNT):
        case = generate(rng, i)
        ours = twinkey_signers[case["session"]].sign_request(
            case["method"], case["url"], case["headers"], case["body"]
        )
        req = requests.Request(
            case["method"], case["url"], headers=dict(case["headers"]), data=case["body"]
        ).prepare()
        sdk_signers[case["session"]](req)
        theirs, mine = params(req.headers["authorization"]), params(ours.authorization)
        sent = ours.url.split("://", 1)[1]
        target = sent[sent.index("/") :]
        problems = [
            name
            for name, ok in [
                ("signature", theirs["signature"] == mine["signature"]),
                ("headers", theirs["headers"] == mine["headers"]),
                ("keyId", theirs["keyId"] == mine["keyId"]),
                ("target", req.path_url == target),
            ]
            if not ok
        ]
        if problems:
            mismatches.append((i, case["method"], case["url"], problems))
    assert mismatches == [], mismatches[:5]


def test_signing_releases_the_gil(twinkey_signers: dict[bool, twinkey.Signer]) -> None:
    """Threads sign concurrently and get the same answers as one thread (no timing asserted)."""
    from concurrent.futures import ThreadPoolExecutor

    signer = twinkey_signers[False]
    args = ("POST", HOSTS[0] + "/20231130/apikeys", {"date": DATES[0]}, b"{}")
    expected = signer.sign(*args)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: signer.sign(*args), range(64)))
    assert all(r == expected for r in results)
