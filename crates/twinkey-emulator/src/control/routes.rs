//! The eight API-key operations at `/20231130/apikeys...` (reference `oci.md` 1.5).
//!
//! Every request, in order: its body is read (413 over the limit); its signature is verified
//! (401 `NotAuthenticated`); a control-plane fault may answer it; a POST whose
//! `opc-retry-token` was seen with the same request gets the first answer again; then the
//! operation runs, serialized with the other control-plane changes, so an `if-match` check and
//! the change it guards are atomic.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};
use twinkey::control::Operation;
use twinkey::key::{DEFAULT_RENEW_LIFETIME, validate_name};
use twinkey::{ApiKey, Secret, SecretState, Timestamp};

use super::auth::{Incoming, authenticate};
use super::idempotency::{Answer, Lookup, request_digest};
use super::list::{Query, collection};
use super::render::{api_key, mask};
use crate::Emulator;
use crate::ids;
use crate::oci_error::OciError;
use crate::store::{DEFAULT_REGION, StoreError, StoredKey};

/// The collection path.
pub const APIKEYS_PATH: &str = "/20231130/apikeys";

type Body = Result<Bytes, BytesRejection>;
type Id = Result<Path<String>, PathRejection>;

static OPC_RETRY_TOKEN: HeaderName = HeaderName::from_static("opc-retry-token");
static OPC_NEXT_PAGE: HeaderName = HeaderName::from_static("opc-next-page");

pub(crate) fn router() -> Router<Emulator> {
    Router::new()
        .route(APIKEYS_PATH, post(create).get(list))
        .route(
            "/20231130/apikeys/{id}",
            get(get_key).put(update).delete(delete),
        )
        .route("/20231130/apikeys/{id}/actions/setstate", post(set_state))
        .route("/20231130/apikeys/{id}/actions/renew", post(renew))
        .route(
            "/20231130/apikeys/{id}/actions/changeCompartment",
            post(change_compartment),
        )
}

/// A received control-plane request.
struct Call {
    emu: Emulator,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Call {
    fn json(&self) -> Result<Map<String, Value>, OciError> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(OciError::invalid_parameter(
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(OciError::cannot_parse(format!(
                "The request body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            ))),
        }
    }

    fn if_match(&self) -> Option<&str> {
        self.headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
    }
}

fn answer_json(status: StatusCode, value: &Value, etag: Option<&str>) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, v);
    }
    Answer {
        status,
        headers,
        body: value.to_string().into_bytes(),
    }
}

fn answer_empty(status: StatusCode) -> Answer {
    Answer {
        status,
        headers: HeaderMap::new(),
        body: Vec::new(),
    }
}

fn key_answer(emu: &Emulator, stored: &StoredKey, reveal: &[&str]) -> Answer {
    answer_json(
        StatusCode::OK,
        &key_doc(emu, &stored.key, reveal),
        Some(&stored.etag),
    )
}

/// The key's document with each secret's `timeLastUsed`: when the inference side last
/// accepted it (absent when never).
fn key_doc(emu: &Emulator, key: &ApiKey, reveal: &[&str]) -> Value {
    let mut doc = api_key(key, reveal);
    let id = key.id.as_deref().unwrap_or_default();
    if let Some(items) = doc.get_mut("keys").and_then(Value::as_array_mut) {
        for (item, secret) in items.iter_mut().zip(key.secrets()) {
            if let (Some(obj), Some(t)) = (
                item.as_object_mut(),
                emu.counters().last_used(id, &secret.name),
            ) {
                obj.insert("timeLastUsed".into(), Value::String(t.to_rfc3339()));
            }
        }
    }
    doc
}

fn into_response(a: Answer) -> Response {
    let mut resp = (a.status, a.body).into_response();
    resp.headers_mut().extend(a.headers);
    resp
}

fn missing(name: &str) -> OciError {
    OciError::new(
        StatusCode::BAD_REQUEST,
        "MissingParameter",
        format!("`{name}` is required."),
    )
}

fn not_found(id: &str) -> OciError {
    OciError::new(
        StatusCode::NOT_FOUND,
        "NotAuthorizedOrNotFound",
        format!("Authorization failed or requested resource not found: API key {id}."),
    )
}

/// Control-plane meaning of a store error: unknown key 404; a transition the model forbids
/// (revoked is final, ...) 409 `Conflict` — not `IncorrectState`, which clients retry.
fn store_error(e: StoreError) -> OciError {
    match &e {
        StoreError::NotFound { id } => not_found(id),
        StoreError::AlreadyExists { .. } => {
            OciError::new(StatusCode::CONFLICT, "Conflict", e.to_string())
        }
        StoreError::Key(k) => match k.code() {
            "SECRET_REVOKED" | "INVALID_TRANSITION" => {
                OciError::new(StatusCode::CONFLICT, "Conflict", k.to_string())
            }
            _ => OciError::invalid_parameter(k.to_string()),
        },
    }
}

fn string(m: &Map<String, Value>, name: &str) -> Result<Option<String>, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be a string."
        ))),
    }
}

