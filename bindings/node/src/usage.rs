//! Usage and the tokens-per-minute budget in Node: the core's readers of request and response
//! bodies and rate-limit headers, and a standalone `Budget` (the engine keeps its own when
//! given `budget`), all answering in the core's JSON forms.

use napi::bindgen_prelude::Uint8Array;
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use twinkey::Timestamp;
use twinkey::budget::{Admission, Budget as CoreBudget, BudgetOptions, Charge, RateLimitHeaders};
use twinkey::usage::{DEFAULT_OUTPUT_TOKENS, wire};

use crate::errors::OrThrow;

fn at(env: &Env, ms: f64) -> Result<Timestamp> {
    Timestamp::from_millis_f64(ms).or_throw(env)
}

fn rate_limits(headers: &[Vec<String>], now: Timestamp) -> RateLimitHeaders {
    RateLimitHeaders::parse(
        headers
            .iter()
            .filter_map(|p| Some((p.first()?.as_str(), p.get(1)?.as_str()))),
        now,
    )
}

/// The model and usage a non-streamed response body reports: `{model, usage}`.
#[napi]
pub fn usage_from_body(body: Uint8Array) -> Value {
    wire::body_facts_json(&twinkey::usage_from_body(&body))
}

/// What a request to `path` with this body will probably cost: `{endpoint, model, stream,
/// promptTokens, outputCap, estimate}` (`defaultOutputTokens`, default 1024, for a request
/// without an output cap).
#[napi]
pub fn request_facts(
    env: Env,
    path: String,
    body: Uint8Array,
    default_output_tokens: Option<f64>,
) -> Result<Value> {
    let default = match default_output_tokens {
        None => DEFAULT_OUTPUT_TOKENS,
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9.007_199_254_740_991e15 => n as u64,
        Some(_) => {
            return Err(twinkey::Error::InvalidOptions {
                reason: "defaultOutputTokens must be a non-negative integer".into(),
            })
            .or_throw(&env);
        }
    };
    let facts = twinkey::request_facts(&path, &body, default);
    Ok(wire::request_facts_json(&facts))
}

/// The rate-limit facts of response headers (`[name, value]` pairs) at `nowMs`:
/// `{retryAfterMs, limitTokens, remainingTokens, resetTokensMs}`.
#[napi]
pub fn parse_rate_limit_headers(env: Env, headers: Vec<Vec<String>>, now_ms: f64) -> Result<Value> {
    Ok(wire::rate_limit_json(&rate_limits(
        &headers,
        at(&env, now_ms)?,
    )))
}

/// What a `Budget` charged for one admitted request; settle it once.
#[napi]
pub struct BudgetCharge {
    inner: Option<Charge>,
}

#[napi]
impl BudgetCharge {
    /// Tokens charged on admission (0 once settled).
    #[napi(getter)]
    pub fn tokens(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |c| c.tokens() as f64)
    }
}

/// The answer of `Budget.admit`.
#[napi(object, object_from_js = false)]
pub struct BudgetAdmission {
    /// `{granted: true, highWater}` or `{wait: {untilMs, scope}}`.
    pub result: Value,
    /// The charge to settle, when granted.
    pub charge: Option<BudgetCharge>,
}

/// A tokens-per-minute budget on its own. Times are Unix milliseconds.
#[napi]
pub struct Budget {
    inner: CoreBudget,
}

#[napi]
impl Budget {
    /// A budget from its options: `{tokensPerMinute, perModel, policy, maxWaitMs,
    /// defaultOutputTokens, highWater}`.
    #[napi(constructor)]
    pub fn new(env: Env, options: Value) -> Result<Self> {
        let options = BudgetOptions::from_json_value(&options).or_throw(&env)?;
        Ok(Budget {
            inner: CoreBudget::new(options).or_throw(&env)?,
        })
    }

    /// Asks to send a request of `estimate` tokens for `model` at `nowMs`; throws
    /// `BudgetExceededError` when the policy refuses.
    #[napi]
    pub fn admit(
        &self,
        env: Env,
        estimate: f64,
        model: Option<String>,
        now_ms: f64,
        waiting_since_ms: Option<f64>,
    ) -> Result<BudgetAdmission> {
        if !(estimate >= 0.0 && estimate.fract() == 0.0) {
            return Err(twinkey::Error::InvalidRequest {
                reason: "estimate must be a non-negative integer".into(),
            })
            .or_throw(&env);
        }
        let since = waiting_since_ms.map(|ms| at(&env, ms)).transpose()?;
        let a = self
            .inner
            .admit(estimate as u64, model.as_deref(), at(&env, now_ms)?, since)
            .or_throw(&env)?;
        let result = wire::admission_json(&a);
        let charge = match a {
            Admission::Granted { charge, .. } => Some(BudgetCharge {
                inner: Some(charge),
            }),
            Admission::Wait { .. } => None,
        };
        Ok(BudgetAdmission { result, charge })
    }

    /// Settles a charge: the answer's `status` (`null`: not sent), its `usage`
    /// (`{inputTokens, outputTokens, totalTokens}` or `null`) and headers. Returns a high-water
    /// crossing the settlement caused, or `null`.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn settle(
        &self,
        env: Env,
        charge: &mut BudgetCharge,
        now_ms: f64,
        status: Option<u32>,
        usage: Option<Value>,
        headers: Option<Vec<Vec<String>>>,
    ) -> Result<Value> {
        let now = at(&env, now_ms)?;
        let status = status
            .map(|s| {
                u16::try_from(s).map_err(|_| twinkey::Error::InvalidRequest {
                    reason: format!("HTTP status {s} is out of range"),
                })
            })
            .transpose()
            .or_throw(&env)?;
        let usage = wire::usage_from_json(&usage.unwrap_or(Value::Null)).or_throw(&env)?;
        let headers = rate_limits(&headers.unwrap_or_default(), now);
        let c = charge
            .inner
            .take()
            .ok_or_else(|| twinkey::Error::InvalidAttempt {
                reason: "the charge was already settled".into(),
            })
            .or_throw(&env)?;
        let hw = self
            .inner
            .settle(c, wire::outcome(status, usage), &headers, now);
        Ok(wire::high_water_json(hw.as_ref()))
    }

    /// Folds in the rate-limit headers of any answer.
    #[napi]
    pub fn observe_headers(&self, env: Env, headers: Vec<Vec<String>>, now_ms: f64) -> Result<()> {
        let now = at(&env, now_ms)?;
        self.inner.observe_headers(&rate_limits(&headers, now), now);
        Ok(())
    }

    /// `{windows: [{scope, limit, used}], blockedUntilMs, refunded, debited}`.
    #[napi]
    pub fn snapshot(&self, env: Env, now_ms: f64) -> Result<Value> {
        Ok(wire::snapshot_json(&self.inner.snapshot(at(&env, now_ms)?)))
    }
}
