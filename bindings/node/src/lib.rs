//! # twinkey-node
//!
//! The Node.js binding of twinkey: a thin N-API layer (napi-rs 3) over the `twinkey` core,
//! built by `@napi-rs/cli` into the npm package `twinkey` (`node/`). It holds **no decision of
//! its own**: every choice (which secret, whether to replay, which error) is the core's; this
//! crate only converts values between JavaScript and Rust.
//!
//! The JavaScript facade in `node/lib/` adds what JS idioms need (a `fetch` that loops on the
//! engine's verdicts, an `EventEmitter`, `Error` subclasses) and registers the error factory
//! that the `errors` module uses, so every error crosses the boundary as a real
//! `TwinkeyError` subclass.
//!
//! Nothing panics across the boundary: the crate has no `unwrap`/`expect`, and napi-rs turns a
//! panic that would still happen into a JS exception.
//!
//! The control plane and the rotation runner of `twinkey-client` run on napi's tokio runtime
//! (feature `tokio_rt`): [`NativeControlPlane`]'s methods return Promises that settle on the JS
//! thread, their errors mapped by the `errors` module like every other; rotation progress
//! reaches JS through a `ThreadsafeFunction`. Server tokens ([`TokenKeyRing`], the relay's
//! [`RelayGate`]) are the core's `token` module over its JSON forms.

mod attempt;
mod clock;
mod control;
mod control_args;
mod control_reply;
mod engine;
mod errors;
mod fleet;
mod gate;
mod key;
mod metering;
mod options;
mod promise;
mod report;
mod rotation;
mod rotation_report;
mod sending;
mod signer;
mod stream;
mod time;
mod tokens;
mod usage;
mod watch;

pub use attempt::Attempt;
pub use clock::ManualClock;
pub use control::{ControlPlaneOptions, NativeControlPlane};
pub use control_args::{CallOptions, ListParams};
pub use control_reply::{KeyResponse, ListPage, UnitResponse};
pub use engine::{NativeEngine, Verdict, relevant_headers};
pub use errors::set_error_factory;
pub use fleet::{NativeFleet, join_fleet};
pub use gate::{Admission, GateRequest, RelayGate, relay_error_header};
pub use key::ApiKey;
pub use metering::WaitAdvice;
pub use options::EngineOptions;
pub use report::{EngineEvent, EngineStatus, SecretCounters, SecretStatus};
pub use rotation::{ProgressCallback, RotateOptions};
pub use rotation_report::{
    RenewedSecret, RotationPlan, RotationPlanStep, RotationProgress, RotationReport, RotationStep,
};
pub use sending::SendVerdict;
pub use signer::{SignOptions, SignRequest, SignedRequest, Signer};
pub use stream::StreamMonitor;
pub use tokens::{
    JwksOptions, MintOptions, MintedToken, TokenClaims, TokenKeyRing, TokenRequest, TokenScope,
    TokenVerifyOptions, VerifiedToken,
};
pub use usage::{
    Budget, BudgetAdmission, BudgetCharge, parse_rate_limit_headers, request_facts, usage_from_body,
};
pub use watch::{NativeKeyWatch, watch_key};
