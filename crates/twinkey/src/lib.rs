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
//! - `signer` (feature `signer`, native targets): OCI request signing ("Signature version 1",
//!   rsa-sha256) from an OCI config file or a PEM key, and the verifier the emulator uses.
//! - [`control`]: the eight API-key control-plane operations as requests to sign and send,
//!   their answers and OCI error bodies, the SDKs' retry rules, IAM policy statements.
//! - [`rotation`]: the zero-downtime rotation as a resumable state machine.
//! - [`token`] (feature `tokens`, also on wasm32): short-lived, scoped server tokens (compact
//!   JWTs, EdDSA or HS256) for browser tooling: mint, verify (RFC 8725), the relay's admission
//!   gate and the browser client's token cache.
//!
//! - [`check`]: a key's health for operations scripts (`twinkey keys check`) and whether a
//!   rotation is due.
//! - [`usage`] / [`budget`]: token usage read from requests and responses, and the key's
//!   tokens-per-minute budget (estimate, admit or wait, reconcile, 429s folded in).
//!
//! - [`watch`]: what a key document observed by a key watch means for a running engine, and
//!   when to look again.
//!
//! Bindings do the I/O with their host's HTTP stack and loop on the engine's [`Verdict`]s.

pub mod budget;
pub mod check;
pub mod control;
pub mod destination;
pub mod engine;
pub mod error;
pub mod files;
pub mod fleet;
pub mod json;
pub mod key;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod rotation;
pub mod secret;
mod shard;
#[cfg(feature = "signer")]
pub mod signer;
#[cfg(feature = "metrics")]
pub mod status_page;
pub mod stream;
pub mod time;
pub mod token;
pub mod usage;
pub mod watch;

pub use budget::{Budget, BudgetOptions, Policy, RateLimitHeaders};
pub use engine::{
    AlertOptions, Attempt, Counters, Engine, EngineOptions, EngineStatus, Event, EventKind,
    HealthState, HealthStore, MemoryStore, ResponseFacts, SecretStatus, SecretUsage, Start,
    SubscriptionId, Ticket, UsageReport, Verdict,
};
pub use error::{Error, Result, SecretReason, UnusableReason};
pub use key::{ApiKey, Secret, Slot, Transition};
pub use secret::{SecretState, SecretValue, fingerprint_of};
#[cfg(feature = "signer")]
pub use signer::{DateHeader, RequestParts, SignOptions, SignedRequest, Signer};
pub use stream::{SseEvent, SseMonitor, StreamKind, Termination};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use token::TokenErrorKind;
pub use usage::{Endpoint, RequestFacts, StreamUsage, Usage, request_facts, usage_from_body};
