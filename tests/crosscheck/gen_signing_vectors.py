#!/usr/bin/env python3
"""Regenerates twinkey's own signing vectors in tests/vectors/signing/ with the official SDK.

    $TWINKEY_CACHE/venv-crosscheck/bin/python tests/crosscheck/gen_signing_vectors.py [--check]

With --check nothing is written: the files on disk must equal what the SDK produces now
(scripts/ci/crosscheck.sh runs this).

Expected values never come from twinkey:
- cases.json: each request is signed by pip `oci` (oci.signer.Signer, SecurityTokenSigner, or
  the same classes with the oci-common x-date header lists); the script rebuilds the signing
  string independently and checks the SDK's signature against it with `cryptography`, and checks
  that the SDK sends the path and query twinkey's URL rule expects (`expected_url`).
- config.json: user-principal profiles are loaded with oci.config.from_file + Signer.from_config
  and the keyId compared; error cases are checked to fail in the SDK too where the SDK agrees.
- errors.json: bad keys are checked to be refused by oci.signer.load_private_key, except where
  twinkey is deliberately stricter (noted per case).
Keys come from keys.json (generated once with OpenSSL).
"""

import base64
import email.utils
import json
import os
import sys
import tempfile
from urllib.parse import urlsplit

import oci
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from oci._vendor import requests
from oci.auth.signers import SecurityTokenSigner
from oci.signer import Signer, load_private_key

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "vectors", "signing")
KEYS = json.load(open(os.path.join(OUT, "keys.json")))["keys"]
SDK = f"python:oci@{oci.__version__}"

TENANCY = "ocid1.tenancy.oc1..aaaaaaaatwinkeytesttenancy"
USER = "ocid1.user.oc1..aaaaaaaatwinkeytestuser"
FP = KEYS["rsa2048-pkcs1"]["fingerprint"]
USER_KEY_ID = f"{TENANCY}/{USER}/{FP}"
TOKEN = ("eyJhbGciOiJSUzI1NiIsImtpZCI6InR3aW5rZXktdGVzdCJ9."
         "eyJzdWIiOiJ0d2lua2V5LXRlc3QiLCJ0dHlwZSI6InNlc3Npb24ifQ.ZmFicmljYXRlZA")
DATE = "Wed, 21 Jan 2026 10:00:00 GMT"
GENAI = "https://generativeai.us-chicago-1.oci.oraclecloud.com"
APIKEY = "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaatwinkeytestapikey"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaatwinkeytestcompartment"

LISTS = {
    "date": (["date", "(request-target)", "host"], ["content-length", "content-type", "x-content-sha256"]),
    "x-date": (["x-date", "(request-target)", "host"], ["content-type", "content-length", "x-content-sha256"]),
}

BIG_BODY = json.dumps({"displayName": "big", "description": "é€日本 " * 64,
                       "freeformTags": {f"k{i}": "v" * 40 for i in range(1200)}})[:65536]


def case(name, description, method, url, *, date="date", body=None, headers=None, key="rsa2048-pkcs1",
         session=False, exclude=False, expected_url=None, now=None, sdk_url=None):
    return dict(name=name, description=description, method=method, url=url, date_header=date, body=body,
                headers=headers or {}, key=key, session=session, exclude=exclude, expected_url=expected_url,
                now=now, sdk_url=sdk_url)


