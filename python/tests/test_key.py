"""Secret and ApiKey: construction, OCI JSON in and out, references, transitions, errors."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

import twinkey

UTC = dt.timezone.utc
DOC = {
    "id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaaexample",
    "displayName": "prod-key",
    "compartmentId": "ocid1.compartment.oc1..aaaaexample",
    "lifecycleState": "ACTIVE",
    "timeCreated": "2026-01-21T10:00:00.000Z",
    "keys": [
        {
            "keyName": "key-one",
            "key": "sk-one-11111111",
            "state": "ACTIVE",
            "timeExpiry": "2026-04-21T10:00:00.000Z",
        },
        {
            "keyName": "key-two",
            "key": "sk-two-22222222",
            "state": "INACTIVE",
            "timeExpiry": "2026-07-21T10:00:00.000Z",
        },
    ],
}


def two_secrets(first: str) -> str:
    return '{"keys": [' + first + ',{"keyName":"b","key":"x","state":"ACTIVE"}]}'


def test_from_json_reads_the_oci_shape() -> None:
    key = twinkey.ApiKey.from_json(json.dumps(DOC))
    assert key.id == DOC["id"] and key.region == "us-chicago-1"
    assert (key.display_name, key.compartment_id, key.lifecycle_state) == (
        "prod-key",
        DOC["compartmentId"],
        "ACTIVE",
    )
    assert key.time_created == dt.datetime(2026, 1, 21, 10, tzinfo=UTC)
    one, two = key.secrets
    assert (one.name, one.state, two.state) == ("key-one", "ACTIVE", "INACTIVE")
    assert one.time_expiry == dt.datetime(2026, 4, 21, 10, tzinfo=UTC)
    assert one.has_value and one.expose() == "sk-one-11111111"
    assert len(one.fingerprint) == 8 and one.fingerprint == key["key-one"].fingerprint
    with pytest.raises(KeyError):
        key["key-three"]


def test_to_json_never_carries_values_unless_asked() -> None:
    key = twinkey.ApiKey.from_json(json.dumps(DOC))
    safe = json.loads(key.to_json())
    assert [k.get("key") for k in safe["keys"]] == [None, None]
    assert safe["displayName"] == "prod-key"
    full = json.loads(key.to_json_exposing_secrets())
    assert [k["key"] for k in full["keys"]] == ["sk-one-11111111", "sk-two-22222222"]


def test_references_resolve_from_env_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINKEY_TEST_ONE", "sk-from-env")
    (tmp_path / "two.txt").write_text("sk-from-file\n")
    doc = {
        "keys": [
            {"keyName": "key-one", "key": "env:TWINKEY_TEST_ONE", "state": "ACTIVE"},
            {"keyName": "key-two", "key": "file:two.txt", "state": "ACTIVE"},
        ]
    }
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc))
    key = twinkey.ApiKey.load(path)
    assert [s.expose() for s in key.secrets] == ["sk-from-env", "sk-from-file"]
    assert [s.reference for s in key.secrets] == ["env:TWINKEY_TEST_ONE", "file:two.txt"]
    assert "env:TWINKEY_TEST_ONE" in key.to_json() and "sk-from" not in key.to_json()
    assert twinkey.ApiKey.load(str(path)).secrets[0].expose() == "sk-from-env"


@pytest.mark.parametrize(
    ("text", "error", "code"),
    [
        ("not json", twinkey.KeyDocumentError, "INVALID_KEY"),
        ('{"keys": []}', twinkey.KeyDocumentError, "INVALID_KEY"),
        (
            two_secrets('{"keyName":"a","key":"","state":"ACTIVE"}'),
            twinkey.SecretError,
            "INVALID_SECRET",
        ),
        (
            two_secrets('{"keyName":"a","key":"env:TWINKEY_NOPE_X","state":"ACTIVE"}'),
            twinkey.SecretError,
            "SECRET_REF_UNRESOLVED",
        ),
    ],
)
def test_bad_documents_raise_coded_errors(text: str, error: type[twinkey.TwinkeyError], code: str) -> None:
    with pytest.raises(error) as info:
        twinkey.ApiKey.from_json(text)
    assert info.value.code == code
    assert isinstance(info.value, twinkey.TwinkeyError)


def test_missing_file_is_a_key_document_error(tmp_path: Path) -> None:
    with pytest.raises(twinkey.KeyDocumentError):
        twinkey.ApiKey.load(tmp_path / "nope.json")


def test_constructors_and_transitions_follow_oci_rules() -> None:
    at = dt.datetime(2026, 2, 1, tzinfo=UTC)
    key = twinkey.ApiKey(
        twinkey.Secret("key-one", "sk-1111", time_expiry="2026-05-01T00:00:00Z"),
        twinkey.Secret("key-two", "sk-2222", state="INACTIVE"),
        id="ocid1.generativeaiapikey.oc1.eu-frankfurt-1.amaaaa",
        display_name="made",
    )
    assert key.region == "eu-frankfurt-1"
    key.activate("key-two", at=at)
    key.deactivate("key-two")
    key.revoke("key-two")
    assert key["key-two"].state == "REVOKED"
    with pytest.raises(twinkey.SecretError) as info:
        key.activate("key-two")
    assert info.value.code == "SECRET_REVOKED"
    key.renew("key-two", "sk-3333", at=at)
    two = key["key-two"]
    assert two.state == "ACTIVE" and two.time_expiry == at + dt.timedelta(days=90)
    key.sync_state("key-one", "SUSPENDED")
    assert key["key-one"].state == "SUSPENDED"
    with pytest.raises(twinkey.SecretError) as unknown:
        key.revoke("key-nine")
    assert unknown.value.code == "UNKNOWN_SECRET"
    with pytest.raises(twinkey.KeyDocumentError):
        twinkey.ApiKey(twinkey.Secret("a", "x"), twinkey.Secret("a", "y"))
    with pytest.raises(twinkey.SecretError):
        twinkey.Secret("key-one", " padded ")


def test_copies_are_independent() -> None:
    key = twinkey.ApiKey.from_json(json.dumps(DOC))
    for other in (key.copy(), copy.copy(key), copy.deepcopy(key)):
        other.activate("key-two")
        assert other["key-two"].state == "ACTIVE"
    assert key["key-two"].state == "INACTIVE"
    secret = key["key-one"]
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret


def test_times_must_be_aware_or_rfc3339() -> None:
    with pytest.raises(ValueError, match="naive"):
        twinkey.Secret("a", "x", time_expiry=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="RFC 3339"):
        twinkey.Secret("a", "x", time_expiry="tomorrow")
    with pytest.raises(TypeError):
        twinkey.Secret("a", "x", time_expiry=12345)  # type: ignore[arg-type]
    plus2 = dt.timezone(dt.timedelta(hours=2))
    s = twinkey.Secret("a", "x", time_expiry=dt.datetime(2026, 1, 1, 12, tzinfo=plus2))
    assert s.time_expiry == dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
