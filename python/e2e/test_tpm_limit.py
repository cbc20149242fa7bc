"""End to end against the emulator's real tokens-per-minute limit (``twinkey emulate
--tokens-per-minute``), with the real openai SDK: 16 requests at a time push three times the
limit's worth of tokens through; with the ``wait`` policy none fails and the emulator answers
no 429 (the budget holds requests back for the two minutes this takes); with ``fail_fast``
every refused request raises ``TPM_BUDGET_EXCEEDED`` and reaches nothing.

Slow by nature (the minute is real): run by scripts/ci/tpm.sh, not by the unit test run."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import twinkey
import twinkey.openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import emulator_binary

LIMIT = 600
MODEL = "openai.gpt-oss-120b"
MESSAGES: list[Any] = [{"role": "user", "content": "Please count slowly from one to twenty."}]
CONCURRENCY = 16


class Emu:
    def __init__(self, info: dict[str, Any]) -> None:
        self.base_url: str = info["base_url"]
        self.admin_url: str = info["admin_url"]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.admin_url}{path}", data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def new_engine(self, name: str, budget: dict[str, Any]) -> tuple[str, twinkey.Engine]:
        doc = self.admin("POST", "/keys", {"displayName": name})
        return doc["id"], twinkey.Engine(twinkey.ApiKey.from_json(json.dumps(doc)), budget=budget)

    def requests_of(self, key_id: str) -> int:
        return sum(r["requests"] for r in self.admin("GET", "/counts")["secrets"] if r["keyId"] == key_id)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emu]:
    work = tmp_path_factory.mktemp("tpm")
    process = subprocess.Popen(
        [
            emulator_binary(),
            "--json",
            "emulate",
            "--listen",
            "127.0.0.1:0",
            "--init",
            str(work / "keys"),
            "--tokens-per-minute",
            str(LIMIT),
        ],
        stdout=subprocess.PIPE,
        stderr=(work / "emulator.log").open("w"),
        text=True,
    )
    first: list[str] = []
    reader = threading.Thread(
        target=lambda: first.append(process.stdout.readline() if process.stdout else "")
    )
    reader.start()
    reader.join(timeout=60)
    assert first and first[0].strip(), "the emulator did not start"
    try:
        yield Emu(json.loads(first[0]))
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_wait_pushes_three_limits_through_without_a_429(emu: Emu) -> None:
    key_id, engine = emu.new_engine(
        "tpm-wait", {"tokensPerMinute": LIMIT, "policy": "wait", "maxWaitMs": 150_000}
    )
    client = twinkey.openai.async_client(engine, base_url=emu.base_url, max_retries=0)
    totals = {"tokens": 0, "ok": 0, "failed": 0, "issued": 0}
    errors: list[str] = []
    # Every request is the same: three minutes' worth of them (what fits the limit three times
    # over) are claimed by the workers, then nothing more is issued.
    per_request = twinkey.request_facts(
        "/openai/v1/chat/completions",
        json.dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": 30}).encode(),
    )["estimate"]
    planned = 3 * (LIMIT // per_request)

    async def worker() -> None:
        while totals["issued"] < planned:
            totals["issued"] += 1
            try:
                r = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=30)
                assert r.usage is not None
                totals["tokens"] += r.usage.total_tokens
                totals["ok"] += 1
            except Exception as e:
                totals["failed"] += 1
                errors.append(repr(e))
                return

    async def main() -> float:
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.monotonic() - start

    elapsed = asyncio.run(main())
    counts = emu.admin("GET", "/counts")
    print(
        f"wait: {totals['ok']} requests, {totals['tokens']} tokens in {elapsed:.1f} s; "
        f"emulator 429s {counts['rateLimited']}"
    )
    assert totals["failed"] == 0, errors[:3]
    assert counts["rateLimited"] == 0, counts
    assert totals["ok"] == planned
    assert totals["tokens"] >= 3 * LIMIT * 0.9, totals
    # Three limits' worth cannot pass in under two minutes: the budget did hold them back.
    assert elapsed > 110, elapsed
    assert emu.requests_of(key_id) == totals["ok"]


def test_fail_fast_refuses_without_sending(emu: Emu) -> None:
    key_id, engine = emu.new_engine("tpm-fail-fast", {"tokensPerMinute": LIMIT, "policy": "fail_fast"})
    client = twinkey.openai.async_client(engine, base_url=emu.base_url, max_retries=0)
    outcome = {"sent": 0, "refused": 0, "other": 0}

    async def one() -> None:
        try:
            await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=30)
            outcome["sent"] += 1
        except twinkey.BudgetExceededError as e:
            assert e.code == "TPM_BUDGET_EXCEEDED" and e.retry_after > 0
            outcome["refused"] += 1
        except Exception:
            outcome["other"] += 1

    async def main() -> None:
        sem = asyncio.Semaphore(CONCURRENCY)

        async def gated() -> None:
            async with sem:
                await one()

        await asyncio.gather(*(gated() for _ in range(60)))

    before = emu.admin("GET", "/counts")["rateLimited"]
    asyncio.run(main())
    print(f"fail_fast: {outcome}")
    assert outcome["other"] == 0, outcome
    assert outcome["refused"] > 0 and outcome["sent"] > 0, outcome
    assert emu.requests_of(key_id) == outcome["sent"], "a refused request reached the service"
    assert emu.admin("GET", "/counts")["rateLimited"] == before
