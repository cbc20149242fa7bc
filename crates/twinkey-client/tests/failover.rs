//! Fail-over against the emulator: a revocation under 50 concurrent requests, and both
//! secrets unusable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Env, chat, responses};
use twinkey::{Error, SecretState};
use twinkey_emulator::Fault;

const WORKERS: usize = 50;
const TOTAL: usize = 300;
const SAFETY_NET: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Run {
    started: AtomicUsize,
    completed: AtomicUsize,
    failed: AtomicUsize,
    in_flight: AtomicUsize,
    extra_round_trips: AtomicU32,
    most_round_trips: AtomicU32,
}

/// 50 workers share 300 requests (JSON and streaming, both APIs). When the 150th completes,
/// every new arrival is held by the emulator until all 50 workers have a request in flight;
/// then the secret in use is revoked and the requests are let go. Each of them gets a 401,
/// is replayed once on the other secret and succeeds; later requests go to the other secret
/// directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_mid_run_at_50_concurrent_requests() {
    let env = Arc::new(Env::start().await);
    let run = Arc::new(Run::default());
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (env, run) = (env.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = run.started.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL {
                    return;
                }
                let stream = i % 3 == 0;
                let (path, body) = match i % 2 {
                    0 => ("chat/completions", chat(&format!("request {i}"), stream)),
                    _ => ("responses", responses(&format!("request {i}"), stream)),
                };
                run.in_flight.fetch_add(1, Ordering::SeqCst);
                let outcome = async {
                    let resp = env.client.post_json(path, &body).await?;
                    let trips = resp.round_trips();
                    let resp = resp.error_for_status().await?;
                    if stream {
                        resp.into_stream().collect_events().await?;
                    } else {
                        resp.json::<serde_json::Value>().await?;
                    }
                    Ok::<u32, Error>(trips)
                }
                .await;
                run.in_flight.fetch_sub(1, Ordering::SeqCst);
                match outcome {
                    Ok(trips) => {
                        run.extra_round_trips.fetch_add(trips - 1, Ordering::SeqCst);
                        run.most_round_trips.fetch_max(trips, Ordering::SeqCst);
                    }
                    Err(e) => {
                        eprintln!("request {i} failed: {} {e}", e.code());
                        run.failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if run.completed.fetch_add(1, Ordering::SeqCst) + 1 == TOTAL / 2 {
                    // Half-way: hold every new arrival before authentication.
                    env.emu.faults().add(Fault::hold("*")).unwrap();
                }
            }
        }));
    }

    // All 50 workers end up with a request held at the emulator (at most 199 started so far,
    // so each has budget for one more).
    tokio::time::timeout(SAFETY_NET, env.emu.faults().wait_held(WORKERS as u64))
        .await
        .expect("all workers held");
    let in_flight_at_revoke = run.in_flight.load(Ordering::SeqCst);
    assert_eq!(in_flight_at_revoke, WORKERS);
    let in_use = env.client.engine().current();
    assert_eq!(in_use, "key-one");
    env.service_sets(&in_use, SecretState::Revoked);
    env.emu.faults().release();

    for w in workers {
        tokio::time::timeout(SAFETY_NET, w).await.unwrap().unwrap();
    }
    let extra = run.extra_round_trips.load(Ordering::SeqCst) as usize;
    assert_eq!(run.failed.load(Ordering::SeqCst), 0, "no request failed");
    assert_eq!(run.completed.load(Ordering::SeqCst), TOTAL);
    assert!(extra >= 1, "the revocation was noticed");
    assert!(
        extra <= in_flight_at_revoke,
        "at most one extra round trip per request in flight at the revoke: {extra} > {in_flight_at_revoke}"
    );
    assert!(run.most_round_trips.load(Ordering::SeqCst) <= 2);

    // What the service saw agrees.
    let (one_requests, one_accepted, one_rejected) = env.counts("key-one");
    let (two_requests, two_accepted, two_rejected) = env.counts("key-two");
    assert_eq!(one_rejected as usize, extra);
    assert_eq!(two_rejected, 0);
    assert_eq!((one_accepted + two_accepted) as usize, TOTAL);
    assert_eq!((one_requests + two_requests) as usize, TOTAL + extra);
    assert_eq!(env.client.engine().current(), "key-two");
    let failovers = env
        .event_kinds()
        .iter()
        .filter(|k| **k == "failed_over")
        .count();
    assert_eq!(failovers, 1, "exactly one fail-over event");
}

#[tokio::test]
async fn both_secrets_revoked_by_the_service_gives_no_usable_secret_with_reasons() {
    let env = Env::start().await;
    env.service_sets("key-one", SecretState::Revoked);
    env.service_sets("key-two", SecretState::Revoked);

    let err = env
        .client
        .post_json("chat/completions", &chat("hi", false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NO_USABLE_SECRET");
    let Error::NoUsableSecret { reasons } = &err else {
        panic!("{err}")
    };
    let got: Vec<(&str, &str)> = reasons
        .iter()
        .map(|r| (r.secret.as_str(), r.reason.code()))
        .collect();
    assert_eq!(
        got,
        [("key-one", "cooling_down"), ("key-two", "cooling_down")]
    );
    let message = err.to_string();
    assert!(
        message.contains("key-one") && message.contains("key-two") && message.contains("401"),
        "{message}"
    );
    for v in env.secret_values() {
        assert!(!message.contains(&v) && !format!("{err:?}").contains(&v));
    }
    assert_eq!(env.counts("key-one"), (1, 0, 1));
    assert_eq!(env.counts("key-two"), (1, 0, 1));

    // The next request fails fast: nothing is sent.
    let err = env.client.get("models").await.unwrap_err();
    assert_eq!(err.code(), "NO_USABLE_SECRET");
    assert_eq!(env.emu.counters().snapshot().total, 2);
    assert!(env.event_kinds().contains(&"no_usable_secret"));
}

#[tokio::test]
async fn secrets_known_to_be_unusable_fail_fast_with_their_reasons() {
    let env = Env::start().await;
    env.client.engine().revoke("key-one").unwrap();
    env.client.engine().deactivate("key-two").unwrap();
    let err = env
        .client
        .post_json("responses", &responses("hi", false))
        .await
        .unwrap_err();
    let Error::NoUsableSecret { reasons } = &err else {
        panic!("{err}")
    };
    let got: Vec<&str> = reasons.iter().map(|r| r.reason.code()).collect();
    assert_eq!(got, ["revoked", "inactive"]);
    assert_eq!(
        env.emu.counters().snapshot().total,
        0,
        "no request was sent"
    );
}

#[tokio::test]
async fn a_stale_secret_fails_over_once_and_stays_on_the_other() {
    let env = Env::start().await;
    env.service_sets("key-one", SecretState::Inactive);
    let first = env
        .client
        .post_json("chat/completions", &chat("a", false))
        .await
        .unwrap();
    assert_eq!(
        (
            first.status().as_u16(),
            first.round_trips(),
            first.secret_name()
        ),
        (200, 2, "key-two")
    );
    for _ in 0..5 {
        let r = env.client.get("models").await.unwrap();
        assert_eq!((r.round_trips(), r.secret_name()), (1, "key-two"));
    }
    assert_eq!(env.counts("key-one"), (1, 0, 1));
    assert_eq!(env.counts("key-two"), (6, 6, 0));
}
