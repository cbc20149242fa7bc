//! The admin surface for tests and the demo, under `/_emulator/` (not an OCI API; loopback
//! only, no authentication). Errors use OCI's body shape like everything else.
//!
//! The routes are listed in the crate documentation.
//!
//! State changes made here go through the propagation delay, like the real control plane.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use twinkey::json::NoSource;
use twinkey::{ApiKey, SecretState, Timestamp};

use crate::inference::{json_body, json_response, json_value};
use crate::oci_error::OciError;
use crate::store::StoredKey;
use crate::{Emulator, KeySpec};

type Body = Result<Bytes, BytesRejection>;
type Id = Result<Path<String>, PathRejection>;
type Answer = Result<Response, OciError>;

pub(crate) fn router() -> Router<Emulator> {
    Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .route("/config", get(get_config).put(put_config))
        .route("/keys", get(list_keys).post(create_key))
        .route("/keys/{id}", get(get_key).delete(delete_key))
        .route("/keys/{id}/setstate", post(set_state))
        .route("/keys/{id}/renew", post(renew))
        .route("/counts", get(get_counts).delete(reset_counts))
        .route(
            "/faults",
            get(get_faults)
                .post(add_fault)
                .put(put_faults)
                .delete(clear_faults),
        )
        .route("/faults/release", post(release_holds))
        .route("/metrics", get(metrics))
}

async fn metrics(State(emu): State<Emulator>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::text(&emu),
    )
        .into_response()
}

fn answer(a: Answer) -> Response {
    a.unwrap_or_else(IntoResponse::into_response)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn key_json(key: &ApiKey, with_secrets: bool) -> Value {
    let text = if with_secrets {
        key.to_json_exposing_secrets()
    } else {
        key.to_json()
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn key_response(stored: &StoredKey, with_secrets: bool) -> Response {
    let mut resp = json_response(StatusCode::OK, &key_json(&stored.key, with_secrets));
    if let Ok(v) = HeaderValue::from_str(&stored.etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

fn path_id(id: Id) -> Result<String, OciError> {
    id.map(|Path(id)| id)
        .map_err(|_| OciError::invalid_parameter("The key id in the path is not valid."))
}

fn timestamp(m: &Map<String, Value>, name: &str) -> Result<Option<Timestamp>, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Timestamp::parse_rfc3339(s).map(Some).map_err(|_| {
            OciError::invalid_parameter(format!("`{name}` must be an RFC 3339 timestamp."))
        }),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be a string."
        ))),
    }
}

fn string_field(m: &Map<String, Value>, name: &str) -> Result<String, OciError> {
    m.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            OciError::invalid_parameter(format!("`{name}` is required and must be a string."))
        })
}

async fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

fn config(emu: &Emulator) -> Value {
    json!({
        "propagationMs": u64::try_from(emu.store().propagation().as_millis()).unwrap_or(u64::MAX),
        "maxBodyBytes": emu.max_body_bytes(),
        "keys": emu.store().len(),
        "pendingChanges": emu.store().pending(),
        "held": emu.faults().held(),
        "tokensPerMinute": emu.tpm().limit(),
    })
}

async fn get_config(State(emu): State<Emulator>) -> Response {
    json_response(StatusCode::OK, &config(&emu))
}

async fn put_config(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        if let Some(v) = m.get("propagationMs") {
            let ms = v.as_u64().ok_or_else(|| {
                OciError::invalid_parameter("`propagationMs` must be a non-negative integer.")
            })?;
            emu.store().set_propagation(Duration::from_millis(ms));
        }
        if let Some(v) = m.get("tokensPerMinute") {
            let limit = match v {
                Value::Null => None,
                v => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    OciError::invalid_parameter(
                        "`tokensPerMinute` must be a positive integer or null.",
                    )
                })?),
            };
            emu.tpm().set_limit(limit);
        }
        Ok(json_response(StatusCode::OK, &config(&emu)))
    })())
}

async fn list_keys(State(emu): State<Emulator>) -> Response {
    let items: Vec<Value> = emu
        .store()
        .list()
        .iter()
        .map(|s| key_json(&s.key, false))
        .collect();
    json_response(StatusCode::OK, &json!({"items": items}))
}

