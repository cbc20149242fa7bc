//! The engine's hot path: hand out a secret and accept the response, on 1 and 2 threads; and
//! the same with metering and the tokens-per-minute budget on (admit, begin, accept, settle).
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use twinkey::{
    ApiKey, BudgetOptions, Engine, EngineOptions, ResponseFacts, Secret, Start, Verdict,
};

const URL: &str = "http://127.0.0.1:9/openai/v1/chat/completions";
const BODY: &[u8] =
    br#"{"model":"meta.llama","messages":[{"role":"user","content":"hi"}],"max_tokens":16}"#;
const ANSWER: &[u8] = br#"{"model":"meta.llama","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9,"total_tokens":12}}"#;

fn key() -> ApiKey {
    ApiKey::new(
        Secret::new("key-one", "sk-bench-one-aaaaaaaaaaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-bench-two-bbbbbbbbbbbbbbbb", None).unwrap(),
    )
    .unwrap()
}

fn engine() -> Engine {
    Engine::new(key(), EngineOptions::default()).unwrap()
}

/// An engine with a budget so large it never waits: the cost measured is the bookkeeping.
fn metered_engine() -> Engine {
    let budget = BudgetOptions::from_json_value(
        &serde_json::json!({"tokensPerMinute": 1_000_000_000_000u64}),
    )
    .unwrap();
    let options = EngineOptions {
        budget: Some(budget),
        ..EngineOptions::default()
    };
    Engine::new(key(), options).unwrap()
}

/// One metered request: admission (estimate charged), hand-out, verdict, settlement (usage
/// read from the body, the estimate reconciled, the meter recorded).
#[inline]
fn one_metered(engine: &Engine, ok: &ResponseFacts<'_>) {
    let Ok(Start::Go(ticket)) = engine.admit(URL, BODY, None) else {
        panic!("the budget refused")
    };
    let a = engine.begin().unwrap();
    black_box(a.secret_value());
    match engine.complete(&a, ok) {
        Verdict::Accept { .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(engine.settle(&ticket, Some(&a), Some(ok), None).unwrap());
}

#[inline]
fn one_attempt(engine: &Engine, ok: &ResponseFacts<'_>) {
    let a = engine.begin().unwrap();
    black_box(a.secret_value());
    match engine.complete(&a, ok) {
        Verdict::Accept { .. } => {}
        other => panic!("{other:?}"),
    }
}

/// Runs `iters` attempts on each of `threads` threads sharing one engine; returns the wall
/// time divided by the per-thread count (the time one attempt takes while all threads run).
fn parallel(engine: &Engine, threads: usize, iters: u64, metered: bool) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (e, b) = (engine.clone(), barrier.clone());
            std::thread::spawn(move || {
                let ok = ResponseFacts::status(200).with_body(ANSWER);
                b.wait();
                for _ in 0..iters {
                    if metered {
                        one_metered(&e, &ok);
                    } else {
                        one_attempt(&e, &ok);
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed()
}

fn hot_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    let e = engine();
    let ok = ResponseFacts::status(200);
    g.bench_function("begin+accept/1 thread", |b| b.iter(|| one_attempt(&e, &ok)));
    g.bench_function("begin+accept/2 threads (per attempt per thread)", |b| {
        b.iter_custom(|iters| parallel(&e, 2, iters, false))
    });
    let m = metered_engine();
    let ok = ResponseFacts::status(200).with_body(ANSWER);
    g.bench_function("metered (admit+begin+accept+settle)/1 thread", |b| {
        b.iter(|| one_metered(&m, &ok))
    });
    g.bench_function("metered/2 threads (per attempt per thread)", |b| {
        b.iter_custom(|iters| parallel(&m, 2, iters, true))
    });
    // The parts of a metered request: the per-attempt path on the metered engine, and the two
    // body reads admission and settlement do.
    g.bench_function("begin+accept, metered engine/1 thread", |b| {
        b.iter(|| one_attempt(&m, &ok))
    });
    g.bench_function(
        "begin+accept, metered engine/2 threads (per attempt per thread)",
        |b| b.iter_custom(|iters| parallel(&m, 2, iters, false)),
    );
    g.bench_function(
        "request_facts (admission's read of the request body)",
        |b| {
            b.iter(|| {
                black_box(twinkey::request_facts(
                    "/openai/v1/chat/completions",
                    black_box(BODY),
                    twinkey::usage::DEFAULT_OUTPUT_TOKENS,
                ))
            })
        },
    );
    g.bench_function(
        "usage_from_body (settlement's read of the response body)",
        |b| b.iter(|| black_box(twinkey::usage_from_body(black_box(ANSWER)))),
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = hot_path
}
criterion_main!(benches);
