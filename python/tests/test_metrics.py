"""The OpenMetrics text of an engine read by a real parser (prometheus_client's): the GenAI
histograms, the secrets' gauges and counters, requests, tokens, the budget and the alerts,
without a secret value anywhere."""

from __future__ import annotations

from typing import Any

from prometheus_client.openmetrics.parser import text_string_to_metric_families

import twinkey

URL = "http://127.0.0.1:9/openai/v1/chat/completions"
REQUEST = b'{"model":"meta.llama","messages":[{"role":"user","content":"hello"}],"max_tokens":50}'
ANSWER = b'{"model":"meta.llama","usage":{"prompt_tokens":7,"completion_tokens":20,"total_tokens":27}}'
VALUES = ("sk-prom-one-aaaa", "sk-prom-two-bbbb")


def engine() -> twinkey.Engine:
    key = twinkey.ApiKey(
        twinkey.Secret("key-one", VALUES[0], time_expiry="2036-04-01T00:00:00Z"),
        twinkey.Secret("key-two", VALUES[1], time_expiry="2036-04-01T00:00:00Z"),
    )
    return twinkey.Engine(key, budget={"tokensPerMinute": 10_000})


def send(e: twinkey.Engine, status: int, body: bytes) -> None:
    admission = e.admit(URL, REQUEST)
    ticket = admission.ticket
    assert ticket is not None
    attempt = e.begin_for(URL)
    verdict = e.complete(attempt, status, {}, body)
    if verdict.kind == "replay":
        assert verdict.replay is not None
        attempt = verdict.replay
        e.complete(attempt, 200, {}, ANSWER)
        status, body = 200, ANSWER
    e.settle(ticket, attempt, status, {}, body)


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family: Any, **labels: str) -> list[Any]:
    return [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]


def test_a_real_parser_reads_the_engine_metrics() -> None:
    e = engine()
    for _ in range(3):
        send(e, 200, ANSWER)
    send(e, 401, b'{"code":"NotAuthenticated"}')
    text = e.metrics_text()
    for value in VALUES:
        assert value not in text
    got = families(text)
    assert got["gen_ai_client_token_usage"].type == "histogram"
    assert got["gen_ai_client_operation_duration_seconds"].unit == "seconds"
    count = samples(got["gen_ai_client_token_usage"], gen_ai_token_type="input", secret="key-one")
    assert [s.value for s in count if s.name.endswith("_count")] == [3]
    assert [s.value for s in count if s.name.endswith("_sum")] == [21]
    tokens = got["twinkey_tokens"]
    assert tokens.type == "counter"
    total = sum(s.value for s in samples(tokens, type="total") if s.name == "twinkey_tokens_total")
    assert total == 27 * 4
    rejections = samples(got["twinkey_secret_rejections"], secret="key-one")
    assert [s.value for s in rejections if s.name.endswith("_total")] == [1]
    kinds = {s.labels["kind"] for s in got["twinkey_events"].samples}
    assert {"secret_rejected", "changed_out_of_band", "failed_over"} <= kinds
    limit = samples(got["twinkey_budget_limit_tokens"], scope="key")
    assert [s.value for s in limit] == [10_000]
    state = samples(got["twinkey_secret_state"], secret="key-two")
    assert [s.labels["state"] for s in state] == ["ACTIVE"]
    usable = {s.labels["secret"]: s.value for s in got["twinkey_secret_usable"].samples}
    assert usable == {"key-one": 0, "key-two": 1}
