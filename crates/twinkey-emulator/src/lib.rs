//! # twinkey-emulator
//!
//! A local emulator of the parts of OCI Generative AI that twinkey talks to, for tests, demos
//! and users' own CI, with no cloud account:
//!
//! - the OpenAI-compatible inference endpoints under both documented bases, `/openai/v1` and
//!   `/20231130/actions/v1`: `POST chat/completions` (JSON and SSE streaming, honouring
//!   `stream_options.include_usage`), `POST responses` (JSON and streaming; stored for
//!   `GET`/`DELETE responses/{id}` and `previous_response_id` unless `store` is false),
//!   `GET models`. Replies are deterministic (derived from the input) and carry realistic `usage`;
//! - `Authorization: Bearer <secret>` is accepted only for a usable secret of a held key
//!   (`ACTIVE`, not past `timeExpiry`); anything else is 401 with OCI's error body;
//! - key state changes reach inference after a configurable propagation delay (default 0);
//! - faults per route: latency, 429 with `Retry-After`, 5xx, a stream cut after N chunks, and
//!   holding requests until released;
//! - the API-key [control plane](control) at `/20231130/apikeys...`: the eight operations,
//!   OCI request signatures verified against registered principals (5-minute clock skew),
//!   secret values only in Create and Renew answers, `etag`/`if-match`, `opc-retry-token`,
//!   compartments and the `api-key-count` limit; its changes reach inference after the
//!   propagation delay;
//! - an [admin surface](crate#admin-surface) under `/_emulator/` to seed keys,
//!   change secret states, set faults and read per-secret request counts.
//!
//! Every error is OCI-shaped (`{"code", "message"}`) and every response carries an
//! `opc-request-id`. The emulator logs secret fingerprints only, never values.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use twinkey_emulator::{Emulator, KeySpec};
//! let emulator = Emulator::default();
//! let key = emulator.generate_key(&KeySpec::default())?;   // two fresh ACTIVE secrets
//! let server = emulator.bind("127.0.0.1:0".parse()?).await?;
//! println!("OpenAI base URL: {}", server.base_url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! ## Admin surface
//!
//! Under `/_emulator/`, apart from the OCI routes; loopback only, no authentication, so it
//! answers only a loopback `Host`, and refuses writes (any method but `GET`/`HEAD`) that a web
//! page could send: a non-loopback `Origin`, `Sec-Fetch-Site: cross-site`, or a body that is
//! not `Content-Type: application/json` (403 `NotAllowed`). Errors
//! use OCI's body shape. State changes made here go through the propagation delay, like the
//! real control plane; keys seeded here are visible at once.
//!
//! | Method and path | Body | Answer |
//! |---|---|---|
//! | `GET /_emulator/health` | – | `{"status":"ok"}` |
//! | `GET /_emulator/config` | – | `propagationMs`, `maxBodyBytes`, `keys`, `pendingChanges`, `held` |
//! | `PUT /_emulator/config` | `{"propagationMs": N}` | the config |
//! | `GET /_emulator/keys` | – | `{"items": [key]}` (no secret values) |
//! | `POST /_emulator/keys` | a key document with `keys[].key` values, or `{"displayName", "keyNames", "timeExpiry", "compartmentId", "region"}` (all optional) to generate one | the key **with** its secret values (visible to inference at once) |
//! | `GET /_emulator/keys/{id}` | – | the key (no values), `etag` header |
//! | `DELETE /_emulator/keys/{id}` | – | 204 (inference stops after the propagation delay) |
//! | `POST /_emulator/keys/{id}/setstate` | `{"keyName", "state": "ACTIVE"/"INACTIVE"/"REVOKED", "force": false}` (`force` sets any state, e.g. `EXPIRED`, without transition rules) | the key (no values) |
//! | `POST /_emulator/keys/{id}/renew` | `{"keyName", "timeExpiry"}` (expiry optional, default 90 days) | the key **with** its secret values |
//! | `GET /_emulator/counts` | – | per-secret request counters |
//! | `DELETE /_emulator/counts` | – | 204, counters reset |
//! | `GET /_emulator/faults` | – | `{"faults": [...], "held": N}` |
//! | `POST /_emulator/faults` | one fault | the faults |
//! | `PUT /_emulator/faults` | `{"faults": [...]}` or `[...]` | the faults (replaced) |
//! | `DELETE /_emulator/faults` | – | 204, all faults removed |
//! | `POST /_emulator/faults/release` | – | the faults (hold faults removed) |
//! | `POST /_emulator/principals` | `{"publicKey": PEM, "tenancy", "user"}`, `{"publicKey", "sessionToken"}` or `{"publicKey", "keyId"}` | `{"keyId", "fingerprint"}`: a principal the control plane accepts |
//! | `GET`/`PUT /_emulator/control` | `{"apiKeyLimit": N}` | `principals`, `apiKeyLimit`, `faults` |
//! | `GET`/`POST`/`DELETE /_emulator/control/faults` | a [`ControlFault`](control::ControlFault) | control-plane faults (after authentication) |
//!
//! A fault (JSON) has `route` (`chat/completions`, `responses`, `models`, `*`), and any of
//! `latencyMs`, `status` (+ `code`, `retryAfter`), `cutAfterChunks`, `chunkDelayMs`, `times`;
//! or `hold: true` alone. See [`Fault`].

