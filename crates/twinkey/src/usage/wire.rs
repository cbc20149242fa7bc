//! The JSON forms of usage and budget values, shared by the bindings (which convert them to
//! dicts and objects) and the vectors (`tests/vectors/usage`, `tests/vectors/budget`). Times
//! are Unix milliseconds, durations milliseconds, names camelCase.

use serde_json::{Map, Value, json};

use super::estimate::RequestFacts;
use super::extract::{BodyFacts, Usage};
use super::meter::{Histogram, MinuteTokens};
use crate::budget::{Admission, BudgetSnapshot, HighWater, Outcome, RateLimitHeaders};
use crate::engine::UsageReport;
use crate::error::{Error, Result};

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `{inputTokens, outputTokens, totalTokens}` or `null`.
pub fn usage_json(u: Option<Usage>) -> Value {
    u.map_or(Value::Null, |u| {
        json!({
            "inputTokens": u.input_tokens,
            "outputTokens": u.output_tokens,
            "totalTokens": u.total_tokens,
        })
    })
}

/// A usage from [`usage_json`]'s shape (`null` = none; `totalTokens` defaults to the sum).
pub fn usage_from_json(v: &Value) -> Result<Option<Usage>> {
    if v.is_null() {
        return Ok(None);
    }
    let field = |name: &str| -> Result<Option<u64>> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n.as_u64().map(Some).ok_or_else(|| Error::InvalidRequest {
                reason: format!("usage.{name} must be a non-negative integer"),
            }),
        }
    };
    if !v.is_object() {
        return Err(Error::InvalidRequest {
            reason: "usage must be an object or null".into(),
        });
    }
    let (i, o) = (
        field("inputTokens")?.unwrap_or(0),
        field("outputTokens")?.unwrap_or(0),
    );
    Ok(Some(Usage {
        input_tokens: i,
        output_tokens: o,
        total_tokens: field("totalTokens")?.unwrap_or(i.saturating_add(o)),
    }))
}

/// `{model, usage}`.
pub fn body_facts_json(f: &BodyFacts) -> Value {
    json!({"model": f.model, "usage": usage_json(f.usage)})
}

/// `{endpoint, model, stream, promptTokens, outputCap, estimate}`.
pub fn request_facts_json(f: &RequestFacts) -> Value {
    json!({
        "endpoint": f.endpoint.as_str(),
        "model": f.model,
        "stream": f.stream,
        "promptTokens": f.prompt_tokens,
        "outputCap": f.output_cap,
        "estimate": f.estimate,
    })
}

/// `{retryAfterMs, limitTokens, remainingTokens, resetTokensMs}`.
pub fn rate_limit_json(h: &RateLimitHeaders) -> Value {
    json!({
        "retryAfterMs": h.retry_after.map(ms),
        "limitTokens": h.limit_tokens,
        "remainingTokens": h.remaining_tokens,
        "resetTokensMs": h.reset_tokens.map(ms),
    })
}

/// `{scope, used, limit}` or `null`.
pub fn high_water_json(h: Option<&HighWater>) -> Value {
    h.map_or(
        Value::Null,
        |h| json!({"scope": h.scope, "used": h.used, "limit": h.limit}),
    )
}

/// `{granted: true, highWater}` or `{wait: {untilMs, scope}}` (the charge of a granted
/// admission stays with the caller).
pub fn admission_json(a: &Admission) -> Value {
    match a {
        Admission::Granted { high_water, .. } => {
            json!({"granted": true, "highWater": high_water_json(high_water.as_ref())})
        }
        Admission::Wait { until, scope } => {
            json!({"wait": {"untilMs": until.as_millis(), "scope": scope}})
        }
    }
}

/// How a request ended from a status (`None`: not sent) and a usage.
pub fn outcome(status: Option<u16>, usage: Option<Usage>) -> Outcome {
    match status {
        None => Outcome::NotSent,
        Some(status) => Outcome::Answered { status, usage },
    }
}