async fn create_key(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        let stored = if m.contains_key("keys") {
            // A whole key document; references (env:, file:) are not resolved from HTTP input.
            let text = Value::Object(m).to_string();
            let key = ApiKey::from_json_with(&text, &NoSource)
                .map_err(|e| OciError::invalid_parameter(e.to_string()))?;
            emu.seed(key)?
        } else {
            let mut spec = KeySpec::default();
            if let Some(n) = m.get("displayName") {
                spec.display_name = n
                    .as_str()
                    .ok_or_else(|| OciError::invalid_parameter("`displayName` must be a string."))?
                    .to_string();
            }
            if let Some(names) = m.get("keyNames") {
                let names: Vec<&str> = names
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let [one, two] = names.as_slice() else {
                    return Err(OciError::invalid_parameter(
                        "`keyNames` must be an array of two strings.",
                    ));
                };
                spec.key_names = [(*one).to_string(), (*two).to_string()];
            }
            spec.time_expiry = timestamp(&m, "timeExpiry")?;
            spec.compartment_id = m
                .get("compartmentId")
                .and_then(Value::as_str)
                .map(str::to_string);
            spec.region = m.get("region").and_then(Value::as_str).map(str::to_string);
            emu.generate_key(&spec)
                .map_err(|e| OciError::invalid_parameter(e.to_string()))?
        };
        Ok(key_response(&stored, true))
    })())
}

async fn get_key(State(emu): State<Emulator>, id: Id) -> Response {
    answer((|| {
        let id = path_id(id)?;
        let stored = emu
            .store()
            .get(&id)
            .ok_or(crate::store::StoreError::NotFound { id })?;
        Ok(key_response(&stored, false))
    })())
}

async fn delete_key(State(emu): State<Emulator>, id: Id) -> Response {
    answer((|| {
        emu.store().remove(&path_id(id)?)?;
        Ok(no_content())
    })())
}

async fn set_state(State(emu): State<Emulator>, id: Id, body: Body) -> Response {
    answer((|| {
        let id = path_id(id)?;
        let m = json_body(body, emu.max_body_bytes())?;
        let name = string_field(&m, "keyName")?;
        let state = SecretState::parse(&string_field(&m, "state")?);
        let force = m.get("force").and_then(Value::as_bool).unwrap_or(false);
        let stored = if force {
            emu.store().force_state(&id, &name, state)?
        } else {
            emu.store().set_state(&id, &name, &state)?
        };
        Ok(key_response(&stored, false))
    })())
}

async fn renew(State(emu): State<Emulator>, id: Id, body: Body) -> Response {
    answer((|| {
        let id = path_id(id)?;
        let m = json_body(body, emu.max_body_bytes())?;
        let name = string_field(&m, "keyName")?;
        let expiry = timestamp(&m, "timeExpiry")?;
        let (stored, _value) = emu.store().renew(&id, &name, expiry)?;
        Ok(key_response(&stored, true))
    })())
}

async fn get_counts(State(emu): State<Emulator>) -> Response {
    let counts = serde_json::to_value(emu.counters().snapshot()).unwrap_or(Value::Null);
    json_response(StatusCode::OK, &counts)
}

async fn reset_counts(State(emu): State<Emulator>) -> Response {
    emu.counters().reset();
    no_content()
}

fn faults(emu: &Emulator) -> Response {
    let list = serde_json::to_value(emu.faults().list()).unwrap_or(Value::Null);
    json_response(
        StatusCode::OK,
        &json!({"faults": list, "held": emu.faults().held()}),
    )
}

async fn get_faults(State(emu): State<Emulator>) -> Response {
    faults(&emu)
}

async fn add_fault(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        let fault = serde_json::from_value(Value::Object(m))
            .map_err(|e| OciError::invalid_parameter(format!("Invalid fault: {e}")))?;
        emu.faults()
            .add(fault)
            .map_err(OciError::invalid_parameter)?;
        Ok(faults(&emu))
    })())
}

async fn put_faults(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let list = match json_value(body, emu.max_body_bytes())? {
            Value::Object(mut m) => m.remove("faults").unwrap_or(Value::Array(Vec::new())),
            other => other,
        };
        let list = serde_json::from_value(list)
            .map_err(|e| OciError::invalid_parameter(format!("Invalid faults: {e}")))?;
        emu.faults()
            .set(list)
            .map_err(OciError::invalid_parameter)?;
        Ok(faults(&emu))
    })())
}

async fn clear_faults(State(emu): State<Emulator>) -> Response {
    emu.faults().clear();
    no_content()
}

async fn release_holds(State(emu): State<Emulator>) -> Response {
    emu.faults().release();
    faults(&emu)
}