mod admin;
mod admin_guard;
pub mod control;
pub mod counters;
pub mod faults;
pub mod ids;
pub mod inference;
mod metrics;
pub mod oci_error;
pub mod server;
pub mod store;
pub mod tpm;

pub use twinkey_serve::Limits;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use twinkey::key::DEFAULT_RENEW_LIFETIME;
use twinkey::{ApiKey, Clock, Secret, SystemClock, Timestamp};

pub use counters::{Counters, CountsSnapshot, SecretCounts};
pub use faults::{Fault, Faults, Route};
pub use oci_error::OciError;
pub use server::{ACTIONS_BASE, ADMIN_BASE, OPENAI_BASE, Server};
pub use store::{Authentication, KeyStore, Refusal, StoreError, StoredKey};

/// Default largest request body (1 MiB); larger bodies get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// How an [`Emulator`] is set up.
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// Delay between a key change and its effect on inference (default 0).
    pub propagation: Duration,
    /// Largest request body accepted (default 1 MiB).
    pub max_body_bytes: usize,
    /// The clock for expiry, propagation, timestamps and signature dates (default: the
    /// system clock).
    pub clock: Arc<dyn Clock>,
    /// The control plane's tenancy limit `api-key-count` (default 100).
    pub api_key_limit: usize,
    /// The listener's timeouts, connection cap and drain ([`Limits::default`]).
    pub limits: Limits,
    /// Tokens per minute each key may use (default: no limit); see [`tpm`].
    pub tokens_per_minute: Option<u64>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            propagation: Duration::ZERO,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Arc::new(SystemClock),
            api_key_limit: control::DEFAULT_API_KEY_LIMIT,
            limits: Limits::default(),
            tokens_per_minute: None,
        }
    }
}

/// What [`Emulator::generate_key`] makes.
#[derive(Clone, Debug)]
pub struct KeySpec {
    /// `displayName` (default `twinkey-emulator`).
    pub display_name: String,
    /// The two secret names (default `key-one`, `key-two`).
    pub key_names: [String; 2],
    /// Expiry of both secrets (default: 90 days from now).
    pub time_expiry: Option<Timestamp>,
    /// `compartmentId` (default: a made-up compartment OCID).
    pub compartment_id: Option<String>,
    /// Region of the key's OCID (default `us-chicago-1`).
    pub region: Option<String>,
}

impl Default for KeySpec {
    fn default() -> Self {
        KeySpec {
            display_name: "twinkey-emulator".into(),
            key_names: ["key-one".into(), "key-two".into()],
            time_expiry: None,
            compartment_id: None,
            region: None,
        }
    }
}

struct Shared {
    clock: Arc<dyn Clock>,
    store: KeyStore,
    faults: Faults,
    counters: Counters,
    responses: inference::stored::StoredResponses,
    control: control::ControlState,
    max_body_bytes: usize,
    limits: Limits,
    tpm: tpm::TpmLimit,
}

