"""``httpx2`` adapters (openai-python 3.x, any httpx2 user).

``Httpx2Auth(engine)`` puts the engine under an ``httpx2.Client``/``httpx2.AsyncClient``: each
request gets the usable secret, a request rejected for its secret is replayed once on the other
one, and a streamed response is passed through while its end is watched (a cut stream raises
``StreamInterruptedError``). ``Httpx2SignerAuth(signer)`` signs each request with OCI IAM
instead (what ``oci-genai-auth`` does, without the ``oci`` package).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator

import httpx2

from . import _flow
from ._native import Engine, Signer
from .errors import TwinkeyError

__all__ = ["Httpx2Auth", "Httpx2SignerAuth"]

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx2.TransportError,)


class _WatchedStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, exchange: _flow.Exchange, adapt: _flow.Adapt) -> None:
        self._inner, self._exchange, self._adapt = inner, exchange, adapt

    def __iter__(self) -> Iterator[bytes]:
        return _flow.watch_sync(self._inner, self._exchange, _TRANSPORT_ERRORS, self._adapt)

    def close(self) -> None:
        self._exchange.settle()
        self._inner.close()


class _AsyncWatchedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, exchange: _flow.Exchange, adapt: _flow.Adapt) -> None:
        self._inner, self._exchange, self._adapt = inner, exchange, adapt

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _flow.watch_async(self._inner, self._exchange, _TRANSPORT_ERRORS, self._adapt)

    async def aclose(self) -> None:
        self._exchange.settle()
        await self._inner.aclose()


class Httpx2Auth(httpx2.Auth):
    """Two-secret fail-over for an httpx2 client: ``httpx2.Client(auth=Httpx2Auth(engine))``.

        Every response body is metered on its way to the caller (``engine.usage()``) and settles the
    request with the engine's budget. ``watch_streams=False`` passes event streams through without
    checking their end marker (nor reading their usage).
    """

    def __init__(self, engine: Engine, *, watch_streams: bool = True) -> None:
        self.engine = engine
        self._watch_streams = watch_streams

    def _adapt(self, error: TwinkeyError) -> BaseException:
        return error

    def _on_accept(
        self, request: httpx2.Request, response: httpx2.Response, exchange: _flow.Exchange
    ) -> None:
        if isinstance(response.stream, httpx2.SyncByteStream):
            response.stream = _WatchedStream(response.stream, exchange, self._adapt)
        elif isinstance(response.stream, httpx2.AsyncByteStream):
            response.stream = _AsyncWatchedStream(response.stream, exchange, self._adapt)

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        return _flow.sync_engine_flow(self.engine, request, self._on_accept, self._adapt, self._watch_streams)

    def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        return _flow.async_engine_flow(
            self.engine, request, self._on_accept, self._adapt, self._watch_streams
        )

    def __repr__(self) -> str:
        return f"Httpx2Auth({self.engine!r})"


class Httpx2SignerAuth(httpx2.Auth):
    """OCI IAM request signing for an httpx2 client: ``httpx2.Client(auth=Httpx2SignerAuth(signer))``."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.read()
        _flow.sign(self.signer, request, httpx2.URL)
        yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        await request.aread()
        _flow.sign(self.signer, request, httpx2.URL)
        yield request

    def __repr__(self) -> str:
        return f"Httpx2SignerAuth({self.signer!r})"
