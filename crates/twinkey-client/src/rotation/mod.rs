//! The rotation runner: the I/O around the core's rotation state machine
//! ([`twinkey::rotation`]). It reads the key from the control plane, performs each step's
//! action (control-plane calls with retry tokens, the inference probe, the switch of an
//! engine's preference), checkpoints after every step into the state file (never a secret
//! value: fingerprints only), writes renewed values only to the secret-out file (mode 0600),
//! and resumes from the state file after an interruption at any point.

mod files;
mod probe;
mod runner;

pub use probe::{Probed, probe};
pub use runner::{Progress, RotationConfig, RotationPlan, RotationReport, RotationRunner, StopAt};