fn required(m: &Map<String, Value>, name: &str) -> Result<String, OciError> {
    string(m, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(name))
}

fn tags(m: &Map<String, Value>, name: &str, nested: bool) -> Result<Option<Value>, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => {
            let ok = o
                .values()
                .all(|v| if nested { v.is_object() } else { v.is_string() });
            if ok {
                Ok(Some(Value::Object(o.clone())))
            } else {
                Err(OciError::invalid_parameter(format!(
                    "`{name}` must map names to {}.",
                    if nested { "objects" } else { "strings" }
                )))
            }
        }
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be an object."
        ))),
    }
}

fn expiry(m: &Map<String, Value>, now: Timestamp) -> Result<Timestamp, OciError> {
    match string(m, "timeExpiry")? {
        None => Ok(now.plus(DEFAULT_RENEW_LIFETIME)),
        Some(t) => {
            let t = Timestamp::parse_rfc3339(&t).map_err(|_| {
                OciError::invalid_parameter("`timeExpiry` must be an RFC 3339 timestamp.")
            })?;
            if t <= now {
                return Err(OciError::invalid_parameter(
                    "`timeExpiry` must be in the future.",
                ));
            }
            Ok(t)
        }
    }
}

fn key_name(name: &str) -> Result<(), OciError> {
    validate_name(name).map_err(|e| OciError::invalid_parameter(e.to_string()))
}

/// A key that exists and is not deleted (what every change needs), with `if-match` checked.
fn live(call: &Call, id: &str) -> Result<StoredKey, OciError> {
    let stored = call.emu.store().get(id).ok_or_else(|| not_found(id))?;
    if stored.key.lifecycle_state.as_deref() == Some("DELETED") {
        return Err(not_found(id));
    }
    if let Some(etag) = call.if_match()
        && etag != stored.etag
        && etag != "*"
    {
        return Err(OciError::new(
            StatusCode::PRECONDITION_FAILED,
            "NoEtagMatch",
            "The if-match etag does not match the API key's current etag.",
        ));
    }
    Ok(stored)
}

fn path_id(id: Id) -> Result<String, OciError> {
    id.map(|Path(id)| id)
        .map_err(|_| OciError::invalid_parameter("The API key id in the path is not valid."))
}

/// Reads, authenticates, applies faults and retry tokens, then runs `op`.
async fn serve(
    operation: Operation,
    emu: Emulator,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    op: impl FnOnce(&Call) -> Result<Answer, OciError>,
) -> Response {
    let limit = emu.max_body_bytes();
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return OciError::too_large(limit).into_response();
        }
        Err(_) => {
            return OciError::cannot_parse("The request body could not be read.").into_response();
        }
    };
    let call = Call {
        emu,
        method,
        uri,
        headers,
        body,
    };
    let principal = match authenticate(
        &call.emu,
        &Incoming {
            method: &call.method,
            uri: &call.uri,
            headers: &call.headers,
            body: &call.body,
        },
    ) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Some(f) = call.emu.control().faults.take(operation.name()) {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = f.code.as_deref().unwrap_or(OciError::code_for(status));
        let message = format!("Injected fault on {operation}.");
        return OciError::new(status, code, message)
            .with_retry_after(f.retry_after)
            .into_response();
    }
    let token = if operation.takes_retry_token() {
        match call.headers.get(&OPC_RETRY_TOKEN).map(HeaderValue::to_str) {
            None => None,
            Some(Ok(t))
                if !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Some(t.to_string())
            }
            Some(_) => {
                return OciError::invalid_parameter(
                    "`opc-retry-token` must be 1-64 printable characters.",
                )
                .into_response();
            }
        }
    } else {
        None
    };
    let target = call
        .uri
        .path_and_query()
        .map_or_else(|| call.uri.path().to_string(), |pq| pq.as_str().to_string());
    let digest = request_digest(&principal, call.method.as_str(), &target, &call.body);
    let state = call.emu.control();
    let _serial = state.lock();
    if let Some(t) = &token {
        match state.retry_tokens.lookup(t, &digest, call.emu.now()) {
            Lookup::New => {}
            Lookup::Replay(a) => return into_response(a),
            Lookup::Conflict => {
                return OciError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    "The opc-retry-token was already used for a different request.",
                )
                .into_response();
            }
        }
    }
    match op(&call) {
        Ok(a) => {
            if let Some(t) = &token
                && a.status.is_success()
            {
                state
                    .retry_tokens
                    .remember(t, digest, a.clone(), call.emu.now());
            }
            into_response(a)
        }
        Err(e) => e.into_response(),
    }
}

