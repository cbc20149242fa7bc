"""The auth flows shared by the httpx and httpx2 adapters (library-agnostic).

The flows only move facts between the HTTP library and the engine and follow its verdicts:
``begin`` an attempt, send the request with its ``Authorization``, ``complete`` with the
response's status and headers; read the body only when the verdict asks for it; send the same
request once more when it carries a ``replay`` attempt; raise its ``error``; otherwise hand the
response on. Every decision (which secret, whether to replay, what is an error) is the core's.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from typing import Any, Protocol, TypeVar

from ._native import Engine, Signer, StreamMonitor
from .errors import StreamInterruptedError, TwinkeyError

__all__ = ["adapt_identity", "async_engine_flow", "sign", "sync_engine_flow", "watch_async", "watch_sync"]


class RequestLike(Protocol):
    """What the flows use of an ``httpx.Request`` / ``httpx2.Request``."""

    url: Any

    @property
    def method(self) -> str: ...
    @property
    def headers(self) -> Any: ...
    @property
    def content(self) -> bytes: ...
    def read(self) -> bytes: ...
    async def aread(self) -> bytes: ...


class ResponseLike(Protocol):
    """What the flows use of an ``httpx.Response`` / ``httpx2.Response``."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Any: ...
    def read(self) -> bytes: ...
    async def aread(self) -> bytes: ...


Req = TypeVar("Req", bound=RequestLike)
Resp = TypeVar("Resp", bound=ResponseLike)
Adapt = Callable[[TwinkeyError], BaseException]


def adapt_identity(error: TwinkeyError) -> BaseException:
    """The default error adaptation: raise twinkey's own exception."""
    return error


def sync_engine_flow(
    engine: Engine,
    request: Req,
    on_accept: Callable[[Req, Resp], None],
    adapt: Adapt = adapt_identity,
) -> Generator[Req, Resp, None]:
    """The sync auth flow: set the secret, send, follow the verdict."""
    request.read()  # buffered, so that the one replay can send the body again
    try:
        attempt = engine.begin_for(str(request.url))
    except TwinkeyError as error:
        raise adapt(error) from None
    while True:
        request.headers["Authorization"] = attempt.authorization
        try:
            response = yield request
        except BaseException:
            engine.abandon(attempt)  # no response: nothing learned about the secret
            raise
        status, headers = response.status_code, response.headers.raw
        verdict = engine.complete(attempt, status, headers)
        if verdict.need_body:
            verdict = engine.complete(attempt, status, headers, response.read())
        if verdict.error is not None:
            raise adapt(verdict.error)
        if verdict.replay is None:
            on_accept(request, response)
            return
        attempt = verdict.replay


async def async_engine_flow(
    engine: Engine,
    request: Req,
    on_accept: Callable[[Req, Resp], None],
    adapt: Adapt = adapt_identity,
) -> AsyncGenerator[Req, Resp]:
    """The async auth flow: same steps as :func:`sync_engine_flow`."""
    await request.aread()
    try:
        attempt = engine.begin_for(str(request.url))
    except TwinkeyError as error:
        raise adapt(error) from None
    while True:
        request.headers["Authorization"] = attempt.authorization
        try:
            response = yield request
        except BaseException:
            engine.abandon(attempt)
            raise
        status, headers = response.status_code, response.headers.raw
        verdict = engine.complete(attempt, status, headers)
        if verdict.need_body:
            verdict = engine.complete(attempt, status, headers, await response.aread())
        if verdict.error is not None:
            raise adapt(verdict.error)
        if verdict.replay is None:
            on_accept(request, response)
            return
        attempt = verdict.replay


def monitor_for(request: RequestLike, response: ResponseLike) -> StreamMonitor | None:
    """A stream monitor when the core says the response is an event stream."""
    return StreamMonitor.for_headers(response.headers.raw, request.url.path)


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


def watch_sync(
    inner: Iterable[bytes],
    monitor: StreamMonitor,
    transport_errors: tuple[type[BaseException], ...],
    adapt: Adapt = adapt_identity,
) -> Iterator[bytes]:
    """Passes a body through chunk by chunk; a cut stream raises StreamInterruptedError."""
    try:
        for chunk in inner:
            monitor.feed(chunk)
            yield chunk
    except transport_errors as failure:
        try:
            monitor.transport_error(_reason(failure))
        except StreamInterruptedError as cut:
            raise adapt(cut) from failure
        return
    try:
        monitor.finish()
    except StreamInterruptedError as cut:
        raise adapt(cut) from None


async def watch_async(
    inner: AsyncIterable[bytes],
    monitor: StreamMonitor,
    transport_errors: tuple[type[BaseException], ...],
    adapt: Adapt = adapt_identity,
) -> AsyncIterator[bytes]:
    """The async form of :func:`watch_sync`."""
    try:
        async for chunk in inner:
            monitor.feed(chunk)
            yield chunk
    except transport_errors as failure:
        try:
            monitor.transport_error(_reason(failure))
        except StreamInterruptedError as cut:
            raise adapt(cut) from failure
        return
    try:
        monitor.finish()
    except StreamInterruptedError as cut:
        raise adapt(cut) from None


def sign(signer: Signer, request: RequestLike, make_url: Callable[[str], Any]) -> None:
    """Signs a request (body already read) in place: URL as signed, headers set."""
    signed = signer.sign_request(request.method, str(request.url), request.headers, request.content)
    if signed.url != str(request.url):
        request.url = make_url(signed.url)
    for name, value in signed.headers.items():
        request.headers[name] = value
