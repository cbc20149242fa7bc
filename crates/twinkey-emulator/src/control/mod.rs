//! The API-key control plane (SPEC section 8): the eight operations at
//! `/20231130/apikeys...`, with OCI request signatures verified against registered
//! principals, OCI error bodies, `etag`/`if-match`, `opc-retry-token`, compartments, the
//! tenancy limit `api-key-count`, and state changes that reach inference after the
//! propagation delay.
//!
//! | Operation | Method and path | Answer |
//! |---|---|---|
//! | CreateApiKey | `POST /20231130/apikeys` | 200, the key **with both values** (shown once), `etag` |
//! | ListApiKeys | `GET /20231130/apikeys?compartmentId=...` | 200 `{"items": [...]}`, `opc-next-page` |
//! | GetApiKey | `GET /20231130/apikeys/{id}` | 200 (a deleted key: `lifecycleState` `DELETED`), `etag` |
//! | UpdateApiKey | `PUT /20231130/apikeys/{id}` | 200, the key, `etag` |
//! | DeleteApiKey | `DELETE /20231130/apikeys/{id}` | 204 |
//! | SetApiKeyState | `POST .../{id}/actions/setstate` | 200, the key, `etag` |
//! | RenewApiKey | `POST .../{id}/actions/renew` | 200, the key **with the renewed value** (shown once), `etag` |
//! | ChangeApiKeyCompartment | `POST .../{id}/actions/changeCompartment` | 200, no body |
//!
//! Errors: 401 `NotAuthenticated` (missing or malformed `Authorization`, a header that must be
//! signed and is not, unknown keyId, bad signature, a date more than 5 minutes off the
//! emulator's clock — the message names the reason); 400 `MissingParameter`,
//! `InvalidParameter`, `CannotParseRequest`, `LimitExceeded`; 404 `NotAuthorizedOrNotFound`
//! (unknown or deleted key); 409 `Conflict` (a transition the model forbids, e.g. activating a
//! revoked secret; a retry token reused for another request); 412 `NoEtagMatch`.
//!
//! Everywhere but those two answers a secret shows only its `keyMask`.
//!
//! Admin routes (under `/_emulator/`, no authentication): `POST principals` (`{"publicKey":
//! PEM, "tenancy", "user"}` or `{"publicKey", "sessionToken"}` or `{"publicKey", "keyId"}` →
//! `{"keyId", "fingerprint"}`), `GET`/`PUT control` (`{"apiKeyLimit": N}`),
//! `GET`/`POST`/`DELETE control/faults` ([`ControlFault`]).

mod admin;
mod auth;
pub mod faults;
mod idempotency;
pub mod init;
pub mod keygen;
mod list;
pub mod principals;
pub mod render;
mod routes;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

pub use faults::{ControlFault, ControlFaults};
pub use idempotency::RETRY_TOKEN_TTL;
pub use init::{OciFiles, init_oci_dir};
pub use keygen::{PrincipalKey, generate_rsa_2048};
pub use principals::Principals;
pub use routes::APIKEYS_PATH;

pub(crate) use admin::router as admin_router;
pub(crate) use routes::router;

/// Default of the tenancy limit `api-key-count`.
pub const DEFAULT_API_KEY_LIMIT: usize = 100;

/// The control plane's state.
#[derive(Debug)]
pub struct ControlState {
    /// Who may call it.
    pub principals: Principals,
    /// Injected faults.
    pub faults: ControlFaults,
    pub(crate) retry_tokens: idempotency::RetryTokens,
    api_key_limit: AtomicUsize,
    serial: Mutex<()>,
}

impl ControlState {
    /// A control plane with no principals and this `api-key-count` limit.
    pub fn new(api_key_limit: usize) -> Self {
        ControlState {
            principals: Principals::default(),
            faults: ControlFaults::default(),
            retry_tokens: idempotency::RetryTokens::default(),
            api_key_limit: AtomicUsize::new(api_key_limit),
            serial: Mutex::new(()),
        }
    }

    /// The tenancy limit `api-key-count` (keys not deleted).
    pub fn api_key_limit(&self) -> usize {
        self.api_key_limit.load(Ordering::Acquire)
    }

    /// Sets the limit.
    pub fn set_api_key_limit(&self, limit: usize) {
        self.api_key_limit.store(limit, Ordering::Release);
    }

    /// Serializes control-plane changes.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.serial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
