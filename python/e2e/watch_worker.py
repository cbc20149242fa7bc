"""One Python application with a key watch, for the key-watch end-to-end test
(``test_watch_processes.py``): loads a key file, follows its key (``twinkey.watch``: the key
file, or the control plane through the emulator's OCI config), prints ``{"ready": true}`` after
the first look, and on a ``go`` line sends chat completions with the real openai client,
``concurrency`` at a time, until a ``stop`` line (a ``mark`` line records the count so far);
then prints ``{"done": true, "ok", "okAfterMark", "failed", "errors", "rejected", "watch"}``
(``rejected``: the engine's rejected round trips, i.e. 401s).

``python watch_worker.py '{"keyFile": ..., "baseUrl": ..., "watch": "file" | "controlPlane",
"ociConfig": ..., "endpoint": ..., "intervalMs": 300, "concurrency": 4}'``"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import twinkey
import twinkey.openai

MODEL = "openai.gpt-oss-120b"


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    engine = twinkey.Engine(twinkey.ApiKey.load(Path(config["keyFile"])))
    interval = int(config.get("intervalMs", 300))
    if config["watch"] == "file":
        watch = twinkey.watch(engine, file=config["keyFile"], interval_ms=interval)
    else:
        signer = twinkey.Signer.from_config(config["ociConfig"])
        cp = twinkey.ControlPlane(signer, endpoint=config["endpoint"])
        watch = twinkey.watch(engine, control_plane=cp, interval_ms=interval)
    end = time.monotonic() + 10
    while watch.stats().get("looks", 0) < 1 and time.monotonic() < end:
        time.sleep(0.02)
    print(json.dumps({"ready": True, "watch": watch.stats()}), flush=True)
    sys.stdin.readline()  # go
    client = twinkey.openai.client(engine, base_url=config["baseUrl"], max_retries=0)
    stop = threading.Event()
    lock = threading.Lock()
    counts: dict[str, Any] = {"ok": 0, "errors": []}

    def send() -> None:
        while not stop.is_set():
            try:
                client.chat.completions.create(
                    model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
                with lock:
                    counts["ok"] += 1
            except Exception as e:  # every failure is reported
                with lock:
                    counts["errors"].append(f"{type(e).__name__}: {e}")
                time.sleep(0.01)

    threads = [threading.Thread(target=send) for _ in range(int(config.get("concurrency", 4)))]
    for t in threads:
        t.start()
    mark = 0
    for line in sys.stdin:
        if line.strip() == "mark":
            with lock:
                mark = counts["ok"]
        elif line.strip() == "stop":
            break
    stop.set()
    for t in threads:
        t.join()
    rejected = sum(s.counters.rejected for s in engine.status().secrets)
    done = {
        "done": True,
        "ok": counts["ok"],
        "okAfterMark": counts["ok"] - mark,
        "failed": len(counts["errors"]),
        "errors": counts["errors"][:5],
        "rejected": rejected,
        "preferred": next((s.name for s in engine.status().secrets if s.preferred), None),
        "watch": watch.stats(),
    }
    watch.stop()
    print(json.dumps(done), flush=True)


if __name__ == "__main__":
    main()
