"""``httpx`` adapters (openai-python 1.x/2.x, ``oci-genai-auth``-style code, any httpx user).

``HttpxAuth(engine)`` puts the engine under an ``httpx.Client``/``httpx.AsyncClient``: each
request gets the usable secret, a request rejected for its secret is replayed once on the other
one, and a streamed response is passed through while its end is watched (a cut stream raises
``StreamInterruptedError``). ``HttpxSignerAuth(signer)`` signs each request with OCI IAM
instead (what ``oci-genai-auth`` does, without the ``oci`` package).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator

import httpx

from . import _flow
from ._native import Engine, Signer
from .errors import TwinkeyError

__all__ = ["HttpxAuth", "HttpxSignerAuth"]

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError,)


class _WatchedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, exchange: _flow.Exchange, adapt: _flow.Adapt) -> None:
        self._inner, self._exchange, self._adapt = inner, exchange, adapt

    def __iter__(self) -> Iterator[bytes]:
        return _flow.watch_sync(self._inner, self._exchange, _TRANSPORT_ERRORS, self._adapt)

    def close(self) -> None:
        self._exchange.settle()
        self._inner.close()


class _AsyncWatchedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, exchange: _flow.Exchange, adapt: _flow.Adapt) -> None:
        self._inner, self._exchange, self._adapt = inner, exchange, adapt

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _flow.watch_async(self._inner, self._exchange, _TRANSPORT_ERRORS, self._adapt)

    async def aclose(self) -> None:
        self._exchange.settle()
        await self._inner.aclose()


class HttpxAuth(httpx.Auth):
    """Two-secret fail-over for an httpx client: ``httpx.Client(auth=HttpxAuth(engine))``.

        Every response body is metered on its way to the caller (``engine.usage()``) and settles the
    request with the engine's budget. ``watch_streams=False`` passes event streams through without
    checking their end marker (nor reading their usage).
    """

    def __init__(self, engine: Engine, *, watch_streams: bool = True) -> None:
        self.engine = engine
        self._watch_streams = watch_streams

    def _adapt(self, error: TwinkeyError) -> BaseException:
        return error

    def _on_accept(self, request: httpx.Request, response: httpx.Response, exchange: _flow.Exchange) -> None:
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _WatchedStream(response.stream, exchange, self._adapt)
        elif isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _AsyncWatchedStream(response.stream, exchange, self._adapt)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        return _flow.sync_engine_flow(self.engine, request, self._on_accept, self._adapt, self._watch_streams)

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return _flow.async_engine_flow(
            self.engine, request, self._on_accept, self._adapt, self._watch_streams
        )

    def __repr__(self) -> str:
        return f"HttpxAuth({self.engine!r})"


class HttpxSignerAuth(httpx.Auth):
    """OCI IAM request signing for an httpx client: ``httpx.Client(auth=HttpxSignerAuth(signer))``."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        _flow.sign(self.signer, request, httpx.URL)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        _flow.sign(self.signer, request, httpx.URL)
        yield request

    def __repr__(self) -> str:
        return f"HttpxSignerAuth({self.signer!r})"
