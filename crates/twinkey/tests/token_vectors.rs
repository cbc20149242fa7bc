//! Runs the shared server-token vectors in `tests/vectors/tokens/` (format:
//! tests/vectors/README.md, "Token vectors"): keys, mint, verify (the hostile table), the relay
//! gate and the browser token cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::Timestamp;
use twinkey::token::{
    Admission, AfterResponse, FixedRandom, Gate, KeyRing, RelayRequest, Scope, Step, TokenCache,
    TokenKey, TokenRequest, VerifyOptions, error_reply,
};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/tokens")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn ring(keys: &Value, name: &str) -> KeyRing {
    KeyRing::from_jwks(&keys["rings"][name]).unwrap()
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn scope(v: &Value) -> Scope {
    let mut s = Scope::new(str_list(&v["models"]), str_list(&v["endpoints"]));
    s.max_output_tokens = v["max_output_tokens"].as_u64().map(|n| n as u32);
    s.max_requests = v["max_requests"].as_u64().map(|n| n as u32);
    s
}

fn request(v: &Value) -> TokenRequest {
    let mut r = TokenRequest::new(v["subject"].as_str().unwrap(), scope(&v["scope"]));
    if let Some(a) = v["audience"].as_str() {
        r = r.audience(a);
    }
    if let Some(i) = v["issuer"].as_str() {
        r = r.issuer(i);
    }
    if let Some(t) = v["ttlSeconds"].as_u64() {
        r = r.ttl(Duration::from_secs(t));
    }
    if let Some(n) = v["notBeforeDelaySeconds"].as_u64() {
        r = r.not_before_delay(Duration::from_secs(n));
    }
    if let Some(j) = v["tokenId"].as_str() {
        r = r.token_id(j);
    }
    r
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn options(v: &Value) -> VerifyOptions {
    let mut o = VerifyOptions::new(v["audience"].as_str().unwrap());
    if let Some(i) = v["issuer"].as_str() {
        o = o.issuer(i);
    }
    if let Some(l) = v["leewaySeconds"].as_u64() {
        o = o.leeway(Duration::from_secs(l)).unwrap();
    }
    o
}

/// The members of a payload twinkey reads (registered claims and `twk`).
fn known_claims(payload: &Value) -> Value {
    let keep = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "twk"];
    let obj = payload.as_object().unwrap();
    Value::Object(
        obj.iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[test]
fn key_vectors() {
    let keys = load("keys.json");
    for (name, jwks) in keys["rings"].as_object().unwrap() {
        let ring = KeyRing::from_jwks(jwks).unwrap();
        assert_eq!(
            ring.signing_kid(),
            keys["signingKids"][name].as_str(),
            "ring {name}"
        );
        // Debug never shows key material.
        let dbg = format!("{ring:?}");
        for k in jwks["keys"].as_array().unwrap() {
            for secret in ["d", "k"] {
                if let Some(s) = k[secret].as_str() {
                    assert!(!dbg.contains(s), "ring {name} Debug leaks {secret}");
                }
            }
        }
    }
    for case in keys["badKeys"].as_array().unwrap() {
        let e = TokenKey::from_jwk(&case["jwk"]).unwrap_err();
        assert_eq!(e.code(), case["expect"]["error"], "{}", case["name"]);
    }
    let e = KeyRing::from_jwks(&keys["duplicateKidRing"]).unwrap_err();
    assert_eq!(e.code(), "INVALID_TOKEN_KEY");
}

#[test]
fn mint_vectors() {
    let keys = load("keys.json");
    let doc = load("mint.json");
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut ring = ring(&keys, case["ring"].as_str().unwrap());
        if let Some(kid) = case["signingKid"].as_str() {
            ring.set_signing_kid(kid).unwrap();
        }
        let rng = FixedRandom::new(hex(case["rngHex"].as_str().unwrap()));
        let now = Timestamp::from_millis(case["nowMs"].as_i64().unwrap());
        let minted = ring.mint(&request(&case["request"]), now, &rng).unwrap();
        assert_eq!(minted.token, case["expect"]["token"], "{name}");
        let claims: Value = serde_json::from_str(&minted.claims.to_json()).unwrap();
        assert_eq!(claims, case["expect"]["claims"], "{name}");
        ran += 1;
    }
    for case in doc["errors"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ring = ring(&keys, case["ring"].as_str().unwrap());
        let rng = FixedRandom::new(hex(case["rngHex"].as_str().unwrap()));
        let now = Timestamp::from_millis(case["nowMs"].as_i64().unwrap());
        let e = ring
            .mint(&request(&case["request"]), now, &rng)
            .unwrap_err();
        assert_eq!(e.code(), case["expect"]["error"], "{name}");
        ran += 1;
    }
    assert!(ran >= 10, "{ran}");
}

#[test]
fn verify_vectors() {
    let keys = load("keys.json");
    let doc = load("verify.json");
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ring = ring(&keys, case["ring"].as_str().unwrap());
        let token = case["token"].as_str().unwrap();
        let now = Timestamp::from_millis(case["nowMs"].as_i64().unwrap());
        let got = ring.verify(token, &options(&case["options"]), now);
        let expect = &case["expect"];
        match (got, expect["error"].as_str()) {
            (Ok(v), None) => {
                assert_eq!(v.kid, expect["kid"], "{name}");
                assert_eq!(v.algorithm.name(), expect["alg"], "{name}");
                let claims: Value = serde_json::from_str(&v.claims.to_json()).unwrap();
                assert_eq!(claims, known_claims(&expect["claims"]), "{name}");
            }
            (Err(e), Some(code)) => {
                assert_eq!(e.code(), code, "{name}: {e}");
                // No error message repeats the token or a part of it.
                let msg = e.to_string();
                for part in token.split('.').filter(|p| p.len() > 8) {
                    assert!(!msg.contains(part), "{name}: message echoes the token");
                }
            }
            (Ok(_), Some(code)) => panic!("{name}: accepted, expected {code}"),
            (Err(e), None) => panic!("{name}: refused with {} ({e})", e.code()),
        }
        ran += 1;
    }
    assert!(ran >= 60, "{ran}");
}

