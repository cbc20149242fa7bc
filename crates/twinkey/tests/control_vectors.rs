//! Runs the shared control-plane vectors: `tests/vectors/control/retry.json` (the SDKs' retry
//! rules) and `tests/vectors/control/requests.json` (the eight operations as requests, and
//! OCI error bodies as errors).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::Value;
use twinkey::Timestamp;
use twinkey::control::{
    ApiRequest, CreateApiKeyDetails, ListApiKeys, RetryDecision, RetryOutcome, RetryPolicy, SortBy,
    SortOrder, UpdateApiKeyDetails, ops, service_error,
};
use twinkey::secret::SecretState;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/vectors/control/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

fn ms(v: &Value) -> Duration {
    Duration::from_millis(v.as_u64().unwrap())
}

fn policy(base: &Value, over: Option<&Value>) -> RetryPolicy {
    let get = |k: &str| over.and_then(|o| o.get(k)).unwrap_or(&base[k]);
    RetryPolicy {
        max_attempts: u32::try_from(get("maxAttempts").as_u64().unwrap()).unwrap(),
        max_elapsed: ms(get("maxElapsedMs")),
        base: ms(get("baseMs")),
        jitter: ms(get("jitterMs")),
        cap: ms(get("capMs")),
    }
}

fn outcome(v: &Value) -> RetryOutcome<'_> {
    match v["transport"].as_str() {
        Some("timeout") => RetryOutcome::Timeout,
        Some("connect") => RetryOutcome::Connect,
        Some(_) => RetryOutcome::Transport,
        None => RetryOutcome::Status {
            status: u16::try_from(v["status"].as_u64().unwrap()).unwrap(),
            code: v["code"].as_str(),
            retry_after: v.get("retryAfterMs").map(ms),
        },
    }
}

#[test]
fn retry_vectors() {
    let doc = load("retry.json");
    let base = &doc["policy"];
    assert_eq!(policy(base, None), RetryPolicy::default());
    let mut n = 0;
    for c in doc["classify"].as_array().unwrap() {
        assert_eq!(
            outcome(&c["outcome"]).is_retryable(),
            c["retryable"].as_bool().unwrap(),
            "{c}"
        );
        n += 1;
    }
    for c in doc["backoff"].as_array().unwrap() {
        let p = RetryPolicy::default();
        let got = p.backoff(
            u32::try_from(c["retry"].as_u64().unwrap()).unwrap(),
            c["random"].as_f64().unwrap(),
        );
        assert_eq!(got, ms(&c["ms"]), "{c}");
        n += 1;
    }
    for c in doc["decide"].as_array().unwrap() {
        let p = policy(base, c.get("policy"));
        let got = p.decide(
            u32::try_from(c["attempts"].as_u64().unwrap()).unwrap(),
            ms(&c["elapsedMs"]),
            &outcome(&c["outcome"]),
            c["random"].as_f64().unwrap(),
        );
        let e = &c["expect"];
        match (e["decision"].as_str().unwrap(), got) {
            ("retry", RetryDecision::Retry { after }) => {
                assert_eq!(after, ms(&e["afterMs"]), "{}", c["name"]);
            }
            ("give_up", RetryDecision::GiveUp(why)) => {
                assert_eq!(why.code(), e["reason"].as_str().unwrap(), "{}", c["name"]);
            }
            (want, got) => panic!("{}: expected {want}, got {got:?}", c["name"]),
        }
        n += 1;
    }
    assert!(n >= 45, "{n} retry vectors");
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap().to_string()
}

fn opt(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn build(op: &str, input: &Value) -> twinkey::Result<ApiRequest> {
    let if_match = opt(input, "ifMatch");
    let req = match op {
        "create" => {
            let details: CreateApiKeyDetails = serde_json::from_value(input.clone()).unwrap();
            ops::create(&details)
        }
        "get" => ops::get(&s(input, "id")),
        "list" => {
            let mut p = ListApiKeys::in_compartment(s(input, "compartmentId"));
            p.lifecycle_state = opt(input, "lifecycleState");
            p.display_name = opt(input, "displayName");
            p.id = opt(input, "id");
            p.limit = input["limit"].as_u64().map(|l| u32::try_from(l).unwrap());
            p.page = opt(input, "page");
            p.sort_order = opt(input, "sortOrder").map(|o| SortOrder::parse(&o).unwrap());
            p.sort_by = opt(input, "sortBy").map(|o| SortBy::parse(&o).unwrap());
            ops::list(&p)
        }
        "update" => {
            let details: UpdateApiKeyDetails =
                serde_json::from_value(input["details"].clone()).unwrap();
            ops::update(&s(input, "id"), &details)
        }
        "delete" => ops::delete(&s(input, "id")),
        "setState" => ops::set_state(
            &s(input, "id"),
            &s(input, "keyName"),
            &SecretState::parse(&s(input, "state")),
        ),
        "renew" => ops::renew(
            &s(input, "id"),
            &s(input, "keyName"),
            opt(input, "timeExpiry").map(|t| Timestamp::parse_rfc3339(&t).unwrap()),
        ),
        "changeCompartment" => ops::change_compartment(&s(input, "id"), &s(input, "compartmentId")),
        other => panic!("unknown op {other}"),
    }?;
    req.with_if_match(if_match.as_deref())
}

#[test]
fn request_vectors() {
    let doc = load("requests.json");
    let mut n = 0;
    for c in doc["requests"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let e = &c["expect"];
        match (
            build(c["op"].as_str().unwrap(), &c["input"]),
            e.get("error"),
        ) {
            (Ok(req), None) => {
                assert_eq!(req.operation.name(), e["operation"], "{name}");
                assert_eq!(req.method(), e["method"], "{name}");
                assert_eq!(req.path_and_query, e["path"], "{name}");
                assert_eq!(req.body.as_deref(), e["body"].as_str(), "{name}");
                assert_eq!(req.if_match.as_deref(), e["ifMatch"].as_str(), "{name}");
                assert_eq!(
                    req.operation.takes_retry_token(),
                    e["retryToken"].as_bool().unwrap(),
                    "{name}"
                );
                assert_eq!(
                    req.url("https://generativeai.us-chicago-1.oci.oraclecloud.com/"),
                    format!(
                        "https://generativeai.us-chicago-1.oci.oraclecloud.com{}",
                        e["path"].as_str().unwrap()
                    )
                );
            }
            (Err(err), Some(code)) => assert_eq!(err.code(), code, "{name}: {err}"),
            (got, want) => panic!("{name}: got {got:?}, expected {want:?}"),
        }
        n += 1;
    }
    for c in doc["errors"].as_array().unwrap() {
        let e = &c["expect"];
        let err = service_error(
            u16::try_from(c["status"].as_u64().unwrap()).unwrap(),
            c["body"].as_str().unwrap().as_bytes(),
            c["requestId"].as_str(),
        );
        assert_eq!(err.code(), e["code"]);
        let twinkey::Error::Service {
            status,
            oci_code,
            message,
            request_id,
        } = err
        else {
            panic!("not a service error")
        };
        assert_eq!(u64::from(status), e["status"].as_u64().unwrap());
        assert_eq!(oci_code, e["ociCode"].as_str().unwrap(), "{}", c["name"]);
        assert_eq!(message, e["message"].as_str().unwrap(), "{}", c["name"]);
        assert_eq!(
            request_id,
            e["requestId"].as_str().unwrap(),
            "{}",
            c["name"]
        );
        n += 1;
    }
    assert!(n >= 28, "{n} request vectors");
}
