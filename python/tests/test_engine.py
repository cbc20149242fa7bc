"""Engine in Python: options, status, events (callbacks and logging), threads."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import twinkey

UTC = dt.timezone.utc
START = "2026-01-01T00:00:00Z"


def make_key(expiry: str = "2036-04-01T00:00:00Z") -> twinkey.ApiKey:
    return twinkey.ApiKey(
        twinkey.Secret("key-one", "sk-one-aaaa", time_expiry=expiry),
        twinkey.Secret("key-two", "sk-two-bbbb", time_expiry=expiry),
    )


def test_options_are_seconds_and_validated() -> None:
    clock = twinkey.ManualClock(START)
    engine = twinkey.Engine(make_key(), clock=clock, cooldown_base=10, cooldown_max=40, prefer="key-two")
    assert engine.current == "key-two"
    a = engine.begin()
    assert a.secret == "key-two" and not a.is_replay
    verdict = engine.complete(a, 401)
    assert verdict.kind == "replay" and verdict.replay is not None
    st = engine.status()["key-two"]
    assert st.cooldown_until == dt.datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    with pytest.raises(twinkey.KeyDocumentError) as info:
        twinkey.Engine(make_key(), cooldown_base=60, cooldown_max=30)
    assert info.value.code == "INVALID_OPTIONS"
    with pytest.raises(ValueError, match="non-negative"):
        twinkey.Engine(make_key(), expiry_skew=-1)
    with pytest.raises(twinkey.KeyDocumentError):
        twinkey.Engine(make_key(), prefer="key-nine")


def test_status_shows_state_expiry_health_and_counts() -> None:
    clock = twinkey.ManualClock(START)
    engine = twinkey.Engine(make_key("2026-04-01T00:00:00Z"), clock=clock)
    st = engine.status()
    assert len(st) == 2 and [s.name for s in st] == ["key-one", "key-two"]
    assert st[0] is not st["key-one"] and st[-1].name == "key-two"
    one = st["key-one"]
    assert (one.state, one.usable, one.health, one.current) == ("ACTIVE", True, "healthy", True)
    assert one.time_expiry == dt.datetime(2026, 4, 1, tzinfo=UTC)
    assert st.current == "key-one" and st.at == dt.datetime(2026, 1, 1, tzinfo=UTC)
    engine.deactivate("key-two")
    two = engine.status()["key-two"]
    assert (two.usable, two.reason, two.reason_message) == (False, "inactive", "inactive (deactivated)")
    with pytest.raises(IndexError):
        st[2]
    with pytest.raises(KeyError):
        st["key-nine"]


def test_events_reach_callbacks_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    clock = twinkey.ManualClock(START)
    seen: list[twinkey.Event] = []
    engine = twinkey.Engine(make_key(), clock=clock, on_event=seen.append)
    extra: list[twinkey.Event] = []
    sub = engine.subscribe(extra.append)
    with caplog.at_level(logging.INFO, logger="twinkey"):
        engine.complete(engine.begin(), 401)
    kinds = [e.kind for e in seen]
    assert kinds == ["secret_rejected", "failed_over", "standby_unavailable"]
    assert [e.kind for e in extra] == kinds
    rejected = seen[0]
    assert (rejected.secret, rejected.status, rejected.to) == ("key-one", 401, None)
    assert rejected.cooldown_until == dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert rejected.at == dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert seen[1].to == "key-two" and seen[1].reason == "cooling_down"
    assert rejected.to_dict()["cooldown_until"] == "2026-01-01T00:00:30.000Z"
    records = [r for r in caplog.records if r.name == "twinkey"]
    assert [r.levelno for r in records] == [logging.WARNING] * 3
    assert [getattr(r, "twinkey_event", None) for r in records] == kinds
    assert records[0].getMessage() == rejected.message
    assert engine.unsubscribe(sub) and not engine.unsubscribe(sub)


def test_alerts_reach_callbacks_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    clock = twinkey.ManualClock(START)
    seen: list[twinkey.Event] = []
    engine = twinkey.Engine(
        make_key(), clock=clock, on_event=seen.append, rejection_burst=2, rejection_burst_window=5.0
    )
    engine.complete(engine.begin(), 200)
    first, second = engine.begin(), engine.begin()
    with caplog.at_level(logging.INFO, logger="twinkey"):
        engine.complete(first, 401)
        engine.complete(second, 401)
    kinds = [e.kind for e in seen]
    assert kinds == [
        "secret_rejected",
        "changed_out_of_band",
        "failed_over",
        "standby_unavailable",
        "rejection_burst",
    ]
    burst = seen[-1]
    assert (burst.secret, burst.count, burst.status) == ("key-one", 2, 401)
    assert burst.to_dict()["count"] == 2
    assert "ACTIVE" in seen[1].message
    records = [r for r in caplog.records if r.name == "twinkey"]
    assert [getattr(r, "twinkey_event", None) for r in records] == kinds
    assert all(r.levelno == logging.WARNING for r in records)
    for bad in (1, 0):
        with pytest.raises(twinkey.TwinkeyError) as e:
            twinkey.Engine(make_key(), rejection_burst=bad)
        assert e.value.code == "INVALID_OPTIONS"
    with pytest.raises(twinkey.TwinkeyError):
        twinkey.Engine(make_key(), rejection_burst_window=0.0)


def test_expiring_soon_is_reported_once() -> None:
    clock = twinkey.ManualClock("2026-03-25T00:00:00Z")
    seen: list[twinkey.Event] = []
    engine = twinkey.Engine(make_key("2026-04-01T00:00:00Z"), clock=clock, on_event=seen.append)
    for _ in range(3):
        engine.complete(engine.begin(), 200)
    soon = [e for e in seen if e.kind == "expiring_soon"]
    assert [e.secret for e in soon] == ["key-one", "key-two"]
    assert soon[0].expires_at == dt.datetime(2026, 4, 1, tzinfo=UTC)


def test_a_failing_callback_never_breaks_the_engine(caplog: pytest.LogCaptureFixture) -> None:
    def boom(event: twinkey.Event) -> None:
        raise RuntimeError("callback bug")

    engine = twinkey.Engine(make_key(), on_event=boom, clock=twinkey.ManualClock(START))
    with caplog.at_level(logging.ERROR, logger="twinkey"):
        verdict = engine.complete(engine.begin(), 401)
    assert verdict.kind == "replay"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all(r.exc_info and r.exc_info[0] is RuntimeError for r in errors)


def test_no_usable_secret_carries_reasons() -> None:
    engine = twinkey.Engine(
        make_key("2026-04-01T00:00:00Z"), clock=twinkey.ManualClock("2026-05-01T00:00:00Z")
    )
    with pytest.raises(twinkey.NoUsableSecretError) as info:
        engine.begin()
    e = info.value
    assert e.code == "NO_USABLE_SECRET" and isinstance(e, twinkey.EngineError)
    assert [(r.secret, r.reason) for r in e.reasons] == [("key-one", "expired"), ("key-two", "expired")]
    assert "key-one" in e.reasons[0].message and "expired" in e.reasons[0].message


def test_attempts_complete_once_and_belong_to_their_engine() -> None:
    a_engine, b_engine = twinkey.Engine(make_key()), twinkey.Engine(make_key())
    a = a_engine.begin()
    assert a_engine.complete(a, 200).kind == "accept"
    again = a_engine.complete(a, 200)
    assert again.kind == "fail" and again.error is not None and again.error.code == "INVALID_ATTEMPT"
    with pytest.raises(twinkey.EngineError) as info:
        b_engine.abandon(b_engine.begin()) or b_engine.abandon(a)
    assert info.value.code == "INVALID_ATTEMPT"


def test_retry_after_is_surfaced() -> None:
    engine = twinkey.Engine(make_key())
    v = engine.complete(engine.begin(), 429, [("Retry-After", "2.5")])
    assert (v.kind, v.retry_after) == ("accept", 2.5)
    v = engine.complete(engine.begin(), 503, {b"retry-after-ms": b"1500"})
    assert v.retry_after == 1.5


def test_key_transitions_and_replacement_through_the_engine() -> None:
    engine = twinkey.Engine(make_key(), clock=twinkey.ManualClock(START))
    engine.revoke("key-one")
    assert engine.begin().secret == "key-two"
    with pytest.raises(twinkey.SecretError):
        engine.activate("key-one")
    engine.renew("key-one", "sk-new-cccc", expiry="2026-12-01T00:00:00Z")
    engine.set_preferred("key-one")
    assert engine.begin().secret == "key-one"
    engine.set_preferred(None)
    engine.sync_state("key-two", "INACTIVE")
    assert engine.key["key-two"].state == "INACTIVE"
    engine.replace_key(make_key())
    assert engine.key["key-one"].fingerprint == make_key()["key-one"].fingerprint
    assert engine.now() == dt.datetime(2026, 1, 1, tzinfo=UTC)


def test_one_engine_is_shared_by_threads() -> None:
    """Many threads see one 401 wave: exactly one rejection event, every request answered."""
    seen: list[twinkey.Event] = []
    lock = threading.Lock()

    def record(e: twinkey.Event) -> None:
        with lock:
            seen.append(e)

    engine = twinkey.Engine(make_key(), on_event=record, clock=twinkey.ManualClock(START))
    attempts = [engine.begin() for _ in range(200)]

    def respond(a: twinkey.Attempt) -> str:
        v = engine.complete(a, 401 if a.secret == "key-one" else 200)
        if v.replay is not None:
            assert engine.complete(v.replay, 200).kind == "accept"
            return v.replay.secret
        return a.secret

    with ThreadPoolExecutor(8) as pool:
        used = list(pool.map(respond, attempts))
    assert set(used) == {"key-two"}
    assert [e.kind for e in seen].count("secret_rejected") == 1
    assert [e.kind for e in seen].count("failed_over") == 1


def test_a_cycle_through_a_callback_is_collected() -> None:
    import gc
    import weakref

    class Service:
        def __init__(self) -> None:
            self.engine = twinkey.Engine(make_key(), on_event=self.on_event)
            self.seen: list[str] = []

        def on_event(self, event: twinkey.Event) -> None:
            self.seen.append(event.kind)

    service = Service()
    service.engine.complete(service.engine.begin(), 401)
    assert service.seen[0] == "secret_rejected"
    ref = weakref.ref(service)
    del service
    gc.collect()
    assert ref() is None