CASES = [
    case("get-pkcs1-date", "GET of one API key; PKCS#1 key", "GET", f"{GENAI}/20231130/apikeys/{APIKEY}"),
    case("head-date", "HEAD signs the generic headers", "HEAD", f"{GENAI}/20231130/apikeys/{APIKEY}"),
    case("delete-xdate", "DELETE with x-date", "DELETE", f"{GENAI}/20231130/apikeys/{APIKEY}", date="x-date",
         headers={"if-match": "etag-1"}),
    case("query-space-unicode-date", "raw spaces and non-ASCII in the query are percent-encoded as UTF-8",
         "GET", f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}&displayName=équipe clé 日本&limit=10",
         expected_url=f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}"
                      "&displayName=%C3%A9quipe%20cl%C3%A9%20%E6%97%A5%E6%9C%AC&limit=10"),
    case("query-space-unicode-xdate", "same, x-date", "GET",
         f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}&displayName=équipe clé 日本&limit=10",
         date="x-date",
         expected_url=f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}"
                      "&displayName=%C3%A9quipe%20cl%C3%A9%20%E6%97%A5%E6%9C%AC&limit=10"),
    case("query-plus-ampersand-escapes-date", "+ and existing %XX escapes are kept; parameter order is kept",
         "GET", f"{GENAI}/20231130/apikeys?sortOrder=DESC&displayName=a+b%2Bc%26d%3De&page=AAAA%3D%3D"
                f"&compartmentId={COMPARTMENT}&sortBy=timeCreated"),
    case("query-unsafe-ascii-date", "characters that cannot appear in a URI are encoded: \" < > { } | ^ ` \\",
         "GET", f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}&displayName=\"q\"<t>{{x}}|y^z`w\\v",
         expected_url=f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}"
                      "&displayName=%22q%22%3Ct%3E%7Bx%7D%7Cy%5Ez%60w%5Cv"),
    case("empty-query-and-fragment-dropped-xdate", "a trailing empty ? and a #fragment are not sent", "GET",
         f"{GENAI}/20231130/apikeys/{APIKEY}?#section", date="x-date",
         expected_url=f"{GENAI}/20231130/apikeys/{APIKEY}"),
    case("dot-segments-date", "./ and ../ path segments are resolved before sending", "GET",
         f"{GENAI}/20231130/./apikeys/x/../{APIKEY}", expected_url=f"{GENAI}/20231130/apikeys/{APIKEY}"),
    case("path-space-unicode-put-exclude-body-xdate",
         "Object Storage PutObject: path with space, %2F and non-ASCII; body headers not signed",
         "PUT", "https://objectstorage.us-chicago-1.oraclecloud.com/n/twinkeyns/b/my bucket/o/dir%2Ffile é.txt",
         date="x-date", body="hello wörld", headers={"content-type": "text/plain"}, exclude=True,
         expected_url="https://objectstorage.us-chicago-1.oraclecloud.com/n/twinkeyns/b/my%20bucket/o/"
                      "dir%2Ffile%20%C3%A9.txt"),
    case("post-empty-body-date", "POST with no body signs content-length 0 and the empty hash", "POST",
         f"{GENAI}/20231130/apikeys/{APIKEY}/actions/changeCompartment"),
    case("post-empty-body-xdate", "same, x-date", "POST",
         f"{GENAI}/20231130/apikeys/{APIKEY}/actions/changeCompartment", date="x-date"),
    case("patch-date", "PATCH signs the body headers", "PATCH", f"{GENAI}/20231130/apikeys/{APIKEY}",
         body='{"displayName":"renamed"}'),
    case("patch-xdate", "PATCH, x-date lists", "PATCH", f"{GENAI}/20231130/apikeys/{APIKEY}", date="x-date",
         body='{"displayName":"renamed"}'),
    case("put-update-xdate", "UpdateApiKey PUT with a JSON body", "PUT", f"{GENAI}/20231130/apikeys/{APIKEY}",
         date="x-date", body='{"description":"rotated by twinkey","freeformTags":{"team":"ai"}}',
         headers={"if-match": "etag-2", "opc-request-id": "TWINKEYREQ1"}),
    case("post-utf8-xdate", "non-ASCII body: length and hash over UTF-8 bytes", "POST", f"{GENAI}/20231130/apikeys",
         date="x-date", body='{"displayName":"clé-€ 日本","description":"naïve ☃"}'),
    case("post-64k-body-date", "64 KiB body with non-ASCII text", "POST", f"{GENAI}/20231130/apikeys",
         body=BIG_BODY),
    case("caller-content-type-date", "a content-type the caller set is signed as given", "POST",
         f"{GENAI}/20231130/apikeys/{APIKEY}/actions/renew",
         body='{"details":{"keyName":"key-one","timeExpiry":"2026-06-30T00:00:00.000Z"}}',
         headers={"content-type": "application/json; charset=utf-8"}),
    case("session-token-post-date", "session token: keyId ST$<token>, POST", "POST",
         f"{GENAI}/20231130/apikeys/{APIKEY}/actions/setstate", session=True,
         body='{"keyName":"key-two","state":"ACTIVE"}'),
    case("session-token-get-xdate", "session token, GET, x-date", "GET",
         f"{GENAI}/20231130/apikeys?compartmentId={COMPARTMENT}", session=True, date="x-date"),
    case("session-token-put-empty-xdate", "session token, PUT with empty body, x-date", "PUT",
         f"{GENAI}/20231130/apikeys/{APIKEY}", session=True, date="x-date", body=""),
    case("host-port-xdate", "a non-default port is part of host", "GET",
         f"https://localhost:8443/20231130/apikeys/{APIKEY}", date="x-date"),
    case("host-default-port-and-case-date",
         "host is lowercased and :443 dropped, as every HTTP client sends it (the Python SDK would sign "
         "'...:443'; the SDK is given the normalized URL)", "GET",
         f"https://GenerativeAI.us-chicago-1.OCI.oraclecloud.com:443/20231130/apikeys/{APIKEY}",
         expected_url=f"{GENAI}/20231130/apikeys/{APIKEY}", sdk_url="expected"),
    case("http-port-80-dropped-xdate", "http with :80: port dropped", "GET", "http://localhost:80/20231130/apikeys",
         date="x-date", expected_url="http://localhost/20231130/apikeys", sdk_url="expected"),
    case("date-generated-date", "no date header: the signer adds one from the injected time", "GET",
         f"{GENAI}/20231130/apikeys/{APIKEY}", now="2026-01-21T10:00:00.750Z"),
    case("date-generated-xdate", "no x-date header: the signer adds one from the injected time", "POST",
         f"{GENAI}/20231130/apikeys", date="x-date", now="2026-01-21T10:00:00.750Z", body='{"a":1}'),
    case("pkcs8-xdate", "PKCS#8 unencrypted key (same key pair as PKCS#1)", "GET",
         f"{GENAI}/20231130/apikeys/{APIKEY}", key="rsa2048-pkcs8", date="x-date"),
    case("encrypted-pkcs8-aes256-date", "encrypted PKCS#8 (PBES2/PBKDF2-SHA256/AES-256-CBC) with pass phrase",
         "POST", f"{GENAI}/20231130/apikeys", key="rsa2048-pkcs8-aes256", body='{"displayName":"k"}'),
    case("encrypted-pkcs8-des3-sha1-date", "encrypted PKCS#8 (PBES2/PBKDF2-SHA1/DES-EDE3-CBC)", "GET",
         f"{GENAI}/20231130/apikeys/{APIKEY}", key="rsa2048-pkcs8-des3-sha1"),
    case("legacy-encrypted-pkcs1-aes128-xdate", "OpenSSL traditional encrypted PEM (DEK-Info AES-128-CBC)",
         "GET", f"{GENAI}/20231130/apikeys/{APIKEY}", key="rsa2048-legacy-aes128", date="x-date"),
    case("rsa4096-post-date", "4096-bit key", "POST", f"{GENAI}/20231130/apikeys", key="rsa4096-pkcs1",
         body='{"displayName":"big-key"}'),
]


