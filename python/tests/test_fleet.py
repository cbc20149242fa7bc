"""Fleets from Python against a real ``redis-server`` (Debian's package) the tests start on a
loopback port and the emulator: engines joined with ``twinkey.fleet`` share a revocation (the
second engine never sends with the revoked secret), under the sync and the async openai client;
the shared budget leases; Redis killed costs no request; bad options raise coded errors that
show no password."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis_server import Redis

import twinkey
import twinkey.openai

from conftest import Emulator

MODEL = "openai.gpt-oss-120b"
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis() -> Iterator[Redis]:
    r = Redis()
    try:
        yield r
    finally:
        r.kill()


def until(what: str, cond: Callable[[], bool], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def stats(f: twinkey.Fleet) -> dict[str, Any]:
    s = f.stats()
    assert s is not None
    return dict(s)


def test_a_revocation_reaches_the_other_engine_before_it_sends(emulator: Emulator, redis: Redis) -> None:
    key_id, key = emulator.new_key(displayName="python-fleet")
    a, b = twinkey.Engine(key), twinkey.Engine(key)
    with twinkey.fleet(a, redis.url, origin="py-a") as fa, twinkey.fleet(b, redis.url, origin="py-b") as fb:
        until("both connected", lambda: stats(fa)["connected"] and stats(fb)["connected"])
        time.sleep(0.3)
        ca = twinkey.openai.client(a, base_url=emulator.base_url)
        cb = twinkey.openai.client(b, base_url=emulator.base_url)
        assert ca.chat.completions.create(model=MODEL, messages=MESSAGES).choices
        emulator.set_state(key_id, "key-one", "REVOKED")
        # A meets the 401, replays on key-two; B learns of it through Redis.
        assert ca.chat.completions.create(model=MODEL, messages=MESSAGES).choices
        until("B to adopt the rejection", lambda: b.current == "key-two")
        for _ in range(5):
            assert cb.chat.completions.create(model=MODEL, messages=MESSAGES).choices
        counts = emulator.counts(key_id)
        assert counts["key-one"]["rejected"] == 1, counts
        assert stats(fa)["sent"] >= 1 and stats(fb)["applied"] >= 1
        assert fa.origin == "py-a" and "py-a" in repr(fa)
    assert fa.closed and fa.stats() is None
    fa.close()  # idempotent


def test_an_async_app_shares_the_same_way(emulator: Emulator, redis: Redis) -> None:
    key_id, key = emulator.new_key(displayName="python-fleet-async")
    a, b = twinkey.Engine(key), twinkey.Engine(key)

    async def main() -> None:
        with twinkey.fleet(a, redis.url) as fa, twinkey.fleet(b, redis.url) as fb:
            for _ in range(500):
                if stats(fa)["connected"] and stats(fb)["connected"]:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            ca = twinkey.openai.async_client(a, base_url=emulator.base_url)
            cb = twinkey.openai.async_client(b, base_url=emulator.base_url)
            emulator.set_state(key_id, "key-one", "REVOKED")
            await ca.chat.completions.create(model=MODEL, messages=MESSAGES)
            for _ in range(100):
                if b.current == "key-two":
                    break
                await asyncio.sleep(0.05)
            results = await asyncio.gather(
                *(cb.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in range(8))
            )
            assert all(r.choices for r in results)

    asyncio.run(main())
    assert emulator.counts(key_id)["key-one"]["rejected"] == 1


def test_the_budget_is_leased_and_redis_going_away_costs_no_request(emulator: Emulator, redis: Redis) -> None:
    _, key = emulator.new_key(displayName="python-fleet-budget")
    budget = {"tokensPerMinute": 100000, "policy": "wait", "maxWaitMs": 10000}
    a = twinkey.Engine(key, budget=budget)
    client = twinkey.openai.client(a, base_url=emulator.base_url)
    with twinkey.fleet(a, redis.url, budget_slice=5000) as fa:
        until("the budget shared", lambda: stats(fa)["budgetShared"])
        assert client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20).choices
        assert stats(fa)["leased"] >= 5000
        assert a.usage()["budget"]["fleet"]["attached"] is True
        redis.kill()
        for _ in range(5):
            assert client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20).choices
        until("the sharing detached", lambda: not stats(fa)["budgetShared"])
        assert stats(fa)["errors"] > 0


def test_bad_options_raise_coded_errors_without_the_password(emulator: Emulator) -> None:
    _, key = emulator.new_key(displayName="python-fleet-bad")
    engine = twinkey.Engine(key)
    with pytest.raises(twinkey.TwinkeyError) as bad_url:
        twinkey.fleet(engine, "http://user:hunter2-pass@127.0.0.1:1")
    assert bad_url.value.code == "INVALID_OPTIONS"
    assert "hunter2" not in str(bad_url.value) and "hunter2" not in repr(bad_url.value)
    with pytest.raises(twinkey.TwinkeyError) as bad_timeout:
        twinkey.fleet(engine, "redis://127.0.0.1:1", op_timeout_ms=0)
    assert bad_timeout.value.code == "INVALID_OPTIONS"
    no_id = twinkey.ApiKey(key.secrets[0], key.secrets[1])
    with pytest.raises(twinkey.TwinkeyError) as anonymous:
        twinkey.fleet(twinkey.Engine(no_id), "redis://127.0.0.1:1")
    assert anonymous.value.code == "INVALID_OPTIONS"
    # Nothing listens there: the link counts errors, the engine serves.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with twinkey.fleet(engine, f"redis://u:hunter2-pass@127.0.0.1:{port}") as f:
        until("errors counted", lambda: stats(f)["errors"] > 0)
        assert not stats(f)["connected"]
        assert "hunter2" not in repr(f)
        client = twinkey.openai.client(engine, base_url=emulator.base_url)
        assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices
