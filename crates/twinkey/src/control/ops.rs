//! The eight API-key operations (reference `oci.md` 1.5) as requests to sign and send.
//!
//! Paths are exact: collection `apikeys`, actions `setstate`, `renew` and `changeCompartment`.
//! Bodies are OCI's `*Details` in camelCase. The binding adds `opc-request-id` (every call),
//! `opc-retry-token` (the four POSTs, the same token on every retry of one call) and
//! `if-match` (when given), then signs and sends exactly [`ApiRequest::url`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::API_VERSION_PATH;
use super::encode::{path_segment, query_string};
use crate::error::{Error, Result};
use crate::secret::SecretState;
use crate::time::Timestamp;

/// One of the eight API-key operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /20231130/apikeys`.
    CreateApiKey,
    /// `GET /20231130/apikeys/{id}`.
    GetApiKey,
    /// `GET /20231130/apikeys?compartmentId=...`.
    ListApiKeys,
    /// `PUT /20231130/apikeys/{id}`.
    UpdateApiKey,
    /// `DELETE /20231130/apikeys/{id}`.
    DeleteApiKey,
    /// `POST /20231130/apikeys/{id}/actions/setstate`.
    SetApiKeyState,
    /// `POST /20231130/apikeys/{id}/actions/renew`.
    RenewApiKey,
    /// `POST /20231130/apikeys/{id}/actions/changeCompartment`.
    ChangeApiKeyCompartment,
}

impl Operation {
    /// The OCI operation name, e.g. `SetApiKeyState`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateApiKey => "CreateApiKey",
            Operation::GetApiKey => "GetApiKey",
            Operation::ListApiKeys => "ListApiKeys",
            Operation::UpdateApiKey => "UpdateApiKey",
            Operation::DeleteApiKey => "DeleteApiKey",
            Operation::SetApiKeyState => "SetApiKeyState",
            Operation::RenewApiKey => "RenewApiKey",
            Operation::ChangeApiKeyCompartment => "ChangeApiKeyCompartment",
        }
    }

    /// The HTTP method.
    pub fn method(self) -> &'static str {
        match self {
            Operation::GetApiKey | Operation::ListApiKeys => "GET",
            Operation::UpdateApiKey => "PUT",
            Operation::DeleteApiKey => "DELETE",
            Operation::CreateApiKey
            | Operation::SetApiKeyState
            | Operation::RenewApiKey
            | Operation::ChangeApiKeyCompartment => "POST",
        }
    }

    /// Whether the SDKs send an `opc-retry-token` (the four POSTs).
    pub fn takes_retry_token(self) -> bool {
        self.method() == "POST"
    }

    /// Whether the operation accepts `if-match`.
    pub fn takes_if_match(self) -> bool {
        !matches!(
            self,
            Operation::CreateApiKey | Operation::GetApiKey | Operation::ListApiKeys
        )
    }

    /// Whether a successful answer carries an `ApiKey` body (Delete and ChangeCompartment
    /// answer without one; List answers with a collection).
    pub fn returns_api_key(self) -> bool {
        !matches!(
            self,
            Operation::DeleteApiKey | Operation::ChangeApiKeyCompartment | Operation::ListApiKeys
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request of one operation: method, path with query, JSON body and `if-match`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    /// Which operation.
    pub operation: Operation,
    /// Path and query, e.g. `/20231130/apikeys?compartmentId=...`.
    pub path_and_query: String,
    /// The JSON body (POST and PUT), exactly as it must be sent and hashed.
    pub body: Option<String>,
    /// `if-match` to send (operations that take it).
    pub if_match: Option<String>,
}

impl ApiRequest {
    /// The HTTP method.
    pub fn method(&self) -> &'static str {
        self.operation.method()
    }

    /// The full URL on `endpoint` (`https://generativeai.<region>.oci.oraclecloud.com`, or
    /// an emulator's `http://127.0.0.1:<port>`; a trailing `/` is ignored).
    pub fn url(&self, endpoint: &str) -> String {
        format!("{}{}", endpoint.trim_end_matches('/'), self.path_and_query)
    }

    /// Sets `if-match` (the `etag` of an earlier answer) on operations that take it.
    pub fn with_if_match(mut self, etag: Option<&str>) -> Result<Self> {
        if let Some(etag) = etag {
            if !self.operation.takes_if_match() {
                return Err(invalid(format!(
                    "{} does not take if-match",
                    self.operation
                )));
            }
            check_text("if-match", etag)?;
            self.if_match = Some(etag.to_string());
        }
        Ok(self)
    }

    fn new(operation: Operation, path: String, body: Option<String>) -> Self {
        ApiRequest {
            operation,
            path_and_query: path,
            body,
            if_match: None,
        }
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

/// No control characters (they could split headers or confuse logs).
fn check_text(what: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{what} contains a control character")));
    }
    Ok(())
}

fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    // `.` and `..` would be removed as dot segments on the way: another path would be signed
    // and sent than the one meant.
    if id == "." || id == ".." {
        return Err(invalid(format!("{what} cannot be {id:?}")));
    }
    check_text(what, id)
}

