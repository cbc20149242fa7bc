//! Runs the shared rotation vectors: `tests/vectors/rotation/rotation.json` (the state
//! machine, including runners killed between any two calls) and `probe.json` (step 2's
//! verdicts and schedule).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::Value;
use twinkey::json::NoSource;
use twinkey::rotation::{
    Action, Checkpoint, Next, ProbeDecision, ProbeOutcome, ProbePolicy, Retire, Rotation,
    RotationOptions, apply_action, probe,
};
use twinkey::{ApiKey, SecretState, Timestamp};

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/vectors/rotation/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

fn options(v: &Value) -> RotationOptions {
    let mut o = RotationOptions {
        standby: v["standby"].as_str().map(str::to_string),
        ..RotationOptions::default()
    };
    if let Some(r) = v["retire"].as_str() {
        o.retire = match r {
            "revoke" => Retire::Revoke,
            _ => Retire::Deactivate,
        };
    }
    if let Some(b) = v["renewOld"].as_bool() {
        o.renew_old = b;
    }
    if let Some(b) = v["probe"].as_bool() {
        o.probe = b;
    }
    if let Some(ms) = v["renewWithinMs"].as_u64() {
        o.renew_within = Duration::from_millis(ms);
    }
    if let Some(ms) = v["renewLifetimeMs"].as_u64() {
        o.renew_lifetime = Duration::from_millis(ms);
    }
    o
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

struct Run {
    name: String,
    key: ApiKey,
    now: Timestamp,
    rotation: Rotation,
    options: RotationOptions,
    last: Option<(twinkey::rotation::Step, Action)>,
}

impl Run {
    fn step(&mut self, s: &Value) {
        let name = self.name.clone();
        let e = &s["expect"];
        match s["op"].as_str().unwrap() {
            "next" => {
                let before = self.rotation.checkpoint().completed.len();
                let got = self.rotation.next(&self.key, self.now);
                if let Some(code) = e["error"].as_str() {
                    let err = got.expect_err(&name);
                    assert_eq!(err.code(), code, "{name}: {err}");
                    return;
                }
                let got = got.unwrap_or_else(|err| panic!("{name}: {err}"));
                let skipped: Vec<String> = self.rotation.checkpoint().completed
                    [before.min(self.rotation.checkpoint().completed.len())..]
                    .iter()
                    .filter(|r| r.action == "skip")
                    .map(|r| r.step.as_str().to_string())
                    .collect();
                assert_eq!(skipped, strings(&e["skipped"]), "{name}: skipped");
                match got {
                    Next::Done => assert_eq!(e["done"], true, "{name}: unexpected done"),
                    Next::Do { step, action } => {
                        assert_eq!(step.as_str(), e["step"], "{name}: step");
                        assert_eq!(action.name(), e["action"], "{name}: action");
                        assert_eq!(action.secret(), e["secret"], "{name}: secret");
                        assert_eq!(
                            action.retry_token(),
                            e["retryToken"].as_str(),
                            "{name}: token"
                        );
                        if let Some(exp) = e["expiry"].as_str() {
                            let Action::Renew { expiry, .. } = &action else {
                                panic!("{name}: not a renewal")
                            };
                            assert_eq!(expiry.to_rfc3339(), exp, "{name}: expiry");
                        }
                        self.last = Some((step, action));
                    }
                }
            }
            "start" => {
                let (step, action) = self.last.clone().unwrap();
                self.rotation
                    .start(step, &action, s["retryToken"].as_str().unwrap(), self.now);
            }
            "apply" => {
                let (_, action) = self.last.clone().unwrap();
                apply_action(&mut self.key, &action, self.now).unwrap();
            }
            "complete" => {
                let (step, action) = self.last.take().unwrap();
                self.rotation
                    .complete(step, &action, s["fingerprint"].as_str(), None, self.now)
                    .unwrap();
            }
            "reload" => {
                let text = self.rotation.checkpoint().to_json();
                let cp = Checkpoint::from_json(&text).unwrap();
                let id = self.key.id.clone().unwrap();
                self.rotation = Rotation::resume(cp, &id, &self.options).unwrap();
                self.last = None;
            }
            "resume" => {
                let cp = Checkpoint::from_json(&self.rotation.checkpoint().to_json()).unwrap();
                let id = self.key.id.clone().unwrap();
                match (
                    Rotation::resume(cp, &id, &options(&s["options"])),
                    e["error"].as_str(),
                ) {
                    (Ok(r), None) => self.rotation = r,
                    (Err(err), Some(code)) => assert_eq!(err.code(), code, "{name}"),
                    (got, want) => panic!("{name}: resume gave {got:?}, expected {want:?}"),
                }
            }
            "setState" => {
                self.key
                    .sync_state(
                        s["secret"].as_str().unwrap(),
                        SecretState::parse(s["state"].as_str().unwrap()),
                    )
                    .unwrap();
            }
            "setLifecycle" => {
                self.key.lifecycle_state = s["state"].as_str().map(str::to_string);
            }
            "advance" => {
                self.now = self
                    .now
                    .plus(Duration::from_millis(s["ms"].as_u64().unwrap()))
            }
            "keyState" => {
                for (secret, state) in e.as_object().unwrap() {
                    let slot = self.key.slot_of(secret).unwrap();
                    assert_eq!(
                        self.key.secret(slot).state.as_str(),
                        state,
                        "{name}: {secret}"
                    );
                }
            }
            "checkpoint" => {
                let cp = self.rotation.checkpoint();
                let done: Vec<String> = cp
                    .completed
                    .iter()
                    .map(|r| format!("{}:{}", r.step.as_str(), r.action))
                    .collect();
                assert_eq!(done, strings(&e["completed"]), "{name}: completed");
                let pending = cp.pending.as_ref().map(|p| {
                    format!(
                        "{}:{}:{}:{}",
                        p.step.as_str(),
                        p.action,
                        p.secret,
                        p.retry_token
                    )
                });
                assert_eq!(pending.as_deref(), e["pending"].as_str(), "{name}: pending");
                for (field, value) in [("old", cp.old.as_str()), ("standby", cp.standby.as_str())] {
                    if let Some(want) = e[field].as_str() {
                        assert_eq!(value, want, "{name}: {field}");
                    }
                }
                if let Some(n) = e["reopened"].as_u64() {
                    assert_eq!(u64::from(cp.reopened), n, "{name}: reopened");
                }
                let json = cp.to_json();
                assert!(
                    !json.contains("sk-"),
                    "{name}: a checkpoint never holds values"
                );
            }
            "plan" => {
                let plan = self.rotation.preview(&self.key, self.now).unwrap();
                let want = e.as_array().unwrap();
                assert_eq!(plan.len(), want.len(), "{name}: {plan:?}");
                for (p, w) in plan.iter().zip(want) {
                    assert_eq!(p.step.as_str(), w["step"], "{name}: plan");
                    match &p.action {
                        Some(a) => {
                            assert_eq!(a.name(), w["action"], "{name}: plan {}", p.step);
                            assert_eq!(a.secret(), w["secret"], "{name}: plan {}", p.step);
                        }
                        None => assert_eq!(w["skip"], true, "{name}: plan {}", p.step),
                    }
                }
            }
            other => panic!("{name}: unknown op {other}"),
        }
    }
}

#[test]
fn rotation_vectors() {
    let doc = load("rotation.json");
    let mut ran = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let name = sc["name"].as_str().unwrap().to_string();
        let key = ApiKey::from_json_with(&sc["key"].to_string(), &NoSource).unwrap();
        let now = Timestamp::parse_rfc3339(sc["now"].as_str().unwrap()).unwrap();
        let opts = options(&sc["options"]);
        let planned = Rotation::plan(&key, &opts, now);
        if let Some(code) = sc["planError"].as_str() {
            let err = planned.expect_err(&name);
            assert_eq!(err.code(), code, "{name}: {err}");
            assert!(sc["steps"].as_array().is_none_or(Vec::is_empty));
            ran += 1;
            continue;
        }
        let mut run = Run {
            name: name.clone(),
            key,
            now,
            rotation: planned.unwrap_or_else(|e| panic!("{name}: {e}")),
            options: opts,
            last: None,
        };
        for s in sc["steps"].as_array().unwrap() {
            run.step(s);
        }
        ran += 1;
    }
    assert!(ran >= 30, "{ran} scenarios");
}

