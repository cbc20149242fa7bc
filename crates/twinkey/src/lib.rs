//! # twinkey
//!
//! The sans-I/O core of twinkey: everything about OCI Generative AI API keys that is a
//! *decision*, with no sockets and no async runtime, so it builds for `wasm32-unknown-unknown`
//! and is shared by the Rust, Python, Node.js and browser packages.
//!
//! - [`ApiKey`] / [`Secret`]: OCI's `ApiKey` resource with exactly two secrets, their states
//!   (`ACTIVE`, `INACTIVE`, `REVOKED`, `EXPIRED`, `DELETED`, unknown values kept), expiry and
//!   transitions; JSON in and out in OCI's camelCase shape.
//! - [`Engine`]: hands out the secret to use for an attempt and judges each response:
//!   accept, replay once with the other secret, or fail with a coded [`Error`].
//! - [`Error`]: one enum, stable [`Error::code`] strings.
//!
//! Bindings do the I/O with their host's HTTP stack and loop on the engine's [`Verdict`]s.

pub mod engine;
pub mod error;
pub mod json;
pub mod key;
pub mod secret;
pub mod time;

pub use engine::{
    Attempt, Counters, Engine, EngineOptions, EngineStatus, Event, EventKind, HealthState,
    HealthStore, MemoryStore, ResponseFacts, SecretStatus, SubscriptionId, Verdict,
};
pub use error::{Error, Result, SecretReason, UnusableReason};
pub use key::{ApiKey, Secret, Slot, Transition};
pub use secret::{SecretState, SecretValue, fingerprint_of};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
