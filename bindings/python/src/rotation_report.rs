//! What a rotation reports, as Python objects: each progress report (`RotationProgress`), the
//! outcome of a finished rotation (`RotationReport`) and a dry run's plan (`RotationPlan`).
//! Fingerprints only, never a secret value.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Value, json};
use twinkey::rotation::{PlannedStep, Step, StepRecord};
use twinkey_client::rotation::{Progress, RotationPlan, RotationReport};

use crate::hygiene::{py_bool, quote};
use crate::pyjson::to_python;

/// A finished rotation or a plan.
pub enum Outcome {
    /// `rotate(...)`.
    Report(RotationReport),
    /// `rotate(..., dry_run=True)`.
    Plan(RotationPlan),
}

impl Outcome {
    /// The Python object.
    pub fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            Outcome::Report(r) => Py::new(py, PyRotationReport { inner: r })?.into_any(),
            Outcome::Plan(p) => Py::new(py, PyRotationPlan { inner: p })?.into_any(),
        })
    }
}

fn position(step: Step) -> String {
    format!("[{}] {}", step.number(), step.title())
}

/// One human line per progress report (also the log message).
pub fn progress_message(p: &Progress) -> String {
    match p {
        Progress::Started {
            key_id,
            old,
            standby,
            resumed,
        } => {
            let how = if *resumed {
                "resuming the rotation of"
            } else {
                "rotating"
            };
            format!("{how} {key_id}: {old} -> {standby}")
        }
        Progress::Skipped { step, note } => format!("{}: skipped ({note})", position(*step)),
        Progress::Acting { step, action } => format!("{}: {action}", position(*step)),
        Progress::Waiting {
            step,
            attempt,
            status,
        } => {
            let last = status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
            format!(
                "{}: not accepted yet ({last}, attempt {attempt}); waiting for the change to propagate",
                position(*step)
            )
        }
        Progress::SecretWritten {
            secret,
            fingerprint,
            path,
        } => format!(
            "new value of {secret} (fp {fingerprint}) written to {} (mode 0600)",
            path.display()
        ),
        Progress::Finished {
            step,
            fingerprint,
            note,
            ..
        } => {
            let parts: Vec<String> = note
                .iter()
                .cloned()
                .chain(fingerprint.iter().map(|f| format!("fp {f}")))
                .collect();
            if parts.is_empty() {
                format!("{}: done", position(*step))
            } else {
                format!("{}: done ({})", position(*step), parts.join(", "))
            }
        }
        Progress::Done => "rotation done".to_string(),
    }
}

/// One progress report of a running rotation.
#[pyclass(module = "twinkey._native", name = "RotationProgress", frozen)]
pub struct PyRotationProgress {
    kind: &'static str,
    fields: Value,
    message: String,
}

impl PyRotationProgress {
    /// The Python form of a report.
    pub fn new(p: &Progress, message: String) -> Self {
        let (kind, fields) = match p {
            Progress::Started {
                key_id,
                old,
                standby,
                resumed,
            } => (
                "started",
                json!({"key_id": key_id, "old": old, "standby": standby, "resumed": resumed}),
            ),
            Progress::Skipped { step, note } => {
                ("skipped", json!({"step": step.as_str(), "note": note}))
            }
            Progress::Acting { step, action } => {
                ("acting", json!({"step": step.as_str(), "action": action}))
            }
            Progress::Waiting {
                step,
                attempt,
                status,
            } => (
                "waiting",
                json!({"step": step.as_str(), "attempt": attempt, "status": status}),
            ),
            Progress::SecretWritten {
                secret,
                fingerprint,
                path,
            } => (
                "secret_written",
                json!({"secret": secret, "fingerprint": fingerprint, "path": path.display().to_string()}),
            ),
            Progress::Finished {
                step,
                action,
                fingerprint,
                note,
            } => (
                "finished",
                json!({"step": step.as_str(), "action": action, "fingerprint": fingerprint, "note": note}),
            ),
            Progress::Done => ("done", json!({})),
        };
        PyRotationProgress {
            kind,
            fields,
            message,
        }
    }

    fn field<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.fields.get(name).unwrap_or(&Value::Null))
    }
}

#[pymethods]
impl PyRotationProgress {
    /// `started`, `skipped`, `acting`, `waiting`, `secret_written`, `finished` or `done`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// The step (`prepare_standby`, `verify_standby`, `switch`, `retire_old`, `renew_old`,
    /// `park_old`), for the reports about one.
    #[getter]
    fn step<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "step")
    }

    /// `acting`: the action (`activate key-two`); `finished`: its name (`activate`).
    #[getter]
    fn action<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "action")
    }

    /// `secret_written`: the secret renewed.
    #[getter]
    fn secret<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "secret")
    }

    /// The fingerprint of a renewed or probed value.
    #[getter]
    fn fingerprint<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "fingerprint")
    }

    /// Why a step was skipped, or what was observed.
    #[getter]
    fn note<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "note")
    }

    /// `waiting`: attempts so far.
    #[getter]
    fn attempt<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "attempt")
    }

    /// `waiting`: the last probe status (`None`: no answer).
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "status")
    }

    /// `secret_written`: the secret-out file.
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, "path")
    }

    /// A one-line human description (also logged).
    #[getter]
    fn message(&self) -> &str {
        &self.message
    }

    /// `{"kind", "message", ...the kind's fields}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind)?;
        d.set_item("message", &self.message)?;
        if let Value::Object(map) = &self.fields {
            for (k, v) in map {
                d.set_item(k, to_python(py, v)?)?;
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "RotationProgress({}, message={})",
            quote(self.kind),
            quote(&self.message)
        )
    }
}

