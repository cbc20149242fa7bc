//! Runs the shared vectors of `twinkey::check`: `tests/vectors/check/cases.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use twinkey::check::{CheckOptions, check_key, rotation_due};
use twinkey::json::NoSource;
use twinkey::rotation::RotationOptions;
use twinkey::{ApiKey, Timestamp};

fn load() -> Value {
    let path = format!(
        "{}/../../tests/vectors/check/cases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// The vectors' `now`.
fn now(doc: &Value) -> Timestamp {
    Timestamp::parse_rfc3339(doc["now"].as_str().unwrap()).unwrap()
}

fn key(v: &Value) -> ApiKey {
    ApiKey::from_json_with(&v.to_string(), &NoSource).unwrap()
}

fn options(case: &Value) -> CheckOptions {
    let mut o = CheckOptions::default();
    if let Some(s) = case["options"]["expiringWithinS"].as_u64() {
        o.expiring_within = Duration::from_secs(s);
    }
    o
}

#[test]
fn check_cases() {
    let doc = load();
    let now = now(&doc);
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let local = case.get("local").map(key);
        let got = check_key(&key(&case["key"]), local.as_ref(), &options(case), now)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = &case["expect"];
        assert_eq!(u64::from(got.exit_code()), e["exitCode"], "{name}: exit");
        let findings: Vec<Value> = got
            .findings
            .iter()
            .map(|f| json!([f.kind.code(), f.secret, f.at.map(Timestamp::to_rfc3339)]))
            .collect();
        assert_eq!(Value::from(findings), e["findings"], "{name}: findings");
        if let Some(u) = e.get("usable") {
            let got: Vec<bool> = got.secrets.iter().map(|s| s.usable).collect();
            assert_eq!(&json!(got), u, "{name}: usable");
        }
        if let Some(u) = e.get("inUse") {
            let got: Vec<bool> = got.secrets.iter().map(|s| s.in_use).collect();
            assert_eq!(&json!(got), u, "{name}: inUse");
        }
        let doc = got.to_json_value();
        assert_eq!(doc["exitCode"], e["exitCode"], "{name}: JSON");
        assert_eq!(doc["ok"], e["findings"].as_array().unwrap().is_empty());
        let text = doc.to_string();
        assert!(!text.contains("sk-"), "{name}: a value or mask in {text}");
    }
}

#[test]
fn invalid_cases() {
    let doc = load();
    let now = now(&doc);
    for case in doc["invalid"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let local = case.get("local").map(key);
        let err =
            check_key(&key(&case["key"]), local.as_ref(), &options(case), now).expect_err(name);
        assert_eq!(err.code(), case["error"], "{name}: {err}");
    }
}

#[test]
fn due_cases() {
    let doc = load();
    let now = now(&doc);
    for case in doc["due"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let window = Duration::from_secs(case["windowS"].as_u64().unwrap());
        let got = rotation_due(&key(&case["key"]), &RotationOptions::default(), window, now);
        let e = &case["expect"];
        if let Some(code) = e["error"].as_str() {
            assert_eq!(got.expect_err(name).code(), code, "{name}");
            continue;
        }
        let got = got.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(got.is_some(), e["due"], "{name}: {got:?}");
        if let (Some(reason), Some(old)) = (got, e["old"].as_str()) {
            assert!(reason.starts_with(old), "{name}: {reason}");
        }
    }
}
