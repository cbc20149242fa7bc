"""Runs README.md's Python quick start, as written, against a fresh emulator.

    python run_readme_quickstart.py --python VENV/bin/python --emulator target/debug/twinkey

The ```python blocks under "## Python quick start", joined in order (the later ones continue
the first), are run by the given interpreter (a fresh venv with the wheel and openai installed)
in a temporary directory where the emulator wrote `.twinkey-emulator/` (key.json and an OCI
config for its control plane); `TWINKEY_EMULATOR` points it at the emulator's port. Exits
non-zero unless the quick start ran, it failed over, the rotation finished and no secret value
(old or renewed) was printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quickstart_code() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python quick start", 1)
    if len(section) != 2:
        sys.exit("README.md has no '## Python quick start' section")
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.M)[0]
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    if not blocks:
        sys.exit("the Python quick start has no ```python block")
    return "\n".join(blocks)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--emulator", required=True)
    args = parser.parse_args()
    code = quickstart_code()
    with tempfile.TemporaryDirectory(prefix="twinkey-quickstart-") as tmp:
        emulator = subprocess.Popen(
            [
                args.emulator,
                "emulate",
                "--listen",
                "127.0.0.1:0",
                "--init",
                f"{tmp}/.twinkey-emulator",
                "--json",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            info = json.loads(emulator.stdout.readline())
            env = dict(os.environ, TWINKEY_EMULATOR=info["url"])
            run = subprocess.run(
                [args.python, "-c", code], cwd=tmp, env=env, capture_output=True, text=True, timeout=120
            )
            values: list[str] = []
            for doc_path in (Path(tmp, ".twinkey-emulator", "key.json"), Path(tmp, "renewed.json")):
                if doc_path.exists():
                    values += [k["key"] for k in json.loads(doc_path.read_text())["keys"] if k.get("key")]
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    checks = {
        "exit status 0": run.returncode == 0,
        "a fail-over event was printed": "failed_over" in run.stdout,
        "the rotation finished": "rotation done" in run.stdout,
        "no secret value printed": not any(v in run.stdout + run.stderr for v in values),
    }
    for what, ok in checks.items():
        print(f"quick start: {'ok' if ok else 'FAILED'}: {what}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
