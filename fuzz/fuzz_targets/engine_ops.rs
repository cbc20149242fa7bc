//! Fuzzes the fail-over engine with arbitrary operation sequences (attempts and their answers,
//! state changes, renewals, the clock): it never hands out a secret that is not ACTIVE and
//! unexpired, a secret revoked through it is not used again until renewed (or reported
//! otherwise by the service), and no operation panics.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use twinkey::{
    ApiKey, Attempt, Clock, Engine, EngineOptions, ManualClock, ResponseFacts, Secret, SecretState, Slot,
    Timestamp, Verdict,
};

const START: i64 = 1_800_000_000_000;
const NAMES: [&str; 2] = ["key-one", "key-two"];
const STATES: [&str; 6] = ["ACTIVE", "INACTIVE", "REVOKED", "DELETED", "SUSPENDED", "FUTURE_STATE"];
const STATUSES: [u16; 8] = [200, 201, 401, 403, 429, 500, 503, 404];

#[derive(Arbitrary, Debug)]
enum Op {
    Begin,
    Complete { attempt: u8, status: u8, retry_after: Option<u16>, body: Option<Vec<u8>> },
    Abandon(u8),
    Activate(bool),
    Deactivate(bool),
    Revoke(bool),
    Renew { slot: bool, days: i16 },
    Sync { slot: bool, state: u8 },
    Prefer(Option<bool>),
    Advance(u32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    states: [u8; 2],
    expiry_days: [i16; 2],
    ops: Vec<Op>,
}

fn slot(b: bool) -> usize {
    usize::from(b)
}

fuzz_target!(|input: Input| {
    let secret = |i: usize| {
        Secret::new(
            NAMES[i],
            &format!("sk-fuzz-{i}-abcdefgh"),
            Some(Timestamp::from_millis(START + i64::from(input.expiry_days[i]) * 86_400_000)),
        )
        .unwrap()
        .with_state(SecretState::parse(STATES[usize::from(input.states[i]) % STATES.len()]))
    };
    let Ok(key) = ApiKey::new(secret(0), secret(1)) else { return };
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let Ok(engine) = Engine::with_clock(key, EngineOptions::default(), Arc::new(clock.clone())) else {
        return;
    };
    let mut revoked = [false; 2];
    let mut attempts: Vec<Attempt> = Vec::new();
    let check = |engine: &Engine, a: &Attempt, revoked: &[bool; 2]| {
        let key = engine.key();
        let s = key.secret(a.slot());
        assert_eq!(s.state, SecretState::Active, "handed out a secret that is not ACTIVE");
        assert!(!revoked[a.slot().index()], "a revoked secret was used again");
        if let Some(exp) = s.time_expiry {
            assert!(engine.now().as_millis() < exp.as_millis(), "an expired secret was handed out");
        }
    };
    for op in input.ops.into_iter().take(200) {
        match op {
            Op::Begin => match engine.begin() {
                Ok(a) => {
                    check(&engine, &a, &revoked);
                    if attempts.len() < 8 {
                        attempts.push(a);
                    }
                }
                Err(e) => assert_eq!(e.code(), "NO_USABLE_SECRET"),
            },
            Op::Complete { attempt, status, retry_after, body } => {
                if attempts.is_empty() {
                    continue;
                }
                let a = attempts.remove(usize::from(attempt) % attempts.len());
                let status = STATUSES[usize::from(status) % STATUSES.len()];
                let ra = retry_after.map(|s| s.to_string());
                let mut facts = ResponseFacts::status(status);
                if let Some(ra) = &ra {
                    facts = facts.header("retry-after", ra);
                }
                let mut verdict = engine.complete(&a, &facts);
                if matches!(verdict, Verdict::NeedBody) {
                    facts.body = Some(body.as_deref().unwrap_or(b"{}"));
                    verdict = engine.complete(&a, &facts);
                    assert!(!matches!(verdict, Verdict::NeedBody), "NeedBody twice");
                }
                if let Verdict::Replay(next) = verdict {
                    assert_ne!(next.slot(), a.slot(), "a replay goes to the other secret");
                    check(&engine, &next, &revoked);
                    let _ = engine.abandon(&next);
                }
            }
            Op::Abandon(i) => {
                if !attempts.is_empty() {
                    let a = attempts.remove(usize::from(i) % attempts.len());
                    let _ = engine.abandon(&a);
                }
            }
            Op::Activate(s) => {
                let _ = engine.activate(NAMES[slot(s)]);
            }
            Op::Deactivate(s) => {
                let _ = engine.deactivate(NAMES[slot(s)]);
            }
            Op::Revoke(s) => {
                if engine.revoke(NAMES[slot(s)]).is_ok() {
                    revoked[slot(s)] = true;
                }
                if revoked[slot(s)] {
                    // In-flight attempts on it are finished; new ones must not use it.
                    attempts.retain(|a| a.slot().index() != slot(s));
                }
            }
            Op::Renew { slot: s, days } => {
                let exp = Timestamp::from_millis(clock.now().as_millis() + i64::from(days) * 86_400_000);
                // Renewing gives a revoked secret a new value (OCI's rotation): usable again.
                if engine.renew(NAMES[slot(s)], &format!("sk-fuzz-renewed-{days}-abcdefgh"), Some(exp)).is_ok() {
                    revoked[slot(s)] = false;
                }
            }
            Op::Sync { slot: s, state } => {
                let st = SecretState::parse(STATES[usize::from(state) % STATES.len()]);
                // The service is the authority on states: what it reports is what holds.
                if engine.sync_state(NAMES[slot(s)], st.clone()).is_ok() {
                    revoked[slot(s)] = st == SecretState::Revoked;
                    assert_eq!(engine.key().secret(Slot::from_index(slot(s)).unwrap()).state, st);
                }
            }
            Op::Prefer(p) => {
                let _ = engine.set_preferred(p.map(|s| NAMES[slot(s)]));
            }
            Op::Advance(ms) => clock.advance(Duration::from_millis(u64::from(ms % 3_600_000) * 24)),
        }
        let _ = engine.status();
    }
});