def sign_with_sdk(c, url, headers, body_bytes):
    k = KEYS[c["key"]]
    private_key = load_private_key(k["private_key_pem"], k["passphrase"])
    generic, body_list = LISTS[c["date_header"]]
    if c["session"]:
        signer = SecurityTokenSigner(TOKEN, private_key, generic_headers=generic, body_headers=body_list)
        kind = "oci.auth.signers.SecurityTokenSigner"
    else:
        signer = Signer(TENANCY, USER, k["fingerprint"], None, pass_phrase=k["passphrase"],
                        private_key_content=k["private_key_pem"])
        kind = "oci.signer.Signer"
        if c["date_header"] == "x-date":
            signer.create_signers(signer.api_key, signer.private_key, generic, body_list)
            kind += " with the oci-common x-date header lists"
    if c["date_header"] == "x-date" and c["session"]:
        kind += " (oci-common x-date header lists)"
    req = requests.Request(c["method"], url, headers=dict(headers), data=body_bytes).prepare()
    if c["exclude"]:
        signer(req, enforce_content_headers=False)
        kind += " (enforce_content_headers=False)"
    else:
        signer(req)
    return req, f"{SDK} {kind}", private_key


def parse_auth(value):
    params = {}
    for part in value[len("Signature "):].split('",'):
        name, _, v = part.partition('="')
        params[name] = v.rstrip('"')
    return params


