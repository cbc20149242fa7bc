"""HttpxAuth / Httpx2Auth (and the signer adapters) with in-process mock transports.

Every test runs for each HTTP library installed in this venv (httpx, httpx2). The mock service
accepts only the secrets it is told to accept, like OCI.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import pytest

import twinkey

LIBS = [name for name in ("httpx", "httpx2") if importlib.util.find_spec(name) is not None]
URL = "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
SSE = [b'data: {"choices":[]}\n\n', b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n']
DONE = b"data: [DONE]\n\n"


@pytest.fixture(params=LIBS)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def auth_for(lib: ModuleType, engine: twinkey.Engine, **kw: Any) -> Any:
    cls = twinkey.Httpx2Auth if lib.__name__ == "httpx2" else twinkey.HttpxAuth
    return cls(engine, **kw)


def make_key(one: str = "ACTIVE", two: str = "ACTIVE") -> twinkey.ApiKey:
    return twinkey.ApiKey(
        twinkey.Secret("key-one", "sk-one-aaaa", state=one),
        twinkey.Secret("key-two", "sk-two-bbbb", state=two),
    )


class Service:
    """A fake OpenAI-compatible endpoint: accepts the bearer secrets in `accepted`."""

    def __init__(self, lib: ModuleType, accepted: set[str], mode: str = "json") -> None:
        self.lib, self.accepted, self.mode = lib, accepted, mode
        self.seen: list[tuple[str, bytes]] = []
        self.forbidden_code = "NotAuthenticated"

    def answer(self, request: Any, body: bytes) -> Any:
        secret = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append((secret, body))
        lib = self.lib
        if self.mode == "connect-error":
            raise lib.ConnectError("connection refused", request=request)
        if secret not in self.accepted:
            if self.mode == "forbidden":
                return lib.Response(403, json={"code": self.forbidden_code, "message": "no"})
            return lib.Response(401, json={"code": "NotAuthenticated", "message": "no"})
        if self.mode == "limited":
            return lib.Response(429, headers={"retry-after": "3"}, json={"code": "TooManyRequests"})
        if self.mode.startswith("sse"):
            return lib.Response(
                200, headers={"content-type": "text/event-stream"}, stream=self.stream(request)
            )
        return lib.Response(200, json={"ok": True, "secret": secret[:6]})

    def stream(self, request: Any) -> Any:
        chunks = list(SSE)
        if self.mode == "sse":
            chunks.append(DONE)
        lib, mode = self.lib, self.mode

        class Body(lib.SyncByteStream, lib.AsyncByteStream):  # type: ignore[name-defined,misc]
            def __iter__(self) -> Iterator[bytes]:
                yield from chunks
                if mode == "sse-reset":
                    raise lib.ReadError("connection reset", request=request)

            async def __aiter__(self) -> AsyncIterator[bytes]:
                for c in chunks:
                    yield c
                if mode == "sse-reset":
                    raise lib.ReadError("connection reset", request=request)

        return Body()

    def sync(self) -> Any:
        def handler(request: Any) -> Any:
            return self.answer(request, request.read())

        return self.lib.MockTransport(handler)

    def asynchronous(self) -> Any:
        async def handler(request: Any) -> Any:
            return self.answer(request, await request.aread())

        return self.lib.MockTransport(handler)


def client(lib: ModuleType, engine: twinkey.Engine, service: Service, **kw: Any) -> Any:
    return lib.Client(auth=auth_for(lib, engine, **kw), transport=service.sync())


def aclient(lib: ModuleType, engine: twinkey.Engine, service: Service, **kw: Any) -> Any:
    return lib.AsyncClient(auth=auth_for(lib, engine, **kw), transport=service.asynchronous())


def test_rejected_request_is_replayed_once_on_the_other_secret(lib: ModuleType) -> None:
    events: list[twinkey.Event] = []
    engine = twinkey.Engine(make_key(), on_event=events.append)
    service = Service(lib, {"sk-two-bbbb"})
    with client(lib, engine, service) as c:
        r = c.post(URL, json=BODY)
    assert r.status_code == 200 and r.json()["secret"] == "sk-two"
    assert [s for s, _ in service.seen] == ["sk-one-aaaa", "sk-two-bbbb"]
    assert service.seen[0][1] == service.seen[1][1] == json.dumps(BODY, separators=(",", ":")).encode()
    assert engine.current == "key-two"
    assert [e.kind for e in events][:2] == ["secret_rejected", "failed_over"]


def test_streaming_upload_is_buffered_for_the_replay(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-two-bbbb"})

    def upload() -> Iterator[bytes]:
        yield b"part one, "
        yield b"part two"

    with client(lib, engine, service) as c:
        assert c.post(URL, content=upload()).status_code == 200
    assert [b for _, b in service.seen] == [b"part one, part two"] * 2


async def test_async_replay(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-two-bbbb"})

    async def upload() -> AsyncIterator[bytes]:
        yield b"async body"

    async with aclient(lib, engine, service) as c:
        r = await c.post(URL, content=upload())
    assert r.status_code == 200
    assert service.seen == [("sk-one-aaaa", b"async body"), ("sk-two-bbbb", b"async body")]


def test_both_rejected_raises_no_usable_secret(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, set())
    with client(lib, engine, service) as c:
        with pytest.raises(twinkey.NoUsableSecretError) as info:
            c.post(URL, json=BODY)
        assert len(service.seen) == 2
        with pytest.raises(twinkey.NoUsableSecretError):
            c.post(URL, json=BODY)
        assert len(service.seen) == 2, "fails fast: nothing sent"
    assert info.value.code == "NO_USABLE_SECRET"
    assert {r.reason for r in info.value.reasons} == {"cooling_down"}


def test_unusable_key_sends_nothing(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key("INACTIVE", "REVOKED"))
    service = Service(lib, {"sk-one-aaaa"})
    with client(lib, engine, service) as c, pytest.raises(twinkey.NoUsableSecretError) as info:
        c.get(URL)
    assert service.seen == []
    assert sorted(r.reason for r in info.value.reasons) == ["inactive", "revoked"]


@pytest.mark.parametrize(("code", "replayed"), [("NotAuthenticated", True), ("NotAllowed", False)])
def test_forbidden_reads_the_body_only_when_asked(lib: ModuleType, code: str, replayed: bool) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-two-bbbb"}, mode="forbidden")
    service.forbidden_code = code
    with client(lib, engine, service) as c:
        r = c.get(URL)
    assert len(service.seen) == (2 if replayed else 1)
    if not replayed:
        assert r.status_code == 403 and r.json()["code"] == code, "the caller still gets the body"


def test_rate_limit_passes_through_without_switching(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-one-aaaa"}, mode="limited")
    with client(lib, engine, service) as c:
        assert c.get(URL).status_code == 429
    assert engine.current == "key-one"
    assert engine.status()["key-one"].counters.inconclusive == 1


def test_transport_error_abandons_the_attempt(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-one-aaaa"}, mode="connect-error")
    with client(lib, engine, service) as c, pytest.raises(lib.ConnectError):
        c.get(URL)
    st = engine.status()["key-one"]
    assert (st.counters.attempts, st.counters.inconclusive, st.usable) == (1, 1, True)


@pytest.mark.parametrize("mode", ["sse", "sse-cut", "sse-reset"])
def test_streams_pass_through_and_cuts_raise(lib: ModuleType, mode: str) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-one-aaaa"}, mode=mode)
    received = b""
    with client(lib, engine, service) as c, c.stream("POST", URL, json=BODY) as r:
        if mode == "sse":
            received = b"".join(r.iter_bytes())
        else:
            with pytest.raises(twinkey.StreamInterruptedError) as info:
                for chunk in r.iter_bytes():
                    received += chunk
            assert info.value.received == len(received)
            if mode == "sse-reset":
                assert isinstance(info.value.__cause__, lib.ReadError)
    assert received == b"".join(SSE) + (DONE if mode == "sse" else b"")


@pytest.mark.parametrize("mode", ["sse", "sse-cut"])
async def test_async_streams(lib: ModuleType, mode: str) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-one-aaaa"}, mode=mode)
    async with aclient(lib, engine, service) as c, c.stream("POST", URL, json=BODY) as r:
        if mode == "sse":
            assert b"".join([chunk async for chunk in r.aiter_bytes()]).endswith(DONE)
        else:
            with pytest.raises(twinkey.StreamInterruptedError):
                async for _ in r.aiter_bytes():
                    pass


def test_stream_watching_can_be_turned_off(lib: ModuleType) -> None:
    engine = twinkey.Engine(make_key())
    service = Service(lib, {"sk-one-aaaa"}, mode="sse-cut")
    with client(lib, engine, service, watch_streams=False) as c, c.stream("GET", URL) as r:
        assert b"".join(r.iter_bytes()) == b"".join(SSE)


def test_signer_auth_signs_what_is_sent(lib: ModuleType, signer: twinkey.Signer) -> None:
    sent: list[Any] = []

    def handler(request: Any) -> Any:
        sent.append(request)
        return lib.Response(200, json={})

    cls = twinkey.Httpx2SignerAuth if lib.__name__ == "httpx2" else twinkey.HttpxSignerAuth
    date = {"date": "Wed, 21 Jan 2026 10:00:00 GMT"}
    with lib.Client(auth=cls(signer), transport=lib.MockTransport(handler), headers=date) as c:
        c.post(URL, json=BODY)
        c.get(URL + "?a=b c")
    for request in sent:
        expected = signer.sign(request.method, str(request.url), dict(request.headers), request.content)
        assert request.headers["authorization"] == expected["authorization"]
        assert request.headers["authorization"].startswith('Signature version="1"')
    assert "x-content-sha256" in sent[0].headers and "x-content-sha256" not in sent[1].headers
