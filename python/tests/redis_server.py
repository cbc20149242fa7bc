"""A redis-server of a test's own (Debian's package) on 127.0.0.1, for the fleet tests
(``test_fleet.py``) and the fleet end-to-end test and demo (``python/e2e/``)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Redis:
    """A redis-server on 127.0.0.1:``port`` (a free one by default), without persistence."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < end, "redis-server did not start"
                time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """Kills the server (also a stopped one) and waits for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait()
