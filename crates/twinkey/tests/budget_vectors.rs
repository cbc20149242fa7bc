//! Runs the shared budget vectors (`tests/vectors/budget/cases.json`): admission, waits and
//! refusals, settlement, 429s and rate-limit headers, per-model limits, the high-water mark;
//! and the local side of a fleet's shared budget (`tests/vectors/fleet/budget.json`): leases
//! asked for, granted, refused, spent and handed back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::budget::{Admission, Budget, BudgetOptions, Charge, RateLimitHeaders};
use twinkey::usage::wire;
use twinkey::{Error, Timestamp};

fn load(file: &str) -> Value {
    let path = format!("{}/../../tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vectors() -> Value {
    load("budget/cases.json")
}

fn options(o: &Value) -> twinkey::Result<BudgetOptions> {
    BudgetOptions::from_json_value(o)
}

fn at(v: &Value) -> Timestamp {
    Timestamp::from_millis(v["atMs"].as_i64().unwrap())
}

fn headers(v: &Value, now: Timestamp) -> RateLimitHeaders {
    let pairs: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    RateLimitHeaders::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), now)
}

fn run(scenario: &Value) {
    let name = scenario["name"].as_str().unwrap();
    let budget = Budget::new(options(&scenario["options"]).unwrap()).unwrap();
    let mut charges: HashMap<String, Charge> = HashMap::new();
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let expect = &step["expect"];
        let here = format!("{name}, step {i}");
        if let Some(a) = step.get("admit") {
            let since = a["waitingSinceMs"].as_i64().map(Timestamp::from_millis);
            let got = budget.admit(
                a["estimate"].as_u64().unwrap(),
                a["model"].as_str(),
                at(a),
                since,
            );
            let got = match got {
                Ok(a) => {
                    let out = wire::admission_json(&a);
                    if let (Admission::Granted { charge, .. }, Some(label)) =
                        (a, step["as"].as_str())
                    {
                        charges.insert(label.to_string(), charge);
                    }
                    out
                }
                Err(e @ Error::TpmBudgetExceeded { .. }) => {
                    let Error::TpmBudgetExceeded {
                        ref scope,
                        retry_after_ms,
                        requested,
                    } = e
                    else {
                        unreachable!()
                    };
                    json!({"error": {"code": e.code(), "scope": scope,
                        "retryAfterMs": retry_after_ms, "requested": requested}})
                }
                Err(e) => panic!("{here}: {e}"),
            };
            assert_eq!(&got, expect, "{here}");
        } else if let Some(s) = step.get("settle") {
            let charge = charges.remove(s["charge"].as_str().unwrap()).unwrap();
            let now = at(s);
            let status = s["status"].as_u64().map(|v| u16::try_from(v).unwrap());
            let usage = wire::usage_from_json(&s["usage"]).unwrap();
            let outcome = wire::outcome(status, usage);
            let hw = budget.settle(charge, outcome, &headers(&s["headers"], now), now);
            assert_eq!(
                wire::high_water_json(hw.as_ref()),
                expect["highWater"],
                "{here}"
            );
        } else if let Some(o) = step.get("observe") {
            let now = at(o);
            budget.observe_headers(&headers(&o["headers"], now), now);
        } else if let Some(s) = step.get("snapshot") {
            let got = wire::snapshot_json(&budget.snapshot(at(s)));
            assert_eq!(&got, expect, "{here}");
        } else if let Some(a) = step.get("attach") {
            let got = budget.attach_fleet(a["sliceTokens"].as_u64().unwrap());
            assert_eq!(json!(got.unwrap()), *expect, "{here}");
        } else if step.get("detach").is_some() {
            budget.detach_fleet();
        } else if let Some(w) = step.get("wanted") {
            assert_eq!(json!(budget.lease_wanted(at(w))), *expect, "{here}");
        } else if let Some(g) = step.get("grant") {
            let id = g["id"].as_str().unwrap().to_string();
            budget.lease_granted(at(g), id, g["tokens"].as_u64().unwrap());
        } else if let Some(r) = step.get("refused") {
            let after = Duration::from_millis(r["retryAfterMs"].as_u64().unwrap());
            budget.lease_refused(at(r), after);
        } else if let Some(r) = step.get("returns") {
            let got: Vec<Value> = budget
                .lease_returns(at(r))
                .iter()
                .map(|l| {
                    let ago = l.last_spent_ago.map(|d| d.as_millis() as u64);
                    json!({"id": l.id, "unused": l.unused, "lastSpentAgoMs": ago})
                })
                .collect();
            assert_eq!(json!(got), *expect, "{here}");
        } else {
            panic!("{here}: unknown step");
        }
    }
}

#[test]
fn scenarios() {
    let v = vectors();
    let scenarios = v["scenarios"].as_array().unwrap();
    for s in scenarios {
        run(s);
    }
    assert!(scenarios.len() >= 40);
}

#[test]
fn invalid_options() {
    let v = vectors();
    for case in v["invalidOptions"].as_array().unwrap() {
        let e = options(&case["options"]).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTIONS", "{}", case["name"]);
    }
}

#[test]
fn fleet_scenarios() {
    let v = load("fleet/budget.json");
    let c = &v["constants"];
    let ms = |d: Duration| json!(d.as_millis() as u64);
    assert_eq!(c["leaseSpendMs"], ms(twinkey::budget::LEASE_SPEND));
    assert_eq!(c["leaseHoldMs"], ms(twinkey::budget::LEASE_HOLD));
    assert_eq!(c["fleetPollMs"], ms(twinkey::budget::FLEET_POLL));
    assert_eq!(
        c["leaseRenewAheadMs"],
        ms(twinkey::budget::LEASE_RENEW_AHEAD)
    );
    let scenarios = v["scenarios"].as_array().unwrap();
    for s in scenarios {
        run(s);
    }
    assert!(scenarios.len() >= 12);
    for case in v["invalidSlices"].as_array().unwrap() {
        let b = Budget::new(options(&case["options"]).unwrap()).unwrap();
        let e = b
            .attach_fleet(case["sliceTokens"].as_u64().unwrap())
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTIONS", "{}", case["name"]);
    }
}
