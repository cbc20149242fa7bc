//! The hot path with a fleet link attached (a real redis-server on loopback, started here) vs
//! the same engine alone, in one run: an attempt (hand out a secret, accept the response),
//! and a metered request under a budget (admit, begin, accept, settle), where the fleet's
//! admission spends tokens leased from the shared pool. The engine never calls Redis on these
//! paths; the link's tasks run beside them on a runtime of their own.
//!
//! `cargo bench -p twinkey-client --features fleet --bench fleet` (needs `redis-server`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use twinkey::{
    ApiKey, BudgetOptions, Engine, EngineOptions, ResponseFacts, Secret, Start, Verdict,
};
use twinkey_client::fleet::{FleetOptions, RedisFleet};

const URL: &str = "http://127.0.0.1:9/openai/v1/chat/completions";
const BODY: &[u8] =
    br#"{"model":"meta.llama","messages":[{"role":"user","content":"hi"}],"max_tokens":16}"#;
const ANSWER: &[u8] = br#"{"model":"meta.llama","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9,"total_tokens":12}}"#;
/// A limit so large the budget never waits (the cost measured is the bookkeeping); slices
/// large enough that leasing happens a few times a second at most.
const LIMIT: u64 = 1_000_000_000_000;

struct Redis(Child, u16);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt-get install redis-server)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    Redis(child, port)
}

fn engine(budget: bool, id: &str) -> Engine {
    let mut key = ApiKey::new(
        Secret::new("key-one", "sk-bench-one-aaaaaaaaaaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-bench-two-bbbbbbbbbbbbbbbb", None).unwrap(),
    )
    .unwrap();
    key.id = Some(format!("ocid1.generativeaiapikey.oc1..bench{id}"));
    let options = EngineOptions {
        budget: budget.then(|| BudgetOptions::per_minute(LIMIT)),
        ..EngineOptions::default()
    };
    Engine::new(key, options).unwrap()
}

fn attempt(engine: &Engine, ok: &ResponseFacts<'_>) -> twinkey::Attempt {
    let a = engine.begin().unwrap();
    black_box(a.secret_value());
    assert!(matches!(engine.complete(&a, ok), Verdict::Accept { .. }));
    a
}

fn metered(engine: &Engine, ok: &ResponseFacts<'_>) {
    let Ok(Start::Go(ticket)) = engine.admit(URL, BODY, None) else {
        panic!("the budget refused")
    };
    let a = attempt(engine, ok);
    assert!(engine.settle(&ticket, Some(&a), Some(ok), None).unwrap());
}

fn bench(c: &mut Criterion) {
    let server = redis();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let join = |e: &Engine, slice: Option<u64>| {
        let options = FleetOptions {
            url: format!("redis://127.0.0.1:{}", server.1),
            origin: Some("bench".into()),
            budget_slice: slice,
            ..FleetOptions::default()
        };
        let f = RedisFleet::start_on(rt.handle(), e.clone(), options).unwrap();
        while !f.stats().connected {
            std::thread::sleep(Duration::from_millis(10));
        }
        f
    };
    let ok = ResponseFacts::status(200);
    let answer = ResponseFacts {
        body: Some(ANSWER),
        ..ResponseFacts::status(200)
    };

    let (alone, linked) = (engine(false, "a1"), engine(false, "a2"));
    let _fa = join(&linked, None);
    let mut g = c.benchmark_group("fleet_attempt");
    g.bench_function("memory", |b| b.iter(|| black_box(attempt(&alone, &ok))));
    g.bench_function("redis", |b| b.iter(|| black_box(attempt(&linked, &ok))));
    g.finish();

    let (alone, linked) = (engine(true, "m1"), engine(true, "m2"));
    let fm = join(&linked, Some(LIMIT / 1_000));
    while !fm.stats().budget_shared {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut g = c.benchmark_group("fleet_metered");
    g.bench_function("memory", |b| b.iter(|| metered(&alone, &answer)));
    g.bench_function("redis_shared_budget", |b| {
        b.iter(|| metered(&linked, &answer))
    });
    g.finish();
    let s = fm.stats();
    assert!(
        s.budget_shared && s.leased > 0 && s.usage_rounds > 0,
        "{s:?}"
    );
    eprintln!("fleet stats after the metered run: {s:?}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
