//! Property tests of the engine against a reference model of OCI's state rules:
//! a non-usable secret is never handed out, a revoked secret never becomes usable again
//! (short of a renewal, which gives the slot a new value), and transitions happen only as
//! allowed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use twinkey::{
    ApiKey, Attempt, Engine, EngineOptions, ManualClock, ResponseFacts, Secret, SecretState, Slot,
    Timestamp, Verdict,
};

const START: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const NAMES: [&str; 2] = ["key-one", "key-two"];

#[derive(Clone, Debug)]
enum Op {
    Begin,
    Respond(usize, u16, bool),
    Abandon(usize),
    Advance(i64),
    Activate(usize),
    Deactivate(usize),
    Revoke(usize),
    Renew(usize),
    Sync(usize, &'static str),
}

fn state_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("ACTIVE"),
        2 => Just("INACTIVE"),
        1 => Just("REVOKED"),
        1 => Just("EXPIRED"),
        1 => Just("DELETED"),
        1 => Just("SUSPENDED"),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Begin),
        6 => (0..8usize, prop_oneof![Just(200u16), Just(401), Just(403), Just(429), Just(500), Just(404)], any::<bool>())
            .prop_map(|(i, s, auth)| Op::Respond(i, s, auth)),
        1 => (0..8usize).prop_map(Op::Abandon),
        3 => (0..120_000i64).prop_map(Op::Advance),
        1 => (0..2usize).prop_map(Op::Activate),
        1 => (0..2usize).prop_map(Op::Deactivate),
        1 => (0..2usize).prop_map(Op::Revoke),
        1 => (0..2usize).prop_map(Op::Renew),
        1 => ((0..2usize), state_strategy()).prop_map(|(i, s)| Op::Sync(i, s)),
    ]
}

/// The reference model of a transition: the resulting state, or the error code.
fn model_transition(from: &str, action: &str) -> Result<&'static str, &'static str> {
    match (action, from) {
        ("activate", "ACTIVE" | "INACTIVE") => Ok("ACTIVE"),
        ("deactivate", "ACTIVE" | "INACTIVE") => Ok("INACTIVE"),
        ("revoke", "ACTIVE" | "INACTIVE") => Ok("REVOKED"),
        ("renew", "DELETED" | "SUSPENDED") => Err("INVALID_TRANSITION"),
        ("renew", _) => Ok("ACTIVE"),
        (_, "REVOKED") => Err("SECRET_REVOKED"),
        _ => Err("INVALID_TRANSITION"),
    }
}

fn build(states: [&str; 2], expiry_offsets: [i64; 2]) -> (Engine, ManualClock) {
    let secret = |i: usize| {
        Secret::new(
            NAMES[i],
            &format!("sk-prop-{i}-abcdefgh"),
            Some(Timestamp::from_millis(START + expiry_offsets[i])),
        )
        .unwrap()
        .with_state(SecretState::parse(states[i]))
    };
    let key = ApiKey::new(secret(0), secret(1)).unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let engine =
        Engine::with_clock(key, EngineOptions::default(), Arc::new(clock.clone())).unwrap();
    (engine, clock)
}

fn state_of(engine: &Engine, i: usize) -> String {
    engine
        .key()
        .secret(Slot::from_index(i).unwrap())
        .state
        .as_str()
        .to_string()
}

