"""The real openai SDK (whichever version this venv has) over twinkey, against the emulator.

The central proof: revoke the secret in use while 500 requests run 50 at a time, and not one
request fails; when neither secret is usable, the SDK raises twinkey's typed error.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

import twinkey
import twinkey.openai

from conftest import Emulator, raises_twinkey

MODEL = "openai.gpt-oss-120b"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello."}]
TOTAL, CONCURRENCY, REVOKE_AT = 500, 50, 100


def sdk_major() -> int:
    return int(openai.__version__.split(".")[0])


def test_the_helper_picks_the_sdk_transport() -> None:
    assert twinkey.openai.uses_httpx2() == (sdk_major() >= 3)


def new_engine(emulator: Emulator, events: list[twinkey.Event]) -> tuple[str, twinkey.Engine]:
    """An engine on a fresh emulator key. Its clock stands still, so a cooldown never ends
    during a test however slow the machine is."""
    key_id, key = emulator.new_key(displayName="python-sdk")
    return key_id, twinkey.Engine(key, on_event=events.append, clock=twinkey.ManualClock())


def check_failover(
    emulator: Emulator, key_id: str, first: str, engine: twinkey.Engine, events: list[twinkey.Event]
) -> None:
    other = next(s.name for s in engine.status() if s.name != first)
    counts = emulator.counts(key_id)
    # Every request was accepted exactly once; each rejected one was replayed on the other.
    assert counts[first]["accepted"] + counts[other]["accepted"] == TOTAL, counts
    assert counts[first]["rejected"] >= 1, counts
    assert counts[other]["rejected"] == 0, counts
    assert counts[first]["requests"] + counts[other]["requests"] == TOTAL + counts[first]["rejected"], counts
    failovers = [(e.secret, e.to) for e in events if e.kind == "failed_over"]
    assert failovers == [(first, other)], events
    assert engine.current == other
    assert engine.status()[first].reason == "cooling_down", engine.status()


def run_sync(emulator: Emulator, stream: bool) -> None:
    events: list[twinkey.Event] = []
    key_id, engine = new_engine(emulator, events)
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    first = engine.current
    revoked = threading.Event()
    lock = threading.Lock()
    done = [0]

    def one(_: int) -> str:
        with lock:
            done[0] += 1
            revoke = done[0] == REVOKE_AT
        if revoke:
            emulator.set_state(key_id, first, "REVOKED")
            revoked.set()
        if stream:
            text = ""
            with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as chunks:
                for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        text += chunk.choices[0].delta.content
            return text
        reply = client.chat.completions.create(model=MODEL, messages=MESSAGES)
        return reply.choices[0].message.content or ""

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(one, range(TOTAL)))
    assert revoked.is_set()
    assert len(results) == TOTAL and all(results), "every request answered"
    check_failover(emulator, key_id, first, engine, events)
    client.close()


async def run_async(emulator: Emulator, stream: bool) -> None:
    events: list[twinkey.Event] = []
    key_id, engine = new_engine(emulator, events)
    client = twinkey.openai.async_client(engine, base_url=emulator.base_url)
    first = engine.current
    gate = asyncio.Semaphore(CONCURRENCY)
    done = [0]

    async def one() -> str:
        async with gate:
            done[0] += 1
            if done[0] == REVOKE_AT:
                await asyncio.to_thread(emulator.set_state, key_id, first, "REVOKED")
            if stream:
                text = ""
                chunks = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
                async with chunks:
                    async for chunk in chunks:
                        if chunk.choices and chunk.choices[0].delta.content:
                            text += chunk.choices[0].delta.content
                return text
            reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            return reply.choices[0].message.content or ""

    results = await asyncio.gather(*(one() for _ in range(TOTAL)))
    assert len(results) == TOTAL and all(results), "every request answered"
    check_failover(emulator, key_id, first, engine, events)
    await client.close()


def test_sync_revoke_under_load(emulator: Emulator) -> None:
    run_sync(emulator, stream=False)


def test_sync_streaming_revoke_under_load(emulator: Emulator) -> None:
    run_sync(emulator, stream=True)


async def test_async_revoke_under_load(emulator: Emulator) -> None:
    await run_async(emulator, stream=False)


async def test_async_streaming_revoke_under_load(emulator: Emulator) -> None:
    await run_async(emulator, stream=True)


def revoke_both(emulator: Emulator, key_id: str) -> None:
    for name in ("key-one", "key-two"):
        emulator.set_state(key_id, name, "REVOKED")


def check_no_usable(error: twinkey.NoUsableSecretError) -> None:
    assert error.code == "NO_USABLE_SECRET"
    assert {r.secret for r in error.reasons} == {"key-one", "key-two"}
    assert all(r.reason == "cooling_down" for r in error.reasons)


def test_sync_no_usable_secret_is_typed(emulator: Emulator) -> None:
    events: list[twinkey.Event] = []
    key_id, engine = new_engine(emulator, events)
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices
    revoke_both(emulator, key_id)
    with raises_twinkey(twinkey.NoUsableSecretError) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    check_no_usable(info.value)
    before = emulator.counts(key_id)
    # Both secrets cool down now: the next call fails fast and sends nothing.
    with raises_twinkey(twinkey.NoUsableSecretError):
        client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    assert emulator.counts(key_id) == before
    assert [e.kind for e in events].count("no_usable_secret") == 1


async def test_async_no_usable_secret_is_typed(emulator: Emulator) -> None:
    events: list[twinkey.Event] = []
    key_id, engine = new_engine(emulator, events)
    client = twinkey.openai.async_client(engine, base_url=emulator.base_url)
    revoke_both(emulator, key_id)
    with raises_twinkey(twinkey.NoUsableSecretError) as info:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    check_no_usable(info.value)
    with raises_twinkey(twinkey.NoUsableSecretError):
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    await client.close()


def test_sdk_retries_are_kept_and_do_not_multiply(clean_faults: Emulator) -> None:
    """A 503 is the SDK's to retry (max_retries), not twinkey's: no switch, no replay."""
    emulator = clean_faults
    events: list[twinkey.Event] = []
    key_id, engine = new_engine(emulator, events)
    client = twinkey.openai.client(engine, base_url=emulator.base_url, max_retries=2)
    emulator.add_fault(route="chat/completions", status=503, times=2)
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices
    counts = emulator.counts(key_id)
    assert counts[engine.current]["requests"] == 3  # first try + the SDK's two retries
    assert engine.status()[engine.current].counters.inconclusive == 2
    assert events == []


def test_responses_api_streams_through(emulator: Emulator) -> None:
    events: list[twinkey.Event] = []
    _, engine = new_engine(emulator, events)
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    kinds = [event.type for event in client.responses.create(model=MODEL, input="hi", stream=True)]
    assert kinds[-1] == "response.completed"


def test_cut_stream_raises_stream_interrupted(clean_faults: Emulator) -> None:
    emulator = clean_faults
    _, engine = new_engine(emulator, [])
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    emulator.add_fault(route="chat/completions", cutAfterChunks=2)
    with pytest.raises(twinkey.StreamInterruptedError) as info:
        for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
            pass
    assert info.value.code == "STREAM_INTERRUPTED" and info.value.received > 0


async def test_async_cut_stream_raises_stream_interrupted(clean_faults: Emulator) -> None:
    emulator = clean_faults
    _, engine = new_engine(emulator, [])
    client = twinkey.openai.async_client(engine, base_url=emulator.base_url)
    emulator.add_fault(route="chat/completions", cutAfterChunks=2)
    with pytest.raises(twinkey.StreamInterruptedError):
        async for _ in await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
            pass
    await client.close()
