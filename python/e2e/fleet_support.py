"""What the fleet end-to-end test and the demo's fleet path share: a redis-server on loopback,
children that print JSON lines, and how to start each language's fleet worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Redis:
    """A redis-server on 127.0.0.1:``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < end, "redis-server did not start"
                time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait()


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
