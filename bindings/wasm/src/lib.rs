//! # twinkey-wasm
//!
//! The browser side of twinkey's server tokens (SPEC section 7), for `node/browser/` (the
//! `browser` entry of the npm package). A page holds **no secret and no key**: it gets
//! short-lived server tokens from its app's server and calls the relay with them. This crate
//! only exports the core's token cache ([`TokenCache`]: when to use the cached token, when to
//! ask the provider, what to do with the relay's answer) and two URL helpers; the JavaScript
//! facade does the I/O (`fetch`) and loops on those verdicts.
//!
//! With the `vectors` feature (never in the browser build) it also exports minting,
//! verification, the relay gate, usage reading and the TPM budget, so the shared token, usage
//! and budget vectors run under wasm.

mod cache;
mod errors;
#[cfg(feature = "vectors")]
mod metering;
#[cfg(feature = "vectors")]
mod vectors;

pub use cache::{TokenCache, error_header, is_relay_url, relay_base_url};
