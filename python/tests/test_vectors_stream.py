"""The shared stream vectors (tests/vectors/stream/*.json) through StreamMonitor."""

from __future__ import annotations

from typing import Any

import pytest

import twinkey

from vectors import files, load


def run(kind: str, chunks: list[bytes], transport_error: str | None) -> dict[str, Any]:
    m = twinkey.StreamMonitor(kind)  # type: ignore[arg-type]
    for c in chunks:
        m.feed(c)
    try:
        termination = m.transport_error(transport_error) if transport_error is not None else m.finish()
    except twinkey.StreamInterruptedError as e:
        assert e.received == m.received
        return {"outcome": "interrupted", "error": e.code, "received": e.received, "events": m.events}
    assert m.terminal == termination
    return {"outcome": "ended", "termination": termination, "events": m.events}


def cases() -> list[Any]:
    return [
        pytest.param(case, id=f"{f.stem}: {case['name']}")
        for f in files("stream")
        for case in load("stream", f.name)["cases"]
    ]


@pytest.mark.parametrize("case", cases())
def test_stream_vector(case: dict[str, Any]) -> None:
    chunks = [c.encode() for c in case["chunks"]]
    error = case.get("transportError")
    assert run(case["kind"], chunks, error) == case["expect"]
    whole = b"".join(chunks)
    for at in range(len(whole) + 1):
        assert run(case["kind"], [whole[:at], whole[at:]], error) == case["expect"], f"split at {at}"
    assert run(case["kind"], [whole[i : i + 1] for i in range(len(whole))], error) == case["expect"]


def test_monitor_for_response_follows_the_core() -> None:
    assert twinkey.StreamMonitor.for_response("application/json", "/openai/v1/chat/completions") is None
    assert twinkey.StreamMonitor.for_response(None, "/openai/v1/chat/completions") is None
    m = twinkey.StreamMonitor.for_response("text/event-stream; charset=utf-8", "/openai/v1/chat/completions")
    assert m is not None and m.kind == "chat_completions"
    r = twinkey.StreamMonitor.for_response("text/event-stream", "/20231130/actions/v1/responses")
    assert r is not None and r.kind == "responses"
    with pytest.raises(ValueError, match="unknown stream kind"):
        twinkey.StreamMonitor("nope")  # type: ignore[arg-type]
