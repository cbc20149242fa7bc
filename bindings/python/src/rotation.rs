//! `rotate` / `rotate_async`: `twinkey-client`'s [`RotationRunner`] — the zero-downtime
//! rotation of SPEC section 5, checkpointed in a state file and resumable — with the options of
//! `twinkey rotate`. Progress reports go to the `twinkey` logger (INFO) and to `on_progress`
//! (called on twinkey's I/O thread with the GIL, in order, all of them before the call
//! returns). The runner decides everything; this module converts and waits.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use twinkey::rotation::{Retire, RotationOptions};
use twinkey::{ApiKey, Engine};
use twinkey_client::rotation::{Progress, RotationConfig, RotationRunner};

use crate::control::{Control, PyControlPlane};
use crate::control_async::PyAsyncControlPlane;
use crate::engine::PyEngine;
use crate::logging::log_callback_error;
use crate::rotation_report::{Outcome, PyRotationProgress, progress_message};
use crate::runtime::{awaitable, block_on};
use crate::time::duration;

/// The options of one rotation, as `twinkey rotate` takes them.
#[derive(Clone, Debug)]
struct RotateArgs {
    key_id: String,
    standby: Option<String>,
    revoke: bool,
    renew_old: bool,
    dry_run: bool,
    state_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    secret_out: Option<PathBuf>,
    inference_url: Option<String>,
    probe_model: Option<String>,
    probe: bool,
    probe_timeout: std::time::Duration,
    watch_grace: Option<std::time::Duration>,
}

impl RotateArgs {
    /// The runner's configuration; reads the key file (so it runs on the I/O runtime).
    fn config(&self, endpoint: &str, region: Option<&str>) -> twinkey::Result<RotationConfig> {
        let state_file = self
            .state_file
            .clone()
            .unwrap_or_else(|| twinkey::rotation::default_state_file(&self.key_id));
        let mut config = RotationConfig::new(&self.key_id, state_file);
        config.options = RotationOptions {
            standby: self.standby.clone(),
            retire: if self.revoke {
                Retire::Revoke
            } else {
                Retire::Deactivate
            },
            renew_old: self.renew_old,
            probe: self.probe,
            ..RotationOptions::default()
        };
        config.inference_url = match &self.inference_url {
            Some(url) => Some(url.clone()),
            None if self.probe => twinkey::control::probe_inference_base(Some(endpoint), region)?,
            None => None,
        };
        config.values = self.key_file.as_ref().map(ApiKey::load).transpose()?;
        config.secret_out.clone_from(&self.secret_out);
        if let Some(model) = &self.probe_model {
            config.probe_model.clone_from(model);
        }
        config.probe_policy.timeout = self.probe_timeout;
        if let Some(grace) = self.watch_grace {
            config.watch_grace = grace;
        }
        Ok(config)
    }
}

/// Logs a progress report and hands it to the callback (with the GIL, on the calling thread).
fn report(callback: Option<&Py<PyAny>>, p: &Progress) {
    let message = progress_message(p);
    tracing::info!(target: "twinkey", event = "rotation_progress", "{message}");
    let Some(callback) = callback else { return };
    Python::attach(|py| {
        let delivered = Py::new(py, PyRotationProgress::new(p, message))
            .and_then(|obj| callback.call1(py, (obj,)).map(drop));
        if let Err(err) = delivered {
            log_callback_error(py, "on_progress", err);
        }
    });
}

/// Runs (or plans) one rotation.
async fn run(
    control: Control,
    args: RotateArgs,
    engine: Option<Engine>,
    on_progress: Option<Arc<Py<PyAny>>>,
) -> twinkey::Result<Outcome> {
    let mut config = args.config(control.client.endpoint(), control.region.as_deref())?;
    if config.values.is_none() {
        // No key file: probe with the values the engine holds (as the Node binding does).
        config.values = engine.as_ref().map(Engine::key);
    }
    let mut runner = RotationRunner::new(control.client(), config)?;
    if let Some(engine) = engine {
        runner = runner.with_engine(engine);
    }
    if args.dry_run {
        return Ok(Outcome::Plan(runner.plan().await?));
    }
    runner = runner.on_progress(move |p| report(on_progress.as_deref(), p));
    Ok(Outcome::Report(runner.run().await?))
}

/// The control plane of either class.
fn control_of(cp: &Bound<'_, PyAny>) -> PyResult<Control> {
    if let Ok(c) = cp.cast::<PyControlPlane>() {
        return Ok(c.get().control.clone());
    }
    if let Ok(c) = cp.cast::<PyAsyncControlPlane>() {
        return Ok(c.get().control.clone());
    }
    Err(PyTypeError::new_err(
        "control_plane must be a twinkey.ControlPlane or twinkey.AsyncControlPlane",
    ))
}

