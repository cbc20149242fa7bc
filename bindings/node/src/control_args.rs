//! What JS passes to the control plane: per-call options, ListApiKeys parameters and the
//! `*Details` bodies (OCI's camelCase objects, read by the core's serde shapes), converted to
//! `twinkey-client`'s and the core's types. The core validates them (`INVALID_REQUEST`).

use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde_json::Value;
use twinkey::control::{ListApiKeys, RetryPolicy, SortBy, SortOrder};

/// Options of one control-plane call.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// `if-match`: the `etag` of an earlier answer (operations that change a key); a stale
    /// one is refused by the service with 412.
    pub if_match: Option<String>,
    /// `opc-request-id` (letters, digits, `_`, `-`); a new one is made when absent.
    pub opc_request_id: Option<String>,
    /// `opc-retry-token` of the four POSTs (the same on every retry); a new one when absent.
    pub retry_token: Option<String>,
    /// `false`: one attempt, no retries (default: the OCI SDKs' retry policy).
    pub retries: Option<bool>,
}

impl CallOptions {
    /// `twinkey-client`'s options.
    pub(crate) fn to_client(&self) -> twinkey_client::CallOptions {
        twinkey_client::CallOptions {
            if_match: self.if_match.clone(),
            opc_request_id: self.opc_request_id.clone(),
            retry_token: self.retry_token.clone(),
            retry: (self.retries == Some(false)).then(RetryPolicy::none),
        }
    }
}

/// The parameters of ListApiKeys.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    /// `compartmentId` (required).
    pub compartment_id: String,
    /// `lifecycleState` filter (`ACTIVE`, `DELETED`, ...).
    pub lifecycle_state: Option<String>,
    /// `displayName` filter (exact match).
    pub display_name: Option<String>,
    /// `id` filter.
    pub id: Option<String>,
    /// `limit`: the most items per page.
    pub limit: Option<u32>,
    /// `page`: the previous page's `nextPage`.
    pub page: Option<String>,
    /// `sortOrder`.
    #[napi(ts_type = "'ASC' | 'DESC'")]
    pub sort_order: Option<String>,
    /// `sortBy`.
    #[napi(ts_type = "'displayName' | 'timeCreated'")]
    pub sort_by: Option<String>,
}

fn invalid(reason: String) -> twinkey::Error {
    twinkey::Error::InvalidRequest { reason }
}

impl ListParams {
    /// The core's listing parameters (`INVALID_REQUEST` for an unknown sort).
    pub(crate) fn to_core(&self) -> twinkey::Result<ListApiKeys> {
        let sort_order = self
            .sort_order
            .as_deref()
            .map(|s| {
                SortOrder::parse(s)
                    .ok_or_else(|| invalid(format!("sortOrder must be ASC or DESC, not {s:?}")))
            })
            .transpose()?;
        let sort_by = self
            .sort_by
            .as_deref()
            .map(|s| {
                SortBy::parse(s).ok_or_else(|| {
                    invalid(format!(
                        "sortBy must be displayName or timeCreated, not {s:?}"
                    ))
                })
            })
            .transpose()?;
        Ok(ListApiKeys {
            compartment_id: self.compartment_id.clone(),
            lifecycle_state: self.lifecycle_state.clone(),
            display_name: self.display_name.clone(),
            id: self.id.clone(),
            limit: self.limit,
            page: self.page.clone(),
            sort_order,
            sort_by,
        })
    }
}

/// A `*Details` body from its JS object (OCI's camelCase), as the core's type.
pub(crate) fn details<T: DeserializeOwned>(what: &str, value: Value) -> twinkey::Result<T> {
    serde_json::from_value(value).map_err(|e| invalid(format!("{what}: {e}")))
}
