//! Every inference route on both bases: JSON and streaming shapes, determinism, usage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{BASES, Env, MODEL, chat_body, expect_oci_error, responses_body, sse_events};
use serde_json::{Value, json};
use twinkey::{SseMonitor, StreamKind, Termination};

#[tokio::test]
async fn chat_completions_json_on_both_bases() {
    let env = Env::start().await;
    for base in BASES {
        let path = format!("{base}/chat/completions");
        let resp = env
            .post(&path, Some(&env.one()), &chat_body("Hello there", false))
            .await;
        assert_eq!(resp.status(), 200, "{base}");
        assert!(resp.headers().contains_key("opc-request-id"));
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["model"], MODEL);
        assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert_eq!(v["choices"][0]["message"]["role"], "assistant");
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        let text = v["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(text.contains("\"Hello there\""), "{text}");
        let u = &v["usage"];
        let (p, c, t) = (
            u["prompt_tokens"].as_u64().unwrap(),
            u["completion_tokens"].as_u64().unwrap(),
            u["total_tokens"].as_u64().unwrap(),
        );
        assert!(p > 0 && c > 0);
        assert_eq!(p + c, t);
    }
}

#[tokio::test]
async fn replies_are_deterministic_and_derived_from_the_input() {
    let env = Env::start().await;
    let text = |v: Value| {
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let path = "/openai/v1/chat/completions";
    let a = env
        .post(
            path,
            Some(&env.one()),
            &chat_body("Tell me about rotation", false),
        )
        .await;
    let b = env
        .post(
            path,
            Some(&env.two()),
            &chat_body("Tell me about rotation", false),
        )
        .await;
    let c = env
        .post(
            path,
            Some(&env.one()),
            &chat_body("Something else entirely", false),
        )
        .await;
    let (a, b, c) = (
        text(a.json().await.unwrap()),
        text(b.json().await.unwrap()),
        text(c.json().await.unwrap()),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn chat_completions_stream_on_both_bases() {
    let env = Env::start().await;
    let plain: Value = env
        .post(
            "/openai/v1/chat/completions",
            Some(&env.one()),
            &chat_body("Stream me", false),
        )
        .await
        .json()
        .await
        .unwrap();
    let expected = plain["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    for base in BASES {
        let resp = env
            .post(
                &format!("{base}/chat/completions"),
                Some(&env.one()),
                &chat_body("Stream me", true),
            )
            .await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let body = resp.text().await.unwrap();
        let mut monitor = SseMonitor::new(StreamKind::ChatCompletions);
        monitor.observe(body.as_bytes());
        assert_eq!(monitor.finish().unwrap(), Termination::Done);
        let events = sse_events(&body);
        assert_eq!(events.last().unwrap().1, "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let mut text = String::new();
        for c in &chunks {
            assert_eq!(c["object"], "chat.completion.chunk");
            assert!(c.get("usage").is_none(), "no usage without include_usage");
            text.push_str(
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap_or_default(),
            );
        }
        assert_eq!(text, expected);
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
    }
}

#[tokio::test]
async fn stream_options_include_usage_adds_a_usage_chunk() {
    let env = Env::start().await;
    let mut body = chat_body("Count my tokens", true);
    body["stream_options"] = json!({"include_usage": true});
    let text = env
        .post("/openai/v1/chat/completions", Some(&env.one()), &body)
        .await
        .text()
        .await
        .unwrap();
    let events = sse_events(&text);
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    for c in rest {
        assert!(c["usage"].is_null() && c.get("usage").is_some(), "{c}");
    }
    let pieces = rest
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        })
        .count() as u64;
    let u = &last["usage"];
    assert_eq!(u["completion_tokens"].as_u64().unwrap(), pieces);
    assert_eq!(
        u["prompt_tokens"].as_u64().unwrap() + pieces,
        u["total_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_with_length() {
    let env = Env::start().await;
    let mut body = chat_body("Long story please", false);
    body["max_tokens"] = json!(3);
    let v: Value = env
        .post("/openai/v1/chat/completions", Some(&env.one()), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn responses_json_on_both_bases() {
    let env = Env::start().await;
    for base in BASES {
        let mut body = responses_body("Hello responses", false);
        body["instructions"] = json!("Be brief.");
        let resp = env
            .post(&format!("{base}/responses"), Some(&env.two()), &body)
            .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["object"], "response");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["instructions"], "Be brief.");
        assert!(v["id"].as_str().unwrap().starts_with("resp_"));
        let item = &v["output"][0];
        assert_eq!(item["type"], "message");
        assert_eq!(item["role"], "assistant");
        assert_eq!(item["content"][0]["type"], "output_text");
        assert!(
            item["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("Hello responses")
        );
        let u = &v["usage"];
        assert_eq!(
            u["input_tokens"].as_u64().unwrap() + u["output_tokens"].as_u64().unwrap(),
            u["total_tokens"].as_u64().unwrap()
        );
    }
}

#[tokio::test]
async fn responses_stream_on_both_bases() {
    let env = Env::start().await;
    let input =
        json!([{"role": "user", "content": [{"type": "input_text", "text": "Stream a response"}]}]);
    for base in BASES {
        let body = json!({"model": MODEL, "input": input, "stream": true});
        let resp = env
            .post(&format!("{base}/responses"), Some(&env.one()), &body)
            .await;
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        let mut monitor = SseMonitor::new(StreamKind::Responses);
        monitor.observe(text.as_bytes());
        assert_eq!(monitor.finish().unwrap(), Termination::Completed);
        let events = sse_events(&text);
        let names: Vec<&str> = events.iter().map(|(e, _)| e.as_deref().unwrap()).collect();
        assert_eq!(names.first(), Some(&"response.created"));
        assert_eq!(names.last(), Some(&"response.completed"));
        for n in [
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.output_item.done",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        let mut deltas = String::new();
        for (i, (name, data)) in events.iter().enumerate() {
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"].as_str(), name.as_deref());
            assert_eq!(v["sequence_number"].as_u64().unwrap(), i as u64);
            if v["type"] == "response.output_text.delta" {
                deltas.push_str(v["delta"].as_str().unwrap());
            }
        }
        let done: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
        assert_eq!(done["response"]["status"], "completed");
        assert_eq!(
            done["response"]["output"][0]["content"][0]["text"]
                .as_str()
                .unwrap(),
            deltas
        );
        assert!(done["response"]["usage"]["output_tokens"].as_u64().unwrap() > 0);
    }
}

#[tokio::test]
async fn max_output_tokens_ends_with_response_incomplete() {
    let env = Env::start().await;
    let mut body = responses_body("Go on and on", true);
    body["max_output_tokens"] = json!(2);
    let text = env
        .post("/openai/v1/responses", Some(&env.one()), &body)
        .await
        .text()
        .await
        .unwrap();
    let mut monitor = SseMonitor::new(StreamKind::Responses);
    monitor.observe(text.as_bytes());
    assert_eq!(monitor.finish().unwrap(), Termination::Incomplete);
}

#[tokio::test]
async fn models_on_both_bases() {
    let env = Env::start().await;
    for base in BASES {
        let resp = env.get(&format!("{base}/models"), Some(&env.one())).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["object"], "list");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&MODEL), "{ids:?}");
        assert!(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["object"] == "model")
        );
        expect_oci_error(
            env.get(&format!("{base}/models"), None).await,
            401,
            "NotAuthenticated",
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_models_are_not_found_and_meta_has_no_responses_api() {
    let env = Env::start().await;
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let resp = env
        .post("/openai/v1/chat/completions", Some(&env.one()), &body)
        .await;
    expect_oci_error(resp, 404, "NotAuthorizedOrNotFound").await;
    let body = json!({"model": "meta.llama-3.3-70b-instruct", "input": "hi"});
    let resp = env
        .post("/openai/v1/responses", Some(&env.one()), &body)
        .await;
    expect_oci_error(resp, 400, "InvalidParameter").await;
    let body = json!({"model": "meta.llama-3.3-70b-instruct", "messages": [{"role": "user", "content": "hi"}]});
    let resp = env
        .post("/openai/v1/chat/completions", Some(&env.one()), &body)
        .await;
    assert_eq!(resp.status(), 200);
}
