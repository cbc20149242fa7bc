//! Each fault, per route: latency, 429 with Retry-After, 5xx, stream cut, chunk delay, hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{BASES, Env, chat_body, expect_oci_error, read_until_end, responses_body, sse_events};
use reqwest::Method;
use serde_json::{Value, json};
use twinkey_emulator::Fault;

#[tokio::test]
async fn rate_limit_with_retry_after_on_one_route_only() {
    let env = Env::start().await;
    let fault = json!({"route": "chat/completions", "status": 429, "retryAfter": 7, "times": 2});
    let (status, list) = env.admin(Method::POST, "/faults", Some(fault)).await;
    assert_eq!(status, 200, "{list}");
    for base in BASES {
        let resp = env
            .post(
                &format!("{base}/chat/completions"),
                Some(&env.one()),
                &chat_body("a", false),
            )
            .await;
        assert_eq!(resp.headers()["retry-after"], "7");
        expect_oci_error(resp, 429, "TooManyRequests").await;
        let other = env
            .post(
                &format!("{base}/responses"),
                Some(&env.one()),
                &responses_body("a", false),
            )
            .await;
        assert_eq!(other.status(), 200, "other routes are not affected");
    }
    // `times: 2` used up.
    let resp = env
        .post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("a", false),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        env.admin(Method::GET, "/faults", None).await.1["faults"],
        json!([])
    );
}

#[tokio::test]
async fn server_errors_with_default_and_custom_codes() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            ..Fault::status("models", 503)
        })
        .unwrap();
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            code: Some("BadGateway".into()),
            ..Fault::status("*", 502)
        })
        .unwrap();
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            ..Fault::status("responses", 500)
        })
        .unwrap();
    expect_oci_error(
        env.get("/openai/v1/models", Some(&env.one())).await,
        503,
        "ServiceUnavailable",
    )
    .await;
    expect_oci_error(
        env.get("/openai/v1/models", Some(&env.one())).await,
        502,
        "BadGateway",
    )
    .await;
    let resp = env
        .post(
            "/openai/v1/responses",
            Some(&env.one()),
            &responses_body("a", false),
        )
        .await;
    expect_oci_error(resp, 500, "InternalServerError").await;
    assert_eq!(
        env.get("/openai/v1/models", Some(&env.one()))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn authentication_comes_before_faults() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            ..Fault::status("*", 429)
        })
        .unwrap();
    expect_oci_error(
        env.get("/openai/v1/models", Some("sk-unknown")).await,
        401,
        "NotAuthenticated",
    )
    .await;
    assert_eq!(
        env.emu.faults().list()[0].times,
        Some(1),
        "not used up by a refused request"
    );
    expect_oci_error(
        env.get("/openai/v1/models", Some(&env.one())).await,
        429,
        "TooManyRequests",
    )
    .await;
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let env = Env::start().await;
    let latency = Duration::from_millis(150);
    env.emu
        .faults()
        .add(Fault {
            route: "models".into(),
            latency_ms: Some(150),
            times: Some(1),
            ..Fault::any()
        })
        .unwrap();
    let start = Instant::now();
    assert_eq!(
        env.get("/openai/v1/models", Some(&env.one()))
            .await
            .status(),
        200
    );
    // A lower bound only: a sleep is never shorter than asked.
    assert!(start.elapsed() >= latency);
    assert!(env.emu.faults().list().is_empty());
}

