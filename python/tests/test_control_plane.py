"""The API-key control plane (twinkey-client in Rust) from Python, sync and async, against the
emulator's control plane: the eight operations, pagination, if-match, errors, hygiene."""

from __future__ import annotations

import datetime
import json
import logging
import pickle
import uuid
from typing import Any

import pytest

import twinkey

from conftest import Emulator

UTC = datetime.timezone.utc


def compartment() -> str:
    """A fresh compartment OCID, so listings see only this test's keys."""
    return f"ocid1.compartment.oc1..aaaa{uuid.uuid4().hex}"


def values_of(key: twinkey.ApiKey) -> list[str]:
    return [v for v in (s.expose() for s in key.secrets) if v]


def check_created(created: twinkey.KeyResponse, name: str) -> str:
    key = created.key
    assert key.id and key.display_name == name and key.lifecycle_state == "ACTIVE"
    assert [s.name for s in key.secrets] == ["key-one", "key-two"]
    # The new values are in the answer (shown once), and nowhere in its repr.
    assert all(s.has_value for s in key.secrets)
    for value in values_of(key):
        assert value not in repr(created) + str(key) + repr(key)
    assert created.status == 200 and created.etag and created.opc_request_id and created.attempts == 1
    return key.id


def test_the_eight_operations_sync(control_plane: twinkey.ControlPlane, tenancy: str) -> None:
    cp = control_plane
    expiry = datetime.datetime(2031, 1, 1, tzinfo=UTC)
    created = cp.create(
        tenancy,
        "py-sync",
        time_expiry=expiry,
        description="made by pytest",
        freeform_tags={"team": "py"},
        opc_request_id="py-create-1",
    )
    key_id = check_created(created, "py-sync")
    assert created.opc_request_id == "py-create-1"
    assert created.key.secrets[0].time_expiry == expiry
    engine = twinkey.Engine(created.key)  # the values work as they are
    assert engine.current in ("key-one", "key-two")

    got = cp.get(key_id)
    assert got.key.id == key_id and got.key.description == "made by pytest"
    assert not any(s.has_value for s in got.key.secrets)  # masks only from now on
    assert all(s.key_mask for s in got.key.secrets)
    assert got.etag == created.etag

    page = cp.list(tenancy, display_name="py-sync")
    assert key_id in [k.id for k in page] and len(page) == len(page.items)

    updated = cp.update(key_id, display_name="py-sync-2", if_match=got.etag)
    assert updated.key.display_name == "py-sync-2" and updated.etag != got.etag

    parked = cp.set_state(key_id, "key-two", "INACTIVE", if_match=updated.etag)
    assert parked.key["key-two"].state == "INACTIVE" and parked.key["key-one"].state == "ACTIVE"

    renewed = cp.renew(key_id, "key-two", time_expiry=datetime.datetime(2032, 1, 1, tzinfo=UTC))
    two = renewed.key["key-two"]
    assert two.state == "ACTIVE" and two.has_value and not renewed.key["key-one"].has_value
    assert two.time_expiry == datetime.datetime(2032, 1, 1, tzinfo=UTC)
    assert two.fingerprint != created.key["key-two"].fingerprint

    target = compartment()
    moved = cp.change_compartment(key_id, target)
    assert isinstance(moved, twinkey.UnitResponse) and moved.opc_request_id
    assert cp.get(key_id).key.compartment_id == target

    deleted = cp.delete(key_id)
    assert deleted.status in (200, 202, 204)
    assert cp.get(key_id).key.lifecycle_state == "DELETED"


async def test_the_eight_operations_async(
    async_control_plane: twinkey.AsyncControlPlane, tenancy: str
) -> None:
    cp = async_control_plane
    created = await cp.create(tenancy, "py-async", key_names=("primary", "standby"))
    key_id = check_created_named(created, ("primary", "standby"))
    got = await cp.get(key_id)
    assert got.key.display_name == "py-async" and not got.key["primary"].has_value
    page = await cp.list(tenancy, display_name="py-async")
    assert [k.id for k in page] == [key_id]
    updated = await cp.update(key_id, description="async", if_match=got.etag)
    assert updated.key.description == "async"
    off = await cp.set_state(key_id, "standby", "INACTIVE")
    assert off.key["standby"].state == "INACTIVE"
    renewed = await cp.renew(key_id, "standby")
    assert renewed.key["standby"].has_value and renewed.key["standby"].state == "ACTIVE"
    target = compartment()
    await cp.change_compartment(key_id, target)
    assert (await cp.get(key_id)).key.compartment_id == target
    await cp.delete(key_id)
    assert (await cp.get(key_id)).key.lifecycle_state == "DELETED"


