//! Fuzzes the usage readers, all fed outside input: response bodies (`usage_from_body`),
//! streamed usage (`StreamUsage` over the SSE parser), request estimates (`request_facts`),
//! rate-limit headers (`RateLimitHeaders::parse`) and budget options (`BudgetOptions`, then a
//! metered engine admitting and settling a request under them).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinkey::budget::MAX_RETRY_AFTER;
use twinkey::stream::SseParser;
use twinkey::usage::MAX_ESTIMATE_BODY;
use twinkey::{
    ApiKey, BudgetOptions, Endpoint, Engine, EngineOptions, ManualClock, RateLimitHeaders,
    ResponseFacts, Secret, Start, StreamUsage, Timestamp, request_facts, usage_from_body,
};

const NOW: i64 = 1_767_225_600_000;

/// A differential check: whatever the reader takes from a body, a JSON parser sees there too.
fn body(payload: &[u8]) {
    let facts = usage_from_body(payload);
    if facts.usage.is_none() && facts.model.is_none() {
        return;
    }
    let v: Value = serde_json::from_slice(payload).expect("usage read from a body that is not JSON");
    assert!(v.is_object());
    if let Some(m) = &facts.model {
        assert_eq!(v["model"].as_str(), Some(m.as_str()));
    }
    if facts.usage.is_some() {
        assert!(v["usage"].is_object(), "usage without a usage object");
    }
}

fn estimate(payload: &[u8]) {
    let split = payload.iter().position(|&b| b == b'\n').unwrap_or(payload.len());
    let path = String::from_utf8_lossy(&payload[..split]);
    let rest = payload.get(split + 1..).unwrap_or_default();
    let f = request_facts(&path, rest, 4096);
    assert_eq!(f.endpoint, Endpoint::for_path(&path));
    assert!(f.estimate >= f.prompt_tokens);
    assert!(f.estimate >= f.output_cap.unwrap_or(0));
    if rest.len() > MAX_ESTIMATE_BODY {
        assert!(f.model.is_none());
    }
}

/// The same usage whatever the chunking of the stream.
fn stream(data: &[u8]) {
    let (chunks, payload) = twinkey_fuzz::chunks(data);
    let mut whole = Vec::new();
    SseParser::new().feed(payload, &mut whole);
    let mut parser = SseParser::new();
    let mut pieces = Vec::new();
    let mut u = StreamUsage::new();
    for c in &chunks {
        pieces.clear();
        parser.feed(c, &mut pieces);
        for e in &pieces {
            u.observe(e);
        }
    }
    let mut w = StreamUsage::new();
    for e in &whole {
        w.observe(e);
    }
    assert_eq!(u.facts(), w.facts(), "stream usage depends on the chunking");
}

fn headers(payload: &[u8]) {
    let text = String::from_utf8_lossy(payload);
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .collect();
    let h = RateLimitHeaders::parse(pairs, Timestamp::from_millis(NOW));
    if let Some(d) = h.retry_after {
        assert!(d <= MAX_RETRY_AFTER);
    }
}

/// Options from JSON, then one request admitted and settled under them.
fn budget(payload: &[u8]) {
    let split = payload.iter().position(|&b| b == 0).unwrap_or(payload.len());
    let Ok(v) = serde_json::from_slice::<Value>(&payload[..split]) else {
        return;
    };
    let options = match BudgetOptions::from_json_value(&v) {
        Ok(o) => o,
        Err(e) => {
            assert!(!e.code().is_empty());
            return;
        }
    };
    let key = ApiKey::new(
        Secret::new("key-one", "sk-fuzz-one-aaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-fuzz-two-bbbbbbbb", None).unwrap(),
    )
    .unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(NOW));
    let engine_options = EngineOptions {
        budget: Some(options),
        ..EngineOptions::default()
    };
    let Ok(e) = Engine::with_clock(key, engine_options, Arc::new(clock.clone())) else {
        return;
    };
    let request = payload.get(split + 1..).unwrap_or_default();
    let url = "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1/chat/completions";
    match e.admit(url, request, None) {
        Ok(Start::Go(ticket)) => {
            let a = e.begin_for(url).unwrap();
            let answer = ResponseFacts::status(200).with_body(request);
            let _ = e.complete(&a, &answer);
            let _ = e.settle(&ticket, Some(&a), Some(&answer), None);
        }
        Ok(_) => {}
        Err(err) => assert!(!err.code().is_empty()),
    }
    let _ = e.usage();
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, payload)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => body(payload),
        1 => estimate(payload),
        2 => stream(payload),
        3 => headers(payload),
        _ => budget(payload),
    }
});
