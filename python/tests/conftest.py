"""Shared fixtures: the local OCI emulator (`twinkey emulate`) as a subprocess on port 0."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

import twinkey

from vectors import ROOT, load

# The official OCI SDK is installed in the openai-3 venv only; elsewhere its cross-check is not
# collected (rather than reported as skipped).
collect_ignore = [] if importlib.util.find_spec("oci") else ["test_signing_oci.py"]


OPENAI_MAJOR = int(__import__("openai").__version__.split(".")[0])
E = TypeVar("E", bound=twinkey.TwinkeyError)


class Raised:
    """What :func:`raises_twinkey` caught."""

    value: Any = None


@contextmanager
def raises_twinkey(cls: type[E]) -> Iterator[Raised]:
    """Like ``pytest.raises(cls)`` for an error raised under the openai SDK: openai 2.x/3.x
    propagate twinkey's errors as raised; openai 1.x wraps them in ``APIConnectionError``
    (``twinkey.find_twinkey_error`` finds them)."""
    box = Raised()
    try:
        yield box
    except Exception as e:
        found = twinkey.find_twinkey_error(e)
        if not isinstance(found, cls):
            raise
        if OPENAI_MAJOR >= 2:
            assert e is found, f"openai {OPENAI_MAJOR}.x should raise twinkey's error as it is"
        box.value = found
        return
    pytest.fail(f"{cls.__name__} was not raised")


def emulator_binary() -> str:
    """`$TWINKEY_BIN`, else the workspace's debug or release build of `twinkey`."""
    explicit = os.environ.get("TWINKEY_BIN")
    if explicit:
        return explicit
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("debug", "release"):
        candidate = target / profile / "twinkey"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("twinkey")
    if found:
        return found
    pytest.fail("the emulator binary is missing: run `cargo build -p twinkey-cli` (or set TWINKEY_BIN)")


class Emulator:
    """A running `twinkey emulate` and its admin API (`/_emulator/`)."""

    def __init__(self, info: dict[str, Any], process: subprocess.Popen[str]) -> None:
        self.info = info
        self.process = process
        self.base_url: str = info["base_url"]
        self.admin_url: str = info["admin_url"]
        self.key_file: str = info["key_file"]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.admin_url}{path}", data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def new_key_document(self, **spec: Any) -> dict[str, Any]:
        """A fresh key served by the emulator, as its document with both secret values."""
        doc: dict[str, Any] = self.admin("POST", "/keys", spec)
        return doc

    def new_key(self, **spec: Any) -> tuple[str, twinkey.ApiKey]:
        doc = self.new_key_document(**spec)
        return doc["id"], twinkey.ApiKey.from_json(json.dumps(doc))

    def set_state(self, key_id: str, secret: str, state: str) -> None:
        self.admin("POST", f"/keys/{key_id}/setstate", {"keyName": secret, "state": state})

    def counts(self, key_id: str) -> dict[str, dict[str, int]]:
        """Per secret name: requests, accepted, rejected (all values of that secret)."""
        out: dict[str, dict[str, int]] = {}
        for row in self.admin("GET", "/counts")["secrets"]:
            if row["keyId"] == key_id:
                c = out.setdefault(row["secret"], {"requests": 0, "accepted": 0, "rejected": 0})
                for k in c:
                    c[k] += row[k]
        return out

    def add_fault(self, **fault: Any) -> None:
        self.admin("POST", "/faults", fault)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    workdir = tmp_path_factory.mktemp("emulator")
    log = (workdir / "emulator.log").open("w")
    process = subprocess.Popen(
        [emulator_binary(), "emulate", "--listen", "127.0.0.1:0", "--init", str(workdir / "keys"), "--json"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    first: list[str] = []
    reader = threading.Thread(
        target=lambda: first.append(process.stdout.readline() if process.stdout else "")
    )
    reader.start()
    reader.join(timeout=60)
    if not first or not first[0].strip():
        process.kill()
        pytest.fail(f"the emulator did not start; see {workdir / 'emulator.log'}")
    emu = Emulator(json.loads(first[0]), process)
    try:
        yield emu
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def clean_faults(emulator: Emulator) -> Iterator[Emulator]:
    emulator.clear_faults()
    try:
        yield emulator
    finally:
        emulator.clear_faults()


@pytest.fixture(scope="session")
def oci_signer(emulator: Emulator) -> twinkey.Signer:
    """The principal `twinkey emulate --init` wrote (DIR/oci/config, profile DEFAULT)."""
    return twinkey.Signer.from_config(emulator.info["oci_config"], emulator.info["oci_profile"])


@pytest.fixture(scope="session")
def control_plane(emulator: Emulator, oci_signer: twinkey.Signer) -> twinkey.ControlPlane:
    return twinkey.ControlPlane(oci_signer, endpoint=emulator.info["control_plane"])


@pytest.fixture(scope="session")
def async_control_plane(emulator: Emulator, oci_signer: twinkey.Signer) -> twinkey.AsyncControlPlane:
    return twinkey.AsyncControlPlane(oci_signer, endpoint=emulator.info["control_plane"])


@pytest.fixture(scope="session")
def tenancy(emulator: Emulator) -> str:
    """The tenancy of the emulator's principal: its root compartment."""
    value: str = emulator.info["tenancy"]
    return value


TEST_KEY = load("signing", "keys.json")["keys"]["rsa2048-pkcs1"]
TEST_KEY_ID = (
    "ocid1.tenancy.oc1..aaaaaaaatwinkeytesttenancy/ocid1.user.oc1..aaaaaaaatwinkeytestuser/"
    + TEST_KEY["fingerprint"]
)


@pytest.fixture(scope="session")
def signer() -> twinkey.Signer:
    """A user-principal signer with the vectors' test-only RSA-2048 key."""
    return twinkey.Signer.from_pem(TEST_KEY_ID, TEST_KEY["private_key_pem"])