macro_rules! handler {
    ($name:ident, $op:expr, $body:ident) => {
        async fn $name(
            State(emu): State<Emulator>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Body,
        ) -> Response {
            serve($op, emu, method, uri, headers, body, $body).await
        }
    };
    ($name:ident, $op:expr, $body:ident, id) => {
        async fn $name(
            State(emu): State<Emulator>,
            id: Id,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Body,
        ) -> Response {
            let id = match path_id(id) {
                Ok(id) => id,
                Err(e) => return e.into_response(),
            };
            serve($op, emu, method, uri, headers, body, move |call| {
                $body(call, &id)
            })
            .await
        }
    };
}

handler!(create, Operation::CreateApiKey, do_create);
handler!(list, Operation::ListApiKeys, do_list);
handler!(get_key, Operation::GetApiKey, do_get, id);
handler!(update, Operation::UpdateApiKey, do_update, id);
handler!(delete, Operation::DeleteApiKey, do_delete, id);
handler!(set_state, Operation::SetApiKeyState, do_set_state, id);
handler!(renew, Operation::RenewApiKey, do_renew, id);
handler!(
    change_compartment,
    Operation::ChangeApiKeyCompartment,
    do_change_compartment,
    id
);

fn do_create(call: &Call) -> Result<Answer, OciError> {
    let m = call.json()?;
    let display_name = required(&m, "displayName")?;
    let compartment_id = required(&m, "compartmentId")?;
    let details = match m.get("keyDetails") {
        None | Some(Value::Null) => return Err(missing("keyDetails")),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(OciError::invalid_parameter(
                "`keyDetails` must be an array.",
            ));
        }
    };
    if details.len() != 2 {
        return Err(OciError::invalid_parameter(format!(
            "`keyDetails` must hold exactly two secrets, not {}.",
            details.len()
        )));
    }
    let description = string(&m, "description")?;
    let freeform = tags(&m, "freeformTags", false)?;
    let defined = tags(&m, "definedTags", true)?;
    let now = call.emu.now();
    let limit = call.emu.control().api_key_limit();
    let live_keys = call
        .emu
        .store()
        .list()
        .iter()
        .filter(|s| s.key.lifecycle_state.as_deref() != Some("DELETED"))
        .count();
    if live_keys >= limit {
        return Err(OciError::new(
            StatusCode::BAD_REQUEST,
            "LimitExceeded",
            format!("The tenancy limit api-key-count ({limit}) is reached; delete a key first."),
        ));
    }
    let mut secrets = Vec::with_capacity(2);
    for d in details {
        let d = d
            .as_object()
            .ok_or_else(|| OciError::invalid_parameter("`keyDetails` items must be objects."))?;
        let name = required(d, "keyName").map_err(|_| missing("keyDetails[].keyName"))?;
        key_name(&name)?;
        let expiry = expiry(d, now)?;
        let value =
            ids::new_secret(&name).map_err(|e| OciError::invalid_parameter(e.to_string()))?;
        let mut s = Secret::new(&name, value.expose(), Some(expiry))
            .map_err(|e| OciError::invalid_parameter(e.to_string()))?;
        s.key_mask = Some(mask(value.expose()));
        s.time_created = Some(now);
        s.time_activated = Some(now);
        secrets.push(s);
    }
    let two = secrets.pop();
    let one = secrets.pop();
    let (Some(one), Some(two)) = (one, two) else {
        return Err(missing("keyDetails"));
    };
    let names = [one.name.clone(), two.name.clone()];
    let mut key = ApiKey::new(one, two)
        .map_err(|e| OciError::invalid_parameter(e.to_string()))?
        .with_id(ids::key_ocid(DEFAULT_REGION));
    key.display_name = Some(display_name);
    key.description = description;
    key.compartment_id = Some(compartment_id);
    key.lifecycle_state = Some("ACTIVE".into());
    key.time_created = Some(now);
    key.time_updated = Some(now);
    key.freeform_tags = freeform;
    key.defined_tags = defined;
    let stored = call.emu.store().insert(key).map_err(store_error)?;
    tracing::info!(key = stored.id(), "control plane: API key created");
    Ok(key_answer(&call.emu, &stored, &[&names[0], &names[1]]))
}

