"""Loading the shared vectors in tests/vectors/ (format: tests/vectors/README.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("TWINKEY_ROOT", Path(__file__).resolve().parents[2]))
VECTORS = ROOT / "tests" / "vectors"


def load(*parts: str) -> Any:
    return json.loads((VECTORS.joinpath(*parts)).read_text(encoding="utf-8"))


def files(folder: str) -> list[Path]:
    return sorted((VECTORS / folder).glob("*.json"))


def subset(expected: Any, actual: Any) -> bool:
    """``expected`` is a subset of ``actual`` (objects: every expected field equal)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)
