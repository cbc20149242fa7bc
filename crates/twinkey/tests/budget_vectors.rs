//! Runs the shared budget vectors (`tests/vectors/budget/cases.json`): admission, waits and
//! refusals, settlement, 429s and rate-limit headers, per-model limits, the high-water mark.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::budget::{
    Admission, Budget, BudgetOptions, Charge, HighWater, Outcome, Policy, RateLimitHeaders,
};
use twinkey::usage::Usage;
use twinkey::{Error, Timestamp};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/budget/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn options(o: &Value) -> BudgetOptions {
    let mut out = BudgetOptions {
        tokens_per_minute: o["tokensPerMinute"].as_u64(),
        ..BudgetOptions::default()
    };
    if let Some(m) = o.get("perModel").and_then(Value::as_object) {
        out.per_model = m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect::<BTreeMap<_, _>>();
    }
    out.policy = match o["policy"].as_str().unwrap() {
        "fail_fast" => Policy::FailFast,
        _ => Policy::Wait {
            max_wait: o["maxWaitMs"]
                .as_u64()
                .map_or(twinkey::budget::DEFAULT_MAX_WAIT, Duration::from_millis),
        },
    };
    if let Some(h) = o["highWater"].as_f64() {
        out.high_water = h;
    }
    out
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

fn high_water(h: Option<HighWater>) -> Value {
    h.map_or(
        Value::Null,
        |h| json!({"scope": h.scope, "used": h.used, "limit": h.limit}),
    )
}

fn usage(v: &Value) -> Option<Usage> {
    (!v.is_null()).then(|| Usage {
        input_tokens: v["inputTokens"].as_u64().unwrap(),
        output_tokens: v["outputTokens"].as_u64().unwrap(),
        total_tokens: v["totalTokens"].as_u64().unwrap(),
    })
}

fn run(scenario: &Value) {
    let name = scenario["name"].as_str().unwrap();
    let budget = Budget::new(options(&scenario["options"])).unwrap();
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
                Ok(Admission::Granted {
                    charge,
                    high_water: hw,
                }) => {
                    if let Some(label) = step["as"].as_str() {
                        charges.insert(label.to_string(), charge);
                    }
                    json!({"granted": true, "highWater": high_water(hw)})
                }
                Ok(Admission::Wait { until, scope }) => {
                    json!({"wait": {"untilMs": until.as_millis(), "scope": scope}})
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
            let outcome = match s["status"].as_u64() {
                None => Outcome::NotSent,
                Some(status) => Outcome::Answered {
                    status: u16::try_from(status).unwrap(),
                    usage: usage(&s["usage"]),
                },
            };
            let hw = budget.settle(charge, outcome, &headers(&s["headers"], now), now);
            assert_eq!(high_water(hw), expect["highWater"], "{here}");
        } else if let Some(o) = step.get("observe") {
            let now = at(o);
            budget.observe_headers(&headers(&o["headers"], now), now);
        } else if let Some(s) = step.get("snapshot") {
            let snap = budget.snapshot(at(s));
            let got = json!({
                "windows": snap.windows.iter().map(|w| json!({
                    "scope": w.scope, "limit": w.limit, "used": w.used})).collect::<Vec<_>>(),
                "blockedUntilMs": snap.blocked_until.map(Timestamp::as_millis),
                "refunded": snap.refunded,
                "debited": snap.debited,
            });
            assert_eq!(&got, expect, "{here}");
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
        let e = Budget::new(options(&case["options"])).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTIONS", "{}", case["name"]);
    }
}
