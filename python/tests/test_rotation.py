"""The zero-downtime rotation (twinkey-client's RotationRunner) from Python, against the
emulator: a full rotation while traffic flows through `twinkey.openai.client`, the async twin
with `renew_old`, refusals, dry runs and resuming from the state file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

import twinkey
import twinkey.openai

from conftest import Emulator

MODEL = "openai.gpt-oss-120b"


def new_key(cp: twinkey.ControlPlane, tenancy: str, tmp_path: Path, name: str) -> tuple[str, Path]:
    """A key made through the control plane, with key-two parked INACTIVE as the standby, and
    a key file holding both values (what the application loads)."""
    created = cp.create(tenancy, name)
    key_id = created.key.id
    assert key_id
    cp.set_state(key_id, "key-two", "INACTIVE")
    key = created.key.copy()
    key.sync_state("key-two", "INACTIVE")
    key_file = tmp_path / "key.json"
    key_file.write_text(key.to_json_exposing_secrets())
    return key_id, key_file


def states(cp: twinkey.ControlPlane, key_id: str) -> dict[str, str]:
    return {s.name: s.state for s in cp.get(key_id).key.secrets}


class Traffic:
    """Chat completions in a loop on another thread, through the openai SDK and the engine."""

    def __init__(self, engine: twinkey.Engine, base_url: str) -> None:
        self.client = twinkey.openai.client(engine, base_url=base_url)
        self.ok = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
                with self.progress:
                    self.ok += 1
                    self.progress.notify_all()
            except Exception as e:  # every failure is a test failure, reported below
                self.failures.append(f"{type(e).__name__}: {e}")

    def wait_for(self, n: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.ok >= n or bool(self.failures), timeout=120)


def test_rotation_under_traffic_has_no_failed_request(
    emulator: Emulator,
    control_plane: twinkey.ControlPlane,
    tenancy: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-rotate")
    engine = twinkey.Engine(twinkey.ApiKey.load(key_file))
    assert engine.current == "key-one"
    traffic = Traffic(engine, emulator.base_url)
    progress: list[twinkey.RotationProgress] = []
    state_file = tmp_path / "rotation.json"
    caplog.set_level(logging.INFO, logger="twinkey")
    traffic.thread.start()
    try:
        traffic.wait_for(3)
        report = twinkey.rotate(
            control_plane,
            key_id,
            key_file=key_file,
            inference_url=emulator.base_url,
            state_file=state_file,
            engine=engine,
            on_progress=progress.append,
            watch_grace=0,
        )
        after = traffic.ok
        traffic.wait_for(after + 3)
    finally:
        traffic.stop.set()
        traffic.thread.join(timeout=60)
    assert traffic.failures == []
    assert isinstance(report, twinkey.RotationReport)
    assert (report.key_id, report.old, report.standby, report.resumed) == (
        key_id,
        "key-one",
        "key-two",
        False,
    )
    assert [(s["step"], s["action"]) for s in report.steps] == [
        ("prepare_standby", "activate"),
        ("verify_standby", "probe"),
        ("switch", "switch"),
        ("retire_old", "deactivate"),
    ]
    assert report.renewed == [] and report.secret_out is None
    assert [s.name for s in engine.status().secrets if s.preferred] == ["key-two"]  # switched at step 3
    assert states(control_plane, key_id) == {"key-one": "INACTIVE", "key-two": "ACTIVE"}
    assert not state_file.exists()
    kinds = [p.kind for p in progress]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("finished") == 4
    assert progress[0].message == f"rotating {key_id}: key-one -> key-two"
    probed = next(p for p in progress if p.kind == "finished" and p.step == "verify_standby")
    assert probed.fingerprint == engine.key["key-two"].fingerprint
    assert probed.to_dict()["fingerprint"] == probed.fingerprint
    logged = [r.getMessage() for r in caplog.records if r.name == "twinkey"]
    assert f"rotating {key_id}: key-one -> key-two" in logged and "rotation done" in logged
    values = [s.expose() for s in twinkey.ApiKey.load(key_file).secrets]
    for value in values:
        assert value and value not in caplog.text + repr(report) + repr(progress)
    counts = emulator.counts(key_id)
    assert counts["key-two"]["accepted"] >= 3


async def test_async_rotation_renews_the_old_secret_under_traffic(
    emulator: Emulator,
    control_plane: twinkey.ControlPlane,
    async_control_plane: twinkey.AsyncControlPlane,
    tenancy: str,
    tmp_path: Path,
) -> None:
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-rotate-async")
    engine = twinkey.Engine(twinkey.ApiKey.load(key_file))
    client = twinkey.openai.async_client(engine, base_url=emulator.base_url)
    failures: list[str] = []
    done = asyncio.Event()
    progressed = asyncio.Condition()
    answered = 0

    async def worker() -> None:
        nonlocal answered
        while not done.is_set():
            try:
                await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "hi"}]
                )
                answered += 1
            except Exception as e:  # reported below
                failures.append(f"{type(e).__name__}: {e}")
            async with progressed:
                progressed.notify_all()

    async def answers(n: int) -> None:
        async with progressed:
            await progressed.wait_for(lambda: answered >= n or bool(failures))

    workers = [asyncio.create_task(worker()) for _ in range(3)]
    secret_out = tmp_path / "renewed.json"
    progress: list[twinkey.RotationProgress] = []
    try:
        await answers(3)
        report = await twinkey.rotate_async(
            async_control_plane,
            key_id,
            renew_old=True,
            key_file=key_file,
            secret_out=secret_out,
            inference_url=emulator.base_url,
            state_file=tmp_path / "rotation.json",
            engine=engine,
            on_progress=progress.append,
            watch_grace=0,
        )
        await answers(answered + 3)
    finally:
        done.set()
        await asyncio.gather(*workers)
    assert failures == []
    assert [s["step"] for s in report.steps] == [
        "prepare_standby",
        "verify_standby",
        "switch",
        "retire_old",
        "renew_old",
        "park_old",
    ]
    assert [s.name for s in engine.status().secrets if s.preferred] == ["key-two"]  # switched at step 3
    assert states(control_plane, key_id) == {"key-one": "INACTIVE", "key-two": "ACTIVE"}
    # The renewed value went to the secret-out file only (mode 0600), by fingerprint elsewhere.
    assert report.secret_out == str(secret_out)
    assert stat.S_IMODE(os.stat(secret_out).st_mode) == 0o600
    renewed = twinkey.ApiKey.load(secret_out)
    assert [n for n, _ in report.renewed] == ["key-one"]
    assert report.renewed[0][1] == renewed["key-one"].fingerprint
    assert renewed["key-one"].fingerprint != twinkey.ApiKey.load(key_file)["key-one"].fingerprint
    assert renewed["key-two"].expose() == twinkey.ApiKey.load(key_file)["key-two"].expose()
    written = [p for p in progress if p.kind == "secret_written"]
    assert [(p.secret, p.path) for p in written] == [("key-one", str(secret_out))]
    new_value = renewed["key-one"].expose()
    assert new_value and all(new_value not in repr(p.to_dict()) for p in progress)
    assert new_value not in json.dumps(report.to_dict())


def test_a_rotation_without_a_value_to_probe_with_is_refused(
    control_plane: twinkey.ControlPlane, tenancy: str, tmp_path: Path
) -> None:
    key_id, _ = new_key(control_plane, tenancy, tmp_path, "py-refused")
    state_file = tmp_path / "rotation.json"
    plan = twinkey.rotate(
        control_plane,
        key_id,
        dry_run=True,
        inference_url="http://127.0.0.1:9/v1",
        state_file=state_file,
        watch_grace=0,
    )
    assert isinstance(plan, twinkey.RotationPlan)
    assert (plan.old, plan.standby, plan.resumed) == ("key-one", "key-two", False)
    assert [s["action"] for s in plan.steps] == ["activate", "probe", "switch", "deactivate"]
    assert plan.problems and "no value for key-two" in plan.problems[0]
    with pytest.raises(twinkey.RotationError) as info:
        twinkey.rotate(
            control_plane,
            key_id,
            inference_url="http://127.0.0.1:9/v1",
            state_file=state_file,
            watch_grace=0,
        )
    assert info.value.code == "ROTATION_REFUSED"
    # Refused before anything was done.
    assert states(control_plane, key_id) == {"key-one": "ACTIVE", "key-two": "INACTIVE"}
    assert not state_file.exists()


def test_a_deleted_key_is_not_rotated(
    control_plane: twinkey.ControlPlane, tenancy: str, tmp_path: Path
) -> None:
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-deleted")
    control_plane.delete(key_id)
    with pytest.raises(twinkey.RotationError) as info:
        twinkey.rotate(
            control_plane,
            key_id,
            key_file=key_file,
            probe=False,
            state_file=tmp_path / "s.json",
            watch_grace=0,
        )
    assert info.value.code == "ROTATION_REFUSED"


async def test_a_failed_probe_stops_the_rotation_and_a_rerun_resumes(
    emulator: Emulator,
    control_plane: twinkey.ControlPlane,
    async_control_plane: twinkey.AsyncControlPlane,
    tenancy: str,
    tmp_path: Path,
) -> None:
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-resume")
    state_file = tmp_path / "rotation.json"
    progress: list[str] = []
    options: dict[str, Any] = {
        "key_file": key_file,
        "inference_url": emulator.base_url,
        "state_file": state_file,
        "on_progress": lambda p: progress.append(p.kind),
    }
    with pytest.raises(twinkey.RotationError) as info:
        await twinkey.rotate_async(
            async_control_plane,
            key_id,
            probe_model="no-such-model",
            probe_timeout=1.0,
            **options,
            watch_grace=0,
        )
    assert info.value.code == "ROTATION_REFUSED" and "nothing was retired" in str(info.value)
    assert "waiting" in progress
    # The standby was activated and checkpointed; the old secret is untouched.
    assert states(control_plane, key_id) == {"key-one": "ACTIVE", "key-two": "ACTIVE"}
    assert json.loads(state_file.read_text())["completed"][0]["action"] == "activate"
    report = await twinkey.rotate_async(
        control_plane,
        key_id,
        **options,
        watch_grace=0,
    )
    assert report.resumed
    assert [s["action"] for s in report.steps] == ["activate", "probe", "switch", "deactivate"]
    assert states(control_plane, key_id) == {"key-one": "INACTIVE", "key-two": "ACTIVE"}
    assert not state_file.exists()


def test_a_callback_cannot_block_on_twinkey_io(
    control_plane: twinkey.ControlPlane, tenancy: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A blocking twinkey call from a progress callback (twinkey's I/O thread) raises instead
    of deadlocking; the rotation carries on and logs the callback's error."""
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-callback")
    raised: list[BaseException] = []

    def on_progress(p: twinkey.RotationProgress) -> None:
        if p.kind == "started":
            try:
                control_plane.get(key_id)
            except RuntimeError as e:
                raised.append(e)
                raise

    report = twinkey.rotate(
        control_plane,
        key_id,
        key_file=key_file,
        probe=False,
        state_file=tmp_path / "s.json",
        on_progress=on_progress,
        watch_grace=0,
    )
    assert report.standby == "key-two"
    assert len(raised) == 1 and "async API" in str(raised[0])
    assert any("on_progress callback raised" in r.getMessage() for r in caplog.records)


def test_the_engine_alone_is_enough_and_the_probe_stays_with_the_emulator(
    control_plane: twinkey.ControlPlane, tenancy: str, tmp_path: Path
) -> None:
    """No key file and no inference URL: the standby is probed with the engine's value, at
    `<control-plane endpoint>/openai/v1` (never at a public OCI host the profile's region
    would name)."""
    key_id, key_file = new_key(control_plane, tenancy, tmp_path, "py-engine-only")
    engine = twinkey.Engine(twinkey.ApiKey.load(str(key_file)))
    progress: list[twinkey.RotationProgress] = []
    report = twinkey.rotate(
        control_plane,
        key_id,
        engine=engine,
        state_file=tmp_path / "s.json",
        on_progress=progress.append,
        watch_grace=0,
    )
    assert isinstance(report, twinkey.RotationReport)
    assert states(control_plane, key_id) == {"key-one": "INACTIVE", "key-two": "ACTIVE"}
    assert [s.name for s in engine.status().secrets if s.preferred] == ["key-two"]  # switched at step 3
    probes = [p.message for p in progress if "HTTP 200" in p.message]
    assert probes, [p.message for p in progress]
