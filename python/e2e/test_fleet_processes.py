"""Fleets end to end, four real processes on one key: a Rust worker (``fleet_worker``
example), a Python worker (``fleet_worker.py``, openai-python), a Node worker
(``node/e2e/fleet-worker.mjs``, openai-node) and a ``twinkey relay`` (driven by this test through
openai-python with a server token), sharing a real ``redis-server`` started here on loopback,
against the emulator.

- Revocation and chaos: 1 000 requests, 32 in flight in all; Redis is stopped (SIGSTOP) for
  2 s, killed and replaced by an empty one during the traffic, then the secret in use is revoked
  in the emulator: no request fails, and the fleet's rejected round trips with the revoked
  secret stay within what was in flight (the others switch before they send).
- Shared budget: the four processes, each with the key's 1 200-token limit, together want about
  1.6 minutes' worth of tokens: the emulator, enforcing the same limit, answers no 429.

Slow by nature (the budget's minute is real): run by scripts/ci/fleet.sh, not by the unit test
run."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import openai
import pytest

import twinkey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fleet_support import EmuAdmin, Proc, Redis, free_port, send_chats, worker_args

from conftest import emulator_binary

MODEL = "openai.gpt-oss-120b"
PER_PROCESS = 250
CONCURRENCY = 8
LIMIT = 1200


class Emu(EmuAdmin):
    """A ``twinkey emulate`` of the test's own (with a tokens-per-minute limit, if given)."""

    def __init__(self, tmp: Path, tokens_per_minute: int | None) -> None:
        args = [emulator_binary(), "--json", "emulate", "--listen", "127.0.0.1:0", "--init", str(tmp / "emu")]
        if tokens_per_minute:
            args += ["--tokens-per-minute", str(tokens_per_minute)]
        self.proc = Proc(args)
        self.info = self.proc.wait_line("base_url", 60)
        self.base_url: str = self.info["base_url"]
        self.key_file: str = self.info["key_file"]
        super().__init__(self.info["admin_url"], self.info["keys"][0]["id"])


def stop_all(workers: list[Proc], relay: Proc | None, emu: Emu, redis: Redis) -> None:
    for p in [*workers, *([relay] if relay else []), emu.proc]:
        p.stop()
    redis.kill()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


def start_fleet(
    tmp: Path, emu: Emu, redis: Redis, budget: dict[str, Any] | None, requests: int, max_tokens: int
) -> tuple[list[Proc], Proc, str]:
    """The three workers and the relay, all ready; answers them and a server token."""
    workers = []
    for kind in ("rust", "python", "node"):
        config = {
            "keyFile": emu.key_file,
            "baseUrl": emu.base_url,
            "redis": redis.url,
            "origin": f"{kind}-worker",
            "requests": requests,
            "concurrency": CONCURRENCY,
            "maxTokens": max_tokens,
            "budget": budget,
        }
        args, cwd = worker_args(kind)
        workers.append(Proc([*args, json.dumps(config)], cwd=cwd))
    token_keys = tmp / "token-keys.json"
    bin_ = emulator_binary()
    subprocess.run([bin_, "token", "keygen", "--out", str(token_keys)], check=True, capture_output=True)
    relay_args = [
        bin_, "--json", "relay", "--key", emu.key_file, "--token-key", str(token_keys),
        "--listen", "127.0.0.1:0", "--upstream", emu.base_url, "--no-admin", "--redis", redis.url,
    ]  # fmt: skip
    if budget:
        relay_args += ["--budget", json.dumps(budget)]
    relay = Proc(relay_args)
    relay.wait_line("base_url", 60)
    minted = subprocess.run(
        [bin_, "token", "mint", "--token-key", str(token_keys), "--model", "*", "--ttl", "900"],
        check=True,
        capture_output=True,
        text=True,
    )
    for w in workers:
        w.wait_line("ready", 60)
    time.sleep(0.5)  # the subscriptions settle
    return workers, relay, minted.stdout.strip()


def run_traffic(
    workers: list[Proc], relay: Proc, token: str, requests: int, max_tokens: int
) -> tuple[list[dict[str, Any]], tuple[int, list[str]]]:
    for w in workers:
        w.go()
    client = openai.AsyncOpenAI(base_url=relay.lines[0]["base_url"], api_key=token)
    relayed = asyncio.run(send_chats(client, requests, CONCURRENCY, max_tokens))
    done = [w.wait_line("done", 300) for w in workers]
    return done, relayed