fn to_body<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| invalid(format!("cannot serialize the body: {e}")))
}

fn key_path(id: &str, suffix: &str) -> Result<String> {
    check_id("the API key id", id)?;
    Ok(format!(
        "{API_VERSION_PATH}/apikeys/{}{suffix}",
        path_segment(id)
    ))
}

/// One secret to create or renew: its name and expiry (`KeyDetails`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyDetails {
    /// `keyName`, e.g. `key-one`.
    pub key_name: String,
    /// `timeExpiry`, RFC 3339 (the service's default is 90 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expiry: Option<String>,
}

impl KeyDetails {
    /// A secret name with an optional expiry.
    pub fn new(key_name: impl Into<String>, time_expiry: Option<Timestamp>) -> Self {
        KeyDetails {
            key_name: key_name.into(),
            time_expiry: time_expiry.map(Timestamp::to_rfc3339),
        }
    }
}

/// Expiries of a new key's secrets: one for every secret (`None`: the service's default), and
/// per-secret ones by name (see [`key_details_for`]).
pub type Expiries = (Option<Timestamp>, Vec<(String, Timestamp)>);

/// The two `KeyDetails` of a new key named `names`: each secret expires at its entry in
/// `per_secret` (by name), else at `default` (else the service's default, 90 days), so the two
/// can be staggered. `INVALID_OPTIONS` for an entry that names neither secret, or one twice.
pub fn key_details_for(
    names: [&str; 2],
    default: Option<Timestamp>,
    per_secret: &[(String, Timestamp)],
) -> Result<Vec<KeyDetails>> {
    for (i, (name, _)) in per_secret.iter().enumerate() {
        if !names.contains(&name.as_str()) {
            return Err(Error::InvalidOptions {
                reason: format!(
                    "an expiry for {name:?}, which is not one of the key's secrets ({})",
                    names.join(", ")
                ),
            });
        }
        if per_secret[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::InvalidOptions {
                reason: format!("two expiries for {name:?}"),
            });
        }
    }
    Ok(names
        .iter()
        .map(|name| {
            let own = per_secret.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
            KeyDetails::new(*name, own.or(default))
        })
        .collect())
}

/// `CreateApiKeyDetails`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKeyDetails {
    /// `displayName` (required).
    pub display_name: String,
    /// `compartmentId` (required).
    pub compartment_id: String,
    /// `keyDetails`: the two secrets (required).
    pub key_details: Vec<KeyDetails>,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `freeformTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<BTreeMap<String, String>>,
    /// `definedTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_tags: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

/// `UpdateApiKeyDetails` (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateApiKeyDetails {
    /// `displayName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `freeformTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<BTreeMap<String, String>>,
    /// `definedTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_tags: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

/// `SetApiKeyStateDetails`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetApiKeyStateDetails {
    /// `keyName` (required).
    pub key_name: String,
    /// `state` (required): `ACTIVE`, `INACTIVE` or `REVOKED`.
    pub state: String,
    /// `freeformTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<BTreeMap<String, String>>,
    /// `definedTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_tags: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

/// `RenewApiKeyDetails`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewApiKeyDetails {
    /// `details` (required): which secret, and its new expiry.
    pub details: KeyDetails,
    /// `freeformTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<BTreeMap<String, String>>,
    /// `definedTags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_tags: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

/// `ChangeApiKeyCompartmentDetails`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeApiKeyCompartmentDetails {
    /// `compartmentId` (required): the target compartment.
    pub compartment_id: String,
}

/// `sortOrder` of ListApiKeys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// `ASC`.
    Asc,
    /// `DESC`.
    Desc,
}

impl SortOrder {
    /// `ASC` or `DESC`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        }
    }

    /// From `ASC` / `DESC` (as OCI spells them).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ASC" => Some(SortOrder::Asc),
            "DESC" => Some(SortOrder::Desc),
            _ => None,
        }
    }
}

/// `sortBy` of ListApiKeys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortBy {
    /// `displayName` (default order ascending).
    DisplayName,
    /// `timeCreated` (default order descending).
    TimeCreated,
}

