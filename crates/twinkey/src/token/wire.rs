//! JSON forms for bindings (Python dicts, JS objects, the vectors): mint requests, verify
//! options, and what verification and the relay gate return. Field names are camelCase except
//! inside the scope, which uses the claim's own names.
//!
//! - mint request: `{"subject", "scope": {"models", "endpoints", "max_output_tokens"?,
//!   "max_requests"?}, "audience"?, "issuer"?, "ttlSeconds"?, "notBeforeDelaySeconds"?,
//!   "tokenId"?}`
//! - verify options: `{"audience", "issuer"?, "leewaySeconds"?}`

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::claims::Scope;
use super::error::TokenErrorKind;
use super::gate::Admission;
use super::mint::{Minted, TokenRequest};
use super::verify::{VerifiedToken, VerifyOptions};
use crate::error::{Error, Result};

fn bad_request(reason: impl Into<String>) -> Error {
    TokenErrorKind::InvalidRequest.err(reason)
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad_request(format!("{what} must be an object")))
}

fn opt_str<'a>(o: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{name} must be a string"))),
    }
}

fn opt_u64(o: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad_request(format!("{name} must be a non-negative integer"))),
    }
}

fn opt_u32(o: &Map<String, Value>, name: &str) -> Result<Option<u32>> {
    opt_u64(o, name)?
        .map(|n| u32::try_from(n).map_err(|_| bad_request(format!("{name} is too large"))))
        .transpose()
}

fn strings(o: &Map<String, Value>, name: &str) -> Result<Vec<String>> {
    o.get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request(format!("scope.{name} must be a list of strings")))?
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad_request(format!("scope.{name} must be a list of strings")))
        })
        .collect()
}

/// A [`Scope`] from `{"models", "endpoints", "max_output_tokens"?, "max_requests"?}`.
pub fn scope_from_json(v: &Value) -> Result<Scope> {
    let o = object(v, "scope")?;
    let mut s = Scope::new(strings(o, "models")?, strings(o, "endpoints")?);
    s.max_output_tokens = opt_u32(o, "max_output_tokens")?;
    s.max_requests = opt_u32(o, "max_requests")?;
    Ok(s)
}

/// A [`TokenRequest`] from its JSON form (see the module documentation).
pub fn request_from_json(v: &Value) -> Result<TokenRequest> {
    let o = object(v, "a mint request")?;
    let subject = opt_str(o, "subject")?.ok_or_else(|| bad_request("subject is required"))?;
    let scope = scope_from_json(o.get("scope").unwrap_or(&Value::Null))?;
    let mut r = TokenRequest::new(subject, scope);
    if let Some(a) = opt_str(o, "audience")? {
        r = r.audience(a);
    }
    if let Some(i) = opt_str(o, "issuer")? {
        r = r.issuer(i);
    }
    if let Some(t) = opt_u64(o, "ttlSeconds")? {
        r = r.ttl(Duration::from_secs(t));
    }
    if let Some(n) = opt_u64(o, "notBeforeDelaySeconds")? {
        r = r.not_before_delay(Duration::from_secs(n));
    }
    if let Some(j) = opt_str(o, "tokenId")? {
        r = r.token_id(j);
    }
    Ok(r)
}

/// [`VerifyOptions`] from `{"audience", "issuer"?, "leewaySeconds"?}`.
pub fn verify_options_from_json(v: &Value) -> Result<VerifyOptions> {
    let o = object(v, "verify options").map_err(|_| Error::InvalidOptions {
        reason: "verify options must be an object".into(),
    })?;
    let invalid = |e: Error| Error::InvalidOptions {
        reason: e.to_string(),
    };
    let audience =
        opt_str(o, "audience")
            .map_err(invalid)?
            .ok_or_else(|| Error::InvalidOptions {
                reason: "audience is required".into(),
            })?;
    let mut opts = VerifyOptions::new(audience);
    if let Some(i) = opt_str(o, "issuer").map_err(invalid)? {
        opts = opts.issuer(i);
    }
    if let Some(l) = opt_u64(o, "leewaySeconds").map_err(invalid)? {
        opts = opts.leeway(Duration::from_secs(l))?;
    }
    Ok(opts)
}

fn claims_json(c: &super::claims::Claims) -> Value {
    serde_json::from_str(&c.to_json()).unwrap_or(Value::Null)
}

/// `{"kid", "alg", "claims"}`.
pub fn verified_to_json(v: &VerifiedToken) -> Value {
    json!({"kid": v.kid, "alg": v.algorithm.name(), "claims": claims_json(&v.claims)})
}

/// `{"token", "claims"}`.
pub fn minted_to_json(m: &Minted) -> Value {
    json!({"token": m.token, "claims": claims_json(&m.claims)})
}

/// `{"endpoint", "upstreamPath", "model", "maxOutputTokens", "body" (parsed), "remaining"}`.
pub fn admission_to_json(a: &Admission) -> Value {
    let body = a
        .body
        .as_deref()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null));
    json!({
        "endpoint": a.endpoint.name(),
        "upstreamPath": a.upstream_path,
        "model": a.model,
        "maxOutputTokens": a.max_output_tokens,
        "body": body,
        "remaining": a.charge.remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_options_from_json() {
        let r = request_from_json(&json!({
            "subject": "u", "scope": {"models": ["m"], "endpoints": ["models"], "max_requests": 2},
            "ttlSeconds": 60, "audience": "a", "tokenId": "j"
        }))
        .unwrap();
        assert_eq!((r.ttl.as_secs(), r.audience.as_str()), (60, "a"));
        assert_eq!(r.scope.max_requests, Some(2));
        for bad in [
            json!({"scope": {"models": [], "endpoints": []}}),
            json!({"subject": "u"}),
            json!({"subject": "u", "scope": {"models": "m", "endpoints": []}}),
            json!({"subject": "u", "scope": {"models": [], "endpoints": []}, "ttlSeconds": -1}),
            json!([]),
        ] {
            assert_eq!(
                request_from_json(&bad).unwrap_err().code(),
                "INVALID_TOKEN_REQUEST"
            );
        }
        let o = verify_options_from_json(&json!({"audience": "a", "leewaySeconds": 0})).unwrap();
        assert_eq!(o.allowed_skew(), Duration::ZERO);
        for bad in [
            json!({}),
            json!({"audience": "a", "leewaySeconds": 301}),
            json!(1),
        ] {
            assert_eq!(
                verify_options_from_json(&bad).unwrap_err().code(),
                "INVALID_OPTIONS"
            );
        }
    }
}
