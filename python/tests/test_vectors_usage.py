"""The shared usage and budget vectors (tests/vectors/usage, tests/vectors/budget)."""

from __future__ import annotations

from typing import Any

import pytest

import twinkey

from vectors import load

USAGE = load("usage", "cases.json")
BUDGET = load("budget", "cases.json")


def ids(cases: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [pytest.param(c, id=str(c[key])) for c in cases]


@pytest.mark.parametrize("case", ids(USAGE["bodies"]))
def test_body(case: dict[str, Any]) -> None:
    assert twinkey.usage_from_body(case["body"].encode()) == case["expect"]


@pytest.mark.parametrize("case", ids(USAGE["streams"]))
def test_stream(case: dict[str, Any]) -> None:
    data = case["stream"].encode()
    whole = twinkey.StreamMonitor()
    whole.feed(data)
    assert whole.usage() == case["expect"]
    split = twinkey.StreamMonitor()
    for i in range(len(data)):
        split.feed(data[i : i + 1])
    assert split.usage() == case["expect"]


@pytest.mark.parametrize("case", ids(USAGE["requests"]))
def test_request(case: dict[str, Any]) -> None:
    got = twinkey.request_facts(case["path"], case["body"].encode(), case["defaultOutputTokens"])
    assert got == case["expect"]


@pytest.mark.parametrize("case", ids(USAGE["endpoints"], "path"))
def test_endpoint(case: dict[str, Any]) -> None:
    assert twinkey.request_facts(case["path"], b"")["endpoint"] == case["expect"]


@pytest.mark.parametrize("case", ids(USAGE["headers"]))
def test_headers(case: dict[str, Any]) -> None:
    pairs = [(n, v) for n, v in case["headers"]]
    assert twinkey.parse_rate_limit_headers(pairs, case["nowMs"]) == case["expect"]


def run_step(budget: twinkey.Budget, charges: dict[str, twinkey.Charge], step: dict[str, Any]) -> Any:
    if "admit" in step:
        a = step["admit"]
        try:
            admission = budget.admit(
                a["estimate"], model=a["model"], now_ms=a["atMs"], waiting_since_ms=a["waitingSinceMs"]
            )
        except twinkey.BudgetExceededError as e:
            return {
                "error": {
                    "code": e.code,
                    "scope": e.scope,
                    "retryAfterMs": round(e.retry_after * 1000),
                    "requested": e.requested,
                }
            }
        if admission.charge is not None and "as" in step:
            charges[step["as"]] = admission.charge
        return admission.to_dict()
    if "settle" in step:
        s = step["settle"]
        hw = budget.settle(
            charges.pop(s["charge"]),
            now_ms=s["atMs"],
            status=s["status"],
            usage=s["usage"],
            headers=[(n, v) for n, v in s["headers"]],
        )
        return {"highWater": hw}
    if "observe" in step:
        o = step["observe"]
        budget.observe_headers([(n, v) for n, v in o["headers"]], now_ms=o["atMs"])
        return {}
    return budget.snapshot(now_ms=step["snapshot"]["atMs"])


@pytest.mark.parametrize("scenario", ids(BUDGET["scenarios"]))
def test_budget_scenario(scenario: dict[str, Any]) -> None:
    budget = twinkey.Budget(scenario["options"])
    charges: dict[str, twinkey.Charge] = {}
    for i, step in enumerate(scenario["steps"]):
        assert run_step(budget, charges, step) == step["expect"], f"step {i}"


@pytest.mark.parametrize("case", ids(BUDGET["invalidOptions"]))
def test_budget_invalid_options(case: dict[str, Any]) -> None:
    with pytest.raises(twinkey.KeyDocumentError) as e:
        twinkey.Budget(case["options"])
    assert e.value.code == "INVALID_OPTIONS"


def test_a_charge_settles_once() -> None:
    budget = twinkey.Budget({"tokensPerMinute": 100})
    charge = budget.admit(10, now_ms=0).charge
    assert charge is not None and charge.tokens == 10
    budget.settle(charge, now_ms=0, status=200)
    with pytest.raises(twinkey.EngineError) as e:
        budget.settle(charge, now_ms=0, status=200)
    assert e.value.code == "INVALID_ATTEMPT"
