"""Exceptions raised by twinkey.

Every error carries ``code``, the core's stable code (``NO_USABLE_SECRET``, ``INVALID_KEY``,
...); match on it or on the class. There is one class per error family of the core, raised by
the native module's single error mapping. Messages name secrets by name and fingerprint only.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BudgetExceededError",
    "EngineError",
    "InvalidRequestError",
    "KeyDocumentError",
    "NoUsableSecretError",
    "RotationError",
    "SecretError",
    "ServiceError",
    "SigningError",
    "StreamInterruptedError",
    "TokenError",
    "TransportError",
    "TwinkeyError",
    "UnusableSecret",
    "find_twinkey_error",
]


class TwinkeyError(Exception):
    """Base class of every twinkey error; ``code`` is the stable code.

    A refusal raised by :class:`twinkey.RelayGate` also carries the answer a relay sends:
    ``http_status`` and ``reply_body`` (OpenAI's error shape, with the code); send the code in
    the ``x-twinkey-error`` header too. Elsewhere both are ``None``.
    """

    code: str
    http_status: int | None = None
    reply_body: str | None = None

    def __init__(self, message: str, *, code: str = "TWINKEY_ERROR") -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls: type[TwinkeyError], message: str, state: dict[str, object]) -> TwinkeyError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class KeyDocumentError(TwinkeyError):
    """A key document or the engine options are invalid (``INVALID_KEY``, ``INVALID_OPTIONS``)."""


class SecretError(TwinkeyError):
    """A secret is invalid, unknown, unresolvable or in the wrong state for a transition
    (``INVALID_SECRET``, ``SECRET_REF_UNRESOLVED``, ``UNKNOWN_SECRET``, ``SECRET_REVOKED``,
    ``INVALID_TRANSITION``)."""


class EngineError(TwinkeyError):
    """The engine refused an operation (``INVALID_ATTEMPT``; see also NoUsableSecretError)."""


class UnusableSecret(NamedTuple):
    """Why one secret could not be used: its name, a reason code (``revoked``, ``inactive``,
    ...; the core's ``UnusableReason::code``) and a message (name, fingerprint and reason)."""

    secret: str
    reason: str
    message: str


class NoUsableSecretError(EngineError):
    """Neither secret can be used (``NO_USABLE_SECRET``); no request was sent.
    ``reasons`` holds one :class:`UnusableSecret` per secret."""

    reasons: list[UnusableSecret]

    def __init__(
        self,
        message: str,
        *,
        code: str = "NO_USABLE_SECRET",
        reasons: list[UnusableSecret] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.reasons = list(reasons or [])


class StreamInterruptedError(TwinkeyError):
    """A streamed response was cut after its first byte (``STREAM_INTERRUPTED``); no
    fail-over is possible then. ``received`` is the number of bytes that arrived."""

    received: int

    def __init__(self, message: str, *, code: str = "STREAM_INTERRUPTED", received: int = 0) -> None:
        super().__init__(message, code=code)
        self.received = received


class SigningError(TwinkeyError):
    """An OCI config, private key or signature problem (``INVALID_CONFIG``,
    ``INVALID_PRIVATE_KEY``, ``BAD_PASSPHRASE``, ``SIGNING_FAILED``)."""


class InvalidRequestError(TwinkeyError):
    """A request cannot be signed or sent as given (``INVALID_REQUEST``)."""


class TransportError(TwinkeyError):
    """The connection failed or timed out (``TRANSPORT``)."""


class ServiceError(TwinkeyError):
    """The service answered with an error (``SERVICE_ERROR``): HTTP ``status``, OCI
    ``oci_code`` and ``request_id`` (``opc-request-id``)."""

    status: int
    oci_code: str
    request_id: str

    def __init__(
        self,
        message: str,
        *,
        code: str = "SERVICE_ERROR",
        status: int = 0,
        oci_code: str = "Unknown",
        request_id: str = "-",
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.oci_code = oci_code
        self.request_id = request_id


class RotationError(TwinkeyError):
    """A key rotation cannot go on (``ROTATION_REFUSED``, ``ROTATION_STATE``)."""


class TokenError(TwinkeyError):
    """A server token is invalid, expired or out of scope (``INVALID_TOKEN``,
    ``TOKEN_EXPIRED``, ...)."""


class BudgetExceededError(TwinkeyError):
    """The tokens-per-minute budget cannot admit the request (``TPM_BUDGET_EXCEEDED``):
    ``scope`` is what is full (``key``, ``model:<name>``, or ``rate_limited`` after the
    service's 429), ``retry_after`` the seconds until it would be admitted, ``requested`` the
    estimate it was refused on. Nothing was sent."""

    scope: str
    retry_after: float
    requested: int

    def __init__(
        self,
        message: str,
        *,
        code: str = "TPM_BUDGET_EXCEEDED",
        scope: str = "key",
        retry_after: float = 0.0,
        requested: int = 0,
    ) -> None:
        super().__init__(message, code=code)
        self.scope = scope
        self.retry_after = retry_after
        self.requested = requested


def find_twinkey_error(error: BaseException | None) -> TwinkeyError | None:
    """The twinkey error behind ``error``: itself, or the first one in its ``__cause__`` /
    ``__context__`` chain. openai 2.x and 3.x raise twinkey's errors as they are; openai 1.x
    wraps every exception raised under its HTTP client in ``openai.APIConnectionError`` (the
    twinkey error is its ``__cause__``)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, TwinkeyError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
