//! The binding's one tokio runtime, and the two ways Python waits on a future run there.
//!
//! - [`block_on`]: a synchronous method sends the future to the runtime and waits for it with
//!   the GIL released, waking every [`SIGNAL_POLL`] to let Python handle signals (Ctrl-C
//!   cancels the call; a rotation resumes from its state file).
//! - [`awaitable`]: an `async` method returns an `asyncio` awaitable (pyo3-async-runtimes);
//!   cancelling it drops the future.
//!
//! The runtime is built on first use, with two worker threads named `twinkey-io`. A `fork`ed
//! child (gunicorn `--preload`, multiprocessing's `fork`) does not inherit the parent's worker
//! threads: its synchronous calls get a runtime of their own, built in the child; its async
//! calls raise (pyo3-async-runtimes keeps the first process's runtime for good). Core errors
//! become Python exceptions through the one mapping.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::to_py_err;

/// How often a blocked synchronous call looks at Python's signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// This process's runtime, with the id of the process that built it (a `fork`ed child sees
/// its parent's id here and builds its own).
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The process whose runtime pyo3-async-runtimes spawns on (set once, by the first build).
static ASYNC_PID: OnceLock<u32> = OnceLock::new();

/// This process's runtime (in the process that first built one, also the one
/// pyo3-async-runtimes spawns on).
pub fn runtime() -> PyResult<&'static Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((built_by, rt)) = *slot
        && built_by == pid
    {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("twinkey-io")
        .enable_all()
        .build()
        .map_err(|e| {
            PyRuntimeError::new_err(format!("twinkey cannot start its I/O runtime: {e}"))
        })?;
    // One runtime per process for the life of the process (at most one more after a fork).
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    if ASYNC_PID.set(pid).is_ok() {
        let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    }
    Ok(rt)
}

fn refuse_nested() -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking twinkey call cannot run inside a twinkey callback (it runs on twinkey's \
             I/O thread); use the async API (AsyncControlPlane, rotate_async) there",
        ));
    }
    Ok(())
}

/// Runs `work` on the runtime and waits for its value with the GIL released, then converts
/// it with the GIL. A pending Python signal (Ctrl-C) cancels the work and raises.
pub fn block_on<T, R>(
    py: Python<'_>,
    work: impl Future<Output = twinkey::Result<T>> + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<R>,
) -> PyResult<R>
where
    T: Send + 'static,
{
    refuse_nested()?;
    let rt = runtime()?;
    let mut handle = rt.spawn(work);
    loop {
        // The timer is made inside the runtime's context (`block_on`), never outside it.
        let waited = py
            .detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_POLL, &mut handle).await }));
        match waited {
            Ok(Ok(outcome)) => return convert(py, outcome.map_err(to_py_err)?),
            Ok(Err(join)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "twinkey's I/O task failed: {join}"
                )));
            }
            Err(_elapsed) => {
                if let Err(interrupted) = py.check_signals() {
                    handle.abort();
                    return Err(interrupted);
                }
            }
        }
    }
}

/// Runs `work` on the runtime behind an `asyncio` awaitable of the running loop; its value is
/// converted with the GIL when it is ready.
pub fn awaitable<'py, T, R>(
    py: Python<'py>,
    work: impl Future<Output = twinkey::Result<T>> + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<R> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    R: for<'a> IntoPyObject<'a> + Send + 'static,
{
    runtime()?;
    if ASYNC_PID.get() != Some(&std::process::id()) {
        return Err(PyRuntimeError::new_err(
            "twinkey's async API was first used in the parent process and cannot run in this \
             fork()ed child: use the synchronous API here, or start workers with the 'spawn' \
             or 'forkserver' method",
        ));
    }
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let value = work.await.map_err(to_py_err)?;
        Python::attach(|py| convert(py, value))
    })
}
