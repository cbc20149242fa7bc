//! Runs the shared fleet vectors in `tests/vectors/fleet/` (format: tests/vectors/README.md):
//! what a fleet message may hold, and what one from another process changes in an engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use twinkey::fleet::FleetMessage;
use twinkey::{
    ApiKey, Attempt, Engine, EngineOptions, Event, ManualClock, ResponseFacts, Secret, Timestamp,
    fingerprint_of,
};

fn doc() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/fleet/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn messages() {
    let doc = doc();
    let cases = doc["messages"].as_array().unwrap();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let got = FleetMessage::from_json(c["text"].as_str().unwrap().as_bytes());
        match (&c["expect"]["message"], &c["expect"]["error"]) {
            (Value::Null, Value::String(code)) => {
                assert_eq!(got.unwrap_err().code(), code, "{name}");
            }
            (want, _) => {
                let m = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(&m.to_json_value(), want, "{name}");
                // What it writes, it reads back.
                assert_eq!(FleetMessage::from_json(m.to_json().as_bytes()).unwrap(), m);
            }
        }
    }
    assert!(cases.len() >= 15);
}

struct Run {
    engine: Engine,
    clock: ManualClock,
    events: Arc<Mutex<Vec<Event>>>,
    pending: Option<Attempt>,
    origin: String,
}

impl Run {
    fn new(doc: &Value, key_id: Option<&str>) -> Run {
        let s = &doc["key"]["secrets"];
        let secret = |name: &str| {
            let value = s[name]["value"].as_str().unwrap();
            assert_eq!(fingerprint_of(value.as_bytes()), s[name]["fingerprint"]);
            Secret::new(name, value, None).unwrap()
        };
        let mut key = ApiKey::new(secret("key-one"), secret("key-two")).unwrap();
        key.id = key_id.map(str::to_owned);
        let clock = ManualClock::new(Timestamp::from_millis(doc["nowMs"].as_i64().unwrap()));
        let engine =
            Engine::with_clock(key, EngineOptions::default(), Arc::new(clock.clone())).unwrap();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let sink = events.clone();
        engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
        Run {
            engine,
            clock,
            events,
            pending: None,
            origin: doc["origin"].as_str().unwrap().to_owned(),
        }
    }

    fn check(&self, name: &str, expect: &Value, events: &[Event], outcome: Option<&str>) {
        if let Some(want) = expect.get("outcome") {
            assert_eq!(outcome, want.as_str(), "{name}: outcome");
        }
        if let Some(want) = expect.get("events") {
            let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
            let want: Vec<&str> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(kinds, want, "{name}: events");
        }
        if let Some(want) = expect.get("sends") {
            let sent: Vec<Value> = events
                .iter()
                .filter_map(|e| self.engine.fleet_message(e, &self.origin))
                .map(|m| m.to_json_value())
                .collect();
            assert_eq!(&Value::from(sent), want, "{name}: sends");
        }
        if let Some(want) = expect.get("current") {
            assert_eq!(
                self.engine.current(),
                want.as_str().unwrap(),
                "{name}: current"
            );
        }
        if let Some(want) = expect.get("health").and_then(Value::as_object) {
            let status = self.engine.status();
            for (secret, health) in want {
                let s = status.secrets.iter().find(|s| &s.name == secret).unwrap();
                assert_eq!(
                    s.health.as_str(),
                    health.as_str().unwrap(),
                    "{name}: {secret}"
                );
            }
        }
    }
}

#[test]
fn scenarios() {
    let doc = doc();
    let scenarios = doc["scenarios"].as_array().unwrap();
    for sc in scenarios {
        let name = sc["name"].as_str().unwrap();
        let mut run = Run::new(&doc, sc["keyId"].as_str());
        for (i, step) in sc["steps"].as_array().unwrap().iter().enumerate() {
            let name = format!("{name} (step {})", i + 1);
            run.events.lock().unwrap().clear();
            let mut outcome = None;
            if let Some(ms) = step.get("advanceMs").and_then(Value::as_i64) {
                run.clock.advance_ms(ms);
            }
            if let Some(sync) = step.get("syncState") {
                let state = twinkey::SecretState::parse(sync["state"].as_str().unwrap());
                run.engine
                    .sync_state(sync["secret"].as_str().unwrap(), state)
                    .unwrap();
            }
            if let Some(m) = step.get("apply") {
                let m = FleetMessage::from_json(m.to_string().as_bytes()).unwrap();
                outcome = Some(run.engine.apply_fleet(&m, &run.origin).as_str());
            }
            if step.get("begin").is_some() {
                let a = run.engine.begin().unwrap();
                if let Some(want) = step["expect"].get("secret") {
                    assert_eq!(a.secret_name(), want.as_str().unwrap(), "{name}");
                }
                run.pending = Some(a);
            }
            if let Some(status) = step.get("complete").and_then(Value::as_u64) {
                let a = match run.pending.take() {
                    Some(a) => a,
                    None => run.engine.begin().unwrap(),
                };
                let _ = run
                    .engine
                    .complete(&a, &ResponseFacts::status(u16::try_from(status).unwrap()));
            }
            let events = run.events.lock().unwrap().clone();
            run.check(&name, &step["expect"], &events, outcome);
        }
    }
    assert!(scenarios.len() >= 10);
}
