"""The demo's fleet path: three processes on one key (the Rust, Python and Node fleet workers)
share a redis-server started here on loopback. They send REQUESTS in all, CONCURRENCY each at a
time, under one shared budget; a third of the way through, the secret in use is revoked in the
emulator. Prints what each process did, the rejected round trips with the revoked secret (the
fleet pays for what was in flight, not one per process), the shared budget's leases and the
fleet's usage totals as ``twinkey usage --redis`` reads them. Exits 1 if a request failed.

``python fleet_demo.py --twinkey BIN --base-url URL --admin-url URL --key-file FILE
[--requests 300] [--concurrency 4]``"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from pathlib import Path

from fleet_support import EmuAdmin, Proc, Redis, worker_args

LIMIT = 60_000


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--twinkey", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--admin-url", required=True)
    p.add_argument("--key-file", required=True)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=4)
    a = p.parse_args()

    emu = EmuAdmin(a.admin_url, json.loads(Path(a.key_file).read_text())["id"])
    key_id = emu.key_id

    redis = Redis()
    workers: list[Proc] = []
    per = a.requests // 3
    budget = {"tokensPerMinute": LIMIT, "policy": "wait", "maxWaitMs": 60_000}
    try:
        for kind in ("rust", "python", "node"):
            config = {
                "keyFile": a.key_file,
                "baseUrl": a.base_url,
                "redis": redis.url,
                "origin": f"{kind}-demo",
                "requests": per,
                "concurrency": a.concurrency,
                "maxTokens": 20,
                "budget": budget,
            }
            args, cwd = worker_args(kind)
            workers.append(Proc([*args, json.dumps(config)], cwd=cwd))
        for w in workers:
            w.wait_line("ready", 60)
        time.sleep(0.5)
        # 100 ms per answer, so the revocation lands in the middle of the traffic.
        emu.admin("POST", "/faults", {"route": "*", "latencyMs": 100})
        revoked: dict[str, int] = {}

        def revoke() -> None:
            while emu.of("requests") < per:
                time.sleep(0.01)
            emu.revoke("key-one")
            revoked["at"] = emu.of("requests")

        t = threading.Thread(target=revoke)
        t.start()
        start = time.monotonic()
        for w in workers:
            w.go()
        done = [w.wait_line("done", 300) for w in workers]
        elapsed = time.monotonic() - start
        t.join(timeout=30)
        emu.admin("DELETE", "/faults")
        print(f"Fleet: {3 * per} requests from 3 processes sharing {redis.url}, {elapsed:.1f} s")
        for d, kind in zip(done, ("Rust", "Python", "Node"), strict=True):
            s = d["stats"]
            print(
                f"  {kind:<6} ok {d['ok']:>4}  failed {d['failed']}  told the fleet {s['sent']}  "
                f"learned from it {s['applied']}  leased {s['leased']} tokens"
            )
        rejected = emu.of("rejected", "key-one")
        in_flight = 3 * a.concurrency
        print(
            f"  key-one revoked after {revoked.get('at', '?')} requests: {rejected} rejected round trip(s) "
            f"in the whole fleet (at most the {in_flight} in flight)"
        )
        time.sleep(1.2)  # one more round of the usage counters
        leased = sum(d["stats"]["leased"] for d in done)
        print(f"  shared budget: {leased} tokens leased in all from one {LIMIT}-token-per-minute pool")
        usage = subprocess.run(
            [a.twinkey, "--json", "usage", "--redis", redis.url, "--key-id", key_id],
            capture_output=True,
            text=True,
        )
        if usage.returncode == 0:
            rows = json.loads(usage.stdout.splitlines()[0])["rows"]
            total = sum(r["requests"] for r in rows)
            tokens = sum(r["totalTokens"] for r in rows)
            print(f"  twinkey usage --redis: {total} requests, {tokens} tokens counted fleet-wide so far")
        failed = sum(d["failed"] for d in done)
        for d in done:
            for e in d["errors"]:
                print(f"  error: {e}")
        return 1 if failed or rejected > in_flight else 0
    finally:
        for w in workers:
            w.stop()
        redis.kill()


if __name__ == "__main__":
    raise SystemExit(main())
