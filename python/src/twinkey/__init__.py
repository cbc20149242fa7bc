"""twinkey: zero-downtime OCI Generative AI API keys for the openai SDK.

An OCI Generative AI API key holds two secrets (``key-one``, ``key-two``). A twinkey
:class:`Engine` picks the usable one for every request, replays a request rejected for its
secret once on the other, cools the rejected secret down and probes it again later. Put it under
the openai SDK with :func:`twinkey.openai.client` (or an :class:`Httpx2Auth` / :class:`HttpxAuth`
on your own client). Every decision is made by the Rust core; this package moves the facts.

The API-key control plane (:class:`ControlPlane`, :class:`AsyncControlPlane`: the eight
operations, OCI-signed and retried) and the zero-downtime rotation (:func:`rotate`,
:func:`rotate_async`) run in Rust too (``twinkey-client``); see :mod:`twinkey.control`. A server
that hands short-lived server tokens to browser tooling mints and verifies them with a
:class:`TokenKeyRing`, and can admit relayed requests with a :class:`RelayGate`.

Secrets and token signing keys never appear in ``repr``, ``str``, exceptions, tracebacks or
logs, and objects that hold one refuse to be pickled. Events and rotation progress are logged to
``logging.getLogger("twinkey")``.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from . import errors
from ._native import (
    CORE_VERSION,
    Admission,
    ApiKey,
    AsyncControlPlane,
    AsyncPageIterator,
    Attempt,
    Budget,
    BudgetAdmission,
    Charge,
    ControlPlane,
    Counters,
    Engine,
    EngineAdmission,
    EngineStatus,
    Event,
    Fleet,
    KeyResponse,
    KeyWatch,
    ListPage,
    ManualClock,
    PageIterator,
    RelayGate,
    RotationPlan,
    RotationProgress,
    RotationReport,
    Secret,
    SecretStatus,
    SignedRequest,
    Signer,
    SigningPlan,
    StreamMonitor,
    Ticket,
    TokenKeyRing,
    UnitResponse,
    Verdict,
    fleet,
    parse_rate_limit_headers,
    request_facts,
    rotate,
    rotate_async,
    signing_plan,
    usage_from_body,
    watch,
)
from .errors import (
    BudgetExceededError,
    EngineError,
    InvalidRequestError,
    KeyDocumentError,
    NoUsableSecretError,
    RotationError,
    SecretError,
    ServiceError,
    SigningError,
    StreamInterruptedError,
    TokenError,
    TransportError,
    TwinkeyError,
    UnusableSecret,
    find_twinkey_error,
)

if TYPE_CHECKING:
    from .httpx2_auth import Httpx2Auth as Httpx2Auth
    from .httpx2_auth import Httpx2SignerAuth as Httpx2SignerAuth
    from .httpx_auth import HttpxAuth as HttpxAuth
    from .httpx_auth import HttpxSignerAuth as HttpxSignerAuth
    from .openai import async_httpx_client as async_httpx_client
    from .openai import httpx_client as httpx_client

__version__ = "0.1.0"

# A library adds no handler but a NullHandler: the application decides where records go.
logging.getLogger("twinkey").addHandler(logging.NullHandler())

__all__ = [
    "CORE_VERSION",
    "Admission",
    "ApiKey",
    "AsyncControlPlane",
    "AsyncPageIterator",
    "Attempt",
    "Budget",
    "BudgetAdmission",
    "BudgetExceededError",
    "Charge",
    "ControlPlane",
    "Counters",
    "Engine",
    "EngineAdmission",
    "EngineError",
    "EngineStatus",
    "Event",
    "Fleet",
    "InvalidRequestError",
    "KeyDocumentError",
    "KeyResponse",
    "KeyWatch",
    "ListPage",
    "ManualClock",
    "NoUsableSecretError",
    "PageIterator",
    "RelayGate",
    "RotationError",
    "RotationPlan",
    "RotationProgress",
    "RotationReport",
    "Secret",
    "SecretError",
    "SecretStatus",
    "ServiceError",
    "SignedRequest",
    "Signer",
    "SigningError",
    "SigningPlan",
    "StreamInterruptedError",
    "StreamMonitor",
    "Ticket",
    "TokenError",
    "TokenKeyRing",
    "TransportError",
    "TwinkeyError",
    "UnitResponse",
    "UnusableSecret",
    "Verdict",
    "__version__",
    "errors",
    "find_twinkey_error",
    "fleet",
    "parse_rate_limit_headers",
    "request_facts",
    "rotate",
    "rotate_async",
    "signing_plan",
    "usage_from_body",
    "watch",
]

# Adapters import their HTTP library only when first used, so `import twinkey` (and
# `from twinkey import *`, whose `__all__` leaves them out) needs neither httpx nor httpx2 nor
# openai. `from twinkey import Httpx2Auth` imports httpx2 then.
_LAZY = {
    "HttpxAuth": ("httpx_auth", "HttpxAuth"),
    "HttpxSignerAuth": ("httpx_auth", "HttpxSignerAuth"),
    "Httpx2Auth": ("httpx2_auth", "Httpx2Auth"),
    "Httpx2SignerAuth": ("httpx2_auth", "Httpx2SignerAuth"),
    "httpx_client": ("openai", "httpx_client"),
    "async_httpx_client": ("openai", "async_httpx_client"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'twinkey' has no attribute {name!r}")
    module = importlib.import_module(f".{target[0]}", __name__)
    value = getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, *_LAZY])
