//! Fleets in Python: `twinkey.fleet(engine, url, ...)` joins an engine to the fleet of its
//! key through Redis (`twinkey_client::fleet::RedisFleet`), on the binding's own I/O runtime,
//! so sync and async applications alike share rejections, recoveries and the budget without
//! an event loop of their own. Options are the core's JSON shape; stats come back as a dict.

use std::sync::Mutex;

use pyo3::prelude::*;
use serde_json::{Value, json};
use twinkey_client::fleet::{FleetOptions, RedisFleet};

use crate::engine::PyEngine;
use crate::errors::IntoPyResult;
use crate::pyjson::to_python;
use crate::runtime::{block_on, runtime};

/// A process's link to the fleet of its key; `close()` (or leaving a `with` block) leaves it.
#[pyclass(module = "twinkey._native", name = "Fleet", frozen)]
pub struct PyFleet {
    link: Mutex<Option<RedisFleet>>,
    origin: String,
}

/// Joins `engine` to its key's fleet at `url` (`redis://` or `rediss://`). Returns at once;
/// until Redis answers (and whenever it is away) the engine runs on local state.
#[pyfunction]
#[pyo3(signature = (engine, url, *, ca_file=None, prefix=None, origin=None, op_timeout_ms=None,
    resync_interval_ms=None, budget_slice=None))]
#[allow(clippy::too_many_arguments)]
pub fn fleet(
    engine: &PyEngine,
    url: String,
    ca_file: Option<String>,
    prefix: Option<String>,
    origin: Option<String>,
    op_timeout_ms: Option<u64>,
    resync_interval_ms: Option<u64>,
    budget_slice: Option<u64>,
) -> PyResult<PyFleet> {
    let options = FleetOptions::from_json_value(&json!({
        "url": url, "caFile": ca_file, "prefix": prefix, "origin": origin,
        "opTimeoutMs": op_timeout_ms, "resyncIntervalMs": resync_interval_ms,
        "budgetSlice": budget_slice,
    }))
    .py()?;
    let link = RedisFleet::start_on(runtime()?.handle(), engine.engine.clone(), options).py()?;
    Ok(PyFleet {
        origin: link.origin().to_string(),
        link: Mutex::new(Some(link)),
    })
}

impl PyFleet {
    fn stats_value(&self) -> Value {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        match link.as_ref() {
            Some(l) => serde_json::to_value(l.stats()).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }
}

#[pymethods]
impl PyFleet {
    /// This process's name in the fleet.
    #[getter]
    fn origin(&self) -> &str {
        &self.origin
    }

    /// What the link has done: `{sent, applied, ignored, invalid, errors, connected, leased,
    /// leaseRefusals, returned, budgetShared}`; `None` once closed.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.stats_value())
    }

    /// Leaves the fleet (idempotent), after adding this process's last usage to the fleet's
    /// totals (waiting a few operation limits at most, with the GIL released).
    fn close(&self, py: Python<'_>) {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(link) = link {
            // Inside twinkey's own I/O thread (a callback) it cannot wait: it leaves at once.
            let _ = block_on(
                py,
                async move {
                    link.close().await;
                    Ok(())
                },
                |_, ()| Ok(()),
            );
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.link
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        format!(
            "Fleet(origin={:?}, closed={})",
            self.origin,
            if self.closed() { "True" } else { "False" }
        )
    }
}