impl SortBy {
    /// `displayName` or `timeCreated`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::DisplayName => "displayName",
            SortBy::TimeCreated => "timeCreated",
        }
    }

    /// From `displayName` / `timeCreated`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "displayName" => Some(SortBy::DisplayName),
            "timeCreated" => Some(SortBy::TimeCreated),
            _ => None,
        }
    }

    /// The order used when none is given.
    pub fn default_order(self) -> SortOrder {
        match self {
            SortBy::DisplayName => SortOrder::Asc,
            SortBy::TimeCreated => SortOrder::Desc,
        }
    }
}

/// The parameters of ListApiKeys. `compartment_id` is required; the rest filter and page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListApiKeys {
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
    /// `page`: the previous answer's `opc-next-page`.
    pub page: Option<String>,
    /// `sortOrder`.
    pub sort_order: Option<SortOrder>,
    /// `sortBy`.
    pub sort_by: Option<SortBy>,
}

impl ListApiKeys {
    /// The first page of a compartment's keys.
    pub fn in_compartment(compartment_id: impl Into<String>) -> Self {
        ListApiKeys {
            compartment_id: compartment_id.into(),
            ..ListApiKeys::default()
        }
    }

    /// The same listing at another page.
    pub fn at_page(&self, page: Option<String>) -> Self {
        ListApiKeys {
            page,
            ..self.clone()
        }
    }
}

/// CreateApiKey. Checks the secret names locally (two, distinct, valid names).
pub fn create(details: &CreateApiKeyDetails) -> Result<ApiRequest> {
    check_id("compartmentId", &details.compartment_id)?;
    if details.display_name.is_empty() {
        return Err(invalid("displayName is empty"));
    }
    check_text("displayName", &details.display_name)?;
    if details.key_details.len() != 2 {
        return Err(invalid(format!(
            "an API key holds exactly two secrets; keyDetails has {}",
            details.key_details.len()
        )));
    }
    for k in &details.key_details {
        crate::key::validate_name(&k.key_name)?;
    }
    if details.key_details[0].key_name == details.key_details[1].key_name {
        return Err(invalid("the two secrets must have different names"));
    }
    Ok(ApiRequest::new(
        Operation::CreateApiKey,
        format!("{API_VERSION_PATH}/apikeys"),
        Some(to_body(details)?),
    ))
}

/// GetApiKey.
pub fn get(id: &str) -> Result<ApiRequest> {
    Ok(ApiRequest::new(
        Operation::GetApiKey,
        key_path(id, "")?,
        None,
    ))
}

/// ListApiKeys: query parameters in the Python SDK's order, form-encoded.
pub fn list(params: &ListApiKeys) -> Result<ApiRequest> {
    check_id("compartmentId", &params.compartment_id)?;
    let mut q: Vec<(&str, String)> = vec![("compartmentId", params.compartment_id.clone())];
    let optional = [
        ("lifecycleState", params.lifecycle_state.clone()),
        ("displayName", params.display_name.clone()),
        ("id", params.id.clone()),
        ("limit", params.limit.map(|l| l.to_string())),
        ("page", params.page.clone()),
        (
            "sortOrder",
            params.sort_order.map(|s| s.as_str().to_string()),
        ),
        ("sortBy", params.sort_by.map(|s| s.as_str().to_string())),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            check_text(name, &v)?;
            q.push((name, v));
        }
    }
    if params.limit == Some(0) {
        return Err(invalid("limit must be at least 1"));
    }
    Ok(ApiRequest::new(
        Operation::ListApiKeys,
        format!("{API_VERSION_PATH}/apikeys?{}", query_string(&q)),
        None,
    ))
}

/// UpdateApiKey.
pub fn update(id: &str, details: &UpdateApiKeyDetails) -> Result<ApiRequest> {
    if let Some(name) = &details.display_name {
        check_text("displayName", name)?;
    }
    Ok(ApiRequest::new(
        Operation::UpdateApiKey,
        key_path(id, "")?,
        Some(to_body(details)?),
    ))
}

/// DeleteApiKey.
pub fn delete(id: &str) -> Result<ApiRequest> {
    Ok(ApiRequest::new(
        Operation::DeleteApiKey,
        key_path(id, "")?,
        None,
    ))
}

