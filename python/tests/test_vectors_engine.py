"""The shared engine vectors (tests/vectors/engine/*.json) through the Python binding."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import twinkey

from vectors import files, load, subset

UTC = dt.timezone.utc


def rfc3339(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def event_json(e: twinkey.Event) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": e.kind, "secret": e.secret}
    optional = {
        "to": e.to,
        "reason": e.reason,
        "status": e.status,
        "cooldownUntil": rfc3339(e.cooldown_until),
        "expiresAt": rfc3339(e.expires_at),
        "count": e.count,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


OPTION_NAMES = {
    "expirySkewMs": "expiry_skew",
    "cooldownBaseMs": "cooldown_base",
    "cooldownMaxMs": "cooldown_max",
    "expiringSoonWindowMs": "expiring_soon_window",
    "probeLeaseMs": "probe_lease",
    "rejectionBurstWindowMs": "rejection_burst_window",
}


def options(spec: dict[str, Any] | None) -> dict[str, Any]:
    spec = spec or {}
    out: dict[str, Any] = {"prefer": spec.get("prefer")}
    for field, name in OPTION_NAMES.items():
        if field in spec:
            out[name] = spec[field] / 1000.0
    if "rejectionBurst" in spec:
        out["rejection_burst"] = spec["rejectionBurst"]
    return out


def scenarios() -> list[Any]:
    out = []
    for f in files("engine"):
        doc = load("engine", f.name)
        for sc in doc["scenarios"]:
            out.append(pytest.param(doc.get("keys", {}), sc, id=f"{f.stem}: {sc['name']}"))
    return out


class Run:
    def __init__(
        self, engine: twinkey.Engine, clock: twinkey.ManualClock, events: list[twinkey.Event]
    ) -> None:
        self.engine, self.clock, self.events = engine, clock, events
        self.attempts: dict[str, twinkey.Attempt] = {}
        self.last: str | None = None

    def label(self, obj: dict[str, Any], field: str) -> str:
        return obj.get(field) or f"#{len(self.attempts)}"

    def remember(self, label: str, attempt: twinkey.Attempt) -> None:
        self.attempts[label] = attempt
        self.last = label


def check_error(expect: dict[str, Any], err: twinkey.TwinkeyError | None) -> None:
    assert expect.get("error") == (err.code if err else None), f"error: {err!r}"
    if err is None:
        return
    assert isinstance(err, twinkey.TwinkeyError)
    if "reasons" in expect:
        assert isinstance(err, twinkey.NoUsableSecretError)
        got = {r.secret: r.reason for r in err.reasons}
        assert subset(expect["reasons"], got), got
    for value in ("sk-one", "sk-two", "sk-new"):
        assert value not in str(err) and value not in repr(err)


def check_attempt(expect: dict[str, Any], a: twinkey.Attempt) -> None:
    if "secret" in expect:
        assert a.secret == expect["secret"]
    if "probe" in expect:
        assert a.is_probe == expect["probe"]


def status_json(st: twinkey.EngineStatus) -> dict[str, Any]:
    return {
        s.name: {
            "state": s.state,
            "usable": s.usable,
            "reason": s.reason,
            "health": s.health,
            "cooldownUntil": rfc3339(s.cooldown_until),
            "consecutiveRejections": s.consecutive_rejections,
            "current": s.current,
            "preferred": s.preferred,
            "counters": {
                "attempts": s.counters.attempts,
                "accepted": s.counters.accepted,
                "rejected": s.counters.rejected,
                "inconclusive": s.counters.inconclusive,
            },
        }
        for s in st
    }


def step(run: Run, s: dict[str, Any]) -> None:
    op = s["op"]
    expect: dict[str, Any] = s.get("expect", {})
    engine = run.engine
    if op == "begin":
        label = run.label(s, "as")
        try:
            a = engine.begin()
        except twinkey.TwinkeyError as e:
            check_error(expect, e)
        else:
            check_error(expect, None)
            check_attempt(expect, a)
            run.remember(label, a)
    elif op == "respond":
        attempt = run.attempts[s.get("attempt") or run.last or ""]
        status, headers, body = s["status"], s.get("headers", {}), s.get("body", "")
        verdict = engine.complete(attempt, status, headers)
        needed_body = verdict.need_body
        if needed_body:
            verdict = engine.complete(attempt, status, headers, body.encode())
        if "needBody" in expect:
            assert expect["needBody"] == needed_body
        assert verdict.kind == expect["verdict"], repr(verdict)
        if verdict.kind == "accept":
            want = expect.get("retryAfterMs")
            got = None if verdict.retry_after is None else round(verdict.retry_after * 1000)
            assert want == got
        elif verdict.kind == "replay":
            nxt = verdict.replay
            assert nxt is not None and nxt.is_replay
            check_attempt(expect, nxt)
            run.remember(run.label(expect, "as"), nxt)
        else:
            check_error(expect, verdict.error)
    elif op == "abandon":
        attempt = run.attempts[s.get("attempt") or run.last or ""]
        try:
            engine.abandon(attempt)
        except twinkey.TwinkeyError as e:
            check_error(expect, e)
        else:
            check_error(expect, None)
    elif op == "advance":
        run.clock.advance_ms(s["ms"])
    elif op in ("activate", "deactivate", "revoke", "renew", "syncState", "prefer"):
        try:
            if op == "renew":
                engine.renew(s["secret"], s.get("value", ""), expiry=s.get("expiry"))
            elif op == "syncState":
                engine.sync_state(s["secret"], s.get("state", ""))
            elif op == "prefer":
                engine.set_preferred(s.get("secret"))
            else:
                getattr(engine, op)(s["secret"])
        except twinkey.TwinkeyError as e:
            check_error(expect, e)
        else:
            check_error(expect, None)
    elif op == "follow":
        try:
            update = engine.follow_key(json.dumps(s["doc"]), s["source"])
        except twinkey.TwinkeyError as e:
            check_error(expect, e)
        else:
            check_error(expect, None)
            assert update["changes"] == expect["changes"], update
            assert update["prefer"] == expect.get("prefer"), update
    elif op == "status":
        got = status_json(engine.status())
        assert subset(expect["secrets"], got), f"want {expect['secrets']}, got {got}"
    else:
        pytest.fail(f"unknown op {op}")
    emitted = [event_json(e) for e in run.events]
    run.events.clear()
    want = expect.get("events", [])
    assert len(want) == len(emitted) and all(subset(w, g) for w, g in zip(want, emitted)), (
        f"events: want {want}, got {emitted}"
    )


@pytest.mark.parametrize(("keys", "scenario"), scenarios())
def test_engine_vector(keys: dict[str, Any], scenario: dict[str, Any]) -> None:
    doc = scenario["key"]
    doc = keys[doc] if isinstance(doc, str) else doc
    key = twinkey.ApiKey.from_json(json.dumps(doc))
    clock = twinkey.ManualClock(scenario["start"])
    events: list[twinkey.Event] = []
    try:
        engine = twinkey.Engine(key, clock=clock, on_event=events.append, **options(scenario.get("options")))
    except twinkey.TwinkeyError as e:
        assert scenario.get("constructError") == e.code
        return
    assert "constructError" not in scenario
    run = Run(engine, clock, events)
    for i, s in enumerate(scenario["steps"]):
        try:
            step(run, s)
        except AssertionError as failure:
            raise AssertionError(f"step {i} ({s['op']}): {failure}") from None


def test_there_are_enough_engine_vectors() -> None:
    assert len(scenarios()) >= 40
