"""The exception hierarchy: one class per core error family, `.code` everywhere."""

from __future__ import annotations

import pickle

import pytest

import twinkey
import twinkey.errors

from conftest import TEST_KEY, TEST_KEY_ID

FAMILIES = [
    twinkey.KeyDocumentError,
    twinkey.SecretError,
    twinkey.EngineError,
    twinkey.NoUsableSecretError,
    twinkey.StreamInterruptedError,
    twinkey.SigningError,
    twinkey.InvalidRequestError,
    twinkey.TransportError,
    twinkey.ServiceError,
    twinkey.RotationError,
    twinkey.TokenError,
]


@pytest.mark.parametrize("cls", FAMILIES)
def test_every_family_is_a_twinkey_error_and_round_trips(cls: type[twinkey.TwinkeyError]) -> None:
    assert issubclass(cls, twinkey.TwinkeyError)
    error = cls("message", code="SOME_CODE")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), str(again), again.code) == (cls, "message", "SOME_CODE")
    assert set(twinkey.errors.__all__) >= {cls.__name__}


def test_service_error_fields() -> None:
    e = twinkey.ServiceError("boom", status=409, oci_code="IncorrectState", request_id="req-1")
    assert (e.code, e.status, e.oci_code, e.request_id) == ("SERVICE_ERROR", 409, "IncorrectState", "req-1")


def test_native_errors_map_to_their_family() -> None:
    signer = twinkey.Signer.from_pem(TEST_KEY_ID, TEST_KEY["private_key_pem"])
    with pytest.raises(twinkey.InvalidRequestError) as info:
        signer.sign("GET", "/no/host")
    assert info.value.code == "INVALID_REQUEST"
    with pytest.raises(twinkey.SigningError) as bad:
        twinkey.Signer.from_pem(TEST_KEY_ID, "not a key")
    assert bad.value.code == "INVALID_PRIVATE_KEY"
    monitor = twinkey.StreamMonitor("chat_completions")
    monitor.feed(b"data: {}\n\n")
    with pytest.raises(twinkey.StreamInterruptedError) as cut:
        monitor.finish()
    assert (cut.value.code, cut.value.received) == ("STREAM_INTERRUPTED", 10)
