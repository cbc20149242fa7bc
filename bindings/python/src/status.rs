//! `Engine.status()`: per-secret state, lifetime, health and counters.

use pyo3::exceptions::{PyIndexError, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyTuple};

use twinkey::{Counters, EngineStatus, SecretStatus};

use crate::hygiene::{py_bool, quote, quote_opt};
use crate::time::{to_datetime, to_datetime_opt};

/// Per-secret counters.
#[pyclass(module = "twinkey._native", name = "Counters", frozen, get_all)]
pub struct PyCounters {
    /// Attempts that were handed this secret.
    attempts: u64,
    /// Responses that showed the secret was accepted.
    accepted: u64,
    /// Responses that rejected the secret.
    rejected: u64,
    /// Attempts that ended without a verdict on the secret (limits, server or transport errors).
    inconclusive: u64,
}

impl From<Counters> for PyCounters {
    fn from(c: Counters) -> Self {
        PyCounters {
            attempts: c.attempts,
            accepted: c.accepted,
            rejected: c.rejected,
            inconclusive: c.inconclusive,
        }
    }
}

#[pymethods]
impl PyCounters {
    fn __repr__(&self) -> String {
        format!(
            "Counters(attempts={}, accepted={}, rejected={}, inconclusive={})",
            self.attempts, self.accepted, self.rejected, self.inconclusive
        )
    }
}

/// One secret as the engine sees it now.
#[pyclass(module = "twinkey._native", name = "SecretStatus", frozen)]
pub struct PySecretStatus {
    inner: SecretStatus,
}

#[pymethods]
impl PySecretStatus {
    /// Name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Safe fingerprint.
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// Declared state (`ACTIVE`, ...).
    #[getter]
    fn state(&self) -> &str {
        self.inner.state.as_str()
    }

    /// `timeExpiry`.
    #[getter]
    fn time_expiry<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, self.inner.time_expiry)
    }

    /// Whether a request could use it now.
    #[getter]
    fn usable(&self) -> bool {
        self.inner.usable
    }

    /// Why not, as a reason code (see `twinkey.UnusableSecret`).
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.inner
            .reason
            .as_ref()
            .map(twinkey::UnusableReason::code)
    }

    /// Why not, in words.
    #[getter]
    fn reason_message(&self) -> Option<String> {
        self.inner.reason.as_ref().map(ToString::to_string)
    }

    /// `healthy`, `cooling_down` or `probe_due`.
    #[getter]
    fn health(&self) -> &'static str {
        self.inner.health.as_str()
    }

    /// When the secret may be probed again after a rejection.
    #[getter]
    fn cooldown_until<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, self.inner.cooldown_until)
    }

    /// Consecutive rejections.
    #[getter]
    fn consecutive_rejections(&self) -> u32 {
        self.inner.consecutive_rejections
    }

    /// Whether traffic currently goes to it.
    #[getter]
    fn current(&self) -> bool {
        self.inner.current
    }

    /// Whether it is the configured preference.
    #[getter]
    fn preferred(&self) -> bool {
        self.inner.preferred
    }

    /// Counters.
    #[getter]
    fn counters(&self) -> PyCounters {
        self.inner.counters.into()
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "SecretStatus(name={}, fingerprint={}, state={}, usable={}, reason={}, health={}, current={})",
            quote(&s.name),
            quote(&s.fingerprint),
            quote(s.state.as_str()),
            py_bool(s.usable),
            quote_opt(s.reason.as_ref().map(twinkey::UnusableReason::code)),
            quote(s.health.as_str()),
            py_bool(s.current),
        )
    }
}

/// A snapshot of both secrets (`status[0]`, `status["key-one"]`, iteration).
#[pyclass(module = "twinkey._native", name = "EngineStatus", frozen, sequence)]
pub struct PyEngineStatus {
    inner: EngineStatus,
}

impl From<EngineStatus> for PyEngineStatus {
    fn from(inner: EngineStatus) -> Self {
        PyEngineStatus { inner }
    }
}

impl PyEngineStatus {
    fn one(&self, s: &SecretStatus) -> PySecretStatus {
        PySecretStatus { inner: s.clone() }
    }
}

#[pymethods]
impl PyEngineStatus {
    /// Both secrets, in `keys[]` order.
    #[getter]
    fn secrets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let [a, b] = &self.inner.secrets;
        PyTuple::new(py, [Py::new(py, self.one(a))?, Py::new(py, self.one(b))?])
    }

    /// When the snapshot was taken.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.at)
    }

    /// The name of the secret traffic currently goes to.
    #[getter]
    fn current(&self) -> Option<&str> {
        self.inner
            .secrets
            .iter()
            .find(|s| s.current)
            .map(|s| s.name.as_str())
    }

    /// A secret by index (0, 1) or name.
    fn __getitem__(&self, item: &Bound<'_, PyAny>) -> PyResult<PySecretStatus> {
        if let Ok(i) = item.extract::<isize>() {
            let i = if i < 0 { i + 2 } else { i };
            return usize::try_from(i)
                .ok()
                .and_then(|i| self.inner.secrets.get(i))
                .map(|s| self.one(s))
                .ok_or_else(|| PyIndexError::new_err("EngineStatus index out of range"));
        }
        let name: String = item.extract()?;
        self.inner
            .secrets
            .iter()
            .find(|s| s.name == name)
            .map(|s| self.one(s))
            .ok_or_else(|| PyKeyError::new_err(name))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.secrets(py)?.try_iter().map(Bound::into_any)
    }

    fn __len__(&self) -> usize {
        2
    }

    fn __repr__(&self) -> String {
        let [a, b] = &self.inner.secrets;
        format!(
            "EngineStatus(at={}, secrets=[{}, {}])",
            self.inner.at,
            self.one(a).__repr__(),
            self.one(b).__repr__()
        )
    }
}
