"""Key watch end to end (issue: running applications follow the key): a CLI ``twinkey rotate``
runs while a Python application (``watch_worker.py``, openai-python, following its key file)
and a Node application (``node/e2e/watch-worker.mjs``, openai-node, following the control plane)
send traffic, separate processes and no Redis, against ``twinkey emulate`` with a propagation
delay. The rotation renews the old secret too (``--renew-old``) and writes the key file the
Python application reads (``--secret-out`` = ``--key-file``). No request of theirs fails and
**none is rejected with 401**: both switch to key-two, which the rotation recorded on the key
and in the file, before key-one is retired; the emulator saw no 401 with key-one.

Run by scripts/ci/fleet.sh (with the other multi-process tests), not by the unit test run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fleet_support import ROOT, EmuAdmin, Proc

import twinkey

from conftest import emulator_binary

INTERVAL_MS = 300
# One look of either watch, its jitter (10 %) and a second for the look itself: what the
# runner's default grace is for the control plane's 30 s interval, scaled to this test's.
GRACE = "1400ms"


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def test_a_cli_rotation_reaches_python_and_node_applications_before_retiring(tmp_path: Path) -> None:
    bin_ = emulator_binary()
    emu = Proc([bin_, "--json", "emulate", "--listen", "127.0.0.1:0", "--init", str(tmp_path / "emu"),
                "--propagation-ms", "200"])  # fmt: skip
    workers: list[Proc] = []
    try:
        info = emu.wait_line("base_url", 60)
        key_id = info["keys"][0]["id"]
        admin = EmuAdmin(info["admin_url"], key_id)
        control = ["--config", info["oci_config"], "--endpoint", info["control_plane"]]
        key_file = Path(info["key_file"])
        # The documented starting point: key-one in use, key-two the INACTIVE standby, and the
        # application's key file saying so.
        subprocess.run([bin_, "keys", "set-state", key_id, "--secret", "key-two", "--state", "INACTIVE",
                        *control], check=True, capture_output=True)  # fmt: skip
        doc = json.loads(key_file.read_text())
        doc["keys"][1]["state"] = "INACTIVE"
        old_one = doc["keys"][0]["key"]
        key_file.write_text(json.dumps(doc))
        os.chmod(key_file, 0o600)
        time.sleep(0.5)  # the change reaches inference
        for kind, watch in (("python", "file"), ("node", "controlPlane")):
            config = {
                "keyFile": str(key_file), "baseUrl": info["base_url"], "watch": watch,
                "ociConfig": info["oci_config"], "endpoint": info["control_plane"],
                "intervalMs": INTERVAL_MS, "concurrency": 4,
            }  # fmt: skip
            if kind == "python":
                args, cwd = [sys.executable, str(Path(__file__).parent / "watch_worker.py")], None
            else:
                args, cwd = ["node", str(ROOT / "node" / "e2e" / "watch-worker.mjs")], ROOT / "node"
            workers.append(Proc([*args, json.dumps(config)], cwd=cwd))
        for w in workers:
            w.wait_line("ready", 60)
        for w in workers:
            w.go()
        time.sleep(1.5)
        before = admin.of("accepted", "key-one")
        assert before > 0, "traffic flows on key-one"
        started = time.monotonic()
        rotation = subprocess.run(
            [bin_, "rotate", key_id, "--key-file", str(key_file), "--secret-out", str(key_file),
             "--renew-old", "--watch-grace", GRACE, "--state-file", str(tmp_path / "rotation.json"),
             *control],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        took = time.monotonic() - started
        assert rotation.returncode == 0, rotation.stdout + rotation.stderr
        for w in workers:
            assert w.process.stdin is not None
            w.process.stdin.write("mark\n")
            w.process.stdin.flush()
        time.sleep(1.5)  # traffic goes on after key-one's retirement and renewal have propagated
        for w in workers:
            assert w.process.stdin is not None
            w.process.stdin.write("stop\n")
            w.process.stdin.flush()
        done = [w.wait_line("done", 60) for w in workers]
        # (key-two's rejections are the rotation's own probe, sent before its activation
        # propagated.)
        rejected_by_emulator = admin.of("rejected", "key-one")
        figures = {"rotationSeconds": round(took, 2), "workers": done, "key1Rejected": rejected_by_emulator}
        print(json.dumps(figures))
    finally:
        for w in workers:
            w.stop()
        emu.stop()
    for d in done:
        assert d["failed"] == 0, d
        assert d["rejected"] == 0, f"a 401 reached an application: {d}"
        assert d["okAfterMark"] > 0 and d["preferred"] == "key-two", d
        assert d["watch"]["errors"] == 0, d
    assert rejected_by_emulator == 0
    # The switch is recorded on the key and in the file; key-one was renewed and parked.
    final: dict[str, Any] = json.loads(key_file.read_text())
    assert final["freeformTags"]["twinkey-preferred"] == "key-two"
    assert final["freeformTags"]["twinkey-preferred-fingerprint"] == fingerprint(final["keys"][1]["key"])
    assert [k["state"] for k in final["keys"]] == ["INACTIVE", "ACTIVE"]
    assert final["keys"][0]["key"] != old_one
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "sk-" not in rotation.stdout + rotation.stderr
    _ = twinkey  # the extension the Python worker runs is this venv's
