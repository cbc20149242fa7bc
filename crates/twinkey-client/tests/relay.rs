//! The relay against the in-process emulator: scope, caps, budget, expiry, streaming, fail-over
//! and CORS. Every answer is checked for leaked secrets (`RelayEnv::send`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod relay_env;

use std::time::Duration;

use relay_env::{MODEL, ORIGIN, RelayEnv};
use serde_json::{Value, json};
use twinkey::SecretState;
use twinkey::token::{Scope, TokenRequest};
use twinkey_emulator::Fault;

fn chat(prompt: &str, stream: bool) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream})
}

impl RelayEnv {
    fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token).json(body)
    }
}

#[tokio::test]
async fn chat_through_the_relay_with_the_output_cap_and_budget() {
    let env = RelayEnv::start().await;
    let token = env.mint(
        RelayEnv::chat_scope()
            .with_max_output_tokens(3)
            .with_max_requests(2),
    );
    let a = env
        .send(env.post(
            "/v1/chat/completions",
            &token,
            &chat("tell me a long story", false),
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let body = a.json();
    assert!(body["usage"]["completion_tokens"].as_u64().unwrap() <= 3);
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(a.header("x-twinkey-budget-remaining"), Some("1"));
    assert!(a.header("opc-request-id").is_some());

    // A request asking for more is lowered to the cap as well.
    let mut asks_more = chat("again", false);
    asks_more["max_tokens"] = json!(4000);
    let a = env
        .send(env.post("/v1/chat/completions", &token, &asks_more))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.json()["usage"]["completion_tokens"].as_u64().unwrap() <= 3);
    assert_eq!(a.header("x-twinkey-budget-remaining"), Some("0"));

    let before = env.total_upstream_requests();
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("3rd", false)))
        .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "TOKEN_BUDGET_EXHAUSTED")
    );
    assert_eq!(
        env.total_upstream_requests(),
        before,
        "refused requests are not forwarded"
    );
}

#[tokio::test]
async fn scope_rules_are_enforced_before_anything_is_forwarded() {
    let env = RelayEnv::start().await;
    let token = env.mint(Scope::new([MODEL], ["chat.completions"]).with_max_requests(5));
    let cases = [
        (
            env.post(
                "/v1/chat/completions",
                &token,
                &json!({"model": "other.model", "messages": []}),
            ),
            403,
            "TOKEN_SCOPE",
        ),
        (
            env.post("/v1/chat/completions", &token, &json!({"messages": []})),
            403,
            "TOKEN_SCOPE",
        ),
        (
            env.post(
                "/v1/responses",
                &token,
                &json!({"model": MODEL, "input": "x"}),
            ),
            403,
            "TOKEN_SCOPE",
        ),
        (
            env.http.get(env.url("/v1/models")).bearer_auth(&token),
            403,
            "TOKEN_SCOPE",
        ),
        (
            env.post("/v1/files", &token, &json!({})),
            404,
            "UNKNOWN_ENDPOINT",
        ),
        (
            env.http
                .get(env.url("/v1/models/../../_emulator/keys"))
                .bearer_auth(&token),
            404,
            "UNKNOWN_ENDPOINT",
        ),
        (
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&token)
                .body("{nope"),
            400,
            "INVALID_REQUEST",
        ),
        (
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&token)
                .body(format!(
                    r#"{{"model":"{MODEL}","model":"other.model","messages":[]}}"#
                )),
            400,
            "INVALID_REQUEST",
        ),
        (
            env.http
                .post(env.url("/v1/chat/completions"))
                .json(&chat("x", false)),
            401,
            "TOKEN_MISSING",
        ),
        (
            env.post("/v1/chat/completions", "not-a-token", &chat("x", false)),
            401,
            "INVALID_TOKEN",
        ),
    ];
    for (req, status, code) in cases {
        let a = env.send(req).await;
        assert_eq!((a.status, a.code().as_str()), (status, code));
    }
    assert_eq!(env.total_upstream_requests(), 0);
    // None of the refusals used the budget.
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("ok", false)))
        .await;
    assert_eq!(a.header("x-twinkey-budget-remaining"), Some("4"));
}

