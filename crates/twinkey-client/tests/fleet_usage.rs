//! The fleet's shared usage counters against a real `redis-server` and the in-process
//! emulator: two engines on one key each see the fleet's totals (the sum of both engines' own
//! usage) in `usage()` and in their metrics, `read_fleet_usage` reads the same, and growth
//! made while Redis was away is added to a new Redis once it is up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use common::{Env, chat};
use redis_server::RedisServer;
use twinkey::{Engine, EngineOptions};
use twinkey_client::InferenceClient;
use twinkey_client::fleet::{FleetOptions, RedisFleet, read_fleet_usage};

fn options(url: &str, origin: &str) -> FleetOptions {
    FleetOptions {
        url: url.into(),
        origin: Some(origin.into()),
        resync_interval: Duration::from_millis(100),
        ..FleetOptions::default()
    }
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `(requests, total tokens)` an engine counted itself.
fn own(e: &Engine) -> (u64, u64) {
    let rows = e.usage().rows;
    (
        rows.iter().map(|r| r.row.requests).sum(),
        rows.iter().map(|r| r.row.total_tokens).sum(),
    )
}

/// `(requests, total tokens)` of the fleet's totals as the engine last read them.
fn fleet(e: &Engine) -> (u64, u64) {
    let f = e.fleet_usage().unwrap_or_default();
    (
        f.rows.iter().map(|r| r.requests).sum(),
        f.rows.iter().map(|r| r.total_tokens).sum(),
    )
}

async fn send(c: &InferenceClient, n: usize) {
    for i in 0..n {
        let r = c
            .post_json("chat/completions", &chat(&format!("q {i}"), false))
            .await;
        r.unwrap()
            .error_for_status()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_engine_sees_the_fleet_totals() {
    let redis = RedisServer::start(None);
    let env = Env::start().await;
    let a = env.client.engine().clone();
    let b = Engine::new(env.key.key.clone(), EngineOptions::default()).unwrap();
    let cb = InferenceClient::new(b.clone(), &env.server.base_url()).unwrap();
    let fa = RedisFleet::start(a.clone(), options(&redis.url(), "proc-a")).unwrap();
    let fb = RedisFleet::start(b.clone(), options(&redis.url(), "proc-b")).unwrap();
    send(&env.client, 5).await;
    send(&cb, 3).await;
    let (ra, ta) = own(&a);
    let (rb, tb) = own(&b);
    assert_eq!((ra, rb), (5, 3));
    let want = (ra + rb, ta + tb);
    until("A to see the fleet's totals", || fleet(&a) == want).await;
    until("B to see the fleet's totals", || fleet(&b) == want).await;
    let text = a.metrics_text();
    assert!(text.contains("twinkey_fleet_requests_total{"), "{text}");
    let got = read_fleet_usage(&options(&redis.url(), "cli"), &env.key_id())
        .await
        .unwrap();
    assert_eq!(got.rows.iter().map(|r| r.requests).sum::<u64>(), 8);
    assert_eq!(got.skipped, 0);
    assert!(fa.stats().usage_rounds > 0 && fb.stats().usage_rounds > 0);

    // Redis away: requests go on, and the growth Redis did not take is added to the new one
    // (whose totals start from there, as a counter reset does).
    let before = own(&a);
    let port = redis.kill();
    send(&env.client, 4).await;
    let redis = RedisServer::start(Some(port));
    let after = own(&a);
    let want = (after.0 - before.0, after.1 - before.1);
    assert_eq!(want.0, 4);
    until("the growth to reach the new Redis", || fleet(&a) == want).await;
    until("B to see it", || fleet(&b) == want).await;
    // Garbage in the hash is skipped and counted, the rest still read.
    let hash = format!("twinkey:{}:usage", env.key_id());
    redis.cli(&["HSET", &hash, "requests|key-one|ff|m", "lots"]);
    until("the garbage counted", || {
        a.fleet_usage().is_some_and(|f| f.skipped == 1)
    })
    .await;
    assert_eq!(fleet(&a), want);
    let json = twinkey::usage::wire::usage_report_json(&a.usage());
    assert_eq!(json["fleet"]["skipped"], 1);
    for v in env.secret_values() {
        assert!(!redis.cli(&["HGETALL", &hash]).contains(&v));
    }
    drop((fa, fb));
}

#[tokio::test]
async fn read_fleet_usage_refuses_what_it_cannot_read() {
    let redis = RedisServer::start(None);
    let key_id = "ocid1.generativeaiapikey.oc1.us-chicago-1.fleetusage";
    let hash = format!("twinkey:{key_id}:usage");
    let empty = read_fleet_usage(&options(&redis.url(), "cli"), key_id)
        .await
        .unwrap();
    assert!(empty.rows.is_empty());
    redis.cli(&["SET", &hash, "a string"]);
    let e = read_fleet_usage(&options(&redis.url(), "cli"), key_id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "TRANSPORT", "{e}");
    let port = redis.kill();
    let e = read_fleet_usage(
        &options(&format!("redis://u:pw-4242@127.0.0.1:{port}"), "cli"),
        key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "TRANSPORT");
    assert!(!e.to_string().contains("pw-4242"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_adds_the_last_growth() {
    let redis = RedisServer::start(None);
    let env = Env::start().await;
    let a = env.client.engine().clone();
    let mut slow = options(&redis.url(), "proc-a");
    slow.resync_interval = Duration::from_secs(3600);
    let fa = RedisFleet::start(a.clone(), slow).unwrap();
    send(&env.client, 3).await;
    fa.close().await;
    let got = read_fleet_usage(&options(&redis.url(), "cli"), &env.key_id())
        .await
        .unwrap();
    assert_eq!(got.rows.iter().map(|r| r.requests).sum::<u64>(), 3);
}
