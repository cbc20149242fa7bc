//! State changes reach inference only after the propagation delay (time moved by hand).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Env, chat_body};
use reqwest::Method;
use serde_json::{Value, json};

const CHAT: &str = "/openai/v1/chat/completions";

async fn status(env: &Env, secret: &str) -> u16 {
    env.post(CHAT, Some(secret), &chat_body("p", false))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn revocation_takes_effect_after_the_delay() {
    let (env, clock) = Env::manual(Duration::from_secs(5)).await;
    let one = env.one();
    let (code, key) = env.set_state("key-one", "REVOKED").await;
    assert_eq!(code, 200);
    // The control view changed at once ...
    assert_eq!(key["keys"][0]["state"], "REVOKED");
    assert_eq!(
        env.admin(Method::GET, "/config", None).await.1["pendingChanges"],
        1
    );
    // ... inference still accepts the secret until the change propagates.
    assert_eq!(status(&env, &one).await, 200);
    clock.advance_ms(4_999);
    assert_eq!(status(&env, &one).await, 200);
    clock.advance_ms(1);
    assert_eq!(status(&env, &one).await, 401);
    assert_eq!(
        env.admin(Method::GET, "/config", None).await.1["pendingChanges"],
        0
    );
}

#[tokio::test]
async fn renewal_swaps_values_after_the_delay() {
    let (env, clock) = Env::manual(Duration::from_secs(30)).await;
    let old = env.one();
    let path = format!("/keys/{}/renew", env.key_id());
    let (code, key) = env
        .admin(Method::POST, &path, Some(json!({"keyName": "key-one"})))
        .await;
    assert_eq!(code, 200, "{key}");
    let new = key["keys"][0]["key"].as_str().unwrap().to_string();
    assert!(new.starts_with("sk-") && new.len() == 51);
    assert_ne!(new, old);
    assert_eq!(status(&env, &old).await, 200);
    assert_eq!(status(&env, &new).await, 401);
    clock.advance(Duration::from_secs(30));
    assert_eq!(status(&env, &old).await, 401);
    assert_eq!(status(&env, &new).await, 200);
}

#[tokio::test]
async fn changes_apply_in_order_and_the_delay_can_change() {
    let (env, clock) = Env::manual(Duration::from_secs(10)).await;
    let two = env.two();
    env.set_state("key-two", "INACTIVE").await;
    clock.advance(Duration::from_secs(5));
    env.set_state("key-two", "ACTIVE").await;
    clock.advance(Duration::from_secs(5)); // the deactivation is visible, the activation not yet
    assert_eq!(status(&env, &two).await, 401);
    clock.advance(Duration::from_secs(5));
    assert_eq!(status(&env, &two).await, 200);

    let (code, cfg) = env
        .admin(Method::PUT, "/config", Some(json!({"propagationMs": 0})))
        .await;
    assert_eq!((code, cfg["propagationMs"].clone()), (200, json!(0)));
    env.set_state("key-two", "REVOKED").await;
    assert_eq!(
        status(&env, &two).await,
        401,
        "with no delay the change is immediate"
    );
    let (code, _) = env
        .admin(Method::PUT, "/config", Some(json!({"propagationMs": -1})))
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn default_delay_is_zero() {
    let env = Env::start().await;
    let cfg: Value = env.admin(Method::GET, "/config", None).await.1;
    assert_eq!(cfg["propagationMs"], 0);
    env.set_state("key-one", "REVOKED").await;
    assert_eq!(status(&env, &env.one()).await, 401);
}
