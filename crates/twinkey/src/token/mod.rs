//! Server tokens for browser-side tooling (SPEC section 7), sans I/O.
//!
//! A server that holds an OCI key mints short-lived, scoped tokens (compact JWTs, RFC 7519)
//! for its pages; the relay verifies them and swaps in a real secret; the browser never sees a
//! secret.
//!
//! - [`KeyRing`] / [`TokenKey`]: signing keys as JWKs, the algorithm pinned per `kid` (EdDSA by
//!   default, HS256 optional), several `kid`s for rotation.
//! - [`KeyRing::mint`] with a [`TokenRequest`]: `iss`, `sub`, `aud`, `iat`, `nbf`, `exp`
//!   (default 10 min, at most 24 h), `jti` (from an injected [`Random`]) and the scope claim
//!   `twk` ([`Scope`]: models, endpoints, output-token cap, request budget).
//! - [`KeyRing::verify`] with [`VerifyOptions`], per RFC 8725 (see [`verify`]).
//! - [`Gate`]: the relay's admission decision (token, endpoint, scope, cap, budget) and
//!   [`error_reply`] in OpenAI's error shape.
//! - [`CorsPolicy`]: which browser origins may call the relay.
//! - [`TokenCache`]: the browser client's cache and refresh decisions.
//!
//! ```
//! use twinkey::Timestamp;
//! use twinkey::token::{KeyRing, Scope, SystemRandom, TokenKey, TokenRequest, Algorithm, VerifyOptions};
//! let mut ring = KeyRing::new();
//! ring.insert(TokenKey::generate("2026-01", Algorithm::EdDsa, &SystemRandom)?)?;
//! let scope = Scope::new(["cohere.command-r"], ["chat.completions"]).with_max_requests(20);
//! let now = Timestamp::from_millis(1_800_000_000_000);
//! let minted = ring.mint(&TokenRequest::new("user-42", scope), now, &SystemRandom)?;
//! let verified = ring.verify(&minted.token, &VerifyOptions::new("twinkey-relay"), now)?;
//! assert_eq!(verified.claims.subject, "user-42");
//! # Ok::<(), twinkey::Error>(())
//! ```
//!
//! Everything but [`TokenErrorKind`] needs the `tokens` feature.

mod error;

pub use error::TokenErrorKind;

#[cfg(feature = "tokens")]
mod b64;
#[cfg(feature = "tokens")]
mod budget;
#[cfg(feature = "tokens")]
mod cache;
#[cfg(feature = "tokens")]
mod claims;
#[cfg(feature = "tokens")]
mod cors;
#[cfg(feature = "tokens")]
mod gate;
#[cfg(feature = "tokens")]
mod keys;
#[cfg(feature = "tokens")]
mod mint;
#[cfg(feature = "tokens")]
mod owners;
#[cfg(feature = "tokens")]
mod query;
#[cfg(feature = "tokens")]
mod relay_body;
#[cfg(feature = "tokens")]
mod rng;
#[cfg(feature = "tokens")]
mod scope;
#[cfg(feature = "tokens")]
mod streams;
#[cfg(feature = "tokens")]
mod strict_json;
#[cfg(feature = "tokens")]
pub mod verify;
#[cfg(feature = "tokens")]
pub mod wire;

#[cfg(feature = "tokens")]
pub use budget::{BudgetLedger, Charge};
#[cfg(feature = "tokens")]
pub use cache::{AfterResponse, DEFAULT_REFRESH_MARGIN, Step, TokenCache, peek_lifetime};
#[cfg(feature = "tokens")]
pub use claims::{Claims, ENDPOINT_NAMES, SCOPE_CLAIM, Scope};
#[cfg(feature = "tokens")]
pub use cors::{ALLOWED_METHODS, CorsPolicy, EXPOSED_HEADERS, Header, PREFLIGHT_MAX_AGE};
#[cfg(feature = "tokens")]
pub use gate::{
    API_PREFIX, Admission, DEFAULT_MAX_STREAMS_PER_SUBJECT, ERROR_HEADER, ErrorReply, Gate,
    MAX_REQUEST_BODY, Pass, RelayRequest, bearer_token, error_reply, error_reply_with_status,
    http_status, is_relay_url, relay_base_url,
};
#[cfg(feature = "tokens")]
pub use keys::{Algorithm, KeyRing, MAX_KID_LEN, MIN_HMAC_KEY_BYTES, TokenKey};
#[cfg(feature = "tokens")]
pub use mint::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TTL, JTI_BYTES, MAX_TTL, Minted, TokenRequest,
};
#[cfg(feature = "tokens")]
pub use owners::{DEFAULT_MAX_OWNED_RESPONSES, MAX_RESPONSE_ID_BYTES, Owner, ResponseOwners};
#[cfg(feature = "tokens")]
pub use query::{MAX_QUERY_BYTES, check_query};
#[cfg(feature = "tokens")]
pub use relay_body::{BodyFilter, REDACTED};
#[cfg(feature = "tokens")]
pub use rng::{FixedRandom, Random, SystemRandom};
#[cfg(feature = "tokens")]
pub use scope::{Endpoint, ScopedBody, apply_scope};
#[cfg(feature = "tokens")]
pub use streams::{StreamLimiter, StreamSlot};
#[cfg(feature = "tokens")]
pub use verify::{DEFAULT_LEEWAY, MAX_LEEWAY, MAX_TOKEN_BYTES, VerifiedToken, VerifyOptions};
