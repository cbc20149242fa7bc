//! Streams are passed through as they arrive; a cut is a coded error, never a clean end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, chat, responses};
use futures_util::StreamExt;
use serde_json::{Value, json};
use twinkey::Termination;
use twinkey_emulator::Fault;

#[tokio::test]
async fn chat_stream_passes_through_and_ends_with_done() {
    let env = Env::start().await;
    let mut body = chat("stream please", true);
    body["stream_options"] = json!({"include_usage": true});
    let resp = env
        .client
        .post_json("chat/completions", &body)
        .await
        .unwrap();
    assert!(resp.is_event_stream());
    let mut stream = resp.into_stream();
    let (mut text, mut usage) = (String::new(), Value::Null);
    while let Some(event) = stream.next_event().await {
        let event = event.unwrap();
        if event.data == "[DONE]" {
            continue;
        }
        let v: Value = serde_json::from_str(&event.data).unwrap();
        text.push_str(
            v["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or_default(),
        );
        if !v["usage"].is_null() {
            usage = v["usage"].clone();
        }
    }
    assert_eq!(stream.termination(), Some(Termination::Done));
    assert!(text.contains("stream please"));
    assert!(usage["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn responses_stream_ends_with_response_completed() {
    let env = Env::start().await;
    let resp = env
        .client
        .post_json("responses", &responses("stream it", true))
        .await
        .unwrap();
    let mut stream = resp.into_stream();
    let mut bytes = 0;
    while let Some(chunk) = stream.next().await {
        bytes += chunk.unwrap().len();
    }
    assert_eq!(stream.termination(), Some(Termination::Completed));
    assert_eq!(stream.monitor().received(), bytes as u64);

    // Buffering a stream checks its end too.
    let resp = env
        .client
        .post_json("responses", &responses("stream it", true))
        .await
        .unwrap();
    let all = resp.text().await.unwrap();
    assert!(all.contains("response.completed"));
}

#[tokio::test]
async fn a_cut_stream_is_stream_interrupted_never_a_clean_end() {
    let env = Env::start().await;
    for (route, body) in [
        ("chat/completions", chat("cut", true)),
        ("responses", responses("cut", true)),
    ] {
        // Read as bytes: the chunks before the cut, then the error, then the end.
        env.emu
            .faults()
            .add(Fault {
                times: Some(1),
                ..Fault::cut_after(route, 3)
            })
            .unwrap();
        let resp = env.client.post_json(route, &body).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let mut stream = resp.into_stream();
        let mut received = 0u64;
        let err = loop {
            match stream.next().await {
                Some(Ok(chunk)) => received += chunk.len() as u64,
                Some(Err(e)) => break e,
                None => panic!("{route}: a cut stream ended cleanly"),
            }
        };
        assert_eq!(err.code(), "STREAM_INTERRUPTED");
        let twinkey::Error::StreamInterrupted { received: r, .. } = &err else {
            panic!()
        };
        assert_eq!(*r, received);
        assert_eq!(stream.monitor().events(), 3);
        assert!(stream.next().await.is_none());

        // Read as events.
        env.emu
            .faults()
            .add(Fault {
                times: Some(1),
                ..Fault::cut_after(route, 2)
            })
            .unwrap();
        let resp = env.client.post_json(route, &body).await.unwrap();
        let err = resp.into_stream().collect_events().await.unwrap_err();
        assert_eq!(err.code(), "STREAM_INTERRUPTED");

        // Read as one buffer.
        env.emu
            .faults()
            .add(Fault {
                times: Some(1),
                ..Fault::cut_after(route, 5)
            })
            .unwrap();
        let resp = env.client.post_json(route, &body).await.unwrap();
        assert_eq!(resp.bytes().await.unwrap_err().code(), "STREAM_INTERRUPTED");
    }
    // A cut after the first byte never fails over.
    assert_eq!(env.client.engine().current(), "key-one");
    assert_eq!(env.counts("key-two"), (0, 0, 0));
    assert!(!env.event_kinds().contains(&"failed_over"));
}

#[tokio::test]
async fn error_answers_to_stream_requests_are_not_streams() {
    let env = Env::start().await;
    env.emu
        .faults()
        .add(Fault {
            times: Some(1),
            ..Fault::status("chat/completions", 503)
        })
        .unwrap();
    let resp = env
        .client
        .post_json("chat/completions", &chat("x", true))
        .await
        .unwrap();
    assert!(!resp.is_event_stream());
    // Passed through and ended cleanly: the caller sees the 503 and its OCI body.
    let chunks: Vec<_> = resp.into_stream().collect::<Vec<_>>().await;
    let body: Vec<u8> = chunks
        .into_iter()
        .flat_map(|c| c.unwrap().to_vec())
        .collect();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "ServiceUnavailable");
}