/// SetApiKeyState: `ACTIVE` (activate), `INACTIVE` (deactivate) or `REVOKED` (revoke,
/// irreversible). Other states cannot be set.
pub fn set_state(id: &str, key_name: &str, state: &SecretState) -> Result<ApiRequest> {
    crate::key::validate_name(key_name)?;
    if !matches!(
        state,
        SecretState::Active | SecretState::Inactive | SecretState::Revoked
    ) {
        return Err(invalid(format!(
            "state {state} cannot be set; use ACTIVE, INACTIVE or REVOKED"
        )));
    }
    let details = SetApiKeyStateDetails {
        key_name: key_name.to_string(),
        state: state.as_str().to_string(),
        ..SetApiKeyStateDetails::default()
    };
    Ok(ApiRequest::new(
        Operation::SetApiKeyState,
        key_path(id, "/actions/setstate")?,
        Some(to_body(&details)?),
    ))
}

/// RenewApiKey: a new value for one secret, `ACTIVE`, with a new expiry.
pub fn renew(id: &str, key_name: &str, time_expiry: Option<Timestamp>) -> Result<ApiRequest> {
    crate::key::validate_name(key_name)?;
    let details = RenewApiKeyDetails {
        details: KeyDetails::new(key_name, time_expiry),
        ..RenewApiKeyDetails::default()
    };
    Ok(ApiRequest::new(
        Operation::RenewApiKey,
        key_path(id, "/actions/renew")?,
        Some(to_body(&details)?),
    ))
}

/// ChangeApiKeyCompartment.
pub fn change_compartment(id: &str, compartment_id: &str) -> Result<ApiRequest> {
    check_id("compartmentId", compartment_id)?;
    let details = ChangeApiKeyCompartmentDetails {
        compartment_id: compartment_id.to_string(),
    };
    Ok(ApiRequest::new(
        Operation::ChangeApiKeyCompartment,
        key_path(id, "/actions/changeCompartment")?,
        Some(to_body(&details)?),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ID: &str = "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaaexample";

    #[test]
    fn paths_and_bodies_are_exact() {
        let r = set_state(ID, "key-two", &SecretState::Active).unwrap();
        assert_eq!(r.method(), "POST");
        assert_eq!(
            r.path_and_query,
            format!("/20231130/apikeys/{ID}/actions/setstate")
        );
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"keyName":"key-two","state":"ACTIVE"}"#)
        );
        let r = renew(ID, "key-one", Some(Timestamp::from_millis(0))).unwrap();
        assert_eq!(
            r.path_and_query,
            format!("/20231130/apikeys/{ID}/actions/renew")
        );
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"details":{"keyName":"key-one","timeExpiry":"1970-01-01T00:00:00.000Z"}}"#)
        );
        let r = change_compartment(ID, "ocid1.compartment.oc1..b").unwrap();
        assert_eq!(
            r.path_and_query,
            format!("/20231130/apikeys/{ID}/actions/changeCompartment")
        );
        assert_eq!(get(ID).unwrap().method(), "GET");
        assert_eq!(delete(ID).unwrap().method(), "DELETE");
        assert_eq!(
            update(ID, &UpdateApiKeyDetails::default())
                .unwrap()
                .body
                .as_deref(),
            Some("{}")
        );
    }

    #[test]
    fn list_query_is_form_encoded_in_sdk_order() {
        let mut p = ListApiKeys::in_compartment("ocid1.compartment.oc1..a");
        p.display_name = Some("team key/prod".into());
        p.page = Some("AAAAAQ==".into());
        p.sort_by = Some(SortBy::TimeCreated);
        p.limit = Some(5);
        assert_eq!(
            list(&p).unwrap().path_and_query,
            "/20231130/apikeys?compartmentId=ocid1.compartment.oc1..a&displayName=team+key%2Fprod&limit=5&page=AAAAAQ%3D%3D&sortBy=timeCreated"
        );
    }

    #[test]
    fn bad_input_is_invalid_request() {
        assert_eq!(get("").unwrap_err().code(), "INVALID_REQUEST");
        assert_eq!(get("a\r\nb").unwrap_err().code(), "INVALID_REQUEST");
        assert!(get("../x").unwrap().path_and_query.ends_with("..%2Fx"));
        assert_eq!(
            set_state(ID, "key-one", &SecretState::Expired)
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
        assert_eq!(
            create(&CreateApiKeyDetails {
                display_name: "x".into(),
                compartment_id: "c".into(),
                key_details: vec![KeyDetails::new("a", None)],
                ..Default::default()
            })
            .unwrap_err()
            .code(),
            "INVALID_REQUEST"
        );
        assert_eq!(
            get(ID)
                .unwrap()
                .with_if_match(Some("x"))
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
        assert_eq!(
            delete(ID)
                .unwrap()
                .with_if_match(Some("e\n1"))
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
    }
}
