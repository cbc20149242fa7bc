"""A typed tour of the twinkey API, checked by `mypy --strict` in CI (not run)."""

from __future__ import annotations

import datetime as dt
import logging

import httpx2

import twinkey
import twinkey.openai


def on_event(event: twinkey.Event) -> None:
    when: dt.datetime = event.at
    print(f"{when:%H:%M:%S} {event.kind} {event.secret} -> {event.to}: {event.message}")


def build() -> twinkey.Engine:
    key = twinkey.ApiKey.load("key.json")
    one, two = key.secrets
    assert one.name != two.name
    return twinkey.Engine(key, prefer=None, cooldown_base=30.0, on_event=on_event)


def status_lines(engine: twinkey.Engine) -> list[str]:
    lines = []
    for s in engine.status():
        c: twinkey.Counters = s.counters
        lines.append(
            f"{s.name} {s.state} usable={s.usable} {s.health} {s.reason} ok={c.accepted}/{c.attempts}"
        )
    return lines


def chat(engine: twinkey.Engine, base_url: str) -> str:
    client = twinkey.openai.client(engine, base_url=base_url, max_retries=2)
    try:
        reply = client.chat.completions.create(
            model="openai.gpt-oss-120b", messages=[{"role": "user", "content": "Hello"}]
        )
    except twinkey.NoUsableSecretError as e:
        return "; ".join(f"{r.secret}: {r.reason}" for r in e.reasons)
    return reply.choices[0].message.content or ""


async def chat_async(engine: twinkey.Engine, base_url: str) -> list[str]:
    client = twinkey.openai.async_client(engine, base_url=base_url)
    stream = await client.chat.completions.create(
        model="openai.gpt-oss-120b", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    parts: list[str] = []
    try:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
    except twinkey.StreamInterruptedError as cut:
        parts.append(f"[cut after {cut.received} bytes]")
    return parts


def own_client(engine: twinkey.Engine) -> httpx2.Client:
    return httpx2.Client(auth=twinkey.Httpx2Auth(engine), timeout=30.0)


def sdk_client(key: twinkey.ApiKey, base_url: str) -> object:
    import openai

    return openai.OpenAI(base_url=base_url, api_key="unused", http_client=twinkey.httpx_client(key))


def signed_client(config: str) -> httpx2.Client:
    signer = twinkey.Signer.from_config(config, "DEFAULT")
    headers: dict[str, str] = signer.sign(
        "GET", "https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apikeys"
    )
    assert "authorization" in headers
    return httpx2.Client(auth=twinkey.Httpx2SignerAuth(signer))


def manual_loop(engine: twinkey.Engine, send: httpx2.Client, url: str) -> httpx2.Response:
    attempt = engine.begin()
    while True:
        response = send.get(url, headers={"authorization": attempt.authorization})
        verdict = engine.complete(attempt, response.status_code, response.headers)
        if verdict.need_body:
            verdict = engine.complete(attempt, response.status_code, response.headers, response.content)
        if verdict.error is not None:
            raise verdict.error
        if verdict.replay is None:
            return response
        attempt = verdict.replay


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    engine = build()
    print(chat(engine, "http://127.0.0.1:8080/openai/v1"))
    print("\n".join(status_lines(engine)))
    clock = twinkey.ManualClock("2026-01-01T00:00:00Z")
    clock.advance(90.0)
    error: twinkey.TwinkeyError | None = None
    try:
        twinkey.ApiKey.from_json("{}")
    except twinkey.KeyDocumentError as e:
        error = e
    print(error.code if error else "")