#[tokio::test]
async fn stream_cut_aborts_the_connection_after_n_events() {
    let env = Env::start().await;
    for (route, path, body) in [
        (
            "chat/completions",
            "/openai/v1/chat/completions",
            chat_body("cut me", true),
        ),
        (
            "responses",
            "/20231130/actions/v1/responses",
            responses_body("cut me", true),
        ),
    ] {
        env.emu
            .faults()
            .add(Fault {
                times: Some(1),
                ..Fault::cut_after(route, 3)
            })
            .unwrap();
        let resp = env.post(path, Some(&env.one()), &body).await;
        assert_eq!(resp.status(), 200, "the head arrives");
        let (text, failed) = read_until_end(resp).await;
        assert!(failed, "{route}: the body must fail, not end cleanly");
        let events = sse_events(&text);
        assert_eq!(events.len(), 3, "{route}: {text}");
        assert!(!text.contains("[DONE]") && !text.contains("response.completed"));
        let mut m = twinkey::SseMonitor::new(twinkey::StreamKind::for_path(path));
        m.observe(text.as_bytes());
        assert_eq!(
            m.transport_error("cut").unwrap_err().code(),
            "STREAM_INTERRUPTED"
        );

        // The fault was used up: the next stream is whole.
        let resp = env.post(path, Some(&env.one()), &body).await;
        let (text, failed) = read_until_end(resp).await;
        assert!(!failed);
        assert!(text.contains("[DONE]") || text.contains("response.completed"));
    }
}

#[tokio::test]
async fn a_cut_past_the_end_and_a_chunk_delay_leave_the_stream_whole() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            chunk_delay_ms: Some(1),
            ..Fault::cut_after("chat/completions", 10_000)
        })
        .unwrap();
    let resp = env
        .post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("x", true),
        )
        .await;
    let (text, failed) = read_until_end(resp).await;
    assert!(!failed);
    assert_eq!(sse_events(&text).last().unwrap().1, "[DONE]");
    // Faults do not touch plain JSON answers.
    let resp = env
        .post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("x", false),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let _: Value = resp.json().await.unwrap();
}

#[tokio::test]
async fn hold_keeps_requests_until_released() {
    let env = Env::start().await;
    let (status, _) = env
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"route": "models", "hold": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (http, url, secret) = (env.http.clone(), env.url("/openai/v1/models"), env.one());
    let held: Vec<_> = (0..3)
        .map(|_| {
            let (http, url, secret) = (http.clone(), url.clone(), secret.clone());
            tokio::spawn(async move {
                http.get(url)
                    .bearer_auth(secret)
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(60), env.emu.faults().wait_held(3))
        .await
        .unwrap();
    assert_eq!(env.admin(Method::GET, "/faults", None).await.1["held"], 3);
    // Other routes are not held.
    assert_eq!(
        env.post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("a", false)
        )
        .await
        .status(),
        200
    );
    assert!(held.iter().all(|h| !h.is_finished()));
    let (status, v) = env.admin(Method::POST, "/faults/release", None).await;
    assert_eq!((status, v["faults"].clone()), (200, json!([])));
    for h in held {
        assert_eq!(h.await.unwrap(), 200);
    }
    assert_eq!(env.emu.faults().held(), 0);
}

#[tokio::test]
async fn bad_faults_are_refused_with_oci_errors() {
    let env = Env::start().await;
    for bad in [
        json!({"route": "chat", "status": 429}),
        json!({"route": "*", "status": 200}),
        json!({"route": "*", "stauts": 429}),
        json!({"route": "*"}),
        json!({"route": "*", "retryAfter": 3}),
        json!({"route": "*", "hold": true, "latencyMs": 5}),
        json!({"route": "*", "status": 429, "times": 0}),
        json!({"route": "*", "latencyMs": 99_999_999}),
    ] {
        let resp = env
            .http
            .post(format!("{}/faults", env.server.admin_url()))
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_oci_error(resp, 400, "InvalidParameter").await;
    }
    let resp = env
        .http
        .put(format!("{}/faults", env.server.admin_url()))
        .json(&json!([{"route": "*", "status": 503}, {"route": "nope", "status": 503}]))
        .send()
        .await
        .unwrap();
    expect_oci_error(resp, 400, "InvalidParameter").await;
    assert!(
        env.emu.faults().list().is_empty(),
        "nothing is set when one fault is bad"
    );
    let (status, v) = env
        .admin(
            Method::PUT,
            "/faults",
            Some(json!({"faults": [{"route": "*", "status": 503}]})),
        )
        .await;
    assert_eq!(
        (status, v["faults"][0]["status"].clone()),
        (200, json!(503))
    );
    assert_eq!(env.admin(Method::DELETE, "/faults", None).await.0, 204);
    assert!(env.emu.faults().list().is_empty());
}
