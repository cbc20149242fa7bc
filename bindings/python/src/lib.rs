//! `twinkey._native`: the PyO3 binding of the twinkey core, wrapped by the pure-Python
//! package `twinkey` (python/src/twinkey).
//!
//! The binding converts types, does the little I/O the core needs (reading key and config
//! files) and maps errors; every decision stays in the core. Classes are `frozen` handles over
//! shared core state, safe to use from any thread; signing and file loading release the GIL.
//! Secrets never appear in `repr`, `str`, exceptions or logs, and refuse to be pickled.

mod engine;
mod errors;
mod event;
mod hygiene;
mod key;
mod logging;
mod signer;
mod status;
mod stream;
mod time;

/// The native half of the `twinkey` package (import from `twinkey` instead).
#[pyo3::pymodule]
mod _native {
    #[pymodule_export]
    use crate::engine::{PyAttempt, PyEngine, PyVerdict};
    #[pymodule_export]
    use crate::event::PyEvent;
    #[pymodule_export]
    use crate::key::{PyApiKey, PySecret};
    #[pymodule_export]
    use crate::signer::{PySignedRequest, PySigner, PySigningPlan, signing_plan};
    #[pymodule_export]
    use crate::status::{PyCounters, PyEngineStatus, PySecretStatus};
    #[pymodule_export]
    use crate::stream::PyStreamMonitor;
    #[pymodule_export]
    use crate::time::PyManualClock;

    /// The version of the core this module was built from.
    #[pymodule_export]
    const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

    /// Forwards the core's `tracing` records to Python's `logging.getLogger("twinkey")`.
    #[pymodule_init]
    fn init() {
        crate::logging::install();
    }
}
