//! One Rust process of a fleet, for the multi-process end-to-end test (`python/e2e/
//! test_fleet_processes.py`) and the demo: loads a key file, joins the fleet at a Redis URL,
//! prints `{"ready": true, "origin": ...}` once connected, waits for a line on stdin, then
//! sends `requests` chat completions, `concurrency` at a time, through an [`InferenceClient`]
//! and prints `{"done": true, "ok", "failed", "errors", "stats"}`.
//!
//! `fleet_worker '{"keyFile": "key.json", "baseUrl": "http://127.0.0.1:PORT/openai/v1",
//!  "redis": "redis://127.0.0.1:6390", "origin": "rust-1", "requests": 250, "concurrency": 8,
//!  "maxTokens": 20, "budget": {"tokensPerMinute": 2000, "maxWaitMs": 120000}}'`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinkey::{ApiKey, BudgetOptions, Engine, EngineOptions};
use twinkey_client::InferenceClient;
use twinkey_client::fleet::{FleetOptions, RedisFleet};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let config: Value = serde_json::from_str(&std::env::args().nth(1).expect("a JSON config"))
        .expect("the config is JSON");
    let text = |k: &str| config[k].as_str().unwrap().to_string();
    let key = ApiKey::load(text("keyFile")).unwrap();
    let budget = match &config["budget"] {
        Value::Null => None,
        b => Some(BudgetOptions::from_json_value(b).unwrap()),
    };
    let engine = Engine::new(
        key,
        EngineOptions {
            budget,
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let fleet = RedisFleet::start(
        engine.clone(),
        FleetOptions {
            url: text("redis"),
            origin: Some(text("origin")),
            ..FleetOptions::default()
        },
    )
    .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while !fleet.stats().connected && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("{}", json!({"ready": true, "origin": fleet.origin()}));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();

    let client = Arc::new(InferenceClient::new(engine.clone(), &text("baseUrl")).unwrap());
    let total = config["requests"].as_u64().unwrap() as usize;
    let max_tokens = config["maxTokens"].as_u64().unwrap_or(20);
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for _ in 0..config["concurrency"].as_u64().unwrap() {
        let (client, next, errors) = (client.clone(), next.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0usize;
            while next.fetch_add(1, Ordering::SeqCst) < total {
                let body = json!({"model": "openai.gpt-oss-120b", "max_tokens": max_tokens,
                    "messages": [{"role": "user", "content": "Say hello to the fleet."}]});
                let outcome = async {
                    let r = client.post_json("chat/completions", &body).await?;
                    r.error_for_status().await?.bytes().await
                }
                .await;
                match outcome {
                    Ok(_) => ok += 1,
                    Err(e) => errors.lock().unwrap().push(format!("{}: {e}", e.code())),
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for w in workers {
        ok += w.await.unwrap();
    }
    let errors = errors.lock().unwrap().clone();
    let stats = serde_json::to_value(fleet.stats()).unwrap();
    fleet.close().await;
    println!(
        "{}",
        json!({"done": true, "ok": ok, "failed": errors.len(),
            "errors": errors.iter().take(5).collect::<Vec<_>>(), "stats": stats})
    );
}
