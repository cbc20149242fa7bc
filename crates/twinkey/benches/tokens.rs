//! Server tokens: verify one EdDSA and one HS256 token (the token of `mint.json`'s first case
//! shape: two models, two endpoints, caps), mint one, and the relay gate's full admission.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twinkey::Timestamp;
use twinkey::token::{
    Algorithm, FixedRandom, Gate, KeyRing, RelayRequest, Scope, TokenKey, TokenRequest,
    VerifyOptions,
};

const NOW: i64 = 1_800_000_000_000;

fn ring(alg: Algorithm) -> KeyRing {
    let mut ring = KeyRing::new();
    let key = TokenKey::generate("bench", alg, &FixedRandom::new(vec![7u8; 32])).unwrap();
    ring.insert(key).unwrap();
    ring
}

fn request() -> TokenRequest {
    let scope = Scope::new(
        ["cohere.command-r", "meta.llama-3.3-70b-instruct"],
        ["chat.completions", "responses"],
    )
    .with_max_output_tokens(256)
    .with_max_requests(1_000_000_000);
    TokenRequest::new("user-42", scope)
}

fn bench(c: &mut Criterion) {
    let now = Timestamp::from_millis(NOW);
    let rng = FixedRandom::new(vec![0xA1; 16]);
    let opts = VerifyOptions::new("twinkey-relay");
    for alg in [Algorithm::EdDsa, Algorithm::Hs256] {
        let ring = ring(alg);
        let token = ring.mint(&request(), now, &rng).unwrap().token;
        c.bench_function(&format!("verify {alg}"), |b| {
            b.iter(|| ring.verify(black_box(&token), &opts, now).unwrap())
        });
        c.bench_function(&format!("mint {alg}"), |b| {
            b.iter(|| ring.mint(black_box(&request()), now, &rng).unwrap())
        });
    }
    let ring = ring(Algorithm::EdDsa);
    let token = ring.mint(&request(), now, &rng).unwrap().token;
    let auth = format!("Bearer {token}");
    let gate = Gate::new(ring, opts);
    let body = br#"{"model":"cohere.command-r","messages":[{"role":"user","content":"Hello"}],"stream":true}"#;
    c.bench_function("gate admit (EdDSA, chat, capped)", |b| {
        b.iter(|| {
            let req = RelayRequest {
                method: "POST",
                path: "/v1/chat/completions",
                query: None,
                authorization: Some(&auth),
                body,
            };
            gate.admit(black_box(&req), now).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
