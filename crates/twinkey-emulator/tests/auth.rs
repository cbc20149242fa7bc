//! Only usable secrets of held keys get in; everything else is 401 `NotAuthenticated`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{BASES, Env, chat_body, expect_oci_error, responses_body};
use twinkey::Slot;

/// One request per route on one base, with an optional `Authorization` header value.
async fn every_route(env: &Env, base: &str, authorization: Option<&str>) -> Vec<reqwest::Response> {
    let with = |req: reqwest::RequestBuilder| match authorization {
        Some(a) => req.header("authorization", a),
        None => req,
    };
    vec![
        with(
            env.http
                .post(env.url(&format!("{base}/chat/completions")))
                .json(&chat_body("hi", false)),
        )
        .send()
        .await
        .unwrap(),
        with(
            env.http
                .post(env.url(&format!("{base}/responses")))
                .json(&responses_body("hi", true)),
        )
        .send()
        .await
        .unwrap(),
        with(env.http.get(env.url(&format!("{base}/models"))))
            .send()
            .await
            .unwrap(),
    ]
}

#[tokio::test]
async fn missing_or_unknown_secrets_are_401_on_every_route_and_base() {
    let env = Env::start().await;
    let one = env.one();
    let cases = [
        None,
        Some("Bearer".to_string()),
        Some("Bearer ".to_string()),
        Some("Bearer sk-not-a-known-secret".to_string()),
        Some(format!("Basic {one}")),
        Some(format!("Bearer {one}x")),
    ];
    for base in BASES {
        for auth in &cases {
            for resp in every_route(&env, base, auth.as_deref()).await {
                expect_oci_error(resp, 401, "NotAuthenticated").await;
            }
        }
        for resp in every_route(&env, base, Some(&format!("bearer   {one}  "))).await {
            assert_eq!(
                resp.status(),
                200,
                "scheme is case-insensitive, spaces are trimmed"
            );
        }
    }
    let counts = env.emu.counters().snapshot();
    assert_eq!(counts.unauthenticated, 2 * 3 * cases.len() as u64);
}

#[tokio::test]
async fn revoked_and_inactive_secrets_are_refused_the_other_works() {
    let env = Env::start().await;
    let (one, two) = (env.one(), env.two());
    let path = "/openai/v1/chat/completions";
    assert_eq!(
        env.post(path, Some(&one), &chat_body("a", false))
            .await
            .status(),
        200
    );

    assert_eq!(env.set_state("key-one", "INACTIVE").await.0, 200);
    expect_oci_error(
        env.post(path, Some(&one), &chat_body("a", false)).await,
        401,
        "NotAuthenticated",
    )
    .await;
    assert_eq!(
        env.post(path, Some(&two), &chat_body("a", false))
            .await
            .status(),
        200
    );

    assert_eq!(env.set_state("key-one", "ACTIVE").await.0, 200);
    assert_eq!(
        env.post(path, Some(&one), &chat_body("a", false))
            .await
            .status(),
        200
    );

    assert_eq!(env.set_state("key-one", "REVOKED").await.0, 200);
    expect_oci_error(
        env.post(path, Some(&one), &chat_body("a", false)).await,
        401,
        "NotAuthenticated",
    )
    .await;

    let (_, _, rejected) = env.emu.counters().snapshot().of(&env.key_id(), "key-one");
    assert_eq!(rejected, 2);
    let (requests, accepted, _) = env.emu.counters().snapshot().of(&env.key_id(), "key-two");
    assert_eq!((requests, accepted), (1, 1));
}

#[tokio::test]
async fn expired_secrets_are_refused() {
    let (env, clock) = Env::manual(Duration::ZERO).await;
    let one = env.one();
    let path = "/20231130/actions/v1/chat/completions";
    assert_eq!(
        env.post(path, Some(&one), &chat_body("a", false))
            .await
            .status(),
        200
    );
    // Past timeExpiry (90 days after creation), the secret stops working by itself.
    let expiry = env.key.key.secret(Slot::One).time_expiry.unwrap();
    clock.set(expiry);
    expect_oci_error(
        env.post(path, Some(&one), &chat_body("a", false)).await,
        401,
        "NotAuthenticated",
    )
    .await;

    // A state of EXPIRED set by the service is refused too.
    let (env, _) = Env::manual(Duration::ZERO).await;
    let body = serde_json::json!({"keyName": "key-two", "state": "EXPIRED", "force": true});
    let path_state = format!("/keys/{}/setstate", env.key_id());
    assert_eq!(
        env.admin(reqwest::Method::POST, &path_state, Some(body))
            .await
            .0,
        200
    );
    expect_oci_error(
        env.post(path, Some(&env.two()), &chat_body("a", false))
            .await,
        401,
        "NotAuthenticated",
    )
    .await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let env = Env::start().await;
    let resp = env
        .http
        .get(env.url("/openai/v1/models"))
        .bearer_auth(env.one())
        .header("opc-request-id", "my-trace_123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["opc-request-id"], "my-trace_123");
    let resp = env
        .http
        .get(env.url("/openai/v1/models"))
        .header("opc-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = resp.headers()["opc-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 32);
    assert_ne!(id, "bad id with spaces");
}
