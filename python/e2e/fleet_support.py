"""What the fleet end-to-end test and the demo's fleet path share: a redis-server on loopback,
children that print JSON lines, and how to start each language's fleet worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from redis_server import Redis, free_port  # noqa: E402

__all__ = ["EmuAdmin", "Proc", "Redis", "free_port", "send_chats", "worker_args"]


class Proc:
    """A child that prints JSON lines (the first one when it is ready); stdin is kept open."""

    def __init__(self, args: list[str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd
        )
        self.lines: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip().startswith("{"):
                with self.cond:
                    self.lines.append(json.loads(line))
                    self.cond.notify_all()

    def wait_line(self, key: str, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [x for x in self.lines if key in x]
                if found:
                    return found[0]
                exited = self.process.poll()
                assert exited is None and time.monotonic() < end, (
                    f"{self.process.args!r} gave no {key!r} line (exit {exited})"
                )
                self.cond.wait(0.2)

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def worker_args(kind: str) -> tuple[list[str], Path | None]:
    if kind == "rust":
        explicit = os.environ.get("TWINKEY_FLEET_WORKER")
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        return [explicit or str(target / "debug" / "examples" / "fleet_worker")], None
    if kind == "python":
        return [sys.executable, str(HERE / "fleet_worker.py")], None
    return ["node", str(ROOT / "node" / "e2e" / "fleet-worker.mjs")], ROOT / "node"


class EmuAdmin:
    """The emulator's admin API (``/_emulator/``) for one key."""

    def __init__(self, admin_url: str, key_id: str) -> None:
        self.admin_url = admin_url
        self.key_id = key_id

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.admin_url}{path}", data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def counts(self) -> dict[str, Any]:
        c: dict[str, Any] = self.admin("GET", "/counts")
        return c

    def of(self, field: str, secret: str | None = None) -> int:
        """A counter (requests, accepted, rejected) of the key, of one secret or both."""
        rows = self.counts()["secrets"]
        return sum(r[field] for r in rows if r["keyId"] == self.key_id and secret in (None, r["secret"]))

    def revoke(self, secret: str) -> None:
        self.admin("POST", f"/keys/{self.key_id}/setstate", {"keyName": secret, "state": "REVOKED"})


async def send_chats(client: Any, requests: int, concurrency: int, max_tokens: int) -> tuple[int, list[str]]:
    """Sends ``requests`` chat completions through an async openai client, ``concurrency`` at a
    time; answers how many succeeded and the errors of the others."""
    queue = iter(range(requests))
    errors: list[str] = []
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for _ in queue:
            try:
                await client.chat.completions.create(
                    model="openai.gpt-oss-120b",
                    max_tokens=max_tokens,
                    messages=[{"role": "user", "content": "Say hello to the fleet."}],
                )
                ok += 1
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors
