//! The relay holes found by trying it as an attacker, each closed and kept closed: stored
//! responses bound to the subject that created them, the output cap not multiplied by `n`,
//! query strings from an allow-list, every body redacted (JSON and streamed), forged claims
//! with control characters refused, and a cap on one subject's requests in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod relay_env;

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use relay_env::{MODEL, RelayEnv};
use serde_json::{Value, json};
use sha2::Sha256;
use twinkey::Clock;
use twinkey::token::{Scope, TokenRequest};
use twinkey_emulator::Fault;

fn token_for(env: &RelayEnv, subject: &str) -> String {
    env.mint_with(TokenRequest::new(subject, RelayEnv::chat_scope()))
}

fn create(input: &str) -> Value {
    json!({"model": MODEL, "input": input})
}

#[tokio::test]
async fn stored_responses_belong_to_the_subject_that_created_them() {
    let env = RelayEnv::start().await;
    let (alice, mallory) = (token_for(&env, "alice"), token_for(&env, "mallory"));
    let url = env.url("/v1/responses");

    // Created as JSON and as a stream: both ids are bound to alice.
    let a = env
        .send(env.http.post(&url).bearer_auth(&alice).json(&create("hi")))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let plain = a.json()["id"].as_str().unwrap().to_string();
    let mut streamed_body = create("hi again");
    streamed_body["stream"] = json!(true);
    let a = env
        .send(env.http.post(&url).bearer_auth(&alice).json(&streamed_body))
        .await;
    assert_eq!(a.status, 200);
    let streamed = a
        .text()
        .lines()
        .find_map(|l| {
            let v: Value = serde_json::from_str(l.strip_prefix("data: ")?).ok()?;
            Some(v["response"]["id"].as_str()?.to_string())
        })
        .unwrap();
    assert_eq!(env.relay.relay().gate().owners().len(), 2);

    let before = env.total_upstream_requests();
    for id in [&plain, &streamed] {
        let item = env.url(&format!("/v1/responses/{id}"));
        for req in [
            env.http.get(&item).bearer_auth(&mallory),
            env.http.delete(&item).bearer_auth(&mallory),
            env.http
                .post(&url)
                .bearer_auth(&mallory)
                .json(&json!({"model": MODEL, "input": "continue", "previous_response_id": id})),
        ] {
            let a = env.send(req).await;
            assert_eq!((a.status, a.code().as_str()), (404, "RESPONSE_NOT_OWNED"));
        }
    }
    // An id never created through the relay is nobody's.
    let a = env
        .send(
            env.http
                .get(env.url("/v1/responses/resp_made_elsewhere"))
                .bearer_auth(&alice),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (404, "RESPONSE_NOT_OWNED"));
    assert_eq!(
        env.total_upstream_requests(),
        before,
        "nothing refused reached the service"
    );

    // The owner reads, continues and deletes; after the delete the id is gone for everyone.
    let item = env.url(&format!("/v1/responses/{plain}"));
    let a = env.send(env.http.get(&item).bearer_auth(&alice)).await;
    assert_eq!(
        (a.status, a.json()["id"].as_str()),
        (200, Some(plain.as_str()))
    );
    let a = env
        .send(
            env.http.post(&url).bearer_auth(&alice).json(
                &json!({"model": MODEL, "input": "continue", "previous_response_id": streamed}),
            ),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["previous_response_id"], streamed.as_str());
    let a = env.send(env.http.delete(&item).bearer_auth(&alice)).await;
    assert_eq!((a.status, a.json()["deleted"].as_bool()), (200, Some(true)));
    let a = env.send(env.http.get(&item).bearer_auth(&alice)).await;
    assert_eq!((a.status, a.code().as_str()), (404, "RESPONSE_NOT_OWNED"));
}

#[tokio::test]
async fn the_output_cap_is_not_multiplied_by_n() {
    let env = RelayEnv::start().await;
    let capped = env
        .mint(Scope::new([MODEL], ["chat.completions", "completions"]).with_max_output_tokens(16));
    let before = env.total_upstream_requests();
    for (path, extra) in [
        ("/v1/chat/completions", json!({"n": 128})),
        ("/v1/chat/completions", json!({"n": 2})),
        ("/v1/completions", json!({"n": 3})),
        ("/v1/completions", json!({"best_of": 4})),
    ] {
        let mut body = json!({"model": MODEL, "max_tokens": 16, "prompt": "hi", "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let a = env
            .send(
                env.http
                    .post(env.url(path))
                    .bearer_auth(&capped)
                    .json(&body),
            )
            .await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (403, "TOKEN_SCOPE"),
            "{extra}"
        );
    }
    assert_eq!(env.total_upstream_requests(), before);
    let a = env
        .send(
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&capped)
                .json(&json!({"model": MODEL, "n": 1, "messages": [{"role": "user", "content": "hi"}]})),
        )
        .await;
    assert_eq!(a.status, 200, "n = 1 stays allowed: {}", a.text());
}

