//! The engine's admission and settlement: usage per secret and model, the budget's answers,
//! the high-water event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use serde_json::json;
use twinkey::usage::{Endpoint, StreamUsage};
use twinkey::{
    ApiKey, BudgetOptions, Clock, Engine, EngineOptions, EventKind, ManualClock, ResponseFacts,
    Secret, SseEvent, Start, Ticket, Timestamp, Verdict,
};

const URL: &str = "http://127.0.0.1:9/openai/v1/chat/completions";

fn engine(budget: Option<serde_json::Value>) -> (Engine, ManualClock) {
    let key = ApiKey::new(
        Secret::new("key-one", "sk-meter-one-aaaa", None).unwrap(),
        Secret::new("key-two", "sk-meter-two-bbbb", None).unwrap(),
    )
    .unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_767_225_600_000));
    let options = EngineOptions {
        budget: budget.map(|b| BudgetOptions::from_json_value(&b).unwrap()),
        ..EngineOptions::default()
    };
    let e = Engine::with_clock(key, options, Arc::new(clock.clone())).unwrap();
    (e, clock)
}

fn go(e: &Engine, body: &str) -> Ticket {
    match e.admit(URL, body.as_bytes(), None).unwrap() {
        Start::Go(t) => t,
        Start::Wait { until, scope, .. } => panic!("wait until {until} ({scope})"),
    }
}

const REQUEST: &str =
    r#"{"model":"meta.llama","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"#;
const ANSWER: &str = r#"{"model":"meta.llama-3.3","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":20,"total_tokens":27}}"#;

#[test]
fn a_request_is_metered_with_the_response_model_and_usage() {
    let (e, clock) = engine(None);
    let t = go(&e, REQUEST);
    assert_eq!(t.facts().estimate, 107);
    let a = e.begin_for(URL).unwrap();
    clock.advance_ms(250);
    let r = ResponseFacts::status(200).with_body(ANSWER.as_bytes());
    assert!(matches!(e.complete(&a, &r), Verdict::Accept { .. }));
    e.settle(&t, Some(&a), Some(&r), None).unwrap();
    let report = e.usage();
    assert_eq!(report.rows.len(), 1);
    let row = &report.rows[0];
    assert_eq!(row.secret, "key-one");
    assert_eq!(row.row.model, "meta.llama-3.3");
    assert_eq!(row.row.endpoint, Endpoint::ChatCompletions);
    assert_eq!((row.row.input_tokens, row.row.output_tokens), (7, 20));
    assert_eq!(row.row.duration.count(), 1);
    assert!((row.row.duration.sum - 0.25).abs() < 1e-9);
    assert_eq!(report.minutes.last().unwrap().tokens, [27, 0]);
    assert!(report.budget.is_none());
    // Settling twice does nothing.
    assert!(!e.settle(&t, Some(&a), Some(&r), None).unwrap());
    assert_eq!(e.usage().rows[0].row.requests, 1);
    // A body fed in chunks is read at settlement.
    let t = go(&e, REQUEST);
    for chunk in ANSWER.as_bytes().chunks(5) {
        t.feed(chunk);
    }
    e.settle(&t, Some(&a), Some(&ResponseFacts::status(200)), None)
        .unwrap();
    assert_eq!(e.usage().rows[0].row.total_tokens, 54);
}

#[test]
fn a_stream_is_metered_from_the_monitor_and_a_missing_usage_counted() {
    let (e, _clock) = engine(None);
    let t = go(&e, REQUEST);
    let a = e.begin_for(URL).unwrap();
    let r = ResponseFacts::status(200);
    let mut s = StreamUsage::new();
    s.observe(&SseEvent {
        event: None,
        data: r#"{"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#
            .into(),
        id: None,
    });
    e.settle(&t, Some(&a), Some(&r), Some(s.facts())).unwrap();
    let t = go(&e, REQUEST);
    let a = e.begin_for(URL).unwrap();
    e.settle(&t, Some(&a), Some(&r), None).unwrap();
    let rows = e.usage().rows;
    let m = rows.iter().find(|r| r.row.model == "m").unwrap();
    assert_eq!(m.row.total_tokens, 3);
    let none = rows.iter().find(|r| r.row.model == "meta.llama").unwrap();
    assert_eq!((none.row.requests, none.row.without_usage), (1, 1));
}

#[test]
fn the_budget_waits_refunds_and_alerts() {
    let (e, clock) = engine(Some(json!({"tokensPerMinute": 200, "maxWaitMs": 70000})));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    e.subscribe(move |ev| {
        s2.lock()
            .unwrap()
            .push((ev.kind, ev.scope.clone(), ev.used))
    });
    let t1 = go(&e, REQUEST); // 107
    let wait = e.admit(URL, REQUEST.as_bytes(), None).unwrap();
    let Start::Wait { until, scope, .. } = wait else {
        panic!("should wait")
    };
    assert_eq!(scope, "key");
    assert!(until > clock.now());
    // The first request used 27 tokens: 80 refunded, the second fits now.
    let a = e.begin_for(URL).unwrap();
    let r = ResponseFacts::status(200).with_body(ANSWER.as_bytes());
    e.settle(&t1, Some(&a), Some(&r), None).unwrap();
    let t2 = go(&e, REQUEST);
    assert_eq!(e.usage().budget.unwrap().windows[0].used, 27 + 107);
    let events = seen.lock().unwrap().clone();
    assert!(events.is_empty(), "{events:?}");
    // A third goes above 80 % of 200.
    clock.advance_ms(10);
    let wait = e.admit(URL, REQUEST.as_bytes(), None).unwrap();
    assert!(matches!(wait, Start::Wait { .. }));
    e.settle(&t2, None, None, None).unwrap(); // not sent: refunded
    let _t3 = go(&e, REQUEST);
    let _t4 = e
        .admit(URL, br#"{"messages":[],"max_tokens":40}"#, None)
        .unwrap();
    let events = seen.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![(
            EventKind::BudgetHighWater,
            Some("key".to_string()),
            Some(27 + 107 + 40)
        )]
    );
}

#[test]
fn fail_fast_and_429() {
    let (e, _clock) = engine(Some(json!({"policy": "fail_fast"})));
    let t = go(&e, REQUEST);
    let a = e.begin_for(URL).unwrap();
    let r = ResponseFacts::status(429).header("Retry-After", "7");
    e.settle(&t, Some(&a), Some(&r), None).unwrap();
    let err = e.admit(URL, REQUEST.as_bytes(), None).unwrap_err();
    assert_eq!(err.code(), "TPM_BUDGET_EXCEEDED");
    assert!(err.to_string().contains("rate_limited"), "{err}");
    assert!(!format!("{err:?}").contains("sk-meter"));
}
