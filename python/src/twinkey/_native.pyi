"""Type stubs of the native module (checked against it by ``python -m mypy.stubtest``)."""

import datetime
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, final, overload

from typing_extensions import NotRequired, Self, TypeAlias, TypedDict

from .errors import TwinkeyError

__all__ = [
    "CORE_VERSION",
    "Admission",
    "ApiKey",
    "AsyncControlPlane",
    "AsyncPageIterator",
    "Attempt",
    "Budget",
    "BudgetAdmission",
    "Charge",
    "ControlPlane",
    "Counters",
    "Engine",
    "EngineAdmission",
    "EngineStatus",
    "Event",
    "Fleet",
    "KeyResponse",
    "KeyWatch",
    "ListPage",
    "ManualClock",
    "PageIterator",
    "RelayGate",
    "RotationPlan",
    "RotationProgress",
    "RotationReport",
    "Secret",
    "SecretStatus",
    "SignedRequest",
    "Signer",
    "SigningPlan",
    "StreamMonitor",
    "Ticket",
    "TokenKeyRing",
    "UnitResponse",
    "Verdict",
    "fleet",
    "parse_rate_limit_headers",
    "request_facts",
    "rotate",
    "rotate_async",
    "signing_plan",
    "usage_from_body",
    "watch",
]

CORE_VERSION: str

_Time: TypeAlias = datetime.datetime | str
"""An aware ``datetime`` or an RFC 3339 string."""
_Headers: TypeAlias = (
    Mapping[str, str]
    | Mapping[bytes, bytes]
    | Iterable[tuple[str, str]]
    | Iterable[tuple[bytes, bytes]]
    | None
)
_Body: TypeAlias = bytes | str | None
_EventKind: TypeAlias = Literal[
    "failed_over",
    "secret_rejected",
    "secret_recovered",
    "expiring_soon",
    "standby_unavailable",
    "no_usable_secret",
    "budget_high_water",
    "rejection_burst",
    "changed_out_of_band",
    "expiring_without_standby",
    "traffic_after_deactivation",
]
_VerdictKind: TypeAlias = Literal["accept", "replay", "fail", "need_body"]
_Health: TypeAlias = Literal["healthy", "cooling_down", "probe_due"]
_StreamKind: TypeAlias = Literal["auto", "chat_completions", "responses"]
_Endpoint: TypeAlias = Literal["chat_completions", "responses", "other"]

class _UsageDict(TypedDict):
    inputTokens: int
    outputTokens: int
    totalTokens: int

class _BodyFactsDict(TypedDict):
    model: str | None
    usage: _UsageDict | None

class _RequestFactsDict(TypedDict):
    endpoint: _Endpoint
    model: str | None
    stream: bool
    promptTokens: int
    outputCap: int | None
    estimate: int

class _RateLimitDict(TypedDict):
    retryAfterMs: int | None
    limitTokens: int | None
    remainingTokens: int | None
    resetTokensMs: int | None

class _HighWaterDict(TypedDict):
    scope: str
    used: int
    limit: int

class _WindowDict(TypedDict):
    scope: str
    limit: int
    used: int

class _LeaseSnapshotDict(TypedDict):
    attached: bool
    sliceTokens: int
    available: int
    leases: int
    owed: int

class _BudgetSnapshotDict(TypedDict):
    windows: list[_WindowDict]
    blockedUntilMs: int | None
    refunded: int
    debited: int
    fleet: NotRequired[_LeaseSnapshotDict]

class _BudgetOptionsDict(TypedDict, total=False):
    tokensPerMinute: int | None
    perModel: dict[str, int]
    policy: Literal["wait", "fail_fast"]
    maxWaitMs: int
    defaultOutputTokens: int
    highWater: float

class _HistogramDict(TypedDict):
    counts: list[int]
    sum: float

class _UsageRowDict(TypedDict):
    secret: str
    fingerprint: str
    model: str
    endpoint: _Endpoint
    status: int
    requests: int
    withoutUsage: int
    inputTokens: int
    outputTokens: int
    totalTokens: int
    durationSeconds: _HistogramDict

class _MinuteDict(TypedDict):
    minuteMs: int
    tokens: list[int]

