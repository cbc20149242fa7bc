//! Runs the fleet usage vectors (`tests/vectors/fleet/usage.json`): the totals a hash read
//! back means, and the increments a tally sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use twinkey::Timestamp;
use twinkey::fleet::usage::{COUNTERS, MAX_FIELD_BYTES, UsageTally, parse_usage};
use twinkey::usage::wire::fleet_usage_json;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/fleet/usage.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn constants() {
    let v = vectors();
    assert_eq!(v["maxFieldBytes"], json!(MAX_FIELD_BYTES));
    assert_eq!(v["counters"], json!(COUNTERS));
}

#[test]
fn parse() {
    let v = vectors();
    let cases = v["parse"].as_array().unwrap();
    for case in cases {
        let pairs: Vec<(&str, &str)> = case["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        let at = Timestamp::from_millis(case["atMs"].as_i64().unwrap());
        let got = fleet_usage_json(&parse_usage(pairs, at));
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
    assert!(cases.len() >= 5);
}

#[test]
fn tally() {
    let v = vectors();
    for case in v["tally"].as_array().unwrap() {
        let mut tally = UsageTally::new();
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let current: BTreeMap<String, u64> = step["current"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .collect();
            let got = tally.increments(&current);
            assert_eq!(json!(got), step["expect"], "{}, step {i}", case["name"]);
            if step["sent"].as_bool().unwrap() {
                tally.sent(&got);
            }
        }
    }
}