/// The emulator's state: keys, faults and counters. Cheap to clone (shared).
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("store", &self.inner.store)
            .field("faults", &self.inner.faults.list().len())
            .finish_non_exhaustive()
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Emulator::new(EmulatorOptions::default())
    }
}

impl Emulator {
    /// An emulator with no keys.
    pub fn new(options: EmulatorOptions) -> Self {
        Emulator {
            inner: Arc::new(Shared {
                store: KeyStore::new(options.clock.clone(), options.propagation),
                clock: options.clock,
                faults: Faults::default(),
                counters: Counters::default(),
                responses: Default::default(),
                control: control::ControlState::new(options.api_key_limit),
                max_body_bytes: options.max_body_bytes,
                limits: options.limits,
                tpm: tpm::TpmLimit::new(options.tokens_per_minute),
            }),
        }
    }

    /// The keys.
    pub fn store(&self) -> &KeyStore {
        &self.inner.store
    }

    /// The tokens-per-minute limit per key.
    pub fn tpm(&self) -> &tpm::TpmLimit {
        &self.inner.tpm
    }

    /// The faults.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The request counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// The responses kept for `GET responses/{id}`.
    pub fn stored_responses(&self) -> &inference::stored::StoredResponses {
        &self.inner.responses
    }

    /// The control plane's state (principals, faults, the `api-key-count` limit).
    pub fn control(&self) -> &control::ControlState {
        &self.inner.control
    }

    /// The principals the control plane accepts.
    pub fn principals(&self) -> &control::Principals {
        &self.inner.control.principals
    }

    /// The emulator clock's current time.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The largest request body accepted.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The listener's limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Holds a key, visible to inference at once (a key without an id gets an OCID).
    pub fn seed(&self, key: ApiKey) -> Result<StoredKey, StoreError> {
        self.inner.store.insert_visible(key)
    }

    /// Makes a new key with two fresh `ACTIVE` secrets (`sk-` + 48 random base62
    /// characters), holds it (visible at once) and returns it **with** its secret values.
    pub fn generate_key(&self, spec: &KeySpec) -> Result<StoredKey, twinkey::Error> {
        let now = self.now();
        let expiry = spec
            .time_expiry
            .unwrap_or_else(|| now.plus(DEFAULT_RENEW_LIFETIME));
        let secret = |name: &str| -> twinkey::Result<Secret> {
            let value = ids::new_secret(name)?;
            let mut s = Secret::new(name, value.expose(), Some(expiry))?;
            let tail: String = {
                let v = value.expose();
                v[v.len().saturating_sub(4)..].to_string()
            };
            s.key_mask = Some(format!("sk-...{tail}"));
            s.time_created = Some(now);
            s.time_activated = Some(now);
            Ok(s)
        };
        let [one, two] = &spec.key_names;
        let mut key = ApiKey::new(secret(one)?, secret(two)?)?;
        let region = spec
            .region
            .clone()
            .unwrap_or_else(|| store::DEFAULT_REGION.to_string());
        key = key.with_id(ids::key_ocid(&region));
        key.display_name = Some(spec.display_name.clone());
        key.compartment_id = Some(
            spec.compartment_id
                .clone()
                .unwrap_or_else(ids::compartment_ocid),
        );
        key.lifecycle_state = Some("ACTIVE".into());
        key.time_created = Some(now);
        self.seed(key).map_err(|e| match e {
            StoreError::Key(k) => k,
            other => twinkey::Error::InvalidKey {
                reason: other.to_string(),
            },
        })
    }

    /// The HTTP application (both inference bases, the admin surface, OCI-shaped errors).
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serves on an already bound listener (within a Tokio runtime).
    pub fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<Server> {
        Server::start(self.clone(), listener)
    }

    /// Binds `addr` (use port 0 for a free port; loopback is strongly advised, the admin
    /// surface has no authentication) and serves.
    pub async fn bind(&self, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        self.serve(listener)
    }
}