/// The invariant checked before every hand-out: the chosen secret is declared ACTIVE, has not
/// expired (with the skew) and `status()` called it usable an instant before.
fn check_hand_out(
    engine: &Engine,
    usable_before: [bool; 2],
    a: &Attempt,
) -> Result<(), TestCaseError> {
    let i = a.slot().index();
    prop_assert!(
        usable_before[i],
        "handed out {} which status() called unusable",
        a.secret_name()
    );
    let key = engine.key();
    let s = key.secret(a.slot());
    prop_assert_eq!(&s.state, &SecretState::Active);
    let exp = s.time_expiry.unwrap().as_millis();
    prop_assert!(
        engine.now().as_millis() < exp - 60_000,
        "expired secret handed out"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn engine_respects_the_model(
        states in [state_strategy(), state_strategy()],
        expiry in [(-3_600_000i64..7_200_000), (-3_600_000i64..7_200_000)],
        ops in prop::collection::vec(op_strategy(), 1..120),
    ) {
        let (engine, clock) = build(states, expiry);
        let mut model: [String; 2] = [states[0].to_string(), states[1].to_string()];
        // Renewal gives a slot a new value; "revoked" means the current value was revoked.
        let mut revoked = [states[0] == "REVOKED", states[1] == "REVOKED"];
        let mut attempts: Vec<Attempt> = Vec::new();
        for op in ops {
            match op {
                Op::Begin => {
                    let st = engine.status();
                    let usable = [st.secrets[0].usable, st.secrets[1].usable];
                    match engine.begin() {
                        Ok(a) => {
                            check_hand_out(&engine, usable, &a)?;
                            prop_assert!(!revoked[a.slot().index()]);
                            attempts.push(a);
                        }
                        Err(e) => {
                            prop_assert_eq!(e.code(), "NO_USABLE_SECRET");
                            prop_assert!(!usable[0] || !usable[1], "failed although a secret was usable");
                        }
                    }
                }
                Op::Respond(i, status, auth) if !attempts.is_empty() => {
                    let a = attempts.remove(i % attempts.len());
                    let body: &[u8] = if auth { br#"{"code":"NotAuthenticated"}"# } else { br#"{"code":"NotAllowed"}"# };
                    let facts = ResponseFacts::status(status);
                    let mut v = engine.complete(&a, &facts);
                    if let Verdict::NeedBody = v {
                        prop_assert_eq!(status, 403);
                        v = engine.complete(&a, &facts.clone().with_body(body));
                    }
                    match v {
                        Verdict::Replay(next) => {
                            prop_assert!(status == 401 || (status == 403 && auth));
                            prop_assert!(!a.is_replay(), "a replay was replayed");
                            prop_assert_eq!(next.slot(), a.slot().other());
                            prop_assert!(!revoked[next.slot().index()]);
                            prop_assert_eq!(state_of(&engine, next.slot().index()), "ACTIVE");
                            attempts.push(next);
                        }
                        Verdict::Fail(e) => {
                            prop_assert!(e.code() == "NO_USABLE_SECRET", "{e}");
                            prop_assert!(status == 401 || (status == 403 && auth));
                        }
                        Verdict::Accept { .. } => prop_assert!(!(status == 401 || (status == 403 && auth))),
                        Verdict::NeedBody => prop_assert!(false, "NeedBody twice"),
                    }
                    prop_assert_eq!(engine.complete(&a, &facts).kind(), "fail"); // never twice
                }
                Op::Abandon(i) if !attempts.is_empty() => {
                    let a = attempts.remove(i % attempts.len());
                    prop_assert!(engine.abandon(&a).is_ok());
                }
                Op::Respond(..) | Op::Abandon(_) => {}
                Op::Advance(ms) => clock.advance_ms(ms),
                Op::Activate(i) | Op::Deactivate(i) | Op::Revoke(i) | Op::Renew(i) => {
                    let (action, r) = match op {
                        Op::Activate(_) => ("activate", engine.activate(NAMES[i])),
                        Op::Deactivate(_) => ("deactivate", engine.deactivate(NAMES[i])),
                        Op::Revoke(_) => ("revoke", engine.revoke(NAMES[i])),
                        _ => ("renew", engine.renew(NAMES[i], "sk-renewed-zzzzzzzz", None)),
                    };
                    match (model_transition(&model[i], action), r) {
                        (Ok(next), Ok(())) => {
                            model[i] = next.to_string();
                            if action == "revoke" { revoked[i] = true; }
                            if action == "renew" { revoked[i] = false; }
                        }
                        (Err(code), Err(e)) => prop_assert_eq!(code, e.code()),
                        (m, r) => prop_assert!(false, "{action} from {}: model {m:?}, engine {r:?}", model[i]),
                    }
                }
                Op::Sync(i, state) => {
                    // The service is the authority, but a revoked value stays revoked.
                    if !revoked[i] || state == "REVOKED" {
                        engine.sync_state(NAMES[i], SecretState::parse(state)).unwrap();
                        model[i] = state.to_string();
                        revoked[i] = state == "REVOKED";
                    }
                }
            }
            for (i, m) in model.iter().enumerate() {
                prop_assert_eq!(&state_of(&engine, i), m);
                if revoked[i] {
                    prop_assert_eq!(state_of(&engine, i), "REVOKED");
                    prop_assert!(!engine.status().secrets[i].usable);
                }
            }
        }
    }
}
