//! One module per subcommand.

pub mod demo;
pub mod emulate;
pub mod keys;
pub mod limits;
pub mod oci;
pub mod relay;
pub mod rotate;
pub mod sign;
pub mod token;
pub mod usage;

use crate::output::Failure;

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub(crate) async fn wait_for_signal() -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| Failure::io("cannot watch SIGTERM", &e))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| Failure::io("cannot watch SIGINT", &e)),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Failure::io("cannot watch Ctrl-C", &e))
    }
}
