"""openai-python clients with twinkey underneath, for the installed SDK version.

openai 3.x sends through ``httpx2`` and gets :class:`~twinkey.Httpx2Auth`; openai 1.x/2.x
send through ``httpx`` and get :class:`~twinkey.HttpxAuth`. The SDK's own client defaults
(timeouts, connection limits) and its ``max_retries`` are kept: the SDK retries rate limits,
server and connection errors, twinkey replays a request rejected for its secret once, so the two never
multiply.

    import twinkey, twinkey.openai
    client = twinkey.openai.client(twinkey.Engine(twinkey.ApiKey.load("key.json")), base_url=URL)

Without ``base_url`` (or ``OPENAI_BASE_URL``) the client calls the key's region's OCI inference
base. Secrets are sent only to OCI Generative AI inference hosts, loopback and the engine's
``allowed_hosts``: any other URL, a redirect to one included, raises ``DESTINATION_NOT_ALLOWED``
before anything is sent.

Errors the engine raises through the SDK (``NoUsableSecretError``, ...) are instances of both
the twinkey class and ``openai.OpenAIError``, so the SDK passes them on as they are instead of
retrying them as connection errors; ``except twinkey.NoUsableSecretError`` catches them.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Union

from ._native import ApiKey, Engine
from .errors import TwinkeyError, _rebuild

if TYPE_CHECKING:
    import openai as _openai

__all__ = [
    "async_client",
    "async_http_client",
    "async_httpx_client",
    "client",
    "http_client",
    "httpx_client",
    "uses_httpx2",
]

EngineOrKey = Union[Engine, ApiKey]

_MIXED: dict[type[TwinkeyError], type[TwinkeyError]] = {}


def _sdk() -> Any:
    try:
        import openai
    except ImportError as missing:  # pragma: no cover - depends on the environment
        raise ImportError("twinkey.openai needs the openai package: pip install openai") from missing
    return openai


def uses_httpx2() -> bool:
    """Whether the installed openai SDK sends through httpx2 by default (openai 3.x; 2.x only
    offers it as an opt-in extra)."""
    major = str(_sdk().__version__).split(".", 1)[0]
    return major.isdigit() and int(major) >= 3


def _engine(engine: EngineOrKey) -> Engine:
    return engine if isinstance(engine, Engine) else Engine(engine)


def _base_url(given: str | None, engine: Engine) -> str | None:
    """The base URL: the one given, else the SDK's ``OPENAI_BASE_URL``, else the key's region's
    OCI inference base (never the SDK's own default host: the engine refuses to send a secret
    there anyway, ``DESTINATION_NOT_ALLOWED``)."""
    return given or os.environ.get("OPENAI_BASE_URL") or engine.default_base_url


def _as_openai_error(error: TwinkeyError) -> BaseException:
    """The same error as an instance of a class that is also ``openai.OpenAIError``."""
    cls = type(error)
    mixed = _MIXED.get(cls)
    if mixed is None:
        namespace = {
            "__module__": __name__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "__reduce__": lambda self: (_rebuild, (cls, str(self), dict(self.__dict__))),
        }
        mixed = type(cls.__name__, (cls, _sdk().OpenAIError), namespace)
        _MIXED[cls] = mixed
    out = mixed.__new__(mixed)
    Exception.__init__(out, *error.args)
    out.__dict__.update(error.__dict__)
    return out


@functools.cache
def _auth_class(httpx2: bool) -> type[Any]:
    """The adapter for the SDK's HTTP library, raising errors the SDK passes on as they are."""
    base: type[Any]
    if httpx2:
        from .httpx2_auth import Httpx2Auth as base
    else:
        from .httpx_auth import HttpxAuth as base

    def adapt(self: Any, error: TwinkeyError) -> BaseException:
        return _as_openai_error(error)

    return type(f"OpenAI{base.__name__}", (base,), {"__module__": __name__, "_adapt": adapt})


def _auth(engine: EngineOrKey) -> Any:
    return _auth_class(uses_httpx2())(_engine(engine))


def http_client(engine: EngineOrKey, **kwargs: Any) -> Any:
    """The SDK's default sync HTTP client (``DefaultHttpx2Client`` on openai 3.x,
    ``DefaultHttpxClient`` before) with twinkey's auth: pass it as ``http_client=``."""
    sdk = _sdk()
    factory = sdk.DefaultHttpx2Client if uses_httpx2() else sdk.DefaultHttpxClient
    return factory(auth=_auth(engine), **kwargs)


def async_http_client(engine: EngineOrKey, **kwargs: Any) -> Any:
    """The async form of :func:`http_client`."""
    sdk = _sdk()
    factory = sdk.DefaultAsyncHttpx2Client if uses_httpx2() else sdk.DefaultAsyncHttpxClient
    return factory(auth=_auth(engine), **kwargs)


def httpx_client(engine: EngineOrKey, **kwargs: Any) -> Any:
    """``twinkey.httpx_client(engine_or_key)``: same as :func:`http_client`."""
    return http_client(engine, **kwargs)


def async_httpx_client(engine: EngineOrKey, **kwargs: Any) -> Any:
    """``twinkey.async_httpx_client(engine_or_key)``: same as :func:`async_http_client`."""
    return async_http_client(engine, **kwargs)


def client(
    engine: EngineOrKey,
    *,
    base_url: str | None = None,
    api_key: str = "unused",
    http_client_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> _openai.OpenAI:
    """``openai.OpenAI`` whose requests carry the engine's secrets. ``kwargs`` go to
    ``OpenAI(...)`` (``max_retries``, ``timeout``, ``project``, ...); ``http_client_options`` to
    the HTTP client. ``api_key`` is only a placeholder: twinkey sets ``Authorization``."""
    engine = _engine(engine)
    http = http_client(engine, **(http_client_options or {}))
    result: _openai.OpenAI = _sdk().OpenAI(
        base_url=_base_url(base_url, engine), api_key=api_key, http_client=http, **kwargs
    )
    return result


def async_client(
    engine: EngineOrKey,
    *,
    base_url: str | None = None,
    api_key: str = "unused",
    http_client_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> _openai.AsyncOpenAI:
    """``openai.AsyncOpenAI`` whose requests carry the engine's secrets (see :func:`client`)."""
    engine = _engine(engine)
    http = async_http_client(engine, **(http_client_options or {}))
    result: _openai.AsyncOpenAI = _sdk().AsyncOpenAI(
        base_url=_base_url(base_url, engine), api_key=api_key, http_client=http, **kwargs
    )
    return result
