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
//! Not here yet: the control-plane client and the rotation runner. They come with the control
//! plane of `twinkey-client`; this crate will expose them as `async` methods (napi feature
//! `tokio_rt`, Promises in JS) of a `ControlPlane` class built from a [`Signer`], with rotation
//! progress delivered through a `ThreadsafeFunction` (it runs on tokio's threads), and their
//! errors mapped by the `errors` module like every other.

mod attempt;
mod clock;
mod engine;
mod errors;
mod key;
mod options;
mod report;
mod sending;
mod signer;
mod stream;
mod time;

pub use attempt::Attempt;
pub use clock::ManualClock;
pub use engine::{NativeEngine, Verdict, relevant_headers};
pub use errors::set_error_factory;
pub use key::ApiKey;
pub use options::EngineOptions;
pub use report::{EngineEvent, EngineStatus, SecretCounters, SecretStatus};
pub use sending::{SendVerdict, Sending};
pub use signer::{SignOptions, SignRequest, SignedRequest, Signer};
pub use stream::StreamMonitor;