fn do_list(call: &Call) -> Result<Answer, OciError> {
    let q = Query::parse(call.uri.query())?;
    let (page, next) = q.page(call.emu.store().list());
    let items: Vec<Value> = page
        .iter()
        .map(|s| key_doc(&call.emu, &s.key, &[]))
        .collect();
    let mut a = answer_json(StatusCode::OK, &collection(items), None);
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        a.headers.insert(OPC_NEXT_PAGE.clone(), v);
    }
    Ok(a)
}

fn do_get(call: &Call, id: &str) -> Result<Answer, OciError> {
    let stored = call.emu.store().get(id).ok_or_else(|| not_found(id))?;
    Ok(key_answer(&call.emu, &stored, &[]))
}

fn do_update(call: &Call, id: &str) -> Result<Answer, OciError> {
    let m = call.json()?;
    let display_name = string(&m, "displayName")?;
    if display_name.as_deref() == Some("") {
        return Err(OciError::invalid_parameter(
            "`displayName` must not be empty.",
        ));
    }
    let description = string(&m, "description")?;
    let freeform = tags(&m, "freeformTags", false)?;
    let defined = tags(&m, "definedTags", true)?;
    live(call, id)?;
    let (stored, ()) = call
        .emu
        .store()
        .modify(id, |key, _| {
            if let Some(n) = display_name {
                key.display_name = Some(n);
            }
            if let Some(d) = description {
                key.description = Some(d);
            }
            if let Some(t) = freeform {
                key.freeform_tags = Some(t);
            }
            if let Some(t) = defined {
                key.defined_tags = Some(t);
            }
            Ok(())
        })
        .map_err(store_error)?;
    Ok(key_answer(&call.emu, &stored, &[]))
}

fn do_delete(call: &Call, id: &str) -> Result<Answer, OciError> {
    live(call, id)?;
    call.emu
        .store()
        .modify(id, |key, _| {
            key.lifecycle_state = Some("DELETED".into());
            let names: Vec<String> = key.secrets().iter().map(|s| s.name.clone()).collect();
            for n in names {
                key.sync_state(&n, SecretState::Deleted)?;
            }
            Ok(())
        })
        .map_err(store_error)?;
    tracing::info!(key = id, "control plane: API key deleted");
    Ok(answer_empty(StatusCode::NO_CONTENT))
}

fn do_set_state(call: &Call, id: &str) -> Result<Answer, OciError> {
    let m = call.json()?;
    let name = required(&m, "keyName")?;
    let state = required(&m, "state")?;
    let state = match SecretState::parse(&state) {
        s @ (SecretState::Active | SecretState::Inactive | SecretState::Revoked) => s,
        _ => {
            return Err(OciError::invalid_parameter(
                "`state` must be ACTIVE, INACTIVE or REVOKED.",
            ));
        }
    };
    let stored = live(call, id)?;
    if stored.key.slot_of(&name).is_err() {
        return Err(OciError::invalid_parameter(format!(
            "The API key has no secret named {name:?}."
        )));
    }
    let stored = call
        .emu
        .store()
        .set_state(id, &name, &state)
        .map_err(store_error)?;
    tracing::info!(key = id, secret = %name, state = %state, "control plane: state set");
    Ok(key_answer(&call.emu, &stored, &[]))
}

fn do_renew(call: &Call, id: &str) -> Result<Answer, OciError> {
    let m = call.json()?;
    let details = match m.get("details") {
        None | Some(Value::Null) => return Err(missing("details")),
        Some(Value::Object(d)) => d,
        Some(_) => return Err(OciError::invalid_parameter("`details` must be an object.")),
    };
    let name = required(details, "keyName").map_err(|_| missing("details.keyName"))?;
    let expiry = expiry(details, call.emu.now())?;
    let stored = live(call, id)?;
    if stored.key.slot_of(&name).is_err() {
        return Err(OciError::invalid_parameter(format!(
            "The API key has no secret named {name:?}."
        )));
    }
    let (stored, value) = call
        .emu
        .store()
        .renew(id, &name, Some(expiry))
        .map_err(store_error)?;
    tracing::info!(key = id, secret = %name, fingerprint = value.fingerprint(), "control plane: renewed");
    Ok(key_answer(&call.emu, &stored, &[&name]))
}

fn do_change_compartment(call: &Call, id: &str) -> Result<Answer, OciError> {
    let m = call.json()?;
    let compartment = required(&m, "compartmentId")?;
    live(call, id)?;
    call.emu
        .store()
        .modify(id, |key, _| {
            key.compartment_id = Some(compartment);
            Ok(())
        })
        .map_err(store_error)?;
    Ok(answer_empty(StatusCode::OK))
}
