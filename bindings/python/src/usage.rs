//! Usage and the tokens-per-minute budget in Python: the core's readers of request and
//! response bodies and rate-limit headers, a standalone `Budget` (the engine has its own, see
//! `Engine.admit` / `Engine.settle`), all answering in the core's JSON forms as dicts.

use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use twinkey::Timestamp;
use twinkey::budget::{Admission, Budget, BudgetOptions, Charge, RateLimitHeaders};
use twinkey::usage::{DEFAULT_OUTPUT_TOKENS, request_facts as core_request_facts, wire};

use crate::engine::{for_each_header, header_text};
use crate::errors::IntoPyResult;
use crate::pyjson::{to_python, to_value};

/// A time in Unix milliseconds (`INVALID_OPTIONS` for NaN or an absurd value).
fn at(ms: f64) -> PyResult<Timestamp> {
    Timestamp::from_millis_f64(ms).py()
}

/// Every header as (name, value) text, in order.
pub(crate) fn all_headers(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for_each_header(headers, |name, value| {
        out.push((header_text(name)?, header_text(value)?));
        Ok(())
    })?;
    Ok(out)
}

fn rate_limits(headers: Option<&Bound<'_, PyAny>>, now: Timestamp) -> PyResult<RateLimitHeaders> {
    let pairs = all_headers(headers)?;
    Ok(RateLimitHeaders::parse(
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        now,
    ))
}

/// The model and usage a non-streamed response body reports: `{"model", "usage"}` with
/// `usage` `{"inputTokens", "outputTokens", "totalTokens"}` or `None`.
#[pyfunction]
pub fn usage_from_body<'py>(py: Python<'py>, body: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &wire::body_facts_json(&twinkey::usage_from_body(body)))
}

/// What a request to `path` with this body will probably cost: `{"endpoint", "model",
/// "stream", "promptTokens", "outputCap", "estimate"}`. `default_output_tokens` (default
/// 1024) is assumed for a request that sets no output cap.
#[pyfunction]
#[pyo3(signature = (path, body, default_output_tokens = None))]
pub fn request_facts<'py>(
    py: Python<'py>,
    path: &str,
    body: &[u8],
    default_output_tokens: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let default = default_output_tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS);
    let facts = core_request_facts(path, body, default);
    to_python(py, &wire::request_facts_json(&facts))
}

/// The rate-limit facts of response headers (a mapping or pairs) at `now_ms`:
/// `{"retryAfterMs", "limitTokens", "remainingTokens", "resetTokensMs"}`.
#[pyfunction]
pub fn parse_rate_limit_headers<'py>(
    py: Python<'py>,
    headers: &Bound<'py, PyAny>,
    now_ms: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let h = rate_limits(Some(headers), at(now_ms)?)?;
    to_python(py, &wire::rate_limit_json(&h))
}

/// What a `Budget` charged for one admitted request; settle it once.
#[pyclass(module = "twinkey._native", name = "Charge", frozen)]
pub struct PyCharge {
    inner: Mutex<Option<Charge>>,
}

#[pymethods]
impl PyCharge {
    /// Tokens charged on admission.
    #[getter]
    fn tokens(&self) -> PyResult<u64> {
        let c = self.inner.lock().map_err(|_| poisoned())?;
        Ok(c.as_ref().map_or(0, Charge::tokens))
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("Charge(tokens={})", self.tokens()?))
    }
}

fn poisoned() -> PyErr {
    PyRuntimeError::new_err("budget lock poisoned")
}

/// The answer of `Budget.admit`: `granted` with a `charge` (and `high_water` when this
/// admission crossed the mark), or `wait_until_ms` and `scope`.
#[pyclass(module = "twinkey._native", name = "BudgetAdmission", frozen)]
pub struct PyBudgetAdmission {
    /// The admission as JSON (`{"granted": true, "highWater"}` or `{"wait": {...}}`).
    json: serde_json::Value,
    charge: Option<Py<PyCharge>>,
}

#[pymethods]
impl PyBudgetAdmission {
    /// Whether the request may be sent now.
    #[getter]
    fn granted(&self) -> bool {
        self.charge.is_some()
    }

    /// The charge to settle, when granted.
    #[getter]
    fn charge(&self, py: Python<'_>) -> Option<Py<PyCharge>> {
        self.charge.as_ref().map(|c| c.clone_ref(py))
    }

