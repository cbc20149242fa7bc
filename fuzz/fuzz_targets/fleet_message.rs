//! Fuzzes fleet messages, which arrive from other processes through a shared store: parsed or
//! refused with INVALID_FLEET_MESSAGE; what parses writes back to the same message; applied to
//! an engine (shared by the inputs, its clock moving on), the engine keeps handing out one of
//! its secrets or a coded refusal, and nothing panics.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use twinkey::fleet::FleetMessage;
use twinkey::{ApiKey, Engine, EngineOptions, ManualClock, Secret, Timestamp};

const KEY_ID: &str = "ocid1.generativeaiapikey.oc1.us-chicago-1.fleet";

fn engine() -> &'static (Engine, ManualClock) {
    static E: OnceLock<(Engine, ManualClock)> = OnceLock::new();
    E.get_or_init(|| {
        let mut key = ApiKey::new(
            Secret::new("key-one", "sk-fleet-one-aaaaaaaaaaaaaaaa", None).unwrap(),
            Secret::new("key-two", "sk-fleet-two-bbbbbbbbbbbbbbbb", None).unwrap(),
        )
        .unwrap();
        key.id = Some(KEY_ID.into());
        let clock = ManualClock::new(Timestamp::from_millis(1_767_225_600_000));
        let e = Engine::with_clock(key, EngineOptions::default(), Arc::new(clock.clone())).unwrap();
        (e, clock)
    })
}

fuzz_target!(|data: &[u8]| {
    let m = match FleetMessage::from_json(data) {
        Ok(m) => m,
        Err(e) => {
            assert_eq!(e.code(), "INVALID_FLEET_MESSAGE");
            return;
        }
    };
    assert_eq!(FleetMessage::from_json(m.to_json().as_bytes()).unwrap(), m);
    let (e, clock) = engine();
    let _ = e.apply_fleet(&m, "fuzz");
    clock.advance_ms(1_000);
    match e.begin() {
        Ok(a) => {
            assert!(e.key().slot_of(a.secret_name()).is_ok());
            let _ = e.abandon(&a);
        }
        Err(err) => assert!(!err.code().is_empty()),
    }
});
