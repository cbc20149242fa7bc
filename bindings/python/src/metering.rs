//! The engine's admission and settlement in Python: `Engine.admit` answers a `Ticket` or how
//! long to wait; the adapters feed the response body to the ticket (or a `StreamMonitor`)
//! and call `Engine.settle` at its end; `Engine.usage()` is the core's usage report as a dict.

use pyo3::prelude::*;

use twinkey::engine::RELEVANT_HEADERS;
use twinkey::usage::wire;
use twinkey::{Engine, ResponseFacts, Start, Ticket, Timestamp};

use crate::engine::PyAttempt;
use crate::errors::IntoPyResult;
use crate::pyjson::to_python;
use crate::stream::PyStreamMonitor;
use crate::usage::all_headers;

/// One admitted request, until `Engine.settle`.
#[pyclass(module = "twinkey._native", name = "Ticket", frozen)]
pub struct PyTicket {
    pub(crate) inner: Ticket,
}

#[pymethods]
impl PyTicket {
    /// Feeds the next chunk of a non-streamed response body as it passes to the caller.
    fn feed(&self, chunk: &[u8]) {
        self.inner.feed(chunk);
    }

    /// What the core read from the request: `{"endpoint", "model", "stream",
    /// "promptTokens", "outputCap", "estimate"}`.
    #[getter]
    fn facts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &wire::request_facts_json(self.inner.facts()))
    }

    /// Whether the ticket was settled.
    #[getter]
    fn settled(&self) -> bool {
        self.inner.is_settled()
    }

    fn __repr__(&self) -> String {
        let f = self.inner.facts();
        format!(
            "Ticket(endpoint='{}', estimate={}, settled={})",
            f.endpoint.as_str(),
            f.estimate,
            if self.inner.is_settled() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// The answer of `Engine.admit`: a `ticket` to go on with, or `wait` seconds to sleep before
/// asking again with `waiting_since_ms=asked_ms`.
#[pyclass(module = "twinkey._native", name = "EngineAdmission", frozen)]
pub struct PyEngineAdmission {
    ticket: Option<Py<PyTicket>>,
    wait: Option<f64>,
    asked_ms: Option<i64>,
    scope: Option<String>,
}

#[pymethods]
impl PyEngineAdmission {
    /// The ticket, when the request may go now.
    #[getter]
    fn ticket(&self, py: Python<'_>) -> Option<Py<PyTicket>> {
        self.ticket.as_ref().map(|t| t.clone_ref(py))
    }

    /// Seconds to sleep before asking again, when it may not.
    #[getter]
    fn wait(&self) -> Option<f64> {
        self.wait
    }

    /// When the request first asked (pass it back as `waiting_since_ms`).
    #[getter]
    fn asked_ms(&self) -> Option<i64> {
        self.asked_ms
    }

    /// What is full (`key`, `model:<name>`, `rate_limited`), when waiting.
    #[getter]
    fn scope(&self) -> Option<String> {
        self.scope.clone()
    }

    fn __repr__(&self) -> String {
        match (&self.wait, &self.scope) {
            (Some(w), Some(s)) => format!("EngineAdmission(wait={w:.3}, scope='{s}')"),
            _ => "EngineAdmission(granted)".to_string(),
        }
    }
}

pub(crate) fn admit(
    py: Python<'_>,
    engine: &Engine,
    url: &str,
    body: &[u8],
    waiting_since_ms: Option<f64>,
) -> PyResult<PyEngineAdmission> {
    let since = waiting_since_ms
        .map(Timestamp::from_millis_f64)
        .transpose()
        .py()?;
    Ok(match engine.admit(url, body, since).py()? {
        Start::Go(ticket) => PyEngineAdmission {
            ticket: Some(Py::new(py, PyTicket { inner: ticket })?),
            wait: None,
            asked_ms: None,
            scope: None,
        },
        Start::Wait {
            delay,
            asked,
            scope,
            ..
        } => PyEngineAdmission {
            ticket: None,
            wait: Some(delay.as_secs_f64()),
            asked_ms: Some(asked.as_millis()),
            scope: Some(scope),
        },
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn settle(
    engine: &Engine,
    ticket: &Bound<'_, PyTicket>,
    attempt: Option<&Bound<'_, PyAttempt>>,
    status: Option<u16>,
    headers: Option<&Bound<'_, PyAny>>,
    body: Option<&[u8]>,
    stream: Option<&Bound<'_, PyStreamMonitor>>,
) -> PyResult<bool> {
    let pairs = all_headers(headers)?;
    let relevant: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(n, _)| RELEVANT_HEADERS.iter().any(|r| n.eq_ignore_ascii_case(r)))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let response = status.map(|status| ResponseFacts {
        status,
        headers: relevant,
        body,
    });
    let stream_facts = stream.map(|m| m.get().usage_facts()).transpose()?;
    let attempt = attempt.map(|a| a.get());
    engine
        .settle(
            &ticket.get().inner,
            attempt.map(PyAttempt::core),
            response.as_ref(),
            stream_facts.as_ref(),
        )
        .py()
}

pub(crate) fn usage<'py>(py: Python<'py>, engine: &Engine) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &wire::usage_report_json(&engine.usage()))
}
