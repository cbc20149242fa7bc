"""The package surface: imports stay light, the stubs and the runtime agree on names."""

from __future__ import annotations

import subprocess
import sys

import twinkey
import twinkey._native


def test_import_needs_no_http_library() -> None:
    code = (
        "import sys, twinkey\n"
        "from twinkey import *\n"
        "loaded = [m for m in ('httpx', 'httpx2', 'openai') if m in sys.modules]\n"
        "assert loaded == [], loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_resolve() -> None:
    for name in twinkey.__all__:
        assert getattr(twinkey, name) is not None, name
    for name in twinkey._LAZY:
        assert name in dir(twinkey)
    assert set(twinkey._native.__all__) <= set(dir(twinkey._native))


def test_classes_claim_the_native_module() -> None:
    for cls in (twinkey.Engine, twinkey.ApiKey, twinkey.Secret, twinkey.Signer, twinkey.StreamMonitor):
        assert cls.__module__ == "twinkey._native"
    assert twinkey.__version__ == twinkey.CORE_VERSION