#[test]
fn probe_vectors() {
    let doc = load("probe.json");
    let p = &doc["policy"];
    let policy = ProbePolicy {
        timeout: Duration::from_millis(p["timeoutMs"].as_u64().unwrap()),
        first_wait: Duration::from_millis(p["firstWaitMs"].as_u64().unwrap()),
        max_wait: Duration::from_millis(p["maxWaitMs"].as_u64().unwrap()),
    };
    assert_eq!(policy, ProbePolicy::default());
    let outcome = |c: &Value| {
        if c["transport"] == true {
            ProbeOutcome::Transport
        } else {
            ProbeOutcome::Status(u16::try_from(c["status"].as_u64().unwrap()).unwrap())
        }
    };
    for c in doc["judge"].as_array().unwrap() {
        assert_eq!(probe::judge(outcome(c)).as_str(), c["verdict"], "{c}");
    }
    for c in doc["decide"].as_array().unwrap() {
        let got = policy.decide(
            u32::try_from(c["attempts"].as_u64().unwrap()).unwrap(),
            Duration::from_millis(c["elapsedMs"].as_u64().unwrap()),
            outcome(c),
        );
        let e = &c["expect"];
        match (e["decision"].as_str().unwrap(), got) {
            ("passed", ProbeDecision::Passed) => {}
            ("retry", ProbeDecision::Retry { after }) => {
                assert_eq!(
                    after.as_millis(),
                    u128::from(e["afterMs"].as_u64().unwrap()),
                    "{c}"
                );
            }
            ("failed", ProbeDecision::Failed { verdict }) => {
                assert_eq!(verdict.as_str(), e["verdict"], "{c}");
            }
            (want, got) => panic!("{c}: expected {want}, got {got:?}"),
        }
    }
}
