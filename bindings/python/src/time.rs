//! Time across the boundary: core [`Timestamp`]s are timezone-aware UTC `datetime`s in
//! Python, durations are seconds (`float`), and [`ManualClock`] drives engines in tests.

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyString, PyTzInfo, PyTzInfoAccess};

use twinkey::{Clock, Timestamp};

use crate::hygiene::quote;

/// A core timestamp as an aware UTC `datetime` (millisecond precision).
pub fn to_datetime(py: Python<'_>, t: Timestamp) -> PyResult<Bound<'_, PyDateTime>> {
    let utc = PyTzInfo::utc(py)?;
    // f64 seconds keep millisecond timestamps exact to well under a microsecond, and
    // `fromtimestamp` rounds to the microsecond.
    #[allow(clippy::cast_precision_loss)]
    let secs = t.as_millis() as f64 / 1000.0;
    PyDateTime::from_timestamp(py, secs, Some(&utc))
}

/// An optional core timestamp as an optional `datetime`.
pub fn to_datetime_opt(
    py: Python<'_>,
    t: Option<Timestamp>,
) -> PyResult<Option<Bound<'_, PyDateTime>>> {
    t.map(|t| to_datetime(py, t)).transpose()
}

/// A Python time (an aware `datetime`, or an RFC 3339 string) as a core timestamp.
pub fn from_python(value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    if let Ok(s) = value.cast::<PyString>() {
        let text = s.to_cow()?;
        return Timestamp::parse_rfc3339(&text).map_err(|_| {
            PyValueError::new_err(format!(
                "bad timestamp {text:?}: expected RFC 3339, e.g. 2026-01-21T10:00:00Z"
            ))
        });
    }
    let Ok(dt) = value.cast::<PyDateTime>() else {
        return Err(PyTypeError::new_err(
            "expected a timezone-aware datetime or an RFC 3339 string",
        ));
    };
    if dt.get_tzinfo().is_none() {
        return Err(PyValueError::new_err(
            "naive datetime: give a timezone-aware datetime (e.g. tzinfo=datetime.timezone.utc)",
        ));
    }
    let secs: f64 = dt.call_method0("timestamp")?.extract()?;
    Timestamp::from_millis_f64(secs * 1000.0).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// An optional Python time as an optional core timestamp.
pub fn from_python_opt(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Timestamp>> {
    value.filter(|v| !v.is_none()).map(from_python).transpose()
}

/// Seconds (`float`) as a duration; negative, NaN and infinite values are refused.
pub fn duration(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a finite, non-negative number of seconds"
        ))
    })
}

/// A duration as seconds.
pub fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The system clock's current time.
pub fn now() -> Timestamp {
    twinkey::SystemClock.now()
}

/// A clock that moves only when told to, for deterministic engines (tests, vectors).
///
/// Pass it as `Engine(key, clock=clock)`; all copies share the same time.
#[pyclass(module = "twinkey._native", name = "ManualClock", frozen)]
pub struct PyManualClock {
    pub(crate) clock: twinkey::ManualClock,
}

#[pymethods]
impl PyManualClock {
    /// A clock stopped at `start` (an aware `datetime` or an RFC 3339 string; default: now).
    #[new]
    #[pyo3(signature = (start = None))]
    fn new(start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let start = from_python_opt(start)?.unwrap_or_else(now);
        Ok(PyManualClock {
            clock: twinkey::ManualClock::new(start),
        })
    }

    /// The clock's current time.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.clock.now())
    }

    /// Moves the clock by `seconds` (negative moves it back).
    fn advance(&self, seconds: f64) -> PyResult<()> {
        let ms = (seconds * 1000.0).round();
        if !ms.is_finite() {
            return Err(PyValueError::new_err("seconds must be finite"));
        }
        #[allow(clippy::cast_possible_truncation)]
        self.clock.advance_ms(ms as i64);
        Ok(())
    }

    /// Moves the clock by `ms` milliseconds (negative moves it back).
    fn advance_ms(&self, ms: i64) {
        self.clock.advance_ms(ms);
    }

    /// Sets the clock to an absolute time.
    fn set(&self, t: &Bound<'_, PyAny>) -> PyResult<()> {
        self.clock.set(from_python(t)?);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({})", quote(&self.clock.now().to_rfc3339()))
    }
}