def test_four_processes_share_a_revocation_through_redis_chaos(tmp: Path) -> None:
    emu = Emu(tmp, None)
    port = free_port()
    redis = Redis(port)
    workers: list[Proc] = []
    relay = None
    log: list[str] = []
    try:
        workers, relay, token = start_fleet(tmp, emu, redis, None, PER_PROCESS, 20)
        # 300 ms per answer: the 1 000 requests take about 10 s, long enough for the chaos.
        emu.admin("POST", "/faults", {"route": "*", "latencyMs": 300})
        state: dict[str, Any] = {"redis": redis}

        def chaos() -> None:
            def total() -> int:
                return int(emu.counts()["total"])

            while total() < 150:
                time.sleep(0.01)
            state["redis"].process.send_signal(signal.SIGSTOP)
            log.append(f"SIGSTOP at {total()} requests")
            time.sleep(2)
            state["redis"].kill()
            log.append(f"killed at {total()}")
            state["redis"] = Redis(port)
            log.append(f"a new empty redis-server at {total()}")
            restarted = time.monotonic()
            while total() < 550 or time.monotonic() - restarted < 3:
                time.sleep(0.01)
            emu.revoke("key-one")
            state["revoked_at"] = total()
            log.append(f"key-one revoked at {state['revoked_at']}")

        t = threading.Thread(target=chaos)
        t.start()
        done, (relay_ok, relay_errors) = run_traffic(workers, relay, token, PER_PROCESS, 20)
        t.join(timeout=120)
        rejected = emu.of("rejected", "key-one")
        accepted = emu.of("accepted")
        print("\n".join(log))
        for d in done:
            print(json.dumps({k: d[k] for k in ("ok", "failed", "errors")}), json.dumps(d["stats"]))
        print(f"relay: {relay_ok} ok, {len(relay_errors)} failed")
        print(f"key-one rejected {rejected}; accepted {accepted}")
        assert "revoked_at" in state, log
        assert all(d["failed"] == 0 for d in done), done
        assert relay_errors == [], relay_errors[:3]
        assert sum(d["ok"] for d in done) + relay_ok == 4 * PER_PROCESS
        assert accepted == 4 * PER_PROCESS
        # The rejected round trips: at most what was in flight when the secret was revoked.
        assert 1 <= rejected <= 4 * CONCURRENCY, rejected
        assert all(d["stats"]["errors"] > 0 for d in done), "every process met Redis away"
        state["redis"].kill()
    finally:
        stop_all(workers, relay, emu, redis)


def test_four_processes_share_one_budget_without_a_429(tmp: Path) -> None:
    emu = Emu(tmp, LIMIT)
    redis = Redis(free_port())
    workers: list[Proc] = []
    relay = None
    budget = {"tokensPerMinute": LIMIT, "policy": "wait", "maxWaitMs": 150_000}
    body = {
        "model": MODEL,
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "Say hello to the fleet."}],
    }
    estimate = twinkey.request_facts("/openai/v1/chat/completions", json.dumps(body).encode())["estimate"]
    # About 1.6 minutes' worth in all; each process alone would fit its own budget at once.
    per_process = -(-int(1.6 * LIMIT) // (4 * estimate))
    try:
        workers, relay, token = start_fleet(tmp, emu, redis, budget, per_process, 20)
        start = time.monotonic()
        done, (relay_ok, relay_errors) = run_traffic(workers, relay, token, per_process, 20)
        elapsed = time.monotonic() - start
        counts = emu.counts()
        for d in done:
            print(json.dumps({k: d[k] for k in ("ok", "failed", "errors")}), json.dumps(d["stats"]))
        print(f"relay: {relay_ok} ok; {4 * per_process} requests in {elapsed:.1f} s")
        print(f"emulator 429s {counts['rateLimited']}")
        assert all(d["failed"] == 0 for d in done), done
        assert relay_errors == [], relay_errors[:3]
        assert counts["rateLimited"] == 0, counts
        assert sum(d["ok"] for d in done) + relay_ok == 4 * per_process
        assert all(d["stats"]["leased"] > 0 for d in done), done
        # Together they wanted more than a minute's worth: the shared budget held some back.
        assert elapsed > 55, elapsed
    finally:
        stop_all(workers, relay, emu, redis)
