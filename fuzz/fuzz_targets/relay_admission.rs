//! Fuzzes the relay gate's admission of a request with a valid token (method, path, query,
//! body): refused with a coded error, or admitted with a body that keeps the token's model
//! list and output cap (never more than the cap, never multiplied by `n`), a query from the
//! allow-list only, and a stored response only to its owner.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinkey::Timestamp;
use twinkey::token::{FixedRandom, Gate, RelayRequest, Scope, TokenRequest, VerifyOptions};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: u8,
    path: &'a str,
    query: Option<&'a str>,
    body: &'a [u8],
    capped: bool,
    owner_created: Option<&'a str>,
}

const METHODS: [&str; 5] = ["POST", "GET", "DELETE", "PUT", "OPTIONS"];
const CAP: u32 = 64;
const FIELDS: [&str; 4] = ["max_tokens", "max_completion_tokens", "max_output_tokens", "n"];

fuzz_target!(|input: Input<'_>| {
    let now = Timestamp::from_millis(1_800_000_000_000);
    // One gate for the whole run (its owners table is bounded; the tokens have no budget).
    static SETUP: OnceLock<(Gate, [String; 2])> = OnceLock::new();
    let (gate, tokens) = SETUP.get_or_init(|| {
        let ring = twinkey_fuzz::ring();
        let mint = |capped: bool| {
            let mut scope = Scope::new(
                ["m1", "m2"],
                ["chat.completions", "responses", "completions", "embeddings", "models"],
            );
            if capped {
                scope = scope.with_max_output_tokens(CAP);
            }
            ring.mint(&TokenRequest::new("alice", scope), now, &FixedRandom::new([7u8; 16]))
                .unwrap()
                .token
        };
        let tokens = [mint(false), mint(true)];
        (Gate::new(ring, VerifyOptions::new("twinkey-relay")), tokens)
    });
    let token = &tokens[usize::from(input.capped)];
    if let Some(id) = input.owner_created {
        // Another subject created this id: alice may not touch it.
        let mut bob = gate
            .admit(
                &RelayRequest {
                    method: "POST",
                    path: "/v1/responses",
                    query: None,
                    authorization: Some(&format!("Bearer {token}")),
                    body: br#"{"model":"m1","input":"x"}"#,
                },
                now,
            )
            .unwrap();
        bob.subject = "bob".into();
        gate.record_response(&bob, id);
    }
    let auth = format!("Bearer {token}");
    let request = RelayRequest {
        method: METHODS[usize::from(input.method) % METHODS.len()],
        path: input.path,
        query: input.query,
        authorization: Some(&auth),
        body: input.body,
    };
    let admission = match gate.admit(&request, now) {
        Ok(a) => a,
        Err(e) => {
            assert!(!e.code().is_empty());
            let reply = twinkey::token::error_reply(&e);
            assert!(!reply.body.contains(token.as_str()), "the token is never echoed");
            return;
        }
    };
    if let (Some(id), Some(read)) = (input.owner_created, admission.response_id.as_deref()) {
        assert_ne!(id, read, "bob's response admitted for alice");
    }
    if let Some(q) = &admission.upstream_query {
        for pair in q.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            assert!(
                ["include", "include%5B%5D", "include[]", "stream", "starting_after", "include_obfuscation"]
                    .contains(&name),
                "query parameter {name:?} forwarded"
            );
        }
    }
    if let Some(body) = &admission.body {
        let v: Value = serde_json::from_slice(body).expect("a forwarded body is JSON");
        if let Some(model) = v.get("model").and_then(Value::as_str) {
            assert!(model == "m1" || model == "m2", "model {model:?} outside the scope");
        }
        if input.capped {
            for f in FIELDS {
                let n = v.get(f).and_then(Value::as_u64);
                match f {
                    "n" => assert!(n.is_none_or(|n| n <= 1), "n = {n:?} with a cap"),
                    _ => assert!(n.is_none_or(|n| n <= u64::from(CAP)), "{f} = {n:?} over the cap"),
                }
            }
            assert!(v.get("best_of").and_then(Value::as_u64).is_none_or(|n| n <= 1));
        }
    }
});
