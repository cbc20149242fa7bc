//! Runs the shared usage vectors (`tests/vectors/usage/cases.json`): usage read from response
//! bodies and streams, request estimates, endpoints and rate-limit headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use twinkey::budget::RateLimitHeaders;
use twinkey::usage::wire::{
    body_facts_json as facts_json, rate_limit_json, request_facts_json as request_json,
};
use twinkey::usage::{Endpoint, request_facts, usage_from_body};
use twinkey::{SseMonitor, StreamKind, Timestamp};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/usage/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn bodies() {
    let v = vectors();
    for case in v["bodies"].as_array().unwrap() {
        let body = case["body"].as_str().unwrap();
        let got = facts_json(&usage_from_body(body.as_bytes()));
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn streams_whole_and_byte_by_byte() {
    let v = vectors();
    for case in v["streams"].as_array().unwrap() {
        let text = case["stream"].as_str().unwrap().as_bytes();
        let mut whole = SseMonitor::new(StreamKind::Auto);
        whole.observe(text);
        assert_eq!(
            facts_json(whole.usage()),
            case["expect"],
            "{}",
            case["name"]
        );
        let mut bytes = SseMonitor::new(StreamKind::Auto);
        for b in text.chunks(1) {
            bytes.observe(b);
        }
        assert_eq!(
            bytes.usage(),
            whole.usage(),
            "{} (byte by byte)",
            case["name"]
        );
    }
}

#[test]
fn requests() {
    let v = vectors();
    for case in v["requests"].as_array().unwrap() {
        let f = request_facts(
            case["path"].as_str().unwrap(),
            case["body"].as_str().unwrap().as_bytes(),
            case["defaultOutputTokens"].as_u64().unwrap(),
        );
        assert_eq!(request_json(&f), case["expect"], "{}", case["name"]);
    }
}

#[test]
fn endpoints() {
    let v = vectors();
    for case in v["endpoints"].as_array().unwrap() {
        let e = Endpoint::for_path(case["path"].as_str().unwrap());
        assert_eq!(e.as_str(), case["expect"], "{}", case["path"]);
        assert_eq!(Endpoint::parse(e.as_str()), Some(e));
    }
}

#[test]
fn headers() {
    let v = vectors();
    for case in v["headers"].as_array().unwrap() {
        let pairs: Vec<(String, String)> = case["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_string(),
                    p[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let now = Timestamp::from_millis(case["nowMs"].as_i64().unwrap());
        let h = RateLimitHeaders::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), now);
        let got = rate_limit_json(&h);
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}