#[tokio::test]
async fn expired_tokens_are_refused_with_a_code_the_browser_client_acts_on() {
    let env = RelayEnv::start().await;
    let token = env.mint_with(
        TokenRequest::new("user-1", RelayEnv::chat_scope()).ttl(Duration::from_secs(60)),
    );
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("x", false)))
        .await;
    assert_eq!(a.status, 200);
    env.advance(Duration::from_secs(60 + 30));
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("x", false)))
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "TOKEN_EXPIRED"));
    // A fresh token works again.
    let fresh = env.mint(RelayEnv::chat_scope());
    let a = env
        .send(env.post("/v1/chat/completions", &fresh, &chat("x", false)))
        .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn hs256_tokens_and_signing_key_rotation() {
    let env = RelayEnv::start().await;
    let mut hs = env.minting_ring();
    hs.set_signing_kid("h1").unwrap();
    let now = twinkey::Clock::now(&env.clock);
    let token = hs
        .mint(
            &TokenRequest::new("u", RelayEnv::chat_scope()),
            now,
            &twinkey::token::SystemRandom,
        )
        .unwrap()
        .token;
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("hs", false)))
        .await;
    assert_eq!(a.status, 200);

    // Retire k1: its tokens stop working at once; h1's still work.
    let ed = env.mint(RelayEnv::chat_scope());
    let mut retired = env.minting_ring();
    retired.remove("k1");
    env.relay.relay().gate().replace_keys(retired);
    let a = env
        .send(env.post("/v1/chat/completions", &ed, &chat("x", false)))
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "TOKEN_UNKNOWN_KEY"));
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("x", false)))
        .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn sse_streams_pass_through_and_a_cut_is_never_a_clean_end() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope());
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("stream me", true)))
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = a.text();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(text.contains("stream"));

    let a = env
        .send(env.post(
            "/v1/responses",
            &token,
            &json!({"model": MODEL, "input": "hi", "stream": true}),
        ))
        .await;
    assert!(a.text().contains("response.completed"));

    env.emu
        .faults()
        .add(Fault::cut_after("chat/completions", 2))
        .unwrap();
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("cut me", true)))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.is_err(), "a cut stream must fail, not end cleanly");
}

#[tokio::test]
async fn fails_over_to_the_other_secret_on_401_before_the_first_byte() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope().with_max_requests(10));
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("one", false)))
        .await;
    assert_eq!(a.status, 200);
    let in_use = env.relay.relay().engine().current();
    let other = if in_use == "key-one" {
        "key-two"
    } else {
        "key-one"
    };

    env.service_sets(&in_use, SecretState::Revoked);
    for stream in [false, true] {
        let a = env
            .send(env.post("/v1/chat/completions", &token, &chat("two", stream)))
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
        if stream {
            assert!(a.text().contains("[DONE]"));
        }
    }
    assert_eq!(env.relay.relay().engine().current(), other);
    assert_eq!(
        env.counts(&in_use).2,
        1,
        "one rejection, then the engine avoids it"
    );

    // Both revoked: the relay says so with its own code.
    env.service_sets(other, SecretState::Revoked);
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("three", false)))
        .await;
    assert_eq!((a.status, a.code().as_str()), (503, "NO_USABLE_SECRET"));
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("four", false)))
        .await;
    assert_eq!((a.status, a.code().as_str()), (503, "NO_USABLE_SECRET"));
    // "three" reached the service (a 401 on the last secret) and stays charged; "four" failed
    // before anything was sent and went back to the budget: 4 are counted.
    let gate = env.relay.relay().gate();
    let verified = gate
        .verify(
            Some(&format!("Bearer {token}")),
            twinkey::Clock::now(&env.clock),
        )
        .unwrap();
    assert_eq!(gate.ledger().used(&verified.claims.token_id), 4);
}

