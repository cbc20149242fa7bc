//! `RelayGate`: the relay's admission check ([`twinkey::token::Gate`]) for a Python server
//! that relays browser requests itself (SPEC section 7): token, endpoint, scope, output cap and
//! request budget, decided by the core. A refusal is raised as the mapped exception (`TokenError`
//! with its `.code`, or `InvalidRequestError` for a bad body) carrying `http_status` and
//! `reply_body` (OpenAI's error shape) to answer with; send `x-twinkey-error: <code>` too.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use twinkey::token::{Admission, Gate, RelayRequest, error_reply, wire};

use crate::errors::to_py_err;
use crate::hygiene::quote;
use crate::pyjson::to_python;
use crate::time::from_python_opt;
use crate::tokens::{PyTokenKeyRing, verify_options};

/// A request body given as `bytes` or `str`.
fn body_bytes(body: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<u8>> {
    let Some(body) = body.filter(|b| !b.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Ok(body.cast::<PyString>()?.to_cow()?.as_bytes().to_vec())
}

/// The exception for a refusal, with the relay's answer attached.
fn refusal(py: Python<'_>, e: &twinkey::Error) -> PyErr {
    let reply = error_reply(e);
    let err = to_py_err(e.clone());
    let value = err.value(py);
    // Attaching the answer cannot fail on twinkey's exception classes; if it did, the
    // exception still carries its code.
    let _ = value.setattr("http_status", reply.status);
    let _ = value.setattr("reply_body", reply.body);
    err
}

/// A request the gate let through: where to forward it and with which body.
#[pyclass(module = "twinkey._native", name = "Admission", frozen)]
pub struct PyAdmission {
    inner: Admission,
}

#[pymethods]
impl PyAdmission {
    /// The endpoint: `chat.completions`, `responses`, `completions`, `embeddings`, `models`.
    #[getter]
    fn endpoint(&self) -> &'static str {
        self.inner.endpoint.name()
    }

    /// The path to append to the upstream OpenAI-compatible base URL (`chat/completions`).
    #[getter]
    fn upstream_path(&self) -> &str {
        &self.inner.upstream_path
    }

    /// The body to forward (`None`: no body), with the output cap applied.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.body.as_deref().map(|b| PyBytes::new(py, b))
    }

    /// The model the request names.
    #[getter]
    fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// The output-token cap written into the body, if the token has one.
    #[getter]
    fn max_output_tokens(&self) -> Option<u32> {
        self.inner.max_output_tokens
    }

    /// Requests left in the token's budget after this one (`None`: no budget).
    #[getter]
    fn remaining(&self) -> Option<u32> {
        self.inner.charge.remaining
    }

    /// The token's subject (for logs).
    #[getter]
    fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// The token's `jti`.
    #[getter]
    fn token_id(&self) -> &str {
        &self.inner.token_id
    }

    /// `{"endpoint", "upstreamPath", "model", "maxOutputTokens", "body" (parsed JSON),
    /// "remaining"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &wire::admission_to_json(&self.inner))
    }

    fn __repr__(&self) -> String {
        format!(
            "Admission(endpoint={}, upstream_path={}, model={}, remaining={})",
            quote(self.inner.endpoint.name()),
            quote(&self.inner.upstream_path),
            crate::hygiene::quote_opt(self.inner.model.as_deref()),
            self.inner
                .charge
                .remaining
                .map_or_else(|| "None".to_string(), |n| n.to_string())
        )
    }
}

/// The relay's gate: verifies server tokens (with a copy of `ring` and `options` as
/// `TokenKeyRing.verify` takes them), checks the scope, caps output, counts budgets.
#[pyclass(module = "twinkey._native", name = "RelayGate", frozen)]
pub struct PyRelayGate {
    gate: Gate,
}

#[pymethods]
impl PyRelayGate {
    /// A gate verifying with a copy of `ring`'s keys.
    #[new]
    fn new(ring: &Bound<'_, PyTokenKeyRing>, options: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (opts, _) = verify_options(options)?;
        Ok(PyRelayGate {
            gate: Gate::new(ring.get().copy_ring()?, opts),
        })
    }

    /// Swaps in a copy of another ring's keys (key rotation without a restart).
    fn replace_keys(&self, ring: &Bound<'_, PyTokenKeyRing>) -> PyResult<()> {
        self.gate.replace_keys(ring.get().copy_ring()?);
        Ok(())
    }

    /// Admits a request (`method`, `path` without the query, the `Authorization` header,
    /// the body) or raises the refusal with `http_status` and `reply_body` attached.
    #[pyo3(signature = (method, path, authorization, body = None, *, now = None))]
    fn admit(
        &self,
        py: Python<'_>,
        method: String,
        path: String,
        authorization: Option<String>,
        body: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyAdmission> {
        let body = body_bytes(body)?;
        let at = from_python_opt(now)?.unwrap_or_else(crate::time::now);
        let request = RelayRequest {
            method: &method,
            path: &path,
            query: None,
            authorization: authorization.as_deref(),
            body: &body,
        };
        let gate = &self.gate;
        match py.detach(|| gate.admit(&request, at)) {
            Ok(inner) => Ok(PyAdmission { inner }),
            Err(e) => Err(refusal(py, &e)),
        }
    }

    /// Gives an admitted request back to its token's budget (nothing was sent upstream).
    fn release(&self, admission: &Bound<'_, PyAdmission>) {
        self.gate.release(&admission.get().inner);
    }

    /// Settles an admitted request that failed: back to the token's budget only when nothing
    /// was sent upstream (`round_trips == 0`); one that reached the service stays charged.
    fn settle_failure(&self, admission: &Bound<'_, PyAdmission>, round_trips: u32) {
        self.gate
            .settle_failure(&admission.get().inner, round_trips);
    }

    fn __repr__(&self) -> String {
        format!(
            "RelayGate(audience={})",
            quote(self.gate.options().expected_audience())
        )
    }
}
