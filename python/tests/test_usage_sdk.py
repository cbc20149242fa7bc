"""Usage metering and the budget under the real openai SDK, against the emulator: what
``engine.usage()`` counts equals what the SDK itself parsed from each response, streamed or
not, Chat Completions or Responses; a ``fail_fast`` budget refuses before sending."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import twinkey
import twinkey.openai

from conftest import Emulator

MODEL = "openai.gpt-oss-120b"
MESSAGES: list[Any] = [{"role": "user", "content": "Count the tokens of this request."}]


def engine_for(emulator: Emulator, **options: Any) -> tuple[str, twinkey.Engine]:
    key_id, key = emulator.new_key(displayName="python-usage")
    return key_id, twinkey.Engine(key, clock=twinkey.ManualClock(), **options)


def totals(engine: twinkey.Engine) -> dict[str, int]:
    rows = engine.usage()["rows"]
    return {
        "requests": sum(r["requests"] for r in rows),
        "withoutUsage": sum(r["withoutUsage"] for r in rows),
        "inputTokens": sum(r["inputTokens"] for r in rows),
        "outputTokens": sum(r["outputTokens"] for r in rows),
    }


def test_sync_usage_equals_what_the_sdk_parsed(emulator: Emulator) -> None:
    _, engine = engine_for(emulator)
    client = twinkey.openai.client(engine, base_url=emulator.base_url)
    seen_in = seen_out = 0
    r = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=50)
    assert r.usage is not None
    seen_in, seen_out = seen_in + r.usage.prompt_tokens, seen_out + r.usage.completion_tokens
    with client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as chunks:
        for chunk in chunks:
            if chunk.usage is not None:
                seen_in, seen_out = (
                    seen_in + chunk.usage.prompt_tokens,
                    seen_out + chunk.usage.completion_tokens,
                )
    resp = client.responses.create(model=MODEL, input="Say hello.")
    assert resp.usage is not None
    seen_in, seen_out = seen_in + resp.usage.input_tokens, seen_out + resp.usage.output_tokens
    # A stream without include_usage is counted as a request without usage.
    with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as chunks:
        for _ in chunks:
            pass
    t = totals(engine)
    assert t == {"requests": 4, "withoutUsage": 1, "inputTokens": seen_in, "outputTokens": seen_out}, t
    report = engine.usage()
    endpoints = {r["endpoint"] for r in report["rows"]}
    assert endpoints == {"chat_completions", "responses"}
    assert all(r["status"] == 200 and r["secret"] == engine.current for r in report["rows"])
    assert sum(sum(m["tokens"]) for m in report["minutes"]) >= seen_in + seen_out
    assert report["budget"] is None


async def test_async_usage_equals_what_the_sdk_parsed(emulator: Emulator) -> None:
    _, engine = engine_for(emulator)
    client = twinkey.openai.async_client(engine, base_url=emulator.base_url)

    async def one(i: int) -> tuple[int, int]:
        if i % 2:
            r = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20 + i)
            assert r.usage is not None
            return r.usage.prompt_tokens, r.usage.completion_tokens
        got = (0, 0)
        chunks = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        async with chunks:
            async for chunk in chunks:
                if chunk.usage is not None:
                    got = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        return got

    results = await asyncio.gather(*(one(i) for i in range(16)))
    t = totals(engine)
    assert t["requests"] == 16 and t["withoutUsage"] == 0
    assert t["inputTokens"] == sum(r[0] for r in results)
    assert t["outputTokens"] == sum(r[1] for r in results)


def test_fail_fast_budget_refuses_before_sending(emulator: Emulator) -> None:
    events: list[twinkey.Event] = []
    key_id, key = emulator.new_key(displayName="python-budget")
    estimate = twinkey.request_facts(
        "/openai/v1/chat/completions",
        b'{"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":200}'
        % (MODEL.encode(), MESSAGES[0]["content"].encode()),
    )["estimate"]
    engine = twinkey.Engine(
        key,
        clock=twinkey.ManualClock(),
        on_event=events.append,
        budget={"tokensPerMinute": 3 * estimate, "policy": "fail_fast"},
    )
    client = twinkey.openai.client(engine, base_url=emulator.base_url, max_retries=0)
    sent = refused = 0
    for _ in range(12):
        try:
            client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=200)
            sent += 1
        except Exception as raised:  # openai 1.x wraps it (see conftest.raises_twinkey)
            e = twinkey.find_twinkey_error(raised)
            if not isinstance(e, twinkey.BudgetExceededError):
                raise
            assert e.code == "TPM_BUDGET_EXCEEDED" and e.scope == "key" and e.retry_after > 0
            refused += 1
    counts = emulator.counts(key_id)
    assert sum(c["requests"] for c in counts.values()) == sent, counts
    # The real usage is far below max_tokens: the refunds let more than three through.
    assert sent > 3 and refused > 0, (sent, refused)
    budget = engine.usage()["budget"]
    assert budget is not None and budget["refunded"] > 0
    assert budget["windows"][0]["used"] <= 3 * estimate
    assert any(e.kind == "budget_high_water" for e in events), events


def test_budget_events_are_logged(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    _, key = emulator.new_key(displayName="python-budget-log")
    engine = twinkey.Engine(key, clock=twinkey.ManualClock(), budget={"tokensPerMinute": 100})
    client = twinkey.openai.client(engine, base_url=emulator.base_url, max_retries=0)
    with caplog.at_level(logging.WARNING, logger="twinkey"):
        client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=90)
    assert any("budget" in r.getMessage() for r in caplog.records), caplog.records
    assert not any("sk-" in r.getMessage() for r in caplog.records)
