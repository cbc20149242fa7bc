//! What the control plane answers, as JS objects: keys in OCI's camelCase shape (the core's
//! JSON, so without secret values), the answer's metadata, and — for CreateApiKey and
//! RenewApiKey only — an `ApiKey` holding the new values, which the service shows once.

use napi_derive::napi;
use serde_json::Value;
use twinkey_client::{ApiResponse, Page};

use crate::key::ApiKey;

/// A key in OCI's JSON shape, without secret values (`keyMask` only).
pub(crate) fn document(key: &twinkey::ApiKey) -> Value {
    serde_json::from_str(&key.to_json()).unwrap_or(Value::Null)
}

/// An answer carrying an API key (Create, Get, Update, SetState, Renew).
#[napi(object, object_from_js = false)]
pub struct KeyResponse {
    /// The key in OCI's JSON shape (`id`, `displayName`, `keys[]` with `keyName`, `keyMask`,
    /// `state`, `timeExpiry`, ...), without secret values.
    #[napi(ts_type = "Record<string, any>")]
    pub data: Value,
    /// Create and Renew only: the key with the new secret value(s), shown by the service this
    /// once. Give it to `new Engine(...)`, or save it with `toJsonExposingSecrets()`; it prints
    /// names and fingerprints only.
    pub key: Option<ApiKey>,
    /// HTTP status.
    pub status: u32,
    /// `etag`, for a later `ifMatch`.
    pub etag: Option<String>,
    /// `opc-request-id` of the answer.
    pub opc_request_id: String,
    /// Attempts made (1 without retries).
    pub attempts: u32,
}

impl KeyResponse {
    /// The answer; `with_values`: keep the key (and its values) as an `ApiKey`.
    pub(crate) fn new(r: ApiResponse<twinkey::ApiKey>, with_values: bool) -> Self {
        KeyResponse {
            data: document(&r.data),
            key: with_values.then_some(ApiKey { inner: r.data }),
            status: u32::from(r.status),
            etag: r.etag,
            opc_request_id: r.opc_request_id,
            attempts: r.attempts,
        }
    }
}

/// An answer without a body (Delete, ChangeCompartment).
#[napi(object, object_from_js = false)]
pub struct UnitResponse {
    /// HTTP status.
    pub status: u32,
    /// `etag`, when the service sent one.
    pub etag: Option<String>,
    /// `opc-request-id` of the answer.
    pub opc_request_id: String,
    /// Attempts made.
    pub attempts: u32,
}

impl From<ApiResponse<()>> for UnitResponse {
    fn from(r: ApiResponse<()>) -> Self {
        UnitResponse {
            status: u32::from(r.status),
            etag: r.etag,
            opc_request_id: r.opc_request_id,
            attempts: r.attempts,
        }
    }
}

/// One page of ListApiKeys.
#[napi(object, object_from_js = false)]
pub struct ListPage {
    /// The keys in OCI's JSON shape (secrets show `keyMask` only).
    #[napi(ts_type = "Array<Record<string, any>>")]
    pub items: Vec<Value>,
    /// `opc-next-page`: pass it as `page` for the next page; absent on the last.
    pub next_page: Option<String>,
    /// `opc-request-id` of the answer.
    pub opc_request_id: String,
    /// Attempts made.
    pub attempts: u32,
}

impl From<Page> for ListPage {
    fn from(p: Page) -> Self {
        ListPage {
            items: p.items.iter().map(document).collect(),
            next_page: p.next_page,
            opc_request_id: p.opc_request_id,
            attempts: p.attempts,
        }
    }
}