def build(c):
    url_sent = c["expected_url"] or c["url"]
    headers = dict(c["headers"])
    date_value = DATE
    if c["now"]:
        from datetime import datetime
        ts = datetime.fromisoformat(c["now"].replace("Z", "+00:00")).timestamp()
        date_value = email.utils.formatdate(int(ts), usegmt=True)
    sdk_headers = dict(headers)
    sdk_headers[c["date_header"]] = date_value
    if not c["now"]:
        headers[c["date_header"]] = date_value
    body_bytes = None if c["body"] is None else c["body"].encode("utf-8")
    sdk_url = url_sent if c["sdk_url"] == "expected" else c["url"]
    req, sdk_name, private_key = sign_with_sdk(c, sdk_url, sdk_headers, body_bytes)

    target = urlsplit(url_sent)
    expected_target = target.path + (f"?{target.query}" if target.query else "")
    assert req.path_url == expected_target, (c["name"], req.path_url, expected_target)

    auth = req.headers["authorization"]
    params = parse_auth(auth)
    signed = params["headers"].split(" ")
    assert signed == [h for h in LISTS[c["date_header"]][0]] + (
        [] if c["exclude"] or c["method"] not in ("POST", "PUT", "PATCH") else LISTS[c["date_header"]][1]), signed
    host = target.netloc
    lines = []
    for h in signed:
        if h == "(request-target)":
            lines.append(f"(request-target): {c['method'].lower()} {expected_target}")
        elif h == "host":
            lines.append(f"host: {host}")
        else:
            lines.append(f"{h}: {req.headers[h]}")
    signing_string = "\n".join(lines)
    signature = params["signature"]
    private_key.public_key().verify(base64.b64decode(signature), signing_string.encode("utf-8"),
                                    padding.PKCS1v15(), hashes.SHA256())

    added = {}
    given = {k.lower() for k in headers}
    for h in signed:
        if h == "(request-target)" or h in given:
            continue
        added[h] = host if h == "host" else req.headers[h]
    key_id = f"ST${TOKEN}" if c["session"] else f"{TENANCY}/{USER}/{KEYS[c['key']]['fingerprint']}"
    v = {
        "name": c["name"],
        "description": c["description"],
        "method": c["method"],
        "url": c["url"],
        "headers": headers,
        "body": c["body"],
        "key": c["key"],
        "key_id": key_id,
        "signed_headers": signed,
        "expected_added_headers": added,
        "expected_signing_string": signing_string,
        "expected_signature": signature,
        "expected_authorization": (
            f'Signature version="1",headers="{" ".join(signed)}",keyId="{key_id}",'
            f'algorithm="rsa-sha256",signature="{signature}"'),
        "sdk_authorization": {sdk_name: auth},
    }
    if c["date_header"] == "x-date" and c["now"]:
        v["date_header"] = "x-date"
    if c["now"]:
        v["now"] = c["now"]
    if c["expected_url"]:
        v["expected_url"] = c["expected_url"]
    if c["exclude"]:
        v["exclude_body_headers"] = True
    return v


def corrupt_header(pem):
    """Damages the first base64 line (the PBES2 algorithm identifiers of an encrypted key)."""
    lines = pem.splitlines()
    lines[1] = lines[1][:4] + ("A" * 16) + lines[1][20:]
    return "\n".join(lines) + "\n"


def corrupt(pem):
    lines = pem.splitlines()
    mid = len(lines) // 2
    lines[mid] = lines[mid][:10] + ("A" * 20) + lines[mid][30:]
    return "\n".join(lines) + "\n"


REFERENCE = json.load(open(os.path.join(OUT, "oci-reference.json")))


RSA_LABEL = "RSA " + "PRIVATE KEY"  # spliced so this script does not look like it holds a key


