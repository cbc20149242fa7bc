//! Answers that say nothing against the secret never switch it: 429, 5xx, transport errors,
//! a 403 without an authentication code. A 403 with one does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Env, chat, responses};
use twinkey::{Engine, EngineOptions, Error};
use twinkey_client::{InferenceClient, InferenceRequest};
use twinkey_emulator::Fault;

#[tokio::test]
async fn rate_limit_429_surfaces_retry_after_and_does_not_switch() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            retry_after: Some(3),
            times: Some(1),
            ..Fault::status("chat/completions", 429)
        })
        .unwrap();
    let resp = env
        .client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!((resp.round_trips(), resp.secret_name()), (1, "key-one"));
    assert!(resp.request_id().is_some());
    let err = resp.error_for_status().await.unwrap_err();
    let Error::Service {
        status,
        oci_code,
        request_id,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*status, oci_code.as_str()), (429, "TooManyRequests"));
    assert_ne!(request_id, "-");

    assert_eq!(env.client.engine().current(), "key-one");
    assert_eq!(env.counts("key-two"), (0, 0, 0));
    let next = env
        .client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap();
    assert_eq!(
        (next.status().as_u16(), next.secret_name()),
        (200, "key-one")
    );
    assert!(!env.event_kinds().contains(&"failed_over"));
}

#[tokio::test]
async fn server_errors_do_not_switch() {
    let env = Env::start().await;
    for status in [500u16, 502, 503] {
        env.emu
            .faults()
            .add(Fault {
                times: Some(1),
                ..Fault::status("*", status)
            })
            .unwrap();
        let resp = env
            .client
            .post_json("responses", &responses("a", false))
            .await
            .unwrap();
        assert_eq!(
            (
                resp.status().as_u16(),
                resp.round_trips(),
                resp.secret_name()
            ),
            (status, 1, "key-one")
        );
    }
    assert_eq!(env.counts("key-two"), (0, 0, 0));
    let status = env.client.engine().status();
    assert!(status.secrets.iter().all(|s| s.usable));
}

#[tokio::test]
async fn forbidden_with_an_auth_code_fails_over_other_403s_do_not() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            code: Some("NotAllowed".into()),
            ..Fault::status("*", 403)
        })
        .unwrap();
    let resp = env.client.get("models").await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.round_trips()), (403, 1));
    // The body the engine looked at is still there for the caller.
    let err = resp.error_for_status().await.unwrap_err();
    assert!(
        matches!(&err, Error::Service { status: 403, oci_code, .. } if oci_code == "NotAllowed"),
        "{err}"
    );

    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            code: Some("NotAuthenticated".into()),
            ..Fault::status("*", 403)
        })
        .unwrap();
    let resp = env.client.get("models").await.unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            resp.round_trips(),
            resp.secret_name()
        ),
        (200, 2, "key-two")
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "list");
}

#[tokio::test]
async fn transport_errors_are_coded_and_do_not_switch() {
    let env = Env::start().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let engine = Engine::new(env.key.key.clone(), EngineOptions::default()).unwrap();
    let client = InferenceClient::new(engine, &format!("http://{closed}/openai/v1")).unwrap();
    let err = client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TRANSPORT");
    let status = client.engine().status();
    assert_eq!(status.secrets[0].counters.inconclusive, 1);
    assert!(status.secrets.iter().all(|s| s.usable));
    assert_eq!(client.engine().current(), "key-one");

    // A connection cut right after the response head (no event yet) is a cut stream, not a
    // fail-over: the first response byte has arrived.
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            ..Fault::cut_after("chat/completions", 0)
        })
        .unwrap();
    let resp = env
        .client
        .post_json("chat/completions", &chat("a", true))
        .await
        .unwrap();
    let err = resp.bytes().await.unwrap_err();
    assert!(
        matches!(err, Error::StreamInterrupted { received: 0, .. }),
        "{err}"
    );
    assert_eq!(env.client.engine().current(), "key-one");
    let ok = env
        .client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap();
    assert_eq!((ok.status().as_u16(), ok.secret_name()), (200, "key-one"));
}

#[tokio::test]
async fn bad_requests_are_refused_before_sending() {
    let env = Env::start().await;
    let engine = env.client.engine().clone();
    for bad in ["not a url", "ftp://example.com/v1", "http://"] {
        let err = InferenceClient::new(engine.clone(), bad).unwrap_err();
        assert_eq!(err.code(), "INVALID_REQUEST", "{bad}");
    }
    let err = InferenceRequest::get("models")
        .with_header("Authorization", "Bearer x")
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_REQUEST");
    let ok = InferenceRequest::get("models")
        .with_header("opc-request-id", "trace-1")
        .unwrap();
    let resp = env.client.send(ok).await.unwrap();
    assert_eq!(resp.request_id(), Some("trace-1"));
    assert_eq!(env.emu.counters().snapshot().total, 1);
}

#[tokio::test]
async fn nothing_prints_a_secret() {
    let env = Env::start().await;
    let resp = env
        .client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap();
    let shown = format!("{:?} {:?} {:?}", env.client, resp, env.client.engine());
    for v in env.secret_values() {
        assert!(
            !shown.contains(&v),
            "a secret value appears in Debug output"
        );
    }
}

#[tokio::test]
async fn a_path_that_leaves_the_base_url_is_refused_before_anything_is_sent() {
    let env = Env::start().await;
    for path in [
        "https://evil.example/v1/x",
        "https:evil.example/x",
        "../../../x",
    ] {
        let err = env
            .client
            .send(InferenceRequest::get(path))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_REQUEST", "{path}");
        assert!(!err.to_string().contains("sk-"), "{err}");
    }
    assert_eq!(env.counts("key-one"), (0, 0, 0));
}
