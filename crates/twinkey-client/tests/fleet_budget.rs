//! The fleet's shared tokens-per-minute budget against a real `redis-server`: three engines
//! on one key with one 600-token limit spend at most 600 tokens between them; unspent leases
//! go back to the pool; with Redis killed each engine goes on with its own window, and leases
//! again once a new Redis is up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use twinkey::budget::{Admission, BudgetOptions, Outcome, Policy, RateLimitHeaders};
use twinkey::usage::Usage;
use twinkey::{ApiKey, Engine, EngineOptions, Secret};
use twinkey_client::fleet::{FleetOptions, RedisFleet};

#[path = "common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

const KEY_ID: &str = "ocid1.generativeaiapikey.oc1.us-chicago-1.fleetbudget";
const LIMIT: u64 = 600;
const SLICE: u64 = 60;

fn engine() -> Engine {
    let mut key = ApiKey::new(
        Secret::new("key-one", "sk-fleet-budget-one-aaaaaaaaaaa", None).unwrap(),
        Secret::new("key-two", "sk-fleet-budget-two-bbbbbbbbbbb", None).unwrap(),
    )
    .unwrap();
    key.id = Some(KEY_ID.into());
    let options = EngineOptions {
        budget: Some(BudgetOptions {
            policy: Policy::Wait {
                max_wait: Duration::from_secs(600),
            },
            ..BudgetOptions::per_minute(LIMIT)
        }),
        ..EngineOptions::default()
    };
    Engine::new(key, options).unwrap()
}

fn join(e: &Engine, url: &str, origin: &str) -> RedisFleet {
    RedisFleet::start(
        e.clone(),
        FleetOptions {
            url: url.into(),
            origin: Some(origin.into()),
            budget_slice: Some(SLICE),
            ..FleetOptions::default()
        },
    )
    .unwrap()
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends requests of `tokens` (used exactly as estimated) through `e`'s budget for `for_`,
/// waiting when it says so; answers the tokens admitted.
async fn spend(e: Engine, tokens: u64, for_: Duration) -> u64 {
    let budget = e.budget().unwrap();
    let end = Instant::now() + for_;
    let mut admitted = 0;
    let mut since = None;
    while Instant::now() < end {
        let now = e.now();
        match budget.admit(tokens, None, now, since).unwrap() {
            Admission::Granted { charge, .. } => {
                since = None;
                admitted += tokens;
                let usage = Usage {
                    input_tokens: tokens / 2,
                    output_tokens: tokens - tokens / 2,
                    total_tokens: tokens,
                };
                let done = Outcome::Answered {
                    status: 200,
                    usage: Some(usage),
                };
                budget.settle(charge, done, &RateLimitHeaders::default(), e.now());
            }
            Admission::Wait { until, .. } => {
                since = since.or(Some(now));
                let d = until.since(now).min(Duration::from_millis(100));
                tokio::time::sleep(d).await;
            }
        }
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_engines_share_one_limit() {
    let redis = RedisServer::start(None);
    let engines = [engine(), engine(), engine()];
    let fleets: Vec<RedisFleet> = engines
        .iter()
        .enumerate()
        .map(|(i, e)| join(e, &redis.url(), &format!("proc-{i}")))
        .collect();
    until("all three share the budget", || {
        fleets.iter().all(|f| f.stats().budget_shared)
    })
    .await;
    let tasks: Vec<_> = engines
        .iter()
        .map(|e| tokio::spawn(spend(e.clone(), 20, Duration::from_secs(3))))
        .collect();
    let mut total = 0;
    let mut each = Vec::new();
    for t in tasks {
        let n = t.await.unwrap();
        each.push(n);
        total += n;
    }
    // Nothing frees within a minute: the three together stay within the limit, and leave
    // unspent at most what each holds of its last lease.
    eprintln!("admitted {total} of {LIMIT} in 3 s: {each:?}");
    assert!(total <= LIMIT, "admitted {total} of {LIMIT}: {each:?}");
    assert!(
        total >= LIMIT - 3 * SLICE,
        "admitted only {total}: {each:?}"
    );
    assert!(
        each.iter().all(|&n| n > 0),
        "every engine got some: {each:?}"
    );
    let leased: u64 = fleets.iter().map(|f| f.stats().leased).sum();
    assert!(leased <= LIMIT, "leased {leased}");
    let held: u64 = redis
        .cli(&["HGET", &format!("twinkey:{KEY_ID}:budget:held"), "total"])
        .parse()
        .unwrap();
    assert!(held <= LIMIT, "the pool holds {held}");
    let ttl: i64 = redis
        .cli(&["PTTL", &format!("twinkey:{KEY_ID}:budget:leases")])
        .parse()
        .unwrap();
    assert!(ttl > 0 && ttl <= 67_000, "the pool expires: {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unspent_leases_go_back_to_the_pool() {
    let redis = RedisServer::start(None);
    let (a, b) = (engine(), engine());
    let fa = join(&a, &redis.url(), "proc-a");
    until("a shares the budget", || fa.stats().leased > 0).await;
    // A holds a slice it does not spend: after its spend window it goes back.
    until("the unspent lease returned", || {
        fa.stats().returned >= SLICE
    })
    .await;
    let held: u64 = redis
        .cli(&["HGET", &format!("twinkey:{KEY_ID}:budget:held"), "total"])
        .parse()
        .unwrap();
    // A may already hold a new slice; the returned one is not counted any more.
    assert!(held <= SLICE, "the pool holds {held}");
    // B can spend all but what A holds now.
    let fb = join(&b, &redis.url(), "proc-b");
    until("b shares the budget", || fb.stats().budget_shared).await;
    let got = spend(b.clone(), 20, Duration::from_secs(2)).await;
    assert!(got >= LIMIT - 2 * SLICE, "b admitted {got}");
    drop((fa, fb));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_engine_keeps_its_own_window_then_shares_again() {
    let redis = RedisServer::start(None);
    let a = engine();
    let fa = join(&a, &redis.url(), "proc-a");
    until("a shares the budget", || fa.stats().budget_shared).await;
    let port = redis.kill();
    // Requests go on: the first one waiting for a lease is let through by the local window
    // once the lease fails.
    let got = spend(a.clone(), 20, Duration::from_secs(1)).await;
    assert!(got >= 100, "admitted {got} with Redis away");
    assert!(!fa.stats().budget_shared);
    let redis = RedisServer::start(Some(port));
    until("a shares the budget again", || fa.stats().budget_shared).await;
    let held: u64 = redis
        .cli(&["HGET", &format!("twinkey:{KEY_ID}:budget:held"), "total"])
        .parse()
        .unwrap();
    assert!(held >= SLICE, "the new pool holds a's lease: {held}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_in_the_pool_key_costs_the_sharing_not_a_request() {
    let redis = RedisServer::start(None);
    redis.cli(&["SET", &format!("twinkey:{KEY_ID}:budget:held"), "garbage"]);
    let a = engine();
    let fa = join(&a, &redis.url(), "proc-a");
    let got = spend(a.clone(), 20, Duration::from_millis(800)).await;
    assert!(got >= 100, "admitted {got}");
    let s = fa.stats();
    assert!(!s.budget_shared && s.errors > 0, "{s:?}");
}