class _UsageReportDict(TypedDict):
    atMs: int
    keyId: str | None
    secrets: list[str]
    rows: list[_UsageRowDict]
    minutes: list[_MinuteDict]
    budget: _BudgetSnapshotDict | None

def usage_from_body(body: bytes) -> _BodyFactsDict: ...
def request_facts(path: str, body: bytes, default_output_tokens: int | None = None) -> _RequestFactsDict: ...
def parse_rate_limit_headers(headers: _Headers, now_ms: float) -> _RateLimitDict: ...

@final
class Charge:
    @property
    def tokens(self) -> int: ...

@final
class BudgetAdmission:
    @property
    def granted(self) -> bool: ...
    @property
    def charge(self) -> Charge | None: ...
    @property
    def high_water(self) -> _HighWaterDict | None: ...
    @property
    def wait_until_ms(self) -> int | None: ...
    @property
    def scope(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Budget:
    def __new__(cls, options: _BudgetOptionsDict | Mapping[str, Any]) -> Self: ...
    def admit(
        self, estimate: int, *, model: str | None = None, now_ms: float, waiting_since_ms: float | None = None
    ) -> BudgetAdmission: ...
    def settle(
        self,
        charge: Charge,
        *,
        now_ms: float,
        status: int | None = None,
        usage: _UsageDict | Mapping[str, int] | None = None,
        headers: _Headers = None,
    ) -> _HighWaterDict | None: ...
    def observe_headers(self, headers: _Headers, *, now_ms: float) -> None: ...
    def snapshot(self, *, now_ms: float) -> _BudgetSnapshotDict: ...

@final
class Ticket:
    def feed(self, chunk: bytes) -> None: ...
    @property
    def facts(self) -> _RequestFactsDict: ...
    @property
    def settled(self) -> bool: ...

@final
class EngineAdmission:
    @property
    def ticket(self) -> Ticket | None: ...
    @property
    def wait(self) -> float | None: ...
    @property
    def asked_ms(self) -> int | None: ...
    @property
    def scope(self) -> str | None: ...

@final
class ManualClock:
    def __new__(cls, start: _Time | None = None) -> Self: ...
    def now(self) -> datetime.datetime: ...
    def advance(self, seconds: float) -> None: ...
    def advance_ms(self, ms: int) -> None: ...
    def set(self, t: _Time) -> None: ...

@final
class Secret:
    def __new__(
        cls, name: str, value: str, *, state: str = "ACTIVE", time_expiry: _Time | None = None
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def has_value(self) -> bool: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def key_mask(self) -> str | None: ...
    @property
    def time_expiry(self) -> datetime.datetime | None: ...
    @property
    def time_created(self) -> datetime.datetime | None: ...
    @property
    def time_last_used(self) -> datetime.datetime | None: ...
    def expose(self) -> str | None: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...

@final
class ApiKey:
    def __new__(
        cls,
        one: Secret,
        two: Secret,
        *,
        id: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        compartment_id: str | None = None,
        region: str | None = None,
        lifecycle_state: str | None = None,
    ) -> Self: ...
    @staticmethod
    def from_json(text: str) -> ApiKey: ...
    @staticmethod
    def load(path: str | os.PathLike[str]) -> ApiKey: ...
    def to_json(self) -> str: ...
    def to_json_exposing_secrets(self) -> str: ...
    @property
    def secrets(self) -> tuple[Secret, Secret]: ...
    def __getitem__(self, name: str, /) -> Secret: ...
    @property
    def id(self) -> str | None: ...
    @property
    def display_name(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def compartment_id(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def lifecycle_state(self) -> str | None: ...
    @property
    def time_created(self) -> datetime.datetime | None: ...
    @property
    def time_updated(self) -> datetime.datetime | None: ...
    def activate(self, name: str, *, at: _Time | None = None) -> None: ...
    def deactivate(self, name: str, *, at: _Time | None = None) -> None: ...
    def revoke(self, name: str, *, at: _Time | None = None) -> None: ...
    def renew(
        self, name: str, value: str, *, expiry: _Time | None = None, at: _Time | None = None
    ) -> None: ...
    def sync_state(self, name: str, state: str) -> None: ...
    def copy(self) -> ApiKey: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]
    def __copy__(self) -> ApiKey: ...
    def __deepcopy__(self, memo: Any, /) -> ApiKey: ...

@final
class Attempt:
    @property
    def secret(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def authorization(self) -> str: ...
    @property
    def is_replay(self) -> bool: ...
    @property
    def is_probe(self) -> bool: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]

@final
class Verdict:
    @property
    def kind(self) -> _VerdictKind: ...
    @property
    def need_body(self) -> bool: ...
    @property
    def retry_after(self) -> float | None: ...
    @property
    def replay(self) -> Attempt | None: ...
    @property
    def error(self) -> TwinkeyError | None: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]

@final
class Event:
    @property
    def kind(self) -> _EventKind: ...
    @property
    def secret(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def to(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def status(self) -> int | None: ...
    @property
    def cooldown_until(self) -> datetime.datetime | None: ...
    @property
    def expires_at(self) -> datetime.datetime | None: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def used(self) -> int | None: ...
    @property
    def limit(self) -> int | None: ...
    @property
    def count(self) -> int | None: ...
    @property
    def origin(self) -> str | None: ...
    @property
    def at(self) -> datetime.datetime: ...
    @property
    def message(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Counters:
    @property
    def attempts(self) -> int: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def inconclusive(self) -> int: ...

@final
class SecretStatus:
    @property
    def name(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def time_expiry(self) -> datetime.datetime | None: ...
    @property
    def usable(self) -> bool: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def reason_message(self) -> str | None: ...
    @property
    def health(self) -> _Health: ...
    @property
    def cooldown_until(self) -> datetime.datetime | None: ...
    @property
    def consecutive_rejections(self) -> int: ...
    @property
    def current(self) -> bool: ...
    @property
    def preferred(self) -> bool: ...
    @property
    def counters(self) -> Counters: ...

@final
class EngineStatus:
    @property
    def secrets(self) -> tuple[SecretStatus, SecretStatus]: ...
    @property
    def at(self) -> datetime.datetime: ...
    @property
    def current(self) -> str | None: ...
    def __getitem__(self, item: int | str, /) -> SecretStatus: ...
    def __iter__(self) -> Iterator[SecretStatus]: ...
    def __len__(self) -> int: ...

@final
class Engine:
    def __new__(
        cls,
        key: ApiKey,
        *,
        prefer: str | None = None,
        expiry_skew: float = 60.0,
        cooldown_base: float = 30.0,
        cooldown_max: float = 900.0,
        expiring_soon_window: float = 1209600.0,
        probe_lease: float = 30.0,
        allowed_hosts: Sequence[str] | None = None,
        budget: _BudgetOptionsDict | Mapping[str, Any] | None = None,
        rejection_burst: int = 10,
        rejection_burst_window: float = 60.0,
        on_event: Callable[[Event], object] | None = None,
        clock: ManualClock | None = None,
    ) -> Self: ...
    def begin(self) -> Attempt: ...
    def begin_for(self, url: str) -> Attempt: ...
    def check_destination(self, url: str) -> None: ...
    @property
    def default_base_url(self) -> str | None: ...
    def complete(
        self, attempt: Attempt, status: int, headers: _Headers = None, body: bytes | None = None
    ) -> Verdict: ...
    def abandon(self, attempt: Attempt) -> None: ...
    def admit(
        self, url: str, body: bytes | None = None, waiting_since_ms: float | None = None
    ) -> EngineAdmission: ...
    def settle(
        self,
        ticket: Ticket,
        attempt: Attempt | None = None,
        status: int | None = None,
        headers: _Headers = None,
        body: bytes | None = None,
        stream: StreamMonitor | None = None,
    ) -> bool: ...
    def usage(self) -> _UsageReportDict: ...
    def metrics_text(self) -> str: ...
    def status(self) -> EngineStatus: ...
    @property
    def current(self) -> str: ...
    @property
    def key(self) -> ApiKey: ...
    def now(self) -> datetime.datetime: ...
    def activate(self, name: str) -> None: ...
    def deactivate(self, name: str) -> None: ...
    def revoke(self, name: str) -> None: ...
    def renew(self, name: str, value: str, *, expiry: _Time | None = None) -> None: ...
    def sync_state(self, name: str, state: str) -> None: ...
    def set_preferred(self, name: str | None) -> None: ...
    def replace_key(self, key: ApiKey) -> None: ...
    def follow_key(
        self, doc: str | ApiKey, source: Literal["file", "controlPlane"] = "file"
    ) -> _KeyUpdate: ...
    def subscribe(self, callback: Callable[[Event], object]) -> int: ...
    def unsubscribe(self, subscription: int) -> bool: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...

@final
class StreamMonitor:
    def __new__(cls, kind: _StreamKind = "auto") -> Self: ...
    @staticmethod
    def for_response(content_type: str | None, path: str) -> StreamMonitor | None: ...
    @staticmethod
    def for_headers(headers: _Headers, path: str) -> StreamMonitor | None: ...
    def feed(self, chunk: bytes) -> None: ...
    def finish(self) -> str: ...
    def transport_error(self, reason: str) -> str: ...
    def usage(self) -> _BodyFactsDict: ...
    @property
    def terminal(self) -> str | None: ...
    @property
    def received(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def kind(self) -> _StreamKind: ...

@final
class SignedRequest:
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def authorization(self) -> str: ...
    @property
    def signing_string(self) -> str: ...

@final
class SigningPlan:
    @property
    def url(self) -> str: ...
    @property
    def signed_headers(self) -> list[str]: ...
    @property
    def signing_string(self) -> str: ...
    @property
    def added_headers(self) -> dict[str, str]: ...
    def authorization(self, key_id: str, signature: str) -> str: ...

def signing_plan(
    method: str,
    url: str,
    headers: _Headers = None,
    body: _Body = None,
    *,
    now: _Time | None = None,
    x_date: bool = False,
    exclude_body: bool = False,
) -> SigningPlan: ...

@final
class Signer:
    @staticmethod
    def from_config(path: str | os.PathLike[str] | None = None, profile: str = "DEFAULT") -> Signer: ...
    @staticmethod
    def from_pem(key_id: str, pem: str, passphrase: str | None = None) -> Signer: ...
    @staticmethod
    def session(token: str, pem: str, passphrase: str | None = None) -> Signer: ...
    def sign(
        self,
        method: str,
        url: str,
        headers: _Headers = None,
        body: _Body = None,
        *,
        now: _Time | None = None,
        x_date: bool = False,
        exclude_body: bool = False,
    ) -> dict[str, str]: ...
    def sign_request(
        self,
        method: str,
        url: str,
        headers: _Headers = None,
        body: _Body = None,
        *,
        now: _Time | None = None,
        x_date: bool = False,
        exclude_body: bool = False,
    ) -> SignedRequest: ...
    @property
    def key_id(self) -> str: ...
    @property
    def is_session(self) -> bool: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def fingerprint_mismatch(self) -> tuple[str, str] | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def key_bits(self) -> int: ...
    def public_key_pem(self) -> str: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...

# --- The API-key control plane (twinkey-client, on twinkey's I/O runtime) -------------------

_Tags: TypeAlias = Mapping[str, str]
_DefinedTags: TypeAlias = Mapping[str, Mapping[str, Any]]
_SortOrder: TypeAlias = Literal["ASC", "DESC"]
_SortBy: TypeAlias = Literal["displayName", "timeCreated"]

@final
class KeyResponse:
    @property
    def key(self) -> ApiKey: ...
    @property
    def status(self) -> int: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def opc_request_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]

@final
class UnitResponse:
    @property
    def status(self) -> int: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def opc_request_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...

@final
class ListPage:
    @property
    def items(self) -> list[ApiKey]: ...
    @property
    def next_page(self) -> str | None: ...
    @property
    def opc_request_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[ApiKey]: ...

@final
class PageIterator:
    def __iter__(self) -> Self: ...
    def __next__(self) -> ListPage: ...

@final
class AsyncPageIterator:
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[ListPage]: ...

@final
class ControlPlane:
    def __new__(cls, signer: Signer, endpoint: str | None = None, region: str | None = None) -> Self: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    def create(
        self,
        compartment_id: str,
        display_name: str,
        *,
        key_names: tuple[str, str] = ("key-one", "key-two"),
        time_expiry: _Time | Mapping[str, _Time] | None = None,
        description: str | None = None,
        freeform_tags: _Tags | None = None,
        defined_tags: _DefinedTags | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> KeyResponse: ...
    def get(self, id: str, *, opc_request_id: str | None = None, retries: bool = True) -> KeyResponse: ...
    def list(
        self,
        compartment_id: str,
        *,
        lifecycle_state: str | None = None,
        display_name: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_order: _SortOrder | None = None,
        sort_by: _SortBy | None = None,
        opc_request_id: str | None = None,
        retries: bool = True,
    ) -> ListPage: ...
    def list_all(
        self,
        compartment_id: str,
        *,
        lifecycle_state: str | None = None,
        display_name: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        sort_order: _SortOrder | None = None,
        sort_by: _SortBy | None = None,
    ) -> PageIterator: ...
    def update(
        self,
        id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        freeform_tags: _Tags | None = None,
        defined_tags: _DefinedTags | None = None,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retries: bool = True,
    ) -> KeyResponse: ...
    def delete(
        self, id: str, *, if_match: str | None = None, opc_request_id: str | None = None, retries: bool = True
    ) -> UnitResponse: ...
    def set_state(
        self,
        id: str,
        key_name: str,
        state: str,
        *,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> KeyResponse: ...
    def renew(
        self,
        id: str,
        key_name: str,
        *,
        time_expiry: _Time | None = None,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> KeyResponse: ...
    def change_compartment(
        self,
        id: str,
        compartment_id: str,
        *,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> UnitResponse: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]

@final
class AsyncControlPlane:
    def __new__(cls, signer: Signer, endpoint: str | None = None, region: str | None = None) -> Self: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    def create(
        self,
        compartment_id: str,
        display_name: str,
        *,
        key_names: tuple[str, str] = ("key-one", "key-two"),
        time_expiry: _Time | Mapping[str, _Time] | None = None,
        description: str | None = None,
        freeform_tags: _Tags | None = None,
        defined_tags: _DefinedTags | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> Awaitable[KeyResponse]: ...
    def get(
        self, id: str, *, opc_request_id: str | None = None, retries: bool = True
    ) -> Awaitable[KeyResponse]: ...
    def list(
        self,
        compartment_id: str,
        *,
        lifecycle_state: str | None = None,
        display_name: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_order: _SortOrder | None = None,
        sort_by: _SortBy | None = None,
        opc_request_id: str | None = None,
        retries: bool = True,
    ) -> Awaitable[ListPage]: ...
    def list_all(
        self,
        compartment_id: str,
        *,
        lifecycle_state: str | None = None,
        display_name: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        sort_order: _SortOrder | None = None,
        sort_by: _SortBy | None = None,
    ) -> AsyncPageIterator: ...
    def update(
        self,
        id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        freeform_tags: _Tags | None = None,
        defined_tags: _DefinedTags | None = None,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retries: bool = True,
    ) -> Awaitable[KeyResponse]: ...
    def delete(
        self, id: str, *, if_match: str | None = None, opc_request_id: str | None = None, retries: bool = True
    ) -> Awaitable[UnitResponse]: ...
    def set_state(
        self,
        id: str,
        key_name: str,
        state: str,
        *,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> Awaitable[KeyResponse]: ...
    def renew(
        self,
        id: str,
        key_name: str,
        *,
        time_expiry: _Time | None = None,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> Awaitable[KeyResponse]: ...
    def change_compartment(
        self,
        id: str,
        compartment_id: str,
        *,
        if_match: str | None = None,
        opc_request_id: str | None = None,
        retry_token: str | None = None,
        retries: bool = True,
    ) -> Awaitable[UnitResponse]: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]

# --- Rotation (twinkey-client's RotationRunner) ---------------------------------------------

_ProgressKind: TypeAlias = Literal[
    "started", "skipped", "acting", "waiting", "secret_written", "finished", "done"
]
_Step: TypeAlias = Literal[
    "prepare_standby", "verify_standby", "switch", "retire_old", "renew_old", "park_old"
]

class _StepRecord(TypedDict):
    step: _Step
    number: int
    action: str
    secret: str | None
    at: str
    fingerprint: str | None
    note: str | None

class _PlannedStep(TypedDict):
    step: _Step
    number: int
    title: str
    action: str | None
    secret: str | None
    description: str | None
    note: str | None

@final
class RotationProgress:
    @property
    def kind(self) -> _ProgressKind: ...
    @property
    def step(self) -> _Step | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def attempt(self) -> int | None: ...
    @property
    def status(self) -> int | None: ...
    @property
    def path(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RotationReport:
    @property
    def key_id(self) -> str: ...
    @property
    def old(self) -> str: ...
    @property
    def standby(self) -> str: ...
    @property
    def resumed(self) -> bool: ...
    @property
    def steps(self) -> list[_StepRecord]: ...
    @property
    def renewed(self) -> list[tuple[str, str]]: ...
    @property
    def secret_out(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RotationPlan:
    @property
    def key_id(self) -> str: ...
    @property
    def old(self) -> str: ...
    @property
    def standby(self) -> str: ...
    @property
    def resumed(self) -> bool: ...
    @property
    def steps(self) -> list[_PlannedStep]: ...
    @property
    def problems(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

_Path: TypeAlias = str | os.PathLike[str]

class _FleetStats(TypedDict):
    sent: int
    applied: int
    ignored: int
    invalid: int
    errors: int
    connected: bool
    leased: int
    leaseRefusals: int
    returned: int
    budgetShared: bool

@final
class Fleet:
    """A process's link to the fleet of its key (Redis); ``close()`` or ``with`` leaves it."""

    @property
    def origin(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def stats(self) -> _FleetStats | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Fleet: ...
    def __exit__(self, *args: object) -> None: ...

def fleet(
    engine: Engine,
    url: str,
    *,
    ca_file: str | None = None,
    prefix: str | None = None,
    origin: str | None = None,
    op_timeout_ms: int | None = None,
    resync_interval_ms: int | None = None,
    budget_slice: int | None = None,
) -> Fleet:
    """Joins ``engine`` to its key's fleet at ``url`` (``redis://`` or ``rediss://``)."""

# state: `from`/`to` are states; expiry: RFC 3339 times (absent: none).
_KeyChange = TypedDict(
    "_KeyChange",
    {
        "change": Literal["value", "state", "expiry", "prefer", "preferIgnored"],
        "secret": str,
        "fingerprint": str,
        "from": str,
        "to": str,
        "reason": str,
    },
    total=False,
)

class _KeyUpdate(TypedDict):
    changes: list[_KeyChange]
    prefer: str | None

class _WatchStats(TypedDict, total=False):
    looks: int
    changed: int
    errors: int
    consecutiveFailures: int
    lastError: str
    stopped: bool

@final
class KeyWatch:
    """An engine following its key (a key file or the control plane); ``stop()`` or ``with``
    ends it."""

    @property
    def source(self) -> Literal["file", "controlPlane"]: ...
    @property
    def stopped(self) -> bool: ...
    def stats(self) -> _WatchStats: ...
    def stop(self) -> None: ...
    def __enter__(self) -> KeyWatch: ...
    def __exit__(self, *args: object) -> None: ...

def watch(
    engine: Engine,
    *,
    file: _Path | None = None,
    control_plane: ControlPlane | AsyncControlPlane | None = None,
    interval_ms: int | None = None,
    jitter: float | None = None,
    max_backoff_ms: int | None = None,
) -> KeyWatch:
    """Makes ``engine`` follow its key from ``file`` or ``control_plane``."""

_OnProgress: TypeAlias = Callable[[RotationProgress], object]

@overload
def rotate(
    control_plane: ControlPlane | AsyncControlPlane,
    key_id: str,
    *,
    standby: str | None = None,
    revoke: bool = False,
    renew_old: bool = False,
    dry_run: Literal[False] = False,
    state_file: _Path | None = None,
    key_file: _Path | None = None,
    secret_out: _Path | None = None,
    inference_url: str | None = None,
    probe_model: str | None = None,
    probe: bool = True,
    probe_timeout: float = 120.0,
    watch_grace: float | None = None,
    engine: Engine | None = None,
    on_progress: _OnProgress | None = None,
) -> RotationReport: ...
@overload
def rotate(
    control_plane: ControlPlane | AsyncControlPlane,
    key_id: str,
    *,
    standby: str | None = None,
    revoke: bool = False,
    renew_old: bool = False,
    dry_run: Literal[True],
    state_file: _Path | None = None,
    key_file: _Path | None = None,
    secret_out: _Path | None = None,
    inference_url: str | None = None,
    probe_model: str | None = None,
    probe: bool = True,
    probe_timeout: float = 120.0,
    watch_grace: float | None = None,
    engine: Engine | None = None,
    on_progress: _OnProgress | None = None,
) -> RotationPlan: ...
@overload
def rotate_async(
    control_plane: ControlPlane | AsyncControlPlane,
    key_id: str,
    *,
    standby: str | None = None,
    revoke: bool = False,
    renew_old: bool = False,
    dry_run: Literal[False] = False,
    state_file: _Path | None = None,
    key_file: _Path | None = None,
    secret_out: _Path | None = None,
    inference_url: str | None = None,
    probe_model: str | None = None,
    probe: bool = True,
    probe_timeout: float = 120.0,
    watch_grace: float | None = None,
    engine: Engine | None = None,
    on_progress: _OnProgress | None = None,
) -> Awaitable[RotationReport]: ...
@overload
def rotate_async(
    control_plane: ControlPlane | AsyncControlPlane,
    key_id: str,
    *,
    standby: str | None = None,
    revoke: bool = False,
    renew_old: bool = False,
    dry_run: Literal[True],
    state_file: _Path | None = None,
    key_file: _Path | None = None,
    secret_out: _Path | None = None,
    inference_url: str | None = None,
    probe_model: str | None = None,
    probe: bool = True,
    probe_timeout: float = 120.0,
    watch_grace: float | None = None,
    engine: Engine | None = None,
    on_progress: _OnProgress | None = None,
) -> Awaitable[RotationPlan]: ...

# --- Server tokens (SPEC section 7) ---------------------------------------------------------

_TokenAlg: TypeAlias = Literal["EdDSA", "HS256"]

class _TokenScope(TypedDict):
    models: list[str]
    endpoints: list[str]
    max_output_tokens: NotRequired[int | None]
    max_requests: NotRequired[int | None]

class _TokenClaims(TypedDict):
    iss: str
    sub: str
    aud: str | list[str]
    iat: int
    nbf: NotRequired[int]
    exp: int
    jti: str
    twk: _TokenScope

class _MintedToken(TypedDict):
    token: str
    claims: _TokenClaims

class _VerifiedToken(TypedDict):
    kid: str
    alg: _TokenAlg
    claims: _TokenClaims

@final
class TokenKeyRing:
    @staticmethod
    def from_json(text: str) -> TokenKeyRing: ...
    @staticmethod
    def generate(alg: _TokenAlg, kid: str) -> TokenKeyRing: ...
    @property
    def kids(self) -> list[str]: ...
    @property
    def signing_kid(self) -> str | None: ...
    def set_signing_kid(self, kid: str) -> None: ...
    def remove(self, kid: str) -> bool: ...
    def to_json(self, private: bool = False) -> str: ...
    def mint(
        self, request: Mapping[str, Any], *, now: _Time | None = None, random: bytes | None = None
    ) -> _MintedToken: ...
    def verify(self, token: str, options: Mapping[str, Any]) -> _VerifiedToken: ...
    def __reduce__(self) -> None: ...  # type: ignore[override]
    def __reduce_ex__(self, protocol: Any, /) -> None: ...  # type: ignore[override]
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...

@final
class Admission:
    @property
    def endpoint(self) -> str: ...
    @property
    def upstream_path(self) -> str: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def max_output_tokens(self) -> int | None: ...
    @property
    def remaining(self) -> int | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def token_id(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RelayGate:
    def __new__(cls, ring: TokenKeyRing, options: Mapping[str, Any]) -> Self: ...
    def replace_keys(self, ring: TokenKeyRing) -> None: ...
    def admit(
        self,
        method: str,
        path: str,
        authorization: str | None,
        body: bytes | str | None = None,
        *,
        now: _Time | None = None,
    ) -> Admission: ...
    def release(self, admission: Admission) -> None: ...
    def settle_failure(self, admission: Admission, round_trips: int) -> None: ...