#[tokio::test]
async fn upstream_errors_pass_through_with_their_status() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope());
    env.emu
        .faults()
        .add(Fault::status("chat/completions", 503))
        .unwrap();
    let a = env
        .send(env.post("/v1/chat/completions", &token, &chat("x", false)))
        .await;
    assert_eq!(a.status, 503);
    assert!(
        a.header("x-twinkey-error").is_none(),
        "not the relay's own error"
    );
    assert!(a.json()["code"].is_string(), "OCI's body is passed on");
}

#[tokio::test]
async fn cors_for_configured_origins_only() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope());
    let pre = env
        .send(
            env.http
                .request(reqwest::Method::OPTIONS, env.url("/v1/chat/completions"))
                .header("origin", ORIGIN)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization, content-type, x-stainless-os",
                ),
        )
        .await;
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(
        pre.header("access-control-allow-headers")
            .unwrap()
            .contains("x-stainless-os")
    );
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );

    let a = env
        .send(
            env.post("/v1/chat/completions", &token, &chat("x", false))
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(
        a.header("access-control-expose-headers")
            .unwrap()
            .contains("x-twinkey-error")
    );

    // Errors carry CORS headers too, so the page can read the code.
    let a = env
        .send(
            env.post("/v1/chat/completions", "junk", &chat("x", false))
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));

    let before = env.total_upstream_requests();
    let evil = "http://evil.example";
    let pre = env
        .send(
            env.http
                .request(reqwest::Method::OPTIONS, env.url("/v1/chat/completions"))
                .header("origin", evil)
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert_eq!(pre.status, 403);
    assert!(pre.header("access-control-allow-origin").is_none());
    let a = env
        .send(
            env.post("/v1/chat/completions", &token, &chat("x", false))
                .header("origin", evil),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (403, "ORIGIN_NOT_ALLOWED"));
    assert_eq!(env.total_upstream_requests(), before);
}

#[tokio::test]
async fn a_full_tpm_budget_is_a_429_with_retry_after_and_nothing_is_sent() {
    let budget = twinkey::BudgetOptions::from_json_value(
        &json!({"tokensPerMinute": 300, "policy": "fail_fast"}),
    )
    .unwrap();
    let options = twinkey::EngineOptions {
        budget: Some(budget),
        ..twinkey::EngineOptions::default()
    };
    let env = RelayEnv::start_with_engine(options, |o| o).await;
    let token = env.mint(RelayEnv::chat_scope());
    let mut body = chat("hello", false);
    body["max_tokens"] = json!(120);
    let mut refused = None;
    for _ in 0..20 {
        let before = env.total_upstream_requests();
        let a = env
            .send(
                env.post("/v1/chat/completions", &token, &body)
                    .header("origin", ORIGIN),
            )
            .await;
        if a.status == 429 {
            assert_eq!(
                env.total_upstream_requests(),
                before,
                "sent although refused"
            );
            refused = Some(a);
            break;
        }
        assert_eq!(a.status, 200, "{}", a.text());
    }
    let a = refused.expect("the budget refuses within 20 requests");
    env.assert_clean(&a);
    assert_eq!(a.header("x-twinkey-error"), Some("TPM_BUDGET_EXCEEDED"));
    let ms: u64 = a.header("retry-after-ms").unwrap().parse().unwrap();
    let secs: u64 = a.header("retry-after").unwrap().parse().unwrap();
    // A charge counts for KEEP_SECONDS (62) whole seconds after the second it was made in.
    assert!(ms > 0 && ms <= 63_000, "{ms}");
    assert_eq!(secs, ms.div_ceil(1000));
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));
    let body = a.json();
    assert_eq!(body["error"]["code"], "TPM_BUDGET_EXCEEDED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the relay's tokens-per-minute budget (key) is used up")
    );
}
