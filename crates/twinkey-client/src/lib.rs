//! # twinkey-client
//!
//! twinkey's Rust I/O adapter on reqwest (rustls, no OpenSSL). [`InferenceClient`] sends
//! OpenAI-compatible requests (`chat/completions`, `responses`, `models`, ...) to an OCI
//! Generative AI endpoint with the secrets of one API key, looping on the core engine's
//! verdicts: the engine picks the secret, and on a rejection (401, or 403 with an
//! authentication code) the buffered request is replayed once with the other secret. This
//! crate makes no decision of its own about secrets, states, expiry or status codes.
//!
//! [`ControlPlaneClient`] calls the eight API-key control-plane operations (signed with the
//! core's OCI signer, retried by the core's OCI-SDK retry policy), and
//! [`rotation::RotationRunner`] runs the zero-downtime rotation (SPEC section 5) on it,
//! resumable from a state file.
//!
//! Streaming responses are passed through as they arrive ([`InferenceResponse::into_stream`]);
//! the core's SSE monitor turns a stream cut before its end marker into `STREAM_INTERRUPTED`.
//! Fail-over happens only before the first response byte.
//!
//! With the `relay` feature, [`relay`] serves browser tooling: server tokens in, a real secret
//! out (`twinkey relay`).
//!
//! ```no_run
//! # async fn demo() -> twinkey::Result<()> {
//! use twinkey::{ApiKey, Engine, EngineOptions};
//! use twinkey_client::InferenceClient;
//!
//! let engine = Engine::new(ApiKey::load("key.json")?, EngineOptions::default())?;
//! let client = InferenceClient::new(engine, "http://127.0.0.1:8080/openai/v1")?;
//! let body = serde_json::json!({
//!     "model": "openai.gpt-oss-120b",
//!     "messages": [{"role": "user", "content": "Hello"}],
//! });
//! let reply: serde_json::Value = client
//!     .post_json("chat/completions", &body)
//!     .await?
//!     .error_for_status()
//!     .await?
//!     .json()
//!     .await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "relay")]
pub mod admin;
pub mod control;
#[cfg(feature = "fleet")]
pub mod fleet;
mod inference;
mod metered;
#[cfg(feature = "relay")]
pub mod otlp;
#[cfg(feature = "relay")]
pub mod relay;
mod request;
mod response;
pub mod rotation;
mod stream;
mod transport;
pub mod watch;

pub use control::{ApiResponse, CallOptions, ControlPlaneClient, Page};
pub use inference::{InferenceClient, default_http_client};
pub use request::InferenceRequest;
pub use response::InferenceResponse;
pub use stream::EventStream;

/// The HTTP client crate, re-exported for [`InferenceClient::with_http_client`].
pub use reqwest;