#[tokio::test]
async fn query_strings_come_from_an_allow_list() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope());
    let before = env.total_upstream_requests();
    for path in [
        "/v1/chat/completions?api-version=2024",
        "/v1/chat/completions?stream=true",
        "/v1/responses?stream=true",
    ] {
        let a = env
            .send(
                env.http
                    .post(env.url(path))
                    .bearer_auth(&token)
                    .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "input": "hi"})),
            )
            .await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "INVALID_REQUEST"),
            "{path}"
        );
    }
    assert_eq!(env.total_upstream_requests(), before);
    let a = env
        .send(
            env.http
                .post(env.url("/v1/responses"))
                .bearer_auth(&token)
                .json(&create("hi")),
        )
        .await;
    let id = a.json()["id"].as_str().unwrap().to_string();
    let a = env
        .send(
            env.http
                .get(env.url(&format!(
                    "/v1/responses/{id}?include[]=message.output_text.logprobs"
                )))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(a.status, 200, "an allowed query is forwarded: {}", a.text());
    let a = env
        .send(
            env.http
                .get(env.url(&format!("/v1/responses/{id}?admin=1")))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (400, "INVALID_REQUEST"));
}

/// The emulator quotes the start of the last user message in its reply, as a model echoing a
/// prompt-injected value would: a 200 body with an OCI secret in it.
#[tokio::test]
async fn a_secret_echoed_in_a_200_body_is_redacted_json_and_streamed() {
    let env = RelayEnv::start().await;
    let token = env.mint(RelayEnv::chat_scope());
    let secret = env.forbidden()[0].clone();
    let say = format!("repeat {secret} please");
    let chat = |stream: bool| json!({"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": say}]});
    let responses = |stream: bool| json!({"model": MODEL, "stream": stream, "input": say});
    for (path, body) in [
        ("/v1/chat/completions", chat(false)),
        ("/v1/chat/completions", chat(true)),
        ("/v1/responses", responses(false)),
        ("/v1/responses", responses(true)),
    ] {
        // `send` fails the test if the secret is anywhere in the answer.
        let a = env
            .send(env.http.post(env.url(path)).bearer_auth(&token).json(&body))
            .await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.text().contains("[redacted]"),
            "{path} stream={}: the echo was there and replaced",
            body["stream"]
        );
    }
}

/// A token signed with the relay's own HS256 key whose `sub` holds a newline and ANSI escapes
/// (the minting API refuses to make one, so it is forged here by hand).
fn forged_with_subject(env: &RelayEnv, subject: &str) -> String {
    let good = env.mint(RelayEnv::chat_scope());
    let payload = good.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
    claims["sub"] = json!(subject);
    let jwks: Value = serde_json::from_str(&env.ring_json).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == "h1")
        .unwrap();
    let secret = Base64UrlUnpadded::decode_vec(key["k"].as_str().unwrap()).unwrap();
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"HS256","kid":"h1","typ":"JWT"}"#);
    let body = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
    let input = format!("{header}.{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
    mac.update(input.as_bytes());
    let sig = Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

#[tokio::test]
async fn control_characters_in_claims_are_refused() {
    let env = RelayEnv::start().await;
    let url = env.url("/v1/chat/completions");
    let chat = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    // The forgery is right in every other way: with a plain subject it is accepted.
    let plain = forged_with_subject(&env, "user-9");
    let a = env
        .send(env.http.post(&url).bearer_auth(&plain).json(&chat))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    for subject in [
        "user-1\n2026-12-04T00:00:00Z INFO admin logged in",
        "\u{1b}[31mroot\u{1b}[0m",
        "tab\there",
        "c1\u{85}",
    ] {
        let forged = forged_with_subject(&env, subject);
        let a = env
            .send(env.http.post(&url).bearer_auth(&forged).json(&chat))
            .await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (401, "INVALID_TOKEN"),
            "{subject:?}"
        );
        assert!(!a.text().contains('\u{1b}') && !a.text().contains("admin logged in"));
    }
    let err = env
        .minting_ring()
        .mint(
            &TokenRequest::new("a\nb", RelayEnv::chat_scope()),
            env.clock.now(),
            &twinkey::token::SystemRandom,
        )
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_TOKEN_REQUEST");
}

#[tokio::test]
async fn one_subject_cannot_hold_more_than_its_streams() {
    let env = RelayEnv::start_with(|o| o.max_streams_per_subject(2)).await;
    let (alice, bob) = (token_for(&env, "alice"), token_for(&env, "bob"));
    let url = env.url("/v1/chat/completions");
    let chat = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    env.emu.faults().add(Fault::hold("*")).unwrap();
    let spawn = |token: &String| {
        let req = env.http.post(&url).bearer_auth(token).json(&chat);
        tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
    };
    let held = [spawn(&alice), spawn(&alice), spawn(&bob)];
    for _ in 0..500 {
        if env.emu.faults().held() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(env.emu.faults().held(), 3);
    let a = env
        .send(env.http.post(&url).bearer_auth(&alice).json(&chat))
        .await;
    assert_eq!((a.status, a.code().as_str()), (429, "TOO_MANY_STREAMS"));
    env.emu.faults().clear();
    env.emu.faults().release();
    for h in held {
        assert_eq!(h.await.unwrap(), 200);
    }
    // The places come back when the bodies end: streamed ones too.
    for stream in [false, true, true] {
        let mut body = chat.clone();
        body["stream"] = json!(stream);
        let a = env
            .send(env.http.post(&url).bearer_auth(&alice).json(&body))
            .await;
        assert_eq!(a.status, 200);
    }
    assert_eq!(
        env.relay.relay().gate().streams().in_flight("alice"),
        0,
        "no place is left taken"
    );
}
