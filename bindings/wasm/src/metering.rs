//! Usage reading and the tokens-per-minute budget over JSON strings, for running the shared
//! usage and budget vectors under wasm (feature `vectors`; not in the browser build: a page
//! talks to the relay, and the relay keeps the budget).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};
use twinkey::budget::{Admission, Budget, BudgetOptions, Charge, RateLimitHeaders};
use twinkey::usage::{Endpoint, request_facts, usage_from_body, wire};
use twinkey::{Error, SseMonitor, StreamKind, Timestamp};
use wasm_bindgen::prelude::*;

use crate::errors::to_js;

fn parse(text: &str) -> Result<Value, JsValue> {
    serde_json::from_str(text).map_err(|e| JsValue::from_str(&format!("bad JSON input: {e}")))
}

fn at(ms: f64) -> Result<Timestamp, JsValue> {
    Timestamp::from_millis_f64(ms).map_err(|e| to_js(&e))
}

/// `[[name, value], ...]` (JSON) as parsed rate-limit headers.
fn headers(pairs_json: &str, now: Timestamp) -> Result<RateLimitHeaders, JsValue> {
    let pairs: Vec<(String, String)> = serde_json::from_value(parse(pairs_json)?)
        .map_err(|e| JsValue::from_str(&format!("bad header pairs: {e}")))?;
    Ok(RateLimitHeaders::parse(
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        now,
    ))
}

/// The usage facts of a whole response body, as JSON.
#[wasm_bindgen(js_name = usageFromBody)]
pub fn usage_from_body_json(body: &str) -> String {
    wire::body_facts_json(&usage_from_body(body.as_bytes())).to_string()
}

/// The usage facts the SSE monitor collects from a stream, fed whole or one byte at a time.
#[wasm_bindgen(js_name = streamUsage)]
pub fn stream_usage(stream: &str, byte_by_byte: bool) -> String {
    let mut monitor = SseMonitor::new(StreamKind::Auto);
    if byte_by_byte {
        for b in stream.as_bytes().chunks(1) {
            monitor.observe(b);
        }
    } else {
        monitor.observe(stream.as_bytes());
    }
    wire::body_facts_json(monitor.usage()).to_string()
}

/// The request facts (model, estimate) of a request body sent to `path`, as JSON.
#[wasm_bindgen(js_name = requestFacts)]
pub fn request_facts_json(path: &str, body: &str, default_output_tokens: u32) -> String {
    wire::request_facts_json(&request_facts(
        path,
        body.as_bytes(),
        u64::from(default_output_tokens),
    ))
    .to_string()
}

/// The endpoint name for a request path (`chat_completions`, `responses`, ...).
#[wasm_bindgen(js_name = endpointFor)]
pub fn endpoint_for(path: &str) -> String {
    Endpoint::for_path(path).as_str().to_owned()
}

/// Rate-limit headers (`[[name, value], ...]`) read at `nowMs`, as JSON.
#[wasm_bindgen(js_name = parseRateLimitHeaders)]
pub fn parse_rate_limit_headers(pairs_json: &str, now_ms: f64) -> Result<String, JsValue> {
    Ok(wire::rate_limit_json(&headers(pairs_json, at(now_ms)?)?).to_string())
}

/// Checks budget options (JSON); throws `INVALID_OPTIONS`.
#[wasm_bindgen(js_name = checkBudgetOptions)]
pub fn check_budget_options(options_json: &str) -> Result<(), JsValue> {
    BudgetOptions::from_json_value(&parse(options_json)?)
        .map(|_| ())
        .map_err(|e| to_js(&e))
}

/// A budget whose charges are kept under labels, the way the vectors name them.
#[wasm_bindgen(js_name = BudgetVector)]
pub struct BudgetVector {
    budget: Budget,
    charges: Mutex<HashMap<String, Charge>>,
}

#[wasm_bindgen(js_class = BudgetVector)]
impl BudgetVector {
    /// A budget over options (JSON).
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str) -> Result<BudgetVector, JsValue> {
        let options =
            BudgetOptions::from_json_value(&parse(options_json)?).map_err(|e| to_js(&e))?;
        Ok(BudgetVector {
            budget: Budget::new(options).map_err(|e| to_js(&e))?,
            charges: Mutex::new(HashMap::new()),
        })
    }

    /// Admits an estimate: the admission as JSON, or `{"error": {code, scope, retryAfterMs,
    /// requested}}` for a refusal. A granted charge is kept under `label`.
    pub fn admit(
        &self,
        estimate: u32,
        model: Option<String>,
        at_ms: f64,
        waiting_since_ms: Option<f64>,
        label: Option<String>,
    ) -> Result<String, JsValue> {
        let since = waiting_since_ms.map(at).transpose()?;
        match self
            .budget
            .admit(u64::from(estimate), model.as_deref(), at(at_ms)?, since)
        {
            Ok(a) => {
                let out = wire::admission_json(&a);
                if let (Admission::Granted { charge, .. }, Some(label)) = (a, label) {
                    self.lock().insert(label, charge);
                }
                Ok(out.to_string())
            }
            Err(
                ref e @ Error::TpmBudgetExceeded {
                    ref scope,
                    retry_after_ms,
                    requested,
                },
            ) => Ok(json!({"error": {"code": e.code(), "scope": scope,
                "retryAfterMs": retry_after_ms, "requested": requested}})
            .to_string()),
            Err(e) => Err(to_js(&e)),
        }
    }

    /// Settles the charge kept under `label` (status `null`: not sent; usage JSON or `null`);
    /// returns the high-water event as JSON (`null` when none).
    pub fn settle(
        &self,
        label: &str,
        status: Option<u16>,
        usage_json: &str,
        headers_json: &str,
        at_ms: f64,
    ) -> Result<String, JsValue> {
        let charge = self
            .lock()
            .remove(label)
            .ok_or_else(|| JsValue::from_str(&format!("no charge labelled {label}")))?;
        let now = at(at_ms)?;
        let usage = wire::usage_from_json(&parse(usage_json)?).map_err(|e| to_js(&e))?;
        let hw = self.budget.settle(
            charge,
            wire::outcome(status, usage),
            &headers(headers_json, now)?,
            now,
        );
        Ok(wire::high_water_json(hw.as_ref()).to_string())
    }

    /// Folds rate-limit headers seen outside a settlement into the budget.
    pub fn observe(&self, headers_json: &str, at_ms: f64) -> Result<(), JsValue> {
        let now = at(at_ms)?;
        self.budget
            .observe_headers(&headers(headers_json, now)?, now);
        Ok(())
    }

    /// The budget's state at `atMs`, as JSON.
    pub fn snapshot(&self, at_ms: f64) -> Result<String, JsValue> {
        Ok(wire::snapshot_json(&self.budget.snapshot(at(at_ms)?)).to_string())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Charge>> {
        self.charges.lock().unwrap_or_else(|p| p.into_inner())
    }
}
