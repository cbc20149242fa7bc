//! Stress: 8 threads × 100 000 attempts on one engine with random 401s. Checks the invariants
//! that concurrency could break: at most one half-open probe per secret at a time, a replay is
//! never replayed and always uses the other secret, fail-overs never outnumber rejections,
//! one `failed_over` per rejection transition, and the counters add up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use twinkey::{
    ApiKey, Engine, EngineOptions, EventKind, ManualClock, ResponseFacts, Secret, Timestamp,
    Verdict,
};

const THREADS: usize = 8;
const ATTEMPTS: usize = 100_000;

/// xorshift64*: a tiny deterministic generator per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn eight_threads_hundred_thousand_attempts_each() {
    let key = ApiKey::new(
        Secret::new("key-one", "sk-stress-one-aaaa", None).unwrap(),
        Secret::new("key-two", "sk-stress-two-bbbb", None).unwrap(),
    )
    .unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_767_225_600_000));
    // The simulated clock races ahead while a thread is descheduled; a probe lease longer than
    // the whole run keeps "lease expired" from looking like two concurrent probes.
    // Short cooldowns (20 ms doubling to 500 ms of simulated time, the clock moving 1 ms per
    // attempt) keep fail-overs, probes and recoveries frequent without both secrets being down
    // most of the time.
    let options = EngineOptions {
        probe_lease: std::time::Duration::from_secs(30 * 24 * 3600),
        cooldown_base: std::time::Duration::from_millis(20),
        cooldown_max: std::time::Duration::from_millis(500),
        ..EngineOptions::default()
    };
    let engine = Engine::with_clock(key, options, Arc::new(clock.clone())).unwrap();

    let kinds = Arc::new(Mutex::new(
        std::collections::HashMap::<EventKind, u64>::new(),
    ));
    let k2 = kinds.clone();
    engine.subscribe(move |e| *k2.lock().unwrap().entry(e.kind).or_default() += 1);

    let probes_in_flight = Arc::new([AtomicI64::new(0), AtomicI64::new(0)]);
    let max_probes = Arc::new(AtomicI64::new(0));
    let counter = || Arc::new(AtomicU64::new(0));
    let (ok, fail_fast, fail_after, replays, rejections_sent) =
        (counter(), counter(), counter(), counter(), counter());

    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, clock) = (engine.clone(), clock.clone());
            let (probes_in_flight, max_probes) = (probes_in_flight.clone(), max_probes.clone());
            let (ok, fail_fast, fail_after, replays, rejections_sent) = (
                ok.clone(),
                fail_fast.clone(),
                fail_after.clone(),
                replays.clone(),
                rejections_sent.clone(),
            );
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                for _ in 0..ATTEMPTS {
                    clock.advance_ms(1); // simulated time moves: cooldowns end, probes happen
                    let mut attempt = match engine.begin() {
                        Ok(a) => a,
                        Err(e) => {
                            assert_eq!(e.code(), "NO_USABLE_SECRET");
                            fail_fast.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    };
                    loop {
                        let slot = attempt.slot();
                        if attempt.is_probe() {
                            let n =
                                probes_in_flight[slot.index()].fetch_add(1, Ordering::SeqCst) + 1;
                            max_probes.fetch_max(n, Ordering::SeqCst);
                        }
                        // ~0.5 % of responses reject the secret
                        let status = if rng.next().is_multiple_of(200) {
                            401
                        } else {
                            200
                        };
                        if status == 401 {
                            rejections_sent.fetch_add(1, Ordering::Relaxed);
                        }
                        // Leave the counted window before completing: the probe is released
                        // (or the secret recovered/rejected) only inside `complete`.
                        if attempt.is_probe() {
                            probes_in_flight[slot.index()].fetch_sub(1, Ordering::SeqCst);
                        }
                        let verdict = engine.complete(&attempt, &ResponseFacts::status(status));
                        match verdict {
                            Verdict::Accept { .. } => {
                                ok.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Verdict::Replay(next) => {
                                assert!(!attempt.is_replay(), "a replay was replayed");
                                assert_eq!(next.slot(), slot.other());
                                replays.fetch_add(1, Ordering::Relaxed);
                                attempt = next;
                            }
                            Verdict::Fail(e) => {
                                assert_eq!(e.code(), "NO_USABLE_SECRET");
                                fail_after.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Verdict::NeedBody => unreachable!(),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a worker panicked");
    }
    let elapsed = started.elapsed();

    let kinds = kinds.lock().unwrap().clone();
    let count = |k| kinds.get(&k).copied().unwrap_or(0);
    let status = engine.status();
    let total = (THREADS * ATTEMPTS) as u64;
    let get = |c: &Arc<AtomicU64>| c.load(Ordering::Relaxed);
    let (ok, fail_fast, fail_after, replays) =
        (get(&ok), get(&fail_fast), get(&fail_after), get(&replays));
    let no_usable = fail_fast + fail_after;
    assert_eq!(ok + no_usable, total, "every request ends exactly once");
    assert!(
        max_probes.load(Ordering::SeqCst) <= 1,
        "two probes of one secret at once"
    );
    assert!(count(EventKind::FailedOver) <= count(EventKind::SecretRejected));
    assert!(count(EventKind::SecretRejected) <= get(&rejections_sent));
    assert!(count(EventKind::SecretRecovered) <= count(EventKind::SecretRejected));
    let sum = |f: fn(&twinkey::Counters) -> u64| {
        status.secrets.iter().map(|s| f(&s.counters)).sum::<u64>()
    };
    for s in &status.secrets {
        let c = s.counters;
        assert_eq!(
            c.attempts,
            c.accepted + c.rejected + c.inconclusive,
            "{}: {c:?}",
            s.name
        );
    }
    assert_eq!(
        sum(|c| c.attempts),
        total - fail_fast + replays,
        "hand-outs"
    );
    assert_eq!(
        sum(|c| c.rejected),
        replays + fail_after,
        "each rejection replays or fails"
    );
    assert_eq!(sum(|c| c.rejected), get(&rejections_sent));
    assert!(
        count(EventKind::FailedOver) > 0 && count(EventKind::SecretRecovered) > 0,
        "{kinds:?}"
    );
    println!(
        "stress: {total} requests on {THREADS} threads in {elapsed:?} ({:.0} ns/request/thread); ok {ok}, \
         no usable {no_usable}, replays {replays}, events {kinds:?}",
        elapsed.as_nanos() as f64 * THREADS as f64 / total as f64
    );
}