fn record(r: &StepRecord) -> Value {
    json!({
        "step": r.step.as_str(),
        "number": r.step.number(),
        "action": r.action,
        "secret": r.secret,
        "at": r.at,
        "fingerprint": r.fingerprint,
        "note": r.note,
    })
}

fn planned(s: &PlannedStep) -> Value {
    json!({
        "step": s.step.as_str(),
        "number": s.step.number(),
        "title": s.step.title(),
        "action": s.action.as_ref().map(|a| a.name()),
        "secret": s.action.as_ref().map(|a| a.secret().to_string()),
        "description": s.action.as_ref().map(ToString::to_string),
        "note": s.note,
    })
}

fn list<'py>(py: Python<'py>, items: impl Iterator<Item = Value>) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for v in items {
        out.append(to_python(py, &v)?)?;
    }
    Ok(out)
}

/// The outcome of a finished rotation.
#[pyclass(module = "twinkey._native", name = "RotationReport", frozen)]
pub struct PyRotationReport {
    inner: RotationReport,
}

#[pymethods]
impl PyRotationReport {
    /// The key's OCID.
    #[getter]
    fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    /// The retired secret.
    #[getter]
    fn old(&self) -> &str {
        &self.inner.old
    }

    /// The secret now in use.
    #[getter]
    fn standby(&self) -> &str {
        &self.inner.standby
    }

    /// Whether the run resumed a saved rotation.
    #[getter]
    fn resumed(&self) -> bool {
        self.inner.resumed
    }

    /// Every step, in order: `{"step", "number", "action", "secret", "at", "fingerprint",
    /// "note"}` (`action` `skip` for a step whose goal already held).
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        list(py, self.inner.steps.iter().map(record))
    }

    /// Renewed secrets: `(name, fingerprint)`.
    #[getter]
    fn renewed(&self) -> Vec<(String, String)> {
        self.inner.renewed.clone()
    }

    /// The secret-out file, when renewed values were written to it.
    #[getter]
    fn secret_out(&self) -> Option<String> {
        self.inner
            .secret_out
            .as_ref()
            .map(|p| p.display().to_string())
    }

    /// The report as a plain dict (e.g. for JSON logs).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key_id", &self.inner.key_id)?;
        d.set_item("old", &self.inner.old)?;
        d.set_item("standby", &self.inner.standby)?;
        d.set_item("resumed", self.inner.resumed)?;
        d.set_item("steps", self.steps(py)?)?;
        d.set_item("renewed", self.renewed())?;
        d.set_item("secret_out", self.secret_out())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "RotationReport(key_id={}, old={}, standby={}, steps={}, resumed={})",
            quote(&self.inner.key_id),
            quote(&self.inner.old),
            quote(&self.inner.standby),
            self.inner.steps.len(),
            py_bool(self.inner.resumed)
        )
    }
}

/// What a rotation would do (`dry_run=True`); nothing was changed.
#[pyclass(module = "twinkey._native", name = "RotationPlan", frozen)]
pub struct PyRotationPlan {
    inner: RotationPlan,
}

#[pymethods]
impl PyRotationPlan {
    /// The key's OCID.
    #[getter]
    fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    /// The secret that would be retired.
    #[getter]
    fn old(&self) -> &str {
        &self.inner.old
    }

    /// The secret that would be rotated to.
    #[getter]
    fn standby(&self) -> &str {
        &self.inner.standby
    }

    /// Whether a saved rotation would be resumed.
    #[getter]
    fn resumed(&self) -> bool {
        self.inner.resumed
    }

    /// The steps: `{"step", "number", "title", "action", "secret", "description", "note"}`
    /// (`action` `None` for a step that would be skipped).
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        list(py, self.inner.steps.iter().map(planned))
    }

    /// What would stop the rotation (empty: it would run).
    #[getter]
    fn problems(&self) -> Vec<String> {
        self.inner.problems.clone()
    }

    /// The plan as a plain dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key_id", &self.inner.key_id)?;
        d.set_item("old", &self.inner.old)?;
        d.set_item("standby", &self.inner.standby)?;
        d.set_item("resumed", self.inner.resumed)?;
        d.set_item("steps", self.steps(py)?)?;
        d.set_item("problems", self.problems())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "RotationPlan(key_id={}, old={}, standby={}, steps={}, problems={})",
            quote(&self.inner.key_id),
            quote(&self.inner.old),
            quote(&self.inner.standby),
            self.inner.steps.len(),
            self.inner.problems.len()
        )
    }
}
