"""Loopback chat completions through openai-python: twinkey's Httpx2Auth vs a plain api_key.

    python loopback.py REQUESTS EMULATOR_BINARY      # prints one JSON object

Starts the emulator (release build) on a free port and alternates, request by request, between
`twinkey.openai.client(engine)` (DefaultHttpx2Client with Httpx2Auth(engine)) and
`openai.OpenAI(api_key=<the same secret>)` on an identical DefaultHttpx2Client, so that load
drifts hit both alike; `chat.completions.create`, sequential, after a warm-up of 100 each.
Also measures the adapter's own cost: the same SDK call over an in-memory transport (no
network), with and without Httpx2Auth.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai

import twinkey
import twinkey.openai

MODEL = "openai.gpt-oss-120b"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello."}]


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1000


def alternate(a: Callable[[], Any], b: Callable[[], Any], n: int) -> tuple[list[float], list[float]]:
    for _ in range(100):
        a()
        b()
    ta, tb = [], []
    for i in range(n):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        x, y = timed(first), timed(second)
        if first is a:
            ta.append(x)
            tb.append(y)
        else:
            ta.append(y)
            tb.append(x)
    return ta, tb


def stats(plain: list[float], ours: list[float]) -> dict[str, float]:
    pm, tm = statistics.mean(plain), statistics.mean(ours)
    pmed, tmed = statistics.median(plain), statistics.median(ours)
    return {
        "plain_mean_us": pm,
        "plain_median_us": pmed,
        "twinkey_mean_us": tm,
        "twinkey_median_us": tmed,
        "overhead_mean_pct": (tm / pm - 1) * 100,
        "overhead_median_pct": (tmed / pmed - 1) * 100,
    }


def in_memory(n: int) -> dict[str, float]:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hello"}}
        ],
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    key = twinkey.ApiKey(twinkey.Secret("key-one", "sk-bench-one"), twinkey.Secret("key-two", "sk-bench-two"))
    engine = twinkey.Engine(key)
    ours = openai.OpenAI(
        base_url="http://bench.invalid/openai/v1",
        api_key="unused",
        http_client=httpx2.Client(auth=twinkey.Httpx2Auth(engine), transport=httpx2.MockTransport(handler)),
    )
    plain = openai.OpenAI(
        base_url="http://bench.invalid/openai/v1",
        api_key="sk-bench-one",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    tp, tt = alternate(
        lambda: plain.chat.completions.create(model=MODEL, messages=MESSAGES),
        lambda: ours.chat.completions.create(model=MODEL, messages=MESSAGES),
        n,
    )
    s = stats(tp, tt)
    return {f"memory_{k}": v for k, v in s.items()} | {
        "memory_cost_median_us": s["twinkey_median_us"] - s["plain_median_us"]
    }


def main() -> None:
    n, binary = int(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="twinkey-bench-") as tmp:
        emulator = subprocess.Popen(
            [binary, "emulate", "--listen", "127.0.0.1:0", "--init", f"{tmp}/keys", "--json"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            info = json.loads(emulator.stdout.readline())
            key_doc = json.loads(Path(info["key_file"]).read_text())
            secret = next(k["key"] for k in key_doc["keys"] if k["keyName"] == "key-one")
            engine = twinkey.Engine(twinkey.ApiKey.load(info["key_file"]), prefer="key-one")
            ours = twinkey.openai.client(engine, base_url=info["base_url"])
            plain = openai.OpenAI(
                base_url=info["base_url"], api_key=secret, http_client=openai.DefaultHttpx2Client()
            )
            tp, tt = alternate(
                lambda: plain.chat.completions.create(model=MODEL, messages=MESSAGES),
                lambda: ours.chat.completions.create(model=MODEL, messages=MESSAGES),
                n,
            )
            assert engine.status()["key-one"].counters.accepted == n + 100
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    out: dict[str, Any] = {"openai": openai.__version__, "httpx2": httpx2.__version__, "requests_per_way": n}
    out |= stats(tp, tt)
    out |= in_memory(n)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
