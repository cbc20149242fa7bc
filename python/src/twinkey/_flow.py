"""The auth flows shared by the httpx and httpx2 adapters (library-agnostic).

The flows only move facts between the HTTP library and the engine and follow its verdicts:
``admit`` the request (sleeping while the budget says wait), ``begin`` an attempt, send the
request with its ``Authorization``, ``complete`` with the response's status and headers; read
the body only when the verdict asks for it; send the same request once more when it carries a
``replay`` attempt; raise its ``error``; otherwise hand the response on, its body metered on the
way, and ``settle`` the request when it ends. Every decision (which secret, whether to replay or
wait, what is an error, what a response cost) is the core's.
"""

from __future__ import annotations

import asyncio
import time
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

from ._native import Attempt, Engine, Signer, StreamMonitor, Ticket
from .errors import StreamInterruptedError, TwinkeyError

__all__ = [
    "Exchange",
    "adapt_identity",
    "admit_async",
    "admit_sync",
    "async_engine_flow",
    "sign",
    "sync_engine_flow",
    "watch_async",
    "watch_sync",
]


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


class Exchange:
    """One accepted response on its way to the caller: its body passes through ``feed`` (to the
    stream monitor of an event stream, else to the ticket), and the ticket is settled when the
    body ends, fails or is closed (whichever comes first; later calls do nothing)."""

    def __init__(
        self,
        engine: Engine,
        ticket: Ticket,
        attempt: Attempt,
        response: ResponseLike,
        monitor: StreamMonitor | None,
    ) -> None:
        self.engine, self.ticket, self.attempt, self.monitor = engine, ticket, attempt, monitor
        self.status, self.headers = response.status_code, response.headers.raw
        self.feed: Callable[[bytes], None] = monitor.feed if monitor is not None else ticket.feed

    def settle(self) -> None:
        """Settles the ticket with what passed through (once)."""
        self.engine.settle(self.ticket, self.attempt, self.status, self.headers, stream=self.monitor)

    def finish(self) -> None:
        """The body ended: settle; a stream cut before its end marker raises."""
        self.settle()
        if self.monitor is not None:
            self.monitor.finish()

    def transport_error(self, failure: BaseException) -> bool:
        """The body failed: settle; ``True`` when a stream had already ended (the failure is
        harmless), ``StreamInterruptedError`` when it was cut, ``False`` for a plain body."""
        self.settle()
        if self.monitor is None:
            return False
        self.monitor.transport_error(_reason(failure))
        return True


def admit_sync(engine: Engine, request: RequestLike) -> Ticket:
    """Admits a request (sleeping while the budget says wait); raises when refused."""
    since: int | None = None
    while True:
        admission = engine.admit(str(request.url), request.content, since)
        if admission.ticket is not None:
            return admission.ticket
        since = admission.asked_ms
        time.sleep(admission.wait or 0.0)


async def admit_async(engine: Engine, request: RequestLike) -> Ticket:
    """The async form of :func:`admit_sync` (sleeps with asyncio)."""
    since: int | None = None
    while True:
        admission = engine.admit(str(request.url), request.content, since)
        if admission.ticket is not None:
            return admission.ticket
        since = admission.asked_ms
        await asyncio.sleep(admission.wait or 0.0)


OnAccept = Callable[[Any, Any, Exchange], None]


def _begin(engine: Engine, request: RequestLike, ticket: Ticket, adapt: Adapt) -> Attempt:
    try:
        return engine.begin_for(str(request.url))
    except TwinkeyError as error:
        engine.settle(ticket)  # nothing sent: the estimate goes back
        raise adapt(error) from None


