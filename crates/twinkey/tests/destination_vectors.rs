//! Runs the shared destination vectors (`tests/vectors/destination/cases.json`): where an
//! engine's secrets may be sent, the `allowed_hosts` option, and the default base URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use twinkey::{ApiKey, Engine, EngineOptions};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/destination/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn engine(key: &Value, allowed: Option<&Value>) -> twinkey::Result<Engine> {
    let key = ApiKey::from_json(&key.to_string()).unwrap();
    let allowed_hosts = allowed
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|h| h.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    Engine::new(
        key,
        EngineOptions {
            allowed_hosts,
            ..EngineOptions::default()
        },
    )
}

#[test]
fn destinations() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    for case in cases {
        let e = engine(&v["key"], case.get("allowedHosts")).unwrap();
        let url = case["url"].as_str().unwrap();
        let got = match e.check_destination(url) {
            Ok(()) => "ok".to_string(),
            Err(err) => {
                let text = err.to_string();
                assert!(
                    !text.contains("/openai/v1/"),
                    "{}: the path is not shown",
                    case["name"]
                );
                err.code().to_string()
            }
        };
        assert_eq!(got, case["expect"].as_str().unwrap(), "{}", case["name"]);
        // begin_for agrees and hands nothing out when refused.
        assert_eq!(e.begin_for(url).is_ok(), got == "ok", "{}", case["name"]);
    }
    assert!(cases.len() >= 40);
}

#[test]
fn allowed_hosts_option() {
    let v = vectors();
    for case in v["options"].as_array().unwrap() {
        let got = match engine(&v["key"], case.get("allowedHosts")) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.code().to_string(),
        };
        assert_eq!(got, case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

#[test]
fn default_base_url() {
    let v = vectors();
    for case in v["defaultBase"].as_array().unwrap() {
        let e = engine(&case["key"], None).unwrap();
        assert_eq!(
            e.default_base_url().as_deref(),
            case["expect"].as_str(),
            "{}",
            case["name"]
        );
    }
}
