//! The one mapping from [`twinkey::Error`] to Python exceptions.
//!
//! The exception classes live in `twinkey/errors.py` (pure Python, so they can be typed,
//! subclassed and pickled like any exception). Each error becomes an instance of the class for
//! its [`twinkey::Error::family`] (`NO_USABLE_SECRET` gets its own subclass of the engine
//! family's class), built with the message, the stable `code` and the variant's safe fields.
//! Messages come from the core, which names secrets by name and fingerprint only.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule};

use twinkey::Error;

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `twinkey.errors` module (imported once).
fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS_MODULE
        .get_or_try_init(py, || py.import("twinkey.errors").map(Bound::unbind))
        .map(|m| m.bind(py))
}

/// The `twinkey.errors` class an error is raised as.
fn class_name(err: &Error) -> &'static str {
    match (err.family(), err) {
        (_, Error::NoUsableSecret { .. }) => "NoUsableSecretError",
        ("key", _) => "KeyDocumentError",
        ("secret", _) => "SecretError",
        ("engine", _) => "EngineError",
        ("stream", _) => "StreamInterruptedError",
        ("signing", _) => "SigningError",
        ("request", _) => "InvalidRequestError",
        ("transport", _) => "TransportError",
        ("service", _) => "ServiceError",
        ("rotation", _) => "RotationError",
        ("tokens", _) => "TokenError",
        ("budget", _) => "BudgetExceededError",
        _ => "TwinkeyError",
    }
}

/// The variant's safe, structured fields as keyword arguments of the exception.
fn fields<'py>(
    py: Python<'py>,
    module: &Bound<'py, PyModule>,
    err: &Error,
) -> PyResult<Bound<'py, PyDict>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", err.code())?;
    match err {
        Error::NoUsableSecret { reasons } => {
            let make = module.getattr("UnusableSecret")?;
            let list = PyList::empty(py);
            for r in reasons {
                list.append(make.call1((r.secret.as_str(), r.reason.code(), r.to_string()))?)?;
            }
            kwargs.set_item("reasons", list)?;
        }
        Error::Service {
            status,
            oci_code,
            request_id,
            ..
        } => {
            kwargs.set_item("status", *status)?;
            kwargs.set_item("oci_code", oci_code.as_str())?;
            kwargs.set_item("request_id", request_id.as_str())?;
        }
        Error::StreamInterrupted { received, .. } => {
            kwargs.set_item("received", *received)?;
        }
        Error::TpmBudgetExceeded {
            scope,
            retry_after_ms,
            requested,
        } => {
            kwargs.set_item("scope", scope.as_str())?;
            kwargs.set_item("retry_after", *retry_after_ms as f64 / 1000.0)?;
            kwargs.set_item("requested", *requested)?;
        }
        _ => {}
    }
    Ok(kwargs)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = errors_module(py)?;
    let class = module.getattr(class_name(err))?;
    let kwargs = fields(py, module, err)?;
    let exception = class.call((err.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exception))
}

/// Converts a core error into the matching `twinkey.errors` exception.
pub fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| match build(py, &err) {
        Ok(e) => e,
        // Building the exception failed (e.g. twinkey.errors could not be imported): keep
        // the code and the safe message rather than losing the error.
        Err(_) => PyRuntimeError::new_err(format!("{}: {err}", err.code())),
    })
}

/// `Result<T, twinkey::Error>` to `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Maps the error with [`to_py_err`].
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for twinkey::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// The exception object of an error (for a verdict that carries it instead of raising).
pub fn exception_object(py: Python<'_>, err: Error) -> Py<PyAny> {
    to_py_err(err).into_value(py).into_any()
}