def sync_engine_flow(
    engine: Engine,
    request: Req,
    on_accept: OnAccept,
    adapt: Adapt = adapt_identity,
    monitor_streams: bool = True,
) -> Generator[Req, Resp, None]:
    """The sync auth flow: admit, set the secret, send, follow the verdict."""
    request.read()  # buffered, so that the one replay can send the body again
    try:
        ticket = admit_sync(engine, request)
    except TwinkeyError as error:
        raise adapt(error) from None
    attempt = _begin(engine, request, ticket, adapt)
    while True:
        request.headers["Authorization"] = attempt.authorization
        try:
            response = yield request
        except BaseException:
            engine.abandon(attempt)  # no response: nothing learned about the secret
            engine.settle(ticket, attempt)
            raise
        status, headers = response.status_code, response.headers.raw
        verdict = engine.complete(attempt, status, headers)
        if verdict.need_body:
            verdict = engine.complete(attempt, status, headers, response.read())
        if verdict.error is not None:
            engine.settle(ticket, attempt, status, headers)
            raise adapt(verdict.error)
        if verdict.replay is None:
            monitor = monitor_for(request, response) if monitor_streams else None
            on_accept(request, response, Exchange(engine, ticket, attempt, response, monitor))
            return
        attempt = verdict.replay


async def async_engine_flow(
    engine: Engine,
    request: Req,
    on_accept: OnAccept,
    adapt: Adapt = adapt_identity,
    monitor_streams: bool = True,
) -> AsyncGenerator[Req, Resp]:
    """The async auth flow: same steps as :func:`sync_engine_flow`."""
    await request.aread()
    try:
        ticket = await admit_async(engine, request)
    except TwinkeyError as error:
        raise adapt(error) from None
    attempt = _begin(engine, request, ticket, adapt)
    while True:
        request.headers["Authorization"] = attempt.authorization
        try:
            response = yield request
        except BaseException:
            engine.abandon(attempt)
            engine.settle(ticket, attempt)
            raise
        status, headers = response.status_code, response.headers.raw
        verdict = engine.complete(attempt, status, headers)
        if verdict.need_body:
            verdict = engine.complete(attempt, status, headers, await response.aread())
        if verdict.error is not None:
            engine.settle(ticket, attempt, status, headers)
            raise adapt(verdict.error)
        if verdict.replay is None:
            monitor = monitor_for(request, response) if monitor_streams else None
            on_accept(request, response, Exchange(engine, ticket, attempt, response, monitor))
            return
        attempt = verdict.replay


def monitor_for(request: RequestLike, response: ResponseLike) -> StreamMonitor | None:
    """A stream monitor when the core says the response is an event stream."""
    return StreamMonitor.for_headers(response.headers.raw, request.url.path)


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


def watch_sync(
    inner: Iterable[bytes],
    exchange: Exchange,
    transport_errors: tuple[type[BaseException], ...],
    adapt: Adapt = adapt_identity,
) -> Iterator[bytes]:
    """Passes a body through chunk by chunk, metering it; a cut stream raises
    StreamInterruptedError."""
    try:
        for chunk in inner:
            exchange.feed(chunk)
            yield chunk
    except transport_errors as failure:
        try:
            if exchange.transport_error(failure):
                return
        except StreamInterruptedError as cut:
            raise adapt(cut) from failure
        raise
    try:
        exchange.finish()
    except StreamInterruptedError as cut:
        raise adapt(cut) from None


async def watch_async(
    inner: AsyncIterable[bytes],
    exchange: Exchange,
    transport_errors: tuple[type[BaseException], ...],
    adapt: Adapt = adapt_identity,
) -> AsyncIterator[bytes]:
    """The async form of :func:`watch_sync`."""
    try:
        async for chunk in inner:
            exchange.feed(chunk)
            yield chunk
    except transport_errors as failure:
        try:
            if exchange.transport_error(failure):
                return
        except StreamInterruptedError as cut:
            raise adapt(cut) from failure
        raise
    try:
        exchange.finish()
    except StreamInterruptedError as cut:
        raise adapt(cut) from None


def sign(signer: Signer, request: RequestLike, make_url: Callable[[str], Any]) -> None:
    """Signs a request (body already read) in place: URL as signed, headers set."""
    signed = signer.sign_request(request.method, str(request.url), request.headers, request.content)
    if signed.url != str(request.url):
        request.url = make_url(signed.url)
    for name, value in signed.headers.items():
        request.headers[name] = value