/// `{windows: [{scope, limit, used}], blockedUntilMs, refunded, debited}`, and `fleet:
/// {attached, sliceTokens, available, leases, owed}` once the budget is shared.
pub fn snapshot_json(s: &BudgetSnapshot) -> Value {
    let mut v = json!({
        "windows": s.windows.iter().map(|w| json!({
            "scope": w.scope, "limit": w.limit, "used": w.used,
        })).collect::<Vec<_>>(),
        "blockedUntilMs": s.blocked_until.map(|t| t.as_millis()),
        "refunded": s.refunded,
        "debited": s.debited,
    });
    if let (Some(f), Some(o)) = (&s.fleet, v.as_object_mut()) {
        o.insert(
            "fleet".into(),
            json!({"attached": f.attached, "sliceTokens": f.slice_tokens,
                "available": f.available, "leases": f.leases, "owed": f.owed}),
        );
    }
    v
}

fn histogram_json(h: &Histogram) -> Value {
    json!({"counts": h.counts, "sum": h.sum})
}

fn minutes_json(m: &[MinuteTokens]) -> Value {
    Value::Array(
        m.iter()
            .map(|m| json!({"minuteMs": m.minute.as_millis(), "tokens": m.tokens}))
            .collect(),
    )
}

/// An engine's [`UsageReport`]: `{atMs, keyId, secrets, rows: [{secret, fingerprint, model,
/// endpoint, status, requests, withoutUsage, inputTokens, outputTokens, totalTokens,
/// durationSeconds: {counts, sum}}], minutes: [{minuteMs, tokens: [one, two]}], budget}`.
pub fn usage_report_json(r: &UsageReport) -> Value {
    let rows = r
        .rows
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("secret".into(), s.secret.clone().into());
            m.insert("fingerprint".into(), s.fingerprint.clone().into());
            m.insert("model".into(), s.row.model.clone().into());
            m.insert("endpoint".into(), s.row.endpoint.as_str().into());
            m.insert("status".into(), s.row.status.into());
            m.insert("requests".into(), s.row.requests.into());
            m.insert("withoutUsage".into(), s.row.without_usage.into());
            m.insert("inputTokens".into(), s.row.input_tokens.into());
            m.insert("outputTokens".into(), s.row.output_tokens.into());
            m.insert("totalTokens".into(), s.row.total_tokens.into());
            m.insert("durationSeconds".into(), histogram_json(&s.row.duration));
            Value::Object(m)
        })
        .collect::<Vec<_>>();
    let mut v = json!({
        "atMs": r.at.as_millis(),
        "keyId": r.key_id,
        "secrets": r.secrets,
        "rows": rows,
        "minutes": minutes_json(&r.minutes),
        "budget": r.budget.as_ref().map(snapshot_json),
    });
    if let (Some(f), Some(o)) = (&r.fleet, v.as_object_mut()) {
        o.insert("fleet".into(), fleet_usage_json(f));
    }
    v
}

/// The fleet's totals: `{atMs, rows: [{secret, fingerprint, model, requests, inputTokens,
/// outputTokens, totalTokens}], skipped}`.
pub fn fleet_usage_json(f: &crate::fleet::usage::FleetUsage) -> Value {
    let rows: Vec<Value> = f
        .rows
        .iter()
        .map(|r| {
            json!({"secret": r.secret, "fingerprint": r.fingerprint, "model": r.model,
                "requests": r.requests, "inputTokens": r.input_tokens,
                "outputTokens": r.output_tokens, "totalTokens": r.total_tokens})
        })
        .collect();
    json!({"atMs": f.at.as_millis(), "rows": rows, "skipped": f.skipped})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn usage_round_trips_and_bad_usage_is_refused() {
        let u = Some(Usage::new(3, 4));
        assert_eq!(usage_from_json(&usage_json(u)).unwrap(), u);
        assert_eq!(usage_from_json(&Value::Null).unwrap(), None);
        assert_eq!(
            usage_from_json(&json!({"inputTokens": -1}))
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
        assert!(usage_from_json(&json!(5)).is_err());
    }
}
