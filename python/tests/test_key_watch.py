"""Key watch from Python (`twinkey.watch`, `Engine.follow_key`): an engine follows a key file
it reloads and the control plane, a rotation run elsewhere reaches it before the old secret is
retired, and bad arguments get coded errors. What a document means is decided by the core
(tests/vectors/engine/watch.json, run by test_vectors_engine.py)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from test_rotation import Traffic, new_key, states

import twinkey

from conftest import Emulator

KEY_ID = "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaapywatch"


def doc(two_state: str, two_value: str, tags: dict[str, str] | None = None) -> str:
    return json.dumps(
        {
            "id": KEY_ID,
            "freeformTags": tags or {},
            "keys": [
                {"keyName": "key-one", "state": "ACTIVE", "key": "sk-one-11111111"},
                {"keyName": "key-two", "state": two_state, "key": two_value},
            ],
        }
    )


def wait_for(what: str, ok: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)


def current(engine: twinkey.Engine) -> str:
    attempt = engine.begin()
    engine.abandon(attempt)
    return attempt.secret


def test_a_file_watch_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(doc("INACTIVE", "sk-two-22222222"))
    engine = twinkey.Engine(twinkey.ApiKey.load(path))
    with twinkey.watch(engine, file=path, interval_ms=30) as watch:
        assert watch.source == "file" and not watch.stopped
        wait_for("a first look", lambda: watch.stats()["looks"] >= 1)
        assert current(engine) == "key-one"
        renewed = "sk-two-renewed-33333333"
        fp = hashlib.sha256(renewed.encode()).hexdigest()[:8]
        tags = {"twinkey-preferred": "key-two", "twinkey-preferred-fingerprint": fp}
        path.write_text(doc("ACTIVE", renewed, tags))
        wait_for("the switch", lambda: current(engine) == "key-two")
        # A broken file changes nothing and is counted.
        path.write_text("{ not json")
        wait_for("a failed look", lambda: watch.stats()["consecutiveFailures"] >= 1)
        assert watch.stats()["lastError"] == "INVALID_KEY"
        assert current(engine) == "key-two"
        path.write_text(doc("ACTIVE", renewed, tags))
        wait_for("a good look again", lambda: watch.stats()["consecutiveFailures"] == 0)
        shown = f"{watch!r} {watch.stats()}"
        assert "sk-" not in shown
    assert watch.stopped and watch.stats()["stopped"]


def test_follow_key_reports_what_changed() -> None:
    engine = twinkey.Engine(twinkey.ApiKey.from_json(doc("ACTIVE", "sk-two-22222222")))
    update: Any = engine.follow_key(doc("INACTIVE", "sk-two-22222222"), "controlPlane")
    assert update == {
        "changes": [{"change": "state", "secret": "key-two", "from": "ACTIVE", "to": "INACTIVE"}],
        "prefer": None,
    }
    assert engine.follow_key(twinkey.ApiKey.from_json(doc("INACTIVE", "sk-two-22222222"))) == {
        "changes": [],
        "prefer": None,
    }
    other = doc("ACTIVE", "sk-two-22222222").replace("pywatch", "another")
    with pytest.raises(twinkey.KeyDocumentError) as info:
        engine.follow_key(other, "file")
    assert info.value.code == "INVALID_KEY"
    with pytest.raises(twinkey.TwinkeyError) as bad:
        engine.follow_key(doc("ACTIVE", "x-1234567890"), "somewhere")
    assert bad.value.code == "INVALID_OPTIONS"
    with pytest.raises(TypeError):
        engine.follow_key(42)  # type: ignore[arg-type]


def test_bad_watch_arguments(tmp_path: Path, control_plane: twinkey.ControlPlane) -> None:
    engine = twinkey.Engine(twinkey.ApiKey.from_json(doc("ACTIVE", "sk-two-22222222")))
    for kwargs in (
        {},
        {"file": tmp_path / "k.json", "control_plane": control_plane},
        {"file": tmp_path / "k.json", "jitter": 0.9},
        {"file": tmp_path / "k.json", "interval_ms": 1},
    ):
        with pytest.raises(twinkey.TwinkeyError) as info:
            twinkey.watch(engine, **kwargs)  # type: ignore[arg-type]
        assert info.value.code == "INVALID_OPTIONS", kwargs
    with pytest.raises(TypeError):
        twinkey.watch(engine, control_plane="not a control plane")  # type: ignore[arg-type]
    keyless = twinkey.Engine(
        twinkey.ApiKey.from_json(json.dumps({"keys": json.loads(doc("ACTIVE", "sk-two-22222222"))["keys"]}))
    )
    with pytest.raises(twinkey.TwinkeyError) as info:
        twinkey.watch(keyless, control_plane=control_plane)
    assert info.value.code == "INVALID_OPTIONS"


def test_a_rotation_elsewhere_reaches_a_control_plane_watch_before_retiring(
    emulator: Emulator, control_plane: twinkey.ControlPlane, tenancy: str, tmp_path: Path
) -> None:
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-watch")
    engine = twinkey.Engine(twinkey.ApiKey.load(key_file))
    traffic = Traffic(engine, emulator.base_url)
    with twinkey.watch(engine, control_plane=control_plane, interval_ms=150) as watch:
        traffic.thread.start()
        try:
            traffic.wait_for(10)
            # Another runner (no engine of this process): the watch is how the engine learns.
            report: Any = twinkey.rotate(
                control_plane,
                key_id,
                key_file=key_file,
                inference_url=emulator.base_url,
                state_file=tmp_path / "rotation.json",
                watch_grace=1.2,
            )
            assert [s["action"] for s in report.steps] == ["activate", "probe", "switch", "deactivate"]
            wait_for("the retirement to be seen", lambda: engine.status().secrets[0].state == "INACTIVE")
            after = traffic.ok
            traffic.wait_for(after + 10)
        finally:
            traffic.stop.set()
            traffic.thread.join()
        stats = watch.stats()
    assert traffic.failures == []
    rejected = sum(s.counters.rejected for s in engine.status().secrets)
    assert rejected == 0, "the engine moved to key-two before key-one was retired"
    assert stats["errors"] == 0 and stats["changed"] >= 2, stats
    assert states(control_plane, key_id) == {"key-one": "INACTIVE", "key-two": "ACTIVE"}
    assert (
        json.loads(control_plane.get(key_id).key.to_json())["freeformTags"]["twinkey-preferred"] == "key-two"
    )
