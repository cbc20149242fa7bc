//! `twinkey._native`: the PyO3 binding of the twinkey core, wrapped by the pure-Python
//! package `twinkey` (python/src/twinkey).
//!
//! The binding converts types, does the I/O the core leaves to it (reading key and config
//! files; the control plane and the rotation through `twinkey-client` on one tokio runtime)
//! and maps errors; every decision stays in the core. Classes are `frozen` handles over shared
//! core state, safe to use from any thread; signing, token minting and verification, file
//! loading and blocking network calls release the GIL. Secrets and token signing keys never
//! appear in `repr`, `str`, exceptions or logs, and refuse to be pickled.

mod control;
mod control_args;
mod control_async;
mod control_reply;
mod engine;
mod errors;
mod event;
mod fleet;
mod gate;
mod hygiene;
mod key;
mod logging;
mod metering;
mod pages;
mod pyjson;
mod rotation;
mod rotation_report;
mod runtime;
mod signer;
mod status;
mod stream;
mod time;
mod tokens;
mod usage;
mod watch;

/// The native half of the `twinkey` package (import from `twinkey` instead).
#[pyo3::pymodule]
mod _native {
    #[pymodule_export]
    use crate::control::PyControlPlane;
    #[pymodule_export]
    use crate::control_async::PyAsyncControlPlane;
    #[pymodule_export]
    use crate::control_reply::{PyKeyResponse, PyListPage, PyUnitResponse};
    #[pymodule_export]
    use crate::engine::{PyAttempt, PyEngine, PyVerdict};
    #[pymodule_export]
    use crate::event::PyEvent;
    #[pymodule_export]
    use crate::fleet::{PyFleet, fleet};
    #[pymodule_export]
    use crate::gate::{PyAdmission, PyRelayGate};
    #[pymodule_export]
    use crate::key::{PyApiKey, PySecret};
    #[pymodule_export]
    use crate::metering::{PyEngineAdmission, PyTicket};
    #[pymodule_export]
    use crate::pages::{PyAsyncPageIterator, PyPageIterator};
    #[pymodule_export]
    use crate::rotation::{rotate, rotate_async};
    #[pymodule_export]
    use crate::rotation_report::{PyRotationPlan, PyRotationProgress, PyRotationReport};
    #[pymodule_export]
    use crate::signer::{PySignedRequest, PySigner, PySigningPlan, signing_plan};
    #[pymodule_export]
    use crate::status::{PyCounters, PyEngineStatus, PySecretStatus};
    #[pymodule_export]
    use crate::stream::PyStreamMonitor;
    #[pymodule_export]
    use crate::time::PyManualClock;
    #[pymodule_export]
    use crate::tokens::PyTokenKeyRing;
    #[pymodule_export]
    use crate::usage::{
        PyBudget, PyBudgetAdmission, PyCharge, parse_rate_limit_headers, request_facts,
        usage_from_body,
    };

    #[pymodule_export]
    use crate::watch::{PyKeyWatch, watch};

    /// The version of the core this module was built from.
    #[pymodule_export]
    const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

    /// Forwards the core's `tracing` records to Python's `logging.getLogger("twinkey")`.
    #[pymodule_init]
    fn init() {
        crate::logging::install();
    }
}
