//! What Python passes to the control plane — keyword arguments — as `twinkey-client`'s and the
//! core's types: per-call options, ListApiKeys parameters, the `*Details` bodies. The core
//! validates them (`INVALID_REQUEST`).

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::PyMapping;
use serde::de::DeserializeOwned;
use twinkey::control::{
    CreateApiKeyDetails, Expiries, ListApiKeys, RetryPolicy, SortBy, SortOrder, UpdateApiKeyDetails,
};
use twinkey::{Error, Result};

use crate::pyjson::to_value;

fn invalid(reason: String) -> Error {
    Error::InvalidRequest { reason }
}

/// The options of one call (`if_match`, `opc_request_id`, `retry_token`, `retries`).
#[derive(Clone, Debug, Default)]
pub struct CallArgs {
    /// `if-match`: the `etag` of an earlier answer.
    pub if_match: Option<String>,
    /// `opc-request-id`; a new one is made when absent.
    pub opc_request_id: Option<String>,
    /// `opc-retry-token` of the POSTs; a new one is made when absent.
    pub retry_token: Option<String>,
    /// `False`: one attempt, no retries.
    pub retries: bool,
}

impl CallArgs {
    /// `twinkey-client`'s options.
    pub fn client(self) -> twinkey_client::CallOptions {
        twinkey_client::CallOptions {
            if_match: self.if_match,
            opc_request_id: self.opc_request_id,
            retry_token: self.retry_token,
            retry: (!self.retries).then(RetryPolicy::none),
        }
    }
}

/// The tags of a `*Details` body, read by the core's serde shapes.
#[derive(Clone, Debug, Default)]
pub struct Tags {
    /// `freeformTags`.
    pub freeform: Option<BTreeMap<String, String>>,
    /// `definedTags`.
    pub defined: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

fn shaped<T: DeserializeOwned>(what: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<T>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    serde_json::from_value(to_value(v)?)
        .map(Some)
        .map_err(|e| crate::errors::to_py_err(invalid(format!("{what}: {e}"))))
}

impl Tags {
    /// `freeform_tags` (`{str: str}`) and `defined_tags` (`{namespace: {key: value}}`).
    pub fn from_python(
        freeform: Option<&Bound<'_, PyAny>>,
        defined: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Tags {
            freeform: shaped("freeform_tags", freeform)?,
            defined: shaped("defined_tags", defined)?,
        })
    }
}

/// `time_expiry` of `create`: a time for both secrets, or a mapping of secret name to time
/// (each secret listed expires then; the others at the service's default).
pub fn expiries(value: Option<&Bound<'_, PyAny>>) -> PyResult<Expiries> {
    match value {
        Some(v) if v.cast::<PyMapping>().is_ok() => {
            let mut per_secret = Vec::new();
            for item in v.cast::<PyMapping>()?.items()?.iter() {
                let (name, t): (String, Bound<'_, PyAny>) = item.extract()?;
                per_secret.push((name, crate::time::from_python(&t)?));
            }
            Ok((None, per_secret))
        }
        other => Ok((crate::time::from_python_opt(other)?, Vec::new())),
    }
}

/// CreateApiKeyDetails: two secrets named `key_names`, expiring as [`expiries`] read them
/// (`twinkey::control::key_details_for` decides; `INVALID_OPTIONS` for a name not in
/// `key_names`).
pub fn create_details(
    compartment_id: String,
    display_name: String,
    key_names: (String, String),
    expiry: Expiries,
    description: Option<String>,
    tags: Tags,
) -> PyResult<CreateApiKeyDetails> {
    let key_details =
        twinkey::control::key_details_for([&key_names.0, &key_names.1], expiry.0, &expiry.1)
            .map_err(crate::errors::to_py_err)?;
    Ok(CreateApiKeyDetails {
        display_name,
        compartment_id,
        key_details,
        description,
        freeform_tags: tags.freeform,
        defined_tags: tags.defined,
    })
}

/// UpdateApiKeyDetails (every field optional).
pub fn update_details(
    display_name: Option<String>,
    description: Option<String>,
    tags: Tags,
) -> UpdateApiKeyDetails {
    UpdateApiKeyDetails {
        display_name,
        description,
        freeform_tags: tags.freeform,
        defined_tags: tags.defined,
    }
}

/// The filters and paging of ListApiKeys.
#[derive(Clone, Debug, Default)]
pub struct ListArgs {
    /// `compartmentId`.
    pub compartment_id: String,
    /// `lifecycleState`.
    pub lifecycle_state: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// `limit`.
    pub limit: Option<u32>,
    /// `page`.
    pub page: Option<String>,
    /// `sortOrder`: `ASC` or `DESC`.
    pub sort_order: Option<String>,
    /// `sortBy`: `displayName` or `timeCreated`.
    pub sort_by: Option<String>,
}

impl ListArgs {
    /// The core's listing parameters (`INVALID_REQUEST` for an unknown sort).
    pub fn core(self) -> Result<ListApiKeys> {
        let sort_order = self
            .sort_order
            .as_deref()
            .map(|s| {
                SortOrder::parse(s)
                    .ok_or_else(|| invalid(format!("sort_order must be ASC or DESC, not {s:?}")))
            })
            .transpose()?;
        let sort_by = self
            .sort_by
            .as_deref()
            .map(|s| {
                SortBy::parse(s).ok_or_else(|| {
                    invalid(format!(
                        "sort_by must be displayName or timeCreated, not {s:?}"
                    ))
                })
            })
            .transpose()?;
        Ok(ListApiKeys {
            compartment_id: self.compartment_id,
            lifecycle_state: self.lifecycle_state,
            display_name: self.display_name,
            id: self.id,
            limit: self.limit,
            page: self.page,
            sort_order,
            sort_by,
        })
    }
}
