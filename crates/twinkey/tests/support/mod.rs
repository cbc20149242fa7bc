//! Shared by the exporter tests: one metered request through an engine on a manual clock.
#![allow(dead_code, clippy::unwrap_used)]

use twinkey::{Engine, ManualClock, ResponseFacts, Start};

/// Where the requests go.
pub const URL: &str = "http://127.0.0.1:9/openai/v1/chat/completions";
/// A chat request capped at 100 output tokens.
pub const REQUEST: &str =
    r#"{"model":"meta.llama","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"#;
/// A chat answer reporting 7 + 20 tokens.
pub const ANSWER: &str = r#"{"model":"meta.llama","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":20,"total_tokens":27}}"#;

/// Admits [`REQUEST`], hands out a secret, lets 300 ms pass, answers `status` with `body`
/// and settles.
pub fn send(e: &Engine, clock: &ManualClock, status: u16, body: &str) {
    let Start::Go(t) = e.admit(URL, REQUEST.as_bytes(), None).unwrap() else {
        panic!("waits")
    };
    let a = e.begin_for(URL).unwrap();
    clock.advance_ms(300);
    let r = ResponseFacts::status(status).with_body(body.as_bytes());
    let _ = e.complete(&a, &r);
    e.settle(&t, Some(&a), Some(&r), None).unwrap();
}