    /// `{"scope", "used", "limit"}` when this admission took a limit above its mark.
    #[getter]
    fn high_water<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.json["highWater"])
    }

    /// When to ask again (Unix ms), when not granted.
    #[getter]
    fn wait_until_ms(&self) -> Option<i64> {
        self.json["wait"]["untilMs"].as_i64()
    }

    /// What is full (`key`, `model:<name>`, `rate_limited`), when not granted.
    #[getter]
    fn scope(&self) -> Option<String> {
        self.json["wait"]["scope"].as_str().map(str::to_string)
    }

    /// The admission in the vectors' JSON shape.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.json)
    }

    fn __repr__(&self) -> String {
        format!("BudgetAdmission({})", self.json)
    }
}

/// A tokens-per-minute budget on its own (the engine keeps one per key when given
/// `budget=`). Times are Unix milliseconds.
#[pyclass(module = "twinkey._native", name = "Budget", frozen)]
pub struct PyBudget {
    inner: Budget,
}

#[pymethods]
impl PyBudget {
    /// A budget from its options dict: `tokensPerMinute`, `perModel`, `policy` (`wait` or
    /// `fail_fast`), `maxWaitMs`, `defaultOutputTokens`, `highWater`.
    #[new]
    fn new(options: &Bound<'_, PyAny>) -> PyResult<Self> {
        let options = BudgetOptions::from_json_value(&to_value(options)?).py()?;
        Ok(PyBudget {
            inner: Budget::new(options).py()?,
        })
    }

    /// Asks to send a request of `estimate` tokens for `model` at `now_ms`; raises
    /// `BudgetExceededError` when it cannot be admitted within the policy.
    #[pyo3(signature = (estimate, *, model = None, now_ms, waiting_since_ms = None))]
    fn admit(
        &self,
        py: Python<'_>,
        estimate: u64,
        model: Option<&str>,
        now_ms: f64,
        waiting_since_ms: Option<f64>,
    ) -> PyResult<PyBudgetAdmission> {
        let since = waiting_since_ms.map(at).transpose()?;
        let a = self.inner.admit(estimate, model, at(now_ms)?, since).py()?;
        let json = wire::admission_json(&a);
        let charge = match a {
            Admission::Granted { charge, .. } => Some(Py::new(
                py,
                PyCharge {
                    inner: Mutex::new(Some(charge)),
                },
            )?),
            Admission::Wait { .. } => None,
        };
        Ok(PyBudgetAdmission { json, charge })
    }

    /// Settles a charge: `status` of the answer (`None`: not sent), `usage` as
    /// `{"inputTokens", "outputTokens", "totalTokens"}` or `None`, the answer's headers.
    /// Returns a high-water crossing the settlement caused, or `None`. A charge settles once.
    #[pyo3(signature = (charge, *, now_ms, status = None, usage = None, headers = None))]
    fn settle<'py>(
        &self,
        py: Python<'py>,
        charge: &Bound<'py, PyCharge>,
        now_ms: f64,
        status: Option<u16>,
        usage: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let now = at(now_ms)?;
        let usage = match usage {
            Some(u) => wire::usage_from_json(&to_value(u)?).py()?,
            None => None,
        };
        let headers = rate_limits(headers, now)?;
        let taken = charge.get().inner.lock().map_err(|_| poisoned())?.take();
        let Some(c) = taken else {
            return Err(twinkey::Error::InvalidAttempt {
                reason: "the charge was already settled".into(),
            })
            .py();
        };
        let hw = self
            .inner
            .settle(c, wire::outcome(status, usage), &headers, now);
        to_python(py, &wire::high_water_json(hw.as_ref()))
    }

    /// Folds in the rate-limit headers of any answer.
    #[pyo3(signature = (headers, *, now_ms))]
    fn observe_headers(&self, headers: &Bound<'_, PyAny>, now_ms: f64) -> PyResult<()> {
        let now = at(now_ms)?;
        self.inner
            .observe_headers(&rate_limits(Some(headers), now)?, now);
        Ok(())
    }

    /// `{"windows": [{"scope", "limit", "used"}], "blockedUntilMs", "refunded", "debited"}`.
    #[pyo3(signature = (*, now_ms))]
    fn snapshot<'py>(&self, py: Python<'py>, now_ms: f64) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &wire::snapshot_json(&self.inner.snapshot(at(now_ms)?)))
    }

    fn __repr__(&self) -> String {
        let o = self.inner.options();
        format!(
            "Budget(tokens_per_minute={:?}, models={}, policy={})",
            o.tokens_per_minute,
            o.per_model.len(),
            o.policy.as_str()
        )
    }
}
