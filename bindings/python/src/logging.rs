//! The core's log records (target `twinkey`, emitted with `tracing`) forwarded to Python's
//! `logging.getLogger("twinkey")`.
//!
//! The core logs every engine event (warning level; `secret_recovered` at info) and signer
//! warnings, with names and fingerprints only. Structured fields arrive in the record's
//! `extra` as `twinkey_<field>` (e.g. `record.twinkey_event`, `record.twinkey_secret`).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Metadata, Subscriber};

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `logging.getLogger("twinkey")`.
pub fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LOGGER
        .get_or_try_init(py, || {
            py.import("logging")?
                .call_method1("getLogger", ("twinkey",))
                .map(Bound::unbind)
        })
        .map(|l| l.bind(py))
}

/// Python's numeric level for a `tracing` level.
fn python_level(level: Level) -> u8 {
    match level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    extra: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.extra
                .push((format!("twinkey_{}", field.name()), value));
        }
    }
}

fn emit(py: Python<'_>, level: u8, fields: &Fields) -> PyResult<()> {
    let logger = logger(py)?;
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let extra = PyDict::new(py);
    for (k, v) in &fields.extra {
        extra.set_item(k, v)?;
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("extra", extra)?;
    logger.call_method("log", (level, "%s", fields.message.as_str()), Some(&kwargs))?;
    Ok(())
}

/// A `tracing` subscriber that forwards `twinkey` events to Python logging (spans unused).
struct PythonLogging;

impl Subscriber for PythonLogging {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("twinkey")
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = python_level(*event.metadata().level());
        Python::attach(|py| {
            // Logging must never break the caller; a failing handler is Python's to report.
            if let Err(err) = emit(py, level, &fields) {
                err.write_unraisable(py, None);
            }
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Installs the forwarding subscriber as the process-wide `tracing` default (once; a no-op
/// if another default is already installed).
pub fn install() {
    let _ = tracing::subscriber::set_global_default(PythonLogging);
}

/// Logs an exception raised by a user callback; the engine carries on.
pub fn log_callback_error(py: Python<'_>, what: &str, err: PyErr) {
    let logged = logger(py).and_then(|logger| {
        let kwargs = PyDict::new(py);
        kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
        logger.call_method(
            "error",
            ("%s callback raised an exception; twinkey carries on", what),
            Some(&kwargs),
        )?;
        Ok(())
    });
    if logged.is_err() {
        err.write_unraisable(py, None);
    }
}