def test_staggered_expiries_at_creation(control_plane: twinkey.ControlPlane, tenancy: str) -> None:
    """Each secret its own expiry (a mapping), so the two do not expire together."""
    one = datetime.datetime(2031, 1, 1, tzinfo=UTC)
    two = datetime.datetime(2031, 7, 1, tzinfo=UTC)
    created = control_plane.create(tenancy, "py-staggered", time_expiry={"key-one": one, "key-two": two})
    assert [s.time_expiry for s in created.key.secrets] == [one, two]
    got = control_plane.get(created.key.id).key
    assert [s.time_expiry for s in got.secrets] == [one, two]
    # Only key-one listed: key-two gets the service's default (90 days from now).
    partly = control_plane.create(tenancy, "py-partly", time_expiry={"key-one": one}).key
    assert partly.secrets[0].time_expiry == one
    assert partly.secrets[1].time_expiry is not None and partly.secrets[1].time_expiry < one
    with pytest.raises(twinkey.KeyDocumentError) as bad:
        control_plane.create(tenancy, "py-bad", time_expiry={"key-three": one})
    assert bad.value.code == "INVALID_OPTIONS" and "key-three" in str(bad.value)


def check_created_named(created: twinkey.KeyResponse, names: tuple[str, str]) -> str:
    key = created.key
    assert tuple(s.name for s in key.secrets) == names and all(s.has_value for s in key.secrets)
    assert key.id
    return key.id


def test_list_pages_sync(control_plane: twinkey.ControlPlane) -> None:
    where = compartment()
    ids = {control_plane.create(where, f"page-{i}").key.id for i in range(5)}
    first = control_plane.list(where, limit=2, sort_by="displayName")
    assert [k.display_name for k in first] == ["page-0", "page-1"] and first.next_page
    second = control_plane.list(where, limit=2, sort_by="displayName", page=first.next_page)
    assert [k.display_name for k in second] == ["page-2", "page-3"]
    pages = list(control_plane.list_all(where, limit=2, sort_by="displayName"))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert pages[-1].next_page is None
    assert {k.id for p in pages for k in p} == ids
    everything = control_plane.list_all(where, limit=2)
    assert iter(everything) is everything
    assert sum(len(p) for p in everything) == 5
    assert list(everything) == []  # exhausted
    for key_id in ids:
        control_plane.delete(key_id)
    assert len(control_plane.list(where, lifecycle_state="ACTIVE")) == 0


async def test_list_pages_async(async_control_plane: twinkey.AsyncControlPlane) -> None:
    where = compartment()
    for i in range(3):
        await async_control_plane.create(where, f"apage-{i}")
    seen: list[list[str | None]] = []
    async for page in async_control_plane.list_all(where, limit=2, sort_by="displayName", sort_order="DESC"):
        seen.append([k.display_name for k in page])
    assert seen == [["apage-2", "apage-1"], ["apage-0"]]


def test_etag_mismatch_is_a_412(control_plane: twinkey.ControlPlane, tenancy: str) -> None:
    key_id = control_plane.create(tenancy, "py-etag").key.id
    assert key_id
    stale = control_plane.get(key_id).etag
    control_plane.update(key_id, description="someone else")
    with pytest.raises(twinkey.ServiceError) as info:
        control_plane.update(key_id, description="mine", if_match=stale)
    e = info.value
    assert (e.status, e.oci_code, e.code) == (412, "NoEtagMatch", "SERVICE_ERROR")
    assert e.request_id and e.request_id != "-"
    assert control_plane.get(key_id).key.description == "someone else"
    control_plane.delete(key_id)


async def test_errors_are_typed_async(async_control_plane: twinkey.AsyncControlPlane) -> None:
    with pytest.raises(twinkey.ServiceError) as missing:
        await async_control_plane.get("ocid1.generativeaiapikey.oc1.us-chicago-1.nosuchkey")
    assert missing.value.status == 404 and missing.value.oci_code == "NotAuthorizedOrNotFound"
    with pytest.raises(twinkey.InvalidRequestError) as bad:
        await async_control_plane.list(compartment(), sort_by="size")  # type: ignore[arg-type]
    assert bad.value.code == "INVALID_REQUEST"


