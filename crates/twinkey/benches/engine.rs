//! The engine's hot path: hand out a secret and accept the response, on 1 and 2 threads.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use twinkey::{ApiKey, Engine, EngineOptions, ResponseFacts, Secret, Verdict};

fn engine() -> Engine {
    let key = ApiKey::new(
        Secret::new("key-one", "sk-bench-one-aaaaaaaaaaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-bench-two-bbbbbbbbbbbbbbbb", None).unwrap(),
    )
    .unwrap();
    Engine::new(key, EngineOptions::default()).unwrap()
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
fn parallel(engine: &Engine, threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (e, b) = (engine.clone(), barrier.clone());
            std::thread::spawn(move || {
                let ok = ResponseFacts::status(200);
                b.wait();
                for _ in 0..iters {
                    one_attempt(&e, &ok);
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
        b.iter_custom(|iters| parallel(&e, 2, iters))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = hot_path
}
criterion_main!(benches);
