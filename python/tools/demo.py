"""The demo's Python path (`make demo`, scripts/demo.sh): the real openai SDK (openai-python 3.x,
httpx2) drives chat completions (every third one streamed) through `twinkey.openai.client`
against the emulator, from a pool of threads sharing one engine; half-way the secret in use is
revoked on the emulator, behind twinkey's back. Prints a report and exits non-zero if any
request failed.

    python python/tools/demo.py --base-url URL --admin-url URL --key-file FILE \\
        [--requests 300] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai

import twinkey
import twinkey.openai

MODEL = "openai.gpt-oss-120b"


def admin(base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    total, concurrency = args.requests, args.concurrency

    key = twinkey.ApiKey.load(args.key_file)
    key_id = key.id or ""
    events: list[twinkey.Event] = []
    engine = twinkey.Engine(key, on_event=events.append)
    client = twinkey.openai.client(engine, base_url=args.base_url)

    lock = threading.Lock()
    state: dict[str, Any] = {"done": 0, "succeeded": 0, "tokens": 0, "revoked": None}
    errors: list[str] = []

    def one(i: int) -> int:
        messages: list[Any] = [{"role": "user", "content": f"demo request {i}"}]
        if i % 3 == 2:
            tokens = 0
            stream = client.chat.completions.create(
                model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
            )
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        tokens = chunk.usage.total_tokens
            return tokens
        reply = client.chat.completions.create(model=MODEL, messages=messages)
        return reply.usage.total_tokens if reply.usage else 0

    def work(i: int) -> None:
        try:
            tokens = one(i)
            with lock:
                state["succeeded"] += 1
                state["tokens"] += tokens
        except Exception as error:
            code = getattr(error, "code", "")
            with lock:
                errors.append(f"request {i}: {code} {type(error).__name__}: {error}")
        with lock:
            state["done"] += 1
            revoke = state["done"] == total // 2 and state["revoked"] is None
            if revoke:
                secret = engine.current
                state["revoked"] = (secret, engine.status()[secret].fingerprint, state["done"])
        if revoke:
            admin(args.admin_url, "POST", f"/keys/{key_id}/setstate", {"keyName": secret, "state": "REVOKED"})

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(work, range(total)))
    elapsed = time.perf_counter() - started

    counts = [c for c in admin(args.admin_url, "GET", "/counts")["secrets"] if c["keyId"] == key_id]
    states = {k["keyName"]: k["state"] for k in admin(args.admin_url, "GET", f"/keys/{key_id}")["keys"]}
    status = engine.status()
    failovers = [f"{e.secret} -> {e.to}" for e in events if e.kind == "failed_over"]
    replays = sum(s.counters.rejected for s in status)
    revoked = state["revoked"]

    def line(label: str, value: object) -> None:
        print(f"  {label:<17}  {value}")

    print(
        f"Python (openai {openai.__version__} via twinkey.openai.client / Httpx2Auth, "
        f"Python {sys.version.split()[0]}): {total} requests, {concurrency} threads, {total // 3} streaming"
    )
    line("succeeded", state["succeeded"])
    line("failed", total - state["succeeded"])
    line("fail-overs", f"{len(failovers)}  ({', '.join(failovers)})")
    line(
        "extra round trips",
        f"{replays}  (one replay per request sent with the revoked secret before the switch)",
    )
    line("revoked", f"{revoked[0]} (fp {revoked[1]}) after {revoked[2]} requests" if revoked else "nothing")
    line("tokens (usage)", state["tokens"])
    for i, c in enumerate(counts):
        line(
            "emulator counts" if i == 0 else "",
            f"{c['secret']} (fp {c['fingerprint']}) {states.get(c['secret'], '?'):<8} "
            f"{c['requests']:>4} requests: {c['accepted']:>4} accepted, {c['rejected']:>3} rejected",
        )
    line("engine now uses", engine.current)
    line("elapsed", f"{elapsed:.2f} s")
    for e in errors[:10]:
        line("error", e)
    return 0 if not errors and state["succeeded"] == total else 1


if __name__ == "__main__":
    sys.exit(main())
