//! Key watch in Python: `twinkey.watch(engine, file=... | control_plane=...)` makes an engine
//! follow its key (`twinkey_client::watch::KeyWatch`) on the binding's own I/O runtime, and
//! `Engine.follow_key(doc)` applies one observed document. What a document means is the core's
//! decision; options are the core's JSON shape; stats and updates come back as dicts.

use std::sync::Mutex;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde_json::json;
use twinkey::ApiKey;
use twinkey_client::watch::{KeyWatch, watch_from_json};

use crate::control::PyControlPlane;
use crate::control_async::PyAsyncControlPlane;
use crate::engine::PyEngine;
use crate::errors::IntoPyResult;
use crate::key::PyApiKey;
use crate::pyjson::to_python;
use crate::runtime::runtime;

/// A running key watch; `stop()` (or leaving a `with` block) ends it.
#[pyclass(module = "twinkey._native", name = "KeyWatch", frozen)]
pub struct PyKeyWatch {
    watch: Mutex<KeyWatch>,
    source: &'static str,
}

fn control_client(cp: &Bound<'_, PyAny>) -> PyResult<twinkey_client::ControlPlaneClient> {
    if let Ok(c) = cp.cast::<PyControlPlane>() {
        return Ok(c.get().control.client());
    }
    if let Ok(c) = cp.cast::<PyAsyncControlPlane>() {
        return Ok(c.get().control.client());
    }
    Err(PyTypeError::new_err(
        "control_plane must be a twinkey.ControlPlane or twinkey.AsyncControlPlane",
    ))
}

/// Makes `engine` follow its key: a key `file` it reloads (values, states, a rotation's
/// preference) or the `control_plane` (`GetApiKey`: states, expiries, preference). The first
/// look is made at once; a failed look changes nothing and backs off.
#[pyfunction]
#[pyo3(signature = (engine, *, file=None, control_plane=None, interval_ms=None, jitter=None,
    max_backoff_ms=None))]
pub fn watch(
    engine: &PyEngine,
    file: Option<std::path::PathBuf>,
    control_plane: Option<&Bound<'_, PyAny>>,
    interval_ms: Option<u64>,
    jitter: Option<f64>,
    max_backoff_ms: Option<u64>,
) -> PyResult<PyKeyWatch> {
    let control = control_plane.map(control_client).transpose()?;
    let (source, options) = watch_from_json(
        &json!({
            "file": file.map(|p| p.to_string_lossy().into_owned()),
            "intervalMs": interval_ms, "jitter": jitter, "maxBackoffMs": max_backoff_ms,
        }),
        control,
    )
    .py()?;
    let kind = match source {
        twinkey_client::watch::WatchSource::File(_) => "file",
        twinkey_client::watch::WatchSource::ControlPlane(_) => "controlPlane",
    };
    let watch =
        KeyWatch::start_on(runtime()?.handle(), engine.engine.clone(), source, options).py()?;
    Ok(PyKeyWatch {
        watch: Mutex::new(watch),
        source: kind,
    })
}

/// `Engine.follow_key`: one observed document (a JSON string or an `ApiKey`).
pub fn follow_key<'py>(
    py: Python<'py>,
    engine: &PyEngine,
    doc: &Bound<'py, PyAny>,
    source: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let key = if let Ok(k) = doc.cast::<PyApiKey>() {
        k.get().snapshot()?
    } else if let Ok(text) = doc.extract::<String>() {
        ApiKey::from_json(&text).py()?
    } else {
        return Err(PyTypeError::new_err(
            "doc must be a JSON string or a twinkey.ApiKey",
        ));
    };
    let source = twinkey::watch::WatchSource::parse(source).py()?;
    let update = engine.engine.follow_key(&key, source).py()?;
    to_python(py, &update.to_json_value())
}

impl PyKeyWatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeyWatch> {
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyKeyWatch {
    /// `file` or `controlPlane`.
    #[getter]
    fn source(&self) -> &'static str {
        self.source
    }

    /// `{looks, changed, errors, consecutiveFailures, lastError?, stopped}`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = serde_json::to_value(self.lock().stats()).unwrap_or_default();
        to_python(py, &stats)
    }

    /// Stops the watch (idempotent); the engine keeps what it holds.
    fn stop(&self) {
        self.lock().stop();
    }

    /// Whether `stop()` was called.
    #[getter]
    fn stopped(&self) -> bool {
        self.lock().stats().stopped
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.stop();
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyWatch(source={:?}, stopped={})",
            self.source,
            if self.stopped() { "True" } else { "False" }
        )
    }
}
