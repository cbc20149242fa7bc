//! Relay added latency on loopback: the same chat completion sent straight to the emulator
//! (with a secret) and through the relay (with a server token), one request at a time on a
//! kept-alive connection, alternating rounds. Prints one JSON line with p50/p99 in µs.
//!
//! `cargo run --release -p twinkey-client --features relay --example relay_latency -- [N]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use serde_json::json;
use twinkey::token::{Algorithm, KeyRing, Scope, SystemRandom, TokenKey, TokenRequest};
use twinkey::{Clock, Engine, EngineOptions, SystemClock};
use twinkey_client::relay::{Relay, RelayOptions};
use twinkey_emulator::{Emulator, KeySpec};

const MODEL: &str = "openai.gpt-oss-120b";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let emu = Emulator::default();
    let key = emu.generate_key(&KeySpec::default()).unwrap();
    let upstream = emu.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut ring = KeyRing::new();
    ring.insert(TokenKey::generate("bench", Algorithm::EdDsa, &SystemRandom).unwrap())
        .unwrap();
    let scope = Scope::new([MODEL], ["chat.completions"])
        .with_max_output_tokens(16)
        .with_max_requests(u32::MAX);
    let token = ring
        .mint(
            &TokenRequest::new("bench", scope),
            SystemClock.now(),
            &SystemRandom,
        )
        .unwrap()
        .token;
    let engine = Engine::new(key.key.clone(), EngineOptions::default()).unwrap();
    let relay = Relay::new(engine, ring, RelayOptions::new(upstream.base_url()))
        .unwrap()
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let secret = key.key.secrets()[0]
        .value
        .as_ref()
        .unwrap()
        .expose()
        .to_string();
    // The same body both ways (the relay sets max_tokens to the cap; send it already set).
    let body = json!({"model": MODEL, "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 16});
    let http = reqwest::Client::builder().build().unwrap();
    let direct_url = format!("{}/chat/completions", upstream.base_url());
    let relay_url = format!("{}/chat/completions", relay.base_url());

    let once = |url: String, bearer: String| {
        let req = http.post(url).bearer_auth(bearer).json(&body);
        async move {
            let t = Instant::now();
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.bytes().await.unwrap();
            t.elapsed().as_secs_f64() * 1e6
        }
    };
    for _ in 0..200 {
        once(direct_url.clone(), secret.clone()).await;
        once(relay_url.clone(), token.clone()).await;
    }
    let (mut direct, mut relayed) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let rounds = 10;
    for _ in 0..rounds {
        for _ in 0..n / rounds {
            direct.push(once(direct_url.clone(), secret.clone()).await);
        }
        for _ in 0..n / rounds {
            relayed.push(once(relay_url.clone(), token.clone()).await);
        }
    }
    direct.sort_by(f64::total_cmp);
    relayed.sort_by(f64::total_cmp);
    let (d50, d99) = (percentile(&direct, 0.5), percentile(&direct, 0.99));
    let (r50, r99) = (percentile(&relayed, 0.5), percentile(&relayed, 0.99));
    println!(
        "{}",
        json!({
            "requests": direct.len(),
            "direct_p50_us": d50, "direct_p99_us": d99,
            "relay_p50_us": r50, "relay_p99_us": r99,
            "added_p50_us": r50 - d50, "added_p99_us": r99 - d99,
        })
    );
    relay.shutdown().await.unwrap();
    upstream.shutdown().await.unwrap();
}