def _der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def _oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([parts[0] * 40 + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(enc)
    return _der(0x06, out)


def _int(v):
    return _der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def costly_pkcs8(kdf):
    """An ENCRYPTED PRIVATE KEY (PBES2, AES-256-CBC) whose key derivation asks for far too much
    work: `kdf` is ("pbkdf2", iterations) or ("scrypt", N, r, p). Built from RFC 8018 / RFC 7914
    ASN.1 by hand, because no library writes such a key; the ciphertext is random filler."""
    salt = _der(0x04, bytes(range(16)))
    if kdf[0] == "pbkdf2":
        hmac_sha256 = _der(0x30, _oid("1.2.840.113549.2.9") + b"\x05\x00")
        kdf_alg = _der(0x30, _oid("1.2.840.113549.1.5.12") + _der(0x30, salt + _int(kdf[1]) + hmac_sha256))
    else:
        _, n, r, par = kdf
        kdf_alg = _der(0x30, _oid("1.3.6.1.4.1.11591.4.11") + _der(0x30, salt + _int(n) + _int(r) + _int(par)))
    enc_alg = _der(0x30, _oid("2.16.840.1.101.3.4.1.42") + _der(0x04, bytes(16)))
    pbes2 = _der(0x30, _oid("1.2.840.113549.1.5.13") + _der(0x30, kdf_alg + enc_alg))
    der = _der(0x30, pbes2 + _der(0x04, bytes(range(48)) * 26))
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END ENCRYPTED PRIVATE KEY-----\n"


def key_errors():
    pkcs1 = KEYS["rsa2048-pkcs1"]["private_key_pem"]
    enc = KEYS["rsa2048-pkcs8-aes256"]["private_key_pem"]
    out = [
        dict(name="corrupted-pem-body", private_key_pem=corrupt(pkcs1), expected_error="INVALID_PRIVATE_KEY"),
        dict(name="truncated-pem", private_key_pem=pkcs1[: len(pkcs1) // 2], expected_error="INVALID_PRIVATE_KEY"),
        dict(name="not-base64", private_key_pem=f"-----BEGIN {RSA_LABEL}-----\n%%%%not base64%%%%\n"
             f"-----END {RSA_LABEL}-----\n", expected_error="INVALID_PRIVATE_KEY"),
        dict(name="not-pem", private_key_pem="ssh-rsa AAAAB3NzaC1yc2E user@host\n", expected_error="INVALID_PRIVATE_KEY"),
        dict(name="empty", private_key_pem="", expected_error="INVALID_PRIVATE_KEY"),
        dict(name="public-key-instead-of-private", private_key_pem=KEYS["rsa2048-pkcs1"]["public_key_pem"],
             expected_error="INVALID_PRIVATE_KEY"),
        dict(name="corrupted-encrypted-pkcs8-parameters", private_key_pem=corrupt_header(enc),
             passphrase="twinkey-test-passphrase", expected_error="INVALID_PRIVATE_KEY",
             note="damaged encryption parameters; a damaged ciphertext is indistinguishable from a wrong pass "
                  "phrase and reports BAD_PASSPHRASE"),
        dict(name="ec-key-sec1", private_key_pem=EC_SEC1, expected_error="INVALID_PRIVATE_KEY", sdk_accepts=True,
             note="OCI API signing keys are RSA; the Python SDK loads an EC key and fails only when signing"),
        dict(name="ec-key-pkcs8", private_key_pem=EC_PKCS8, expected_error="INVALID_PRIVATE_KEY", sdk_accepts=True,
             note="as above, PKCS#8 form"),
        dict(name="rsa-1024-docs-sample", private_key_pem=REFERENCE["private_key_pem"],
             expected_error="INVALID_PRIVATE_KEY", sdk_accepts=True,
             note="twinkey policy: OCI requires API signing keys of at least 2048 bits (aws-lc-rs signs 2048-8192); "
                  "the Python SDK still loads it"),
        dict(name="pkcs8-pbes1-unsupported", private_key_pem=PBES1, passphrase="twinkey-test-passphrase",
             expected_error="INVALID_PRIVATE_KEY", sdk_accepts=True,
             note="PBES1 (openssl pkcs8 -v1 PBE-SHA1-3DES) is not supported; the message says how to convert"),
    ]
    costly = [
        dict(name="pkcs8-pbkdf2-iterations-over-limit", private_key_pem=costly_pkcs8(("pbkdf2", 2**31 - 1)),
             passphrase="twinkey-test-passphrase", expected_error="INVALID_PRIVATE_KEY",
             note="2^31-1 PBKDF2 iterations (minutes of CPU) are refused before any derivation; the limit is "
                  "5 000 000 (OpenSSL writes 2 048)"),
        dict(name="pkcs8-scrypt-memory-over-limit", private_key_pem=costly_pkcs8(("scrypt", 2**24, 8, 1)),
             passphrase="twinkey-test-passphrase", expected_error="INVALID_PRIVATE_KEY",
             note="scrypt N=2^24, r=8 asks for 16 GiB; at most 256 MiB and p <= 4 are accepted"),
        dict(name="pkcs8-scrypt-parallelism-over-limit", private_key_pem=costly_pkcs8(("scrypt", 2**14, 8, 64)),
             passphrase="twinkey-test-passphrase", expected_error="INVALID_PRIVATE_KEY",
             note="scrypt p=64 multiplies the work; at most p = 4"),
    ]
    for name in ["rsa2048-pkcs8-aes256", "rsa2048-pkcs8-des3-sha1", "rsa2048-legacy-aes128"]:
        pem = KEYS[name]["private_key_pem"]
        out.append(dict(name=f"wrong-passphrase-{name}", private_key_pem=pem, passphrase="wrong pass phrase",
                        expected_error="BAD_PASSPHRASE"))
        out.append(dict(name=f"missing-passphrase-{name}", private_key_pem=pem, passphrase=None,
                        expected_error="BAD_PASSPHRASE"))
    for e in out:
        e.setdefault("passphrase", None)
        try:
            load_private_key(e["private_key_pem"], e["passphrase"])
            sdk_ok = True
        except Exception:  # noqa: BLE001 - any refusal counts
            sdk_ok = False
        assert sdk_ok == e.get("sdk_accepts", False), (e["name"], sdk_ok)
    # Not loaded with the SDK: it would spend minutes (or gigabytes) deriving a key.
    return out + costly


def request_errors():
    u = f"{GENAI}/20231130/apikeys"
    cases = [
        ("url-without-host-path-only", "GET", "/20231130/apikeys", {}, None),
        ("url-without-host-empty-authority", "GET", "https:///20231130/apikeys", {}, None),
        ("url-without-host-port-only", "GET", "https://:443/20231130/apikeys", {}, None),
        ("url-unsupported-scheme", "GET", "ftp://host/x", {}, None),
        ("url-with-user-info", "GET", "https://user:pw@host/x", {}, None),
        ("url-bad-port", "GET", "https://host:99999/x", {}, None),
        ("url-non-ascii-host", "GET", "https://hôst.example/x", {}, None),
        ("header-value-crlf-injection", "GET", u, {"opc-request-id": "abc\r\nx-injected: 1"}, None),
        ("header-value-lf", "GET", u, {"opc-request-id": "abc\nx"}, None),
        ("header-value-nul", "GET", u, {"opc-request-id": "abc\u0000"}, None),
        ("header-name-crlf", "GET", u, {"x-a\r\nx-b": "1"}, None),
        ("header-name-space", "GET", u, {"x a": "1"}, None),
        ("bad-method", "GE T", u, {}, None),
        ("content-length-mismatch", "POST", u, {"content-length": "3"}, "{}{}"),
        ("x-content-sha256-mismatch", "POST", u, {"x-content-sha256": "AAAA"}, "{}"),
        ("signed-header-twice", "GET", u, {"date": DATE, "Date": DATE}, None),
        ("x-date-present-but-date-signed", "GET", u, {"x-date": DATE}, None),
    ]
    return [dict(name=n, method=m, url=url, headers=h, body=b, key="rsa2048-pkcs1", key_id=USER_KEY_ID,
                 now="2026-01-21T10:00:00Z", expected_error="INVALID_REQUEST") for n, m, url, h, b in cases]


def key_id_errors():
    pem_key = "rsa2048-pkcs1"
    return [
        dict(name="user-key-id-empty", key_id="", key=pem_key, expected_error="INVALID_CONFIG"),
        dict(name="user-key-id-quote", key_id='a/b"c/d', key=pem_key, expected_error="INVALID_CONFIG"),
        dict(name="user-key-id-space", key_id="a/b c/d", key=pem_key, expected_error="INVALID_CONFIG"),
        dict(name="user-key-id-crlf", key_id="a/b\r\nx/d", key=pem_key, expected_error="INVALID_CONFIG"),
        dict(name="session-token-empty", session_token="  \n", key=pem_key, expected_error="INVALID_CONFIG"),
        dict(name="session-token-quote", session_token='tok"en', key=pem_key, expected_error="INVALID_CONFIG"),
    ]


def config_cases():
    enc = "rsa2048-pkcs8-aes256"
    hashpass = "rsa2048-pkcs8-aes256-commentchars"
    fp = KEYS[enc]["fingerprint"]
    base = (f"[DEFAULT]\ntenancy = {TENANCY}\nregion = us-chicago-1\nkey_file = {{dir}}/key.pem\n"
            f"pass_phrase = {KEYS[enc]['passphrase']}\n\n")
    files = {"key.pem": {"key": enc}, "hash.pem": {"key": hashpass}, "plain.pem": {"key": "rsa2048-pkcs1"},
             "token": {"text": f"{TOKEN}\n"}}
    c = [
        dict(name="user-profile-inherits-default", profile="ADMIN",
             config=base + f"[ADMIN]\nuser = {USER}\nfingerprint = {fp}\n",
             expected=dict(key_id=f"{TENANCY}/{USER}/{fp}", region="us-chicago-1", session=False,
                           fingerprint_mismatch=None)),
        dict(name="default-profile", profile="DEFAULT",
             config=base.replace("[DEFAULT]\n", f"[DEFAULT]\nuser = {USER}\nfingerprint = {fp}\n"),
             expected=dict(key_id=f"{TENANCY}/{USER}/{fp}", region="us-chicago-1", session=False,
                           fingerprint_mismatch=None)),
        dict(name="keys-are-case-insensitive-and-override-default", profile="eu",
             config=base + f"[eu]\nUSER={USER}\nFingerprint={fp}\nRegion=eu-frankfurt-1\n",
             expected=dict(key_id=f"{TENANCY}/{USER}/{fp}", region="eu-frankfurt-1", session=False,
                           fingerprint_mismatch=None)),
        dict(name="pass-phrase-keeps-comment-characters", profile="hash",
             config=base + f"[hash]\nuser = {USER}\nfingerprint = {fp}\nkey_file = {{dir}}/hash.pem\n"
                           f"pass_phrase = {KEYS[hashpass]['passphrase']}\n",
             expected=dict(key_id=f"{TENANCY}/{USER}/{fp}", region="us-chicago-1", session=False,
                           fingerprint_mismatch=None)),
        dict(name="session-token-profile", profile="session",
             config=base + "[session]\nsecurity_token_file = {dir}/token\nkey_file = {dir}/plain.pem\n",
             expected=dict(key_id=f"ST${TOKEN}", region="us-chicago-1", session=True, fingerprint_mismatch=None)),
        dict(name="fingerprint-mismatch-warns-and-signs", profile="mismatch",
             config=base + f"[mismatch]\nuser = {USER}\nfingerprint = 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n",
             expected=dict(key_id=f"{TENANCY}/{USER}/00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
                           region="us-chicago-1", session=False,
                           fingerprint_mismatch=["00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", fp])),
        dict(name="unknown-profile", profile="NOPE", config=base, expected_error="INVALID_CONFIG"),
        dict(name="profile-names-are-case-sensitive", profile="admin",
             config=base + f"[ADMIN]\nuser = {USER}\nfingerprint = {fp}\n", expected_error="INVALID_CONFIG"),
        dict(name="missing-user", profile="p", config=base + f"[p]\nfingerprint = {fp}\n",
             expected_error="INVALID_CONFIG"),
        dict(name="missing-fingerprint", profile="p", config=base + f"[p]\nuser = {USER}\n",
             expected_error="INVALID_CONFIG"),
        dict(name="missing-tenancy", profile="p",
             config=base.replace(f"tenancy = {TENANCY}\n", "") + f"[p]\nuser = {USER}\nfingerprint = {fp}\n",
             expected_error="INVALID_CONFIG"),
        dict(name="empty-key-file-hides-default", profile="p",
             config=base + f"[p]\nuser = {USER}\nfingerprint = {fp}\nkey_file =\n", expected_error="INVALID_CONFIG"),
        dict(name="key-file-not-found", profile="p",
             config=base + f"[p]\nuser = {USER}\nfingerprint = {fp}\nkey_file = {{dir}}/missing.pem\n",
             expected_error="INVALID_CONFIG"),
        dict(name="security-token-file-not-found", profile="p",
             config=base + "[p]\nsecurity_token_file = {dir}/missing-token\n", expected_error="INVALID_CONFIG"),
        dict(name="wrong-pass-phrase", profile="p",
             config=base + f"[p]\nuser = {USER}\nfingerprint = {fp}\npass_phrase = wrong\n",
             expected_error="BAD_PASSPHRASE"),
        dict(name="missing-pass-phrase", profile="p",
             config=base.replace(f"pass_phrase = {KEYS[enc]['passphrase']}\n", "")
             + f"[p]\nuser = {USER}\nfingerprint = {fp}\n", expected_error="BAD_PASSPHRASE"),
        dict(name="key-file-is-a-public-key", profile="p",
             config=base + f"[p]\nuser = {USER}\nfingerprint = {fp}\nkey_file = {{dir}}/pub.pem\n",
             expected_error="INVALID_PRIVATE_KEY"),
    ]
    files["pub.pem"] = {"text": KEYS["rsa2048-pkcs1"]["public_key_pem"]}
    # Confirm the non-error user-principal cases with the SDK's own config loader.
    with tempfile.TemporaryDirectory() as d:
        for name, spec in files.items():
            text = KEYS[spec["key"]]["private_key_pem"] if "key" in spec else spec["text"]
            open(os.path.join(d, name), "w").write(text)
        for case_ in c:
            path = os.path.join(d, "config")
            open(path, "w").write(case_["config"].replace("{dir}", d))
            exp = case_.get("expected")
            if exp and not exp["session"]:
                cfg = oci.config.from_file(path, case_["profile"])
                assert Signer.from_config(cfg).api_key == exp["key_id"], case_["name"]
                assert cfg["region"] == exp["region"]
            elif case_.get("expected_error") in ("BAD_PASSPHRASE", "INVALID_PRIVATE_KEY") or case_["name"] in (
                    "unknown-profile", "missing-user", "missing-fingerprint", "missing-tenancy"):
                try:
                    Signer.from_config(oci.config.from_file(path, case_["profile"]))
                    raise AssertionError(f"SDK accepted {case_['name']}")
                except AssertionError:
                    raise
                except Exception:  # noqa: BLE001
                    pass
    return dict(files=files, cases=c)


EC_SEC1 = EC_PKCS8 = PBES1 = None


def main():
    global EC_SEC1, EC_PKCS8, PBES1
    args = [a for a in sys.argv[1:] if a != "--check"]
    check = "--check" in sys.argv[1:]
    errors_path = os.path.join(OUT, "errors.json")
    src = json.load(open(args[0])) if args else json.load(open(errors_path))["extra_keys"]
    EC_SEC1, EC_PKCS8, PBES1 = src["ec_sec1"], src["ec_pkcs8"], src["pkcs8_pbes1"]

    vectors = [build(c) for c in CASES]
    cases = {
        "description": "twinkey's own OCI signing vectors. Same fields as oci-reference.json, plus: key (a name in "
                       "keys.json), expected_url (the URL to send when it differs from url), now (RFC 3339; the "
                       "signer adds the date header from it when headers lack it), date_header ('x-date' when no "
                       "date header is given and x-date is to be signed), exclude_body_headers.",
        "generated_by": f"tests/crosscheck/gen_signing_vectors.py with {SDK}; signatures verified against the "
                        "independently rebuilt signing string with Python cryptography",
        "vectors": vectors,
    }
    errors = {
        "description": "Bad input must fail with these error codes and never panic. keys: from_pem(key_id, "
                       "private_key_pem, passphrase). requests: sign with key `key` at `now`. key_ids: "
                       "from_pem(key_id) or session(session_token).",
        "extra_keys": {"ec_sec1": EC_SEC1, "ec_pkcs8": EC_PKCS8, "pkcs8_pbes1": PBES1},
        "keys": key_errors(),
        "requests": request_errors(),
        "key_ids": key_id_errors(),
    }
    cfg = config_cases()
    cfg["description"] = ("OCI config files: write each of `files` into a temporary directory ({\"key\": name} = "
                          "that key's private_key_pem from keys.json, {\"text\": ...} = verbatim), write `config` with "
                          "{dir} replaced by that directory, then Signer::from_config(path, profile).")
    outputs = {"cases.json": cases, "errors.json": errors, "config.json": cfg}
    stale = []
    for name, doc in outputs.items():
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        path = os.path.join(OUT, name)
        if check:
            if not os.path.exists(path) or open(path).read() != text:
                stale.append(name)
        else:
            open(path, "w").write(text)
    n_err = len(errors["keys"]) + len(errors["requests"]) + len(errors["key_ids"])
    verb = "checked" if check else "wrote"
    print(f"{SDK}: {verb} {len(vectors)} signing vectors, {n_err} error cases, {len(cfg['cases'])} config cases")
    if stale:
        print(f"  STALE (re-run without --check): {', '.join(stale)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