def test_local_checks_and_bad_endpoints(
    control_plane: twinkey.ControlPlane, oci_signer: twinkey.Signer
) -> None:
    with pytest.raises(twinkey.InvalidRequestError):
        control_plane.create(compartment(), "same", key_names=("a", "a"))
    with pytest.raises(twinkey.InvalidRequestError):
        control_plane.get(compartment(), opc_request_id="not valid!")
    with pytest.raises(twinkey.InvalidRequestError):
        twinkey.ControlPlane(oci_signer, endpoint="http://127.0.0.1:1/path")
    with pytest.raises(twinkey.SigningError):
        twinkey.ControlPlane(oci_signer, region="Not A Region")
    unreachable = twinkey.ControlPlane(oci_signer, endpoint="http://127.0.0.1:9")
    with pytest.raises(twinkey.TransportError):
        unreachable.get("ocid1.generativeaiapikey.oc1.us-chicago-1.x", retries=False)
    cp = twinkey.ControlPlane(oci_signer, region="eu-frankfurt-1")
    assert cp.endpoint == "https://generativeai.eu-frankfurt-1.oci.oraclecloud.com"
    assert cp.region == "eu-frankfurt-1"
    assert repr(cp) == "ControlPlane('https://generativeai.eu-frankfurt-1.oci.oraclecloud.com')"


def test_unsigned_or_unknown_principals_are_refused(emulator: Emulator, signer: twinkey.Signer) -> None:
    stranger = twinkey.ControlPlane(signer, endpoint=emulator.info["control_plane"])
    with pytest.raises(twinkey.ServiceError) as info:
        stranger.list(compartment(), retries=False)
    assert info.value.status == 401 and info.value.oci_code == "NotAuthenticated"


def test_created_values_never_reach_logs_or_pickles(
    control_plane: twinkey.ControlPlane, tenancy: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = control_plane.create(tenancy, "py-hygiene")
    key_id = created.key.id
    assert key_id
    renewed = control_plane.renew(key_id, "key-one")
    values = values_of(created.key) + values_of(renewed.key)
    assert len(values) == 3
    assert any("control plane call succeeded" in r.getMessage() for r in caplog.records)
    text = caplog.text + "".join(f"{r.__dict__}" for r in caplog.records)
    text += repr(created) + repr(renewed) + repr(control_plane.get(key_id))
    for value in values:
        assert value not in text
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(created)
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(control_plane)
    # The key document of the answer can be saved with its values, on purpose only.
    saved: dict[str, Any] = json.loads(created.key.to_json_exposing_secrets())
    assert [k["key"] for k in saved["keys"]] == values_of(created.key)
    control_plane.delete(key_id)


def test_a_forked_child_gets_its_own_runtime(
    control_plane: twinkey.ControlPlane, oci_signer: twinkey.Signer, tenancy: str
) -> None:
    """After the parent used the I/O runtime, a fork()ed child (gunicorn --preload,
    multiprocessing 'fork') still completes synchronous calls; its async calls raise a clear
    error instead of hanging."""
    import asyncio
    import os

    key_id = control_plane.create(tenancy, "py-fork").key.id  # the parent's runtime is running
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        outcome = "?"
        try:
            got = control_plane.get(key_id).key.id == key_id

            async def later() -> str:
                try:
                    await twinkey.AsyncControlPlane(oci_signer, endpoint=control_plane.endpoint).get(key_id)
                    return "async ran"
                except RuntimeError as e:
                    return "async refused" if "fork" in str(e) else f"other: {e}"

            outcome = f"sync {'ok' if got else 'wrong'}; {asyncio.run(later())}"
        except BaseException as e:  # anything must reach the parent
            outcome = f"error {type(e).__name__}: {e}"
        finally:
            os.write(write, outcome.encode())
            os._exit(0)
    os.close(write)
    # A hang guard, not a timing check: a child stuck on the parent's runtime or its pooled
    # connections would wait for a 60 s request timeout, or forever.
    import signal
    import time

    deadline = time.monotonic() + 30
    while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on its first control-plane call")
        time.sleep(0.05)
    status = waited[1]
    with os.fdopen(read) as pipe:
        outcome = pipe.read()
    assert status == 0
    assert outcome == "sync ok; async refused"
    control_plane.delete(key_id)
