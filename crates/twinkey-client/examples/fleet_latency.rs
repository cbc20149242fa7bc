//! How long a rejection seen by process A takes to reach process B through Redis: A's engine
//! completes an attempt with a 401; the time until B's engine has moved off that secret (its
//! `failed_over` event). Fresh engines and a fresh key
//! id per trial. Needs a redis-server at `$TWINKEY_REDIS_URL` (default redis://127.0.0.1:6390).
//! Then the attempt path (begin + accept, 2 M times) on an engine with and without a fleet
//! link attached, alternating rounds, as ns per attempt. Prints one JSON line.
//!
//! `cargo run --release -p twinkey-client --features fleet --example fleet_latency -- [N]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use twinkey::{ApiKey, Engine, EngineOptions, ResponseFacts, Secret};
use twinkey_client::fleet::{FleetOptions, RedisFleet};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn engine(run: u128, trial: usize) -> Engine {
    let mut key = ApiKey::new(
        Secret::new("key-one", "sk-fleet-latency-one-aaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-fleet-latency-two-bbbbbbbb", None).unwrap(),
    )
    .unwrap();
    // A key id of its own per run and trial: no state left in Redis by an earlier one.
    key.id = Some(format!(
        "ocid1.generativeaiapikey.oc1..latency{run}x{trial}"
    ));
    Engine::new(key, EngineOptions::default()).unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let url =
        std::env::var("TWINKEY_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6390".into());
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut micros = Vec::with_capacity(n);
    for trial in 0..n {
        let (a, b) = (engine(run, trial), engine(run, trial));
        let options = |o: &str| FleetOptions {
            url: url.clone(),
            origin: Some(o.into()),
            ..FleetOptions::default()
        };
        let fa = RedisFleet::start(a.clone(), options("a")).unwrap();
        let fb = RedisFleet::start(b.clone(), options("b")).unwrap();
        while !(fa.stats().connected && fb.stats().connected) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // subscriptions settle
        // B's own fail-over event marks the moment it moved (no polling to steal a core).
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        b.subscribe(move |e| {
            if e.kind == twinkey::EventKind::FailedOver {
                let _ = tx.send(Instant::now());
            }
        });
        let attempt = a.begin().unwrap();
        let t = Instant::now();
        let _ = a.complete(&attempt, &ResponseFacts::status(401));
        let switched = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("B never heard of it")
            .unwrap();
        assert_eq!(b.current(), "key-two");
        micros.push(switched.duration_since(t).as_secs_f64() * 1e6);
        drop((fa, fb));
    }
    micros.sort_by(f64::total_cmp);

    // The attempt path with and without a link: the engine never calls Redis, so this shows
    // what attaching costs (nothing is expected beyond noise).
    let plain = engine(run, n + 1);
    let linked = engine(run, n + 2);
    let _link = RedisFleet::start(
        linked.clone(),
        FleetOptions {
            url: url.clone(),
            ..FleetOptions::default()
        },
    )
    .unwrap();
    let ok = ResponseFacts::status(200);
    let time = |e: &Engine| {
        let t = Instant::now();
        for _ in 0..200_000 {
            let a = e.begin().unwrap();
            std::hint::black_box(a.secret_value());
            let _ = e.complete(&a, &ok);
        }
        t.elapsed().as_secs_f64() * 1e9 / 200_000.0
    };
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        without.push(time(&plain));
        with.push(time(&linked));
    }
    without.sort_by(f64::total_cmp);
    with.sort_by(f64::total_cmp);
    let (w0, w1) = (percentile(&without, 0.5), percentile(&with, 0.5));
    println!(
        "{{\"trials\":{n},\"p50_us\":{:.0},\"p99_us\":{:.0},\"max_us\":{:.0},\"attempt_ns_without\":{w0:.1},\"attempt_ns_with\":{w1:.1},\"ratio\":{:.3}}}",
        percentile(&micros, 0.5),
        percentile(&micros, 0.99),
        micros[micros.len() - 1],
        w1 / w0
    );
}
