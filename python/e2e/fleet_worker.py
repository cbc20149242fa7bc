"""One Python process of a fleet, for the multi-process end-to-end test
(``test_fleet_processes.py``) and the demo: loads a key file, joins the fleet with
``twinkey.fleet``, prints ``{"ready": true, "origin": ...}``, waits for a line on stdin, then
sends ``requests`` chat completions, ``concurrency`` at a time, with the real async openai
client, and prints ``{"done": true, "ok", "failed", "errors", "stats"}``.

``python fleet_worker.py '{"keyFile": ..., "baseUrl": ..., "redis": ..., "origin": "py-1",
"requests": 250, "concurrency": 8, "maxTokens": 20, "budget": null}'``"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from fleet_support import send_chats

import twinkey
import twinkey.openai


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    key = twinkey.ApiKey.from_json(Path(config["keyFile"]).read_text())
    engine = twinkey.Engine(key, budget=config.get("budget"))
    with twinkey.fleet(engine, config["redis"], origin=config["origin"]) as fleet:
        end = time.monotonic() + 10
        while not (fleet.stats() or {}).get("connected") and time.monotonic() < end:
            time.sleep(0.02)
        print(json.dumps({"ready": True, "origin": fleet.origin}), flush=True)
        sys.stdin.readline()
        client = twinkey.openai.async_client(engine, base_url=config["baseUrl"])
        sent = send_chats(
            client, int(config["requests"]), int(config["concurrency"]), int(config.get("maxTokens", 20))
        )
        ok, errors = asyncio.run(sent)
        stats = fleet.stats()
        done = {"done": True, "ok": ok, "failed": len(errors), "errors": errors[:5], "stats": stats}
        print(json.dumps(done), flush=True)


if __name__ == "__main__":
    main()
