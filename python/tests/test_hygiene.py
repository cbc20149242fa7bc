"""No secret in repr, str, exception text, tracebacks, DEBUG logging or pickles."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback
from typing import Any

import pytest

import twinkey
import twinkey.openai

from conftest import TEST_KEY, TEST_KEY_ID, Emulator

VALUES = ("sk-hygiene-one-0123456789", "sk-hygiene-two-9876543210")


def make_engine(**kw: Any) -> twinkey.Engine:
    key = twinkey.ApiKey(twinkey.Secret("key-one", VALUES[0]), twinkey.Secret("key-two", VALUES[1]))
    return twinkey.Engine(key, **kw)


def assert_clean(text: str) -> None:
    for value in VALUES:
        assert value not in text
        assert value[3:] not in text


def everything() -> list[Any]:
    engine = make_engine()
    attempt = engine.begin()
    verdict = engine.complete(attempt, 401)
    return [engine, engine.key, engine.key.secrets[0], attempt, verdict, verdict.replay, engine.status()]


def test_repr_and_str_show_names_and_fingerprints_only() -> None:
    for obj in everything():
        assert_clean(repr(obj))
        assert_clean(str(obj))
    secret = twinkey.Secret("key-one", VALUES[0])
    assert repr(secret) == f"Secret(name='key-one', fingerprint='{secret.fingerprint}', state='ACTIVE')"
    assert str(secret) == f"key-one (fp {secret.fingerprint}, ACTIVE)"
    signer = twinkey.Signer.session("st-token-abcdefghijklmnop", TEST_KEY["private_key_pem"])
    assert "st-token" not in repr(signer)
    assert "PRIVATE" not in repr(twinkey.Signer.from_pem(TEST_KEY_ID, TEST_KEY["private_key_pem"]))


@pytest.mark.parametrize("index", range(5))
def test_objects_holding_a_secret_refuse_to_be_pickled(index: int) -> None:
    obj = everything()[index]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot pickle a twinkey") as info:
            pickle.dumps(obj, protocol=protocol)
        assert_clean(str(info.value))


def test_signers_refuse_to_be_pickled_and_copies_share() -> None:
    signer = twinkey.Signer.from_pem(TEST_KEY_ID, TEST_KEY["private_key_pem"])
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    assert copy.copy(signer) is signer
    engine = make_engine()
    assert copy.deepcopy(engine) is engine


def test_exceptions_and_tracebacks_are_clean_and_picklable() -> None:
    engine = make_engine()
    engine.revoke("key-one")
    engine.deactivate("key-two")
    with pytest.raises(twinkey.NoUsableSecretError) as info:
        engine.begin()
    error = info.value
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert_clean(text + repr(error) + repr(error.reasons))
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and again.code == error.code and again.reasons == error.reasons
    doc = json.dumps(
        {
            "keys": [
                {"keyName": "a", "key": VALUES[0], "state": "ACTIVE"},
                {"keyName": "b", "key": 42, "state": "ACTIVE"},
            ]
        }
    )
    with pytest.raises(twinkey.KeyDocumentError) as bad:
        twinkey.ApiKey.from_json(doc)
    assert_clean(str(bad.value))
    with pytest.raises(twinkey.SecretError) as invalid:
        twinkey.Secret("key-one", VALUES[0] + " ")
    assert_clean(str(invalid.value))


def test_debug_logging_of_a_whole_sdk_call_never_shows_a_secret(emulator: Emulator) -> None:
    doc = emulator.new_key_document(displayName="hygiene")
    values = [k["key"] for k in doc["keys"]]
    engine = twinkey.Engine(twinkey.ApiKey.from_json(json.dumps(doc)))
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(f"{record.name} {record.getMessage()} {record.__dict__}")

    root = logging.getLogger()
    handler, level = Capture(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        emulator.set_state(doc["id"], engine.current, "REVOKED")  # forces a rejection and a replay
        client.chat.completions.create(
            model="openai.gpt-oss-120b", messages=[{"role": "user", "content": "x"}]
        )
        for _ in client.chat.completions.create(
            model="openai.gpt-oss-120b", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            pass
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = "\n".join(records)
    assert "failed_over" in text and "HTTP Request" in text, "DEBUG logging was captured"
    for value in values:
        assert value not in text
