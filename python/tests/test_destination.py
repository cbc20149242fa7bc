"""Where a secret may be sent: the shared destination vectors, the openai client's default base
URL (the key's region, never the SDK's own host) and redirects (httpx follows them, without
the secret when the origin changes; a same-origin hop stays on an allowed host)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import twinkey
import twinkey.openai

from conftest import raises_twinkey
from vectors import load

V = load("destination", "cases.json")


def _engine(key: dict[str, Any], allowed: list[str] | None = None) -> twinkey.Engine:
    return twinkey.Engine(twinkey.ApiKey.from_json(json.dumps(key)), allowed_hosts=allowed)


@pytest.mark.parametrize("case", V["cases"], ids=lambda c: c["name"])
def test_destination_vectors(case: dict[str, Any]) -> None:
    engine = _engine(V["key"], case.get("allowedHosts"))
    try:
        engine.check_destination(case["url"])
        got = "ok"
    except twinkey.TwinkeyError as e:
        got = e.code
        assert "/openai/v1/" not in str(e), "the path is not shown"
    assert got == case["expect"]
    if got != "ok":
        with pytest.raises(twinkey.EngineError):
            engine.begin_for(case["url"])


@pytest.mark.parametrize("case", V["options"], ids=lambda c: c["name"])
def test_allowed_hosts_option(case: dict[str, Any]) -> None:
    try:
        _engine(V["key"], case["allowedHosts"])
        got = "ok"
    except twinkey.TwinkeyError as e:
        got = e.code
    assert got == case["expect"]


@pytest.mark.parametrize("case", V["defaultBase"], ids=lambda c: c["name"])
def test_default_base_url(case: dict[str, Any]) -> None:
    assert _engine(case["key"]).default_base_url == case["expect"]


def test_the_client_defaults_to_the_keys_region_not_the_sdks_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    engine = _engine(V["defaultBase"][0]["key"])
    client = twinkey.openai.client(engine)
    assert str(client.base_url) == V["defaultBase"][0]["expect"] + "/"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/openai/v1")
    assert str(twinkey.openai.client(engine).base_url).startswith("http://127.0.0.1:9/")


def test_a_foreign_base_url_sends_nothing() -> None:
    engine = _engine(V["key"])
    client = twinkey.openai.client(engine, base_url="https://api.openai.com/v1", max_retries=0)
    with raises_twinkey(twinkey.TwinkeyError) as raised:
        client.models.list()
    assert raised.value.code == "DESTINATION_NOT_ALLOWED"
    assert "sk-destination" not in str(raised.value)
    assert engine.status()["key-one"].counters.attempts == 0


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records the Authorization of each request; the first server redirects to the second."""

    seen: ClassVar[dict[str, list[str | None]]] = {"first": [], "second": []}
    target: ClassVar[str] = ""

    def do_GET(self) -> None:
        first = self.server.server_address[1] != int(type(self).target.rsplit(":", 1)[1] or 0)
        type(self).seen["first" if first else "second"].append(self.headers.get("Authorization"))
        if first:
            self.send_response(307)
            self.send_header("Location", f"{type(self).target}/openai/v1/models")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            body = b'{"object": "list", "data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def redirecting() -> Iterator[str]:
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    # Another origin (other port, other host name): where a redirect may lead.
    _Recorder.target = f"http://localhost:{servers[1].server_address[1]}"
    _Recorder.seen = {"first": [], "second": []}
    try:
        yield f"http://127.0.0.1:{servers[0].server_address[1]}/openai/v1"
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def test_a_redirect_to_another_origin_carries_no_secret(redirecting: str) -> None:
    engine = _engine(V["key"])
    client = twinkey.openai.client(engine, base_url=redirecting, max_retries=0)
    assert client.models.list().data == []
    assert _Recorder.seen["first"][0] is not None
    assert _Recorder.seen["first"][0].startswith("Bearer sk-destination-")
    assert _Recorder.seen["second"] == [None], "the redirected request went without the secret"


async def test_async_redirects_carry_no_secret_either(redirecting: str) -> None:
    engine = _engine(V["key"])
    client = twinkey.openai.async_client(engine, base_url=redirecting, max_retries=0)
    assert (await client.models.list()).data == []
    assert _Recorder.seen["second"] == [None]