fn admission_json(a: &Admission) -> Value {
    json!({
        "endpoint": a.endpoint.name(),
        "upstreamPath": a.upstream_path,
        "model": a.model,
        "maxOutputTokens": a.max_output_tokens,
        "body": a.body.as_ref().map(|b| serde_json::from_slice::<Value>(b).unwrap()),
        "remaining": a.charge.remaining,
    })
}

#[test]
fn gate_vectors() {
    let keys = load("keys.json");
    let doc = load("gate.json");
    let mut ran = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let name = sc["name"].as_str().unwrap();
        let gate = Gate::new(
            ring(&keys, sc["ring"].as_str().unwrap()),
            options(&sc["options"]),
        );
        let mut last: Option<Admission> = None;
        for (i, step) in sc["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name} step {i}");
            if step["op"] == "release" {
                gate.release(last.as_ref().unwrap());
                continue;
            }
            let body = step["body"].as_str().unwrap_or("");
            let req = RelayRequest {
                method: step["method"].as_str().unwrap(),
                path: step["path"].as_str().unwrap(),
                query: None,
                authorization: step["authorization"].as_str(),
                body: body.as_bytes(),
            };
            let now = Timestamp::from_millis(step["nowMs"].as_i64().unwrap());
            match (gate.admit(&req, now), step["expect"]["error"].as_str()) {
                (Ok(a), None) => {
                    assert_eq!(admission_json(&a), step["expect"]["admit"], "{at}");
                    last = Some(a);
                }
                (Err(e), Some(code)) => {
                    assert_eq!(e.code(), code, "{at}: {e}");
                    let reply = error_reply(&e);
                    assert_eq!(u64::from(reply.status), step["expect"]["status"], "{at}");
                    let body: Value = serde_json::from_str(&reply.body).unwrap();
                    assert_eq!(body["error"]["code"], code, "{at}");
                    assert_eq!(body["error"]["type"], code.to_ascii_lowercase(), "{at}");
                }
                (Ok(a), Some(code)) => panic!("{at}: admitted {a:?}, expected {code}"),
                (Err(e), None) => panic!("{at}: refused with {} ({e})", e.code()),
            }
            ran += 1;
        }
    }
    assert!(ran >= 25, "{ran}");
}

#[test]
fn cache_vectors() {
    let doc = load("cache.json");
    let mut ran = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let name = sc["name"].as_str().unwrap();
        let cache = TokenCache::new(Duration::from_millis(sc["marginMs"].as_u64().unwrap()));
        let mut labels: HashMap<String, u64> = HashMap::new();
        for (i, step) in sc["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name} step {i}");
            let now = || Timestamp::from_millis(step["nowMs"].as_i64().unwrap());
            let label = |key: &str| labels[step[key].as_str().unwrap()];
            let expect = &step["expect"];
            match step["op"].as_str().unwrap() {
                "next" => match (cache.next(now()), expect["step"].as_str().unwrap()) {
                    (Step::Fetch { ticket }, "fetch") => {
                        labels.insert(expect["as"].as_str().unwrap().to_owned(), ticket);
                    }
                    (Step::Wait, "wait") => {}
                    (Step::Use { token, generation }, "use") => {
                        assert_eq!(token, expect["token"].as_str().unwrap(), "{at}");
                        assert_eq!(
                            generation,
                            labels[expect["generation"].as_str().unwrap()],
                            "{at}"
                        );
                    }
                    (got, want) => panic!("{at}: got {got:?}, want {want}"),
                },
                "store" => {
                    let got = cache.store(label("ticket"), step["token"].as_str().unwrap(), now());
                    match (got, expect["error"].as_str()) {
                        (Ok(g), None) => {
                            labels.insert(expect["as"].as_str().unwrap().to_owned(), g);
                        }
                        (Err(e), Some(code)) => assert_eq!(e.code(), code, "{at}"),
                        (got, _) => panic!("{at}: {got:?}"),
                    }
                }
                "fetchFailed" => cache.fetch_failed(label("ticket")),
                "judge" => {
                    let after = cache.judge(
                        label("generation"),
                        step["replayed"].as_bool().unwrap(),
                        step["status"].as_u64().unwrap() as u16,
                        step["code"].as_str(),
                    );
                    assert_eq!(after.as_str(), expect["after"], "{at}");
                    let _: AfterResponse = after;
                }
                "clear" => cache.clear(),
                op => panic!("{at}: unknown op {op}"),
            }
            ran += 1;
        }
    }
    assert!(ran >= 30, "{ran}");
}