/// Everything `rotate` and `rotate_async` take, converted.
type Prepared = (Control, RotateArgs, Option<Engine>, Option<Arc<Py<PyAny>>>);

#[allow(clippy::too_many_arguments)]
fn prepare(
    control_plane: &Bound<'_, PyAny>,
    key_id: String,
    standby: Option<String>,
    revoke: bool,
    renew_old: bool,
    dry_run: bool,
    state_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    secret_out: Option<PathBuf>,
    inference_url: Option<String>,
    probe_model: Option<String>,
    probe: bool,
    probe_timeout: f64,
    watch_grace: Option<f64>,
    engine: Option<&Bound<'_, PyEngine>>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<Prepared> {
    let args = RotateArgs {
        key_id,
        standby,
        revoke,
        renew_old,
        dry_run,
        state_file,
        key_file,
        secret_out,
        inference_url,
        probe_model,
        probe,
        probe_timeout: duration("probe_timeout", probe_timeout)?,
        watch_grace: watch_grace
            .map(|g| duration("watch_grace", g))
            .transpose()?,
    };
    Ok((
        control_of(control_plane)?,
        args,
        engine.map(|e| e.get().engine.clone()),
        on_progress.map(Arc::new),
    ))
}

/// Runs (or resumes) the zero-downtime rotation of key `key_id` on `control_plane`, or with
/// `dry_run` only plans it. Returns a `RotationReport` (a `RotationPlan` for a dry run).
/// `engine`: an engine of this process to switch at step 3. Raises `RotationError`
/// (`ROTATION_REFUSED`: nothing unsafe was done; `ROTATION_STATE`: the state file),
/// `ServiceError`, ...
#[pyfunction]
#[pyo3(signature = (
    control_plane, key_id, *, standby = None, revoke = false, renew_old = false, dry_run = false,
    state_file = None, key_file = None, secret_out = None, inference_url = None,
    probe_model = None, probe = true, probe_timeout = 120.0, watch_grace = None, engine = None,
    on_progress = None
))]
#[allow(clippy::too_many_arguments)]
pub fn rotate(
    py: Python<'_>,
    control_plane: &Bound<'_, PyAny>,
    key_id: String,
    standby: Option<String>,
    revoke: bool,
    renew_old: bool,
    dry_run: bool,
    state_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    secret_out: Option<PathBuf>,
    inference_url: Option<String>,
    probe_model: Option<String>,
    probe: bool,
    probe_timeout: f64,
    watch_grace: Option<f64>,
    engine: Option<&Bound<'_, PyEngine>>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (control, args, engine, on_progress) = prepare(
        control_plane,
        key_id,
        standby,
        revoke,
        renew_old,
        dry_run,
        state_file,
        key_file,
        secret_out,
        inference_url,
        probe_model,
        probe,
        probe_timeout,
        watch_grace,
        engine,
        on_progress,
    )?;
    block_on(py, run(control, args, engine, on_progress), |py, o| {
        o.into_python(py)
    })
}

/// `rotate` as an `asyncio` awaitable (the same options and outcome).
#[pyfunction]
#[pyo3(signature = (
    control_plane, key_id, *, standby = None, revoke = false, renew_old = false, dry_run = false,
    state_file = None, key_file = None, secret_out = None, inference_url = None,
    probe_model = None, probe = true, probe_timeout = 120.0, watch_grace = None, engine = None,
    on_progress = None
))]
#[allow(clippy::too_many_arguments)]
pub fn rotate_async<'py>(
    py: Python<'py>,
    control_plane: &Bound<'py, PyAny>,
    key_id: String,
    standby: Option<String>,
    revoke: bool,
    renew_old: bool,
    dry_run: bool,
    state_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    secret_out: Option<PathBuf>,
    inference_url: Option<String>,
    probe_model: Option<String>,
    probe: bool,
    probe_timeout: f64,
    watch_grace: Option<f64>,
    engine: Option<&Bound<'py, PyEngine>>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (control, args, engine, on_progress) = prepare(
        control_plane,
        key_id,
        standby,
        revoke,
        renew_old,
        dry_run,
        state_file,
        key_file,
        secret_out,
        inference_url,
        probe_model,
        probe,
        probe_timeout,
        watch_grace,
        engine,
        on_progress,
    )?;
    awaitable(py, run(control, args, engine, on_progress), |py, o| {
        o.into_python(py)
    })
}
