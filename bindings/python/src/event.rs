//! Engine events as Python objects, and delivery to `on_event` callbacks.
//!
//! Callbacks run on the thread that caused the event (any thread), with the GIL taken for
//! them. An exception in a callback is logged to the `twinkey` logger and never reaches the
//! engine. (Events are also logged to the `twinkey` logger by [`crate::logging`].)

use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict};

use twinkey::{Event, Timestamp};

use crate::hygiene::quote;
use crate::logging::log_callback_error;
use crate::time::{to_datetime, to_datetime_opt};

/// Something that happened to a key's secrets. Names and fingerprints only, never values.
#[pyclass(module = "twinkey._native", name = "Event", frozen)]
pub struct PyEvent {
    inner: Event,
}

impl PyEvent {
    fn stamp<'py>(
        py: Python<'py>,
        t: Option<Timestamp>,
    ) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_datetime_opt(py, t)
    }
}

#[pymethods]
impl PyEvent {
    /// `failed_over`, `secret_rejected`, `secret_recovered`, `expiring_soon`,
    /// `standby_unavailable`, `no_usable_secret` or `budget_high_water`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }

    /// The secret concerned (for `failed_over`: the one traffic left).
    #[getter]
    fn secret(&self) -> &str {
        &self.inner.secret
    }

    /// Its fingerprint.
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// For `failed_over`: the secret traffic moved to.
    #[getter]
    fn to(&self) -> Option<&str> {
        self.inner.to.as_deref()
    }

    /// The reason code (`revoked`, `cooling_down`, ...), when the event has one.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.inner
            .reason
            .as_ref()
            .map(twinkey::UnusableReason::code)
    }

    /// The HTTP status that caused a `secret_rejected`.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// When a rejected secret may be probed again (`secret_rejected`).
    #[getter]
    fn cooldown_until<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        Self::stamp(py, self.inner.cooldown_until)
    }

    /// When the secret stops working (`expiring_soon`).
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        Self::stamp(py, self.inner.expires_at)
    }

    /// What an alert is about (`budget_high_water`: `key` or `model:<name>`).
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }

    /// Tokens counting (`budget_high_water`).
    #[getter]
    fn used(&self) -> Option<u64> {
        self.inner.used
    }

    /// The limit (`budget_high_water`).
    #[getter]
    fn limit(&self) -> Option<u64> {
        self.inner.limit
    }

    /// How many (`rejection_burst`: rejections within the window).
    #[getter]
    fn count(&self) -> Option<u32> {
        self.inner.count
    }

    /// The process of the fleet that saw it, when not this one.
    #[getter]
    fn origin(&self) -> Option<String> {
        self.inner.origin.clone()
    }

    /// When it happened (engine clock).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.at)
    }

    /// A one-line human description.
    #[getter]
    fn message(&self) -> String {
        self.inner.message()
    }

    /// The event as a plain dict (datetimes as RFC 3339 strings), e.g. for JSON logs.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = &self.inner;
        let d = PyDict::new(py);
        d.set_item("kind", e.kind.as_str())?;
        d.set_item("secret", &e.secret)?;
        d.set_item("fingerprint", &e.fingerprint)?;
        d.set_item("to", e.to.as_deref())?;
        d.set_item(
            "reason",
            e.reason.as_ref().map(twinkey::UnusableReason::code),
        )?;
        d.set_item("status", e.status)?;
        d.set_item(
            "cooldown_until",
            e.cooldown_until.map(Timestamp::to_rfc3339),
        )?;
        d.set_item("expires_at", e.expires_at.map(Timestamp::to_rfc3339))?;
        d.set_item("scope", e.scope.as_deref())?;
        d.set_item("used", e.used)?;
        d.set_item("limit", e.limit)?;
        d.set_item("count", e.count)?;
        d.set_item("origin", e.origin.as_deref())?;
        d.set_item("at", e.at.to_rfc3339())?;
        d.set_item("message", e.message())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Event({}, secret={}, message={})",
            quote(self.inner.kind.as_str()),
            quote(&self.inner.secret),
            quote(&self.inner.message())
        )
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }
}

/// Calls `callback(event)` with the GIL taken; a raised exception is logged, not propagated.
pub fn deliver(callback: &Py<PyAny>, event: &Event) {
    Python::attach(|py| {
        let result = Py::new(
            py,
            PyEvent {
                inner: event.clone(),
            },
        )
        .and_then(|ev| callback.call1(py, (ev,)).map(drop));
        if let Err(err) = result {
            log_callback_error(py, "on_event", err);
        }
    });
}
