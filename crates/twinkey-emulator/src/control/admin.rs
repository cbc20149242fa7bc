//! Admin routes of the control plane (under `/_emulator/`, no authentication): principals,
//! the `api-key-count` limit and control-plane faults.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use twinkey::signer::VerifyingKey;

use super::faults::ControlFault;
use crate::Emulator;
use crate::inference::{json_body, json_response};
use crate::oci_error::OciError;

type Body = Result<Bytes, BytesRejection>;

pub(crate) fn router() -> Router<Emulator> {
    Router::new()
        .route("/principals", post(add_principal))
        .route("/control", get(get_control).put(put_control))
        .route(
            "/control/faults",
            get(get_faults).post(add_fault).delete(clear_faults),
        )
}

fn answer(a: Result<Response, OciError>) -> Response {
    a.unwrap_or_else(IntoResponse::into_response)
}

fn field<'a>(m: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    m.get(name).and_then(Value::as_str)
}

async fn add_principal(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        let pem = field(&m, "publicKey")
            .ok_or_else(|| OciError::invalid_parameter("`publicKey` (PEM) is required."))?;
        let key =
            VerifyingKey::from_pem(pem).map_err(|e| OciError::invalid_parameter(e.to_string()))?;
        let fingerprint = key.fingerprint().to_string();
        let p = emu.principals();
        let key_id = match (
            field(&m, "keyId"),
            field(&m, "sessionToken"),
            field(&m, "tenancy"),
            field(&m, "user"),
        ) {
            (Some(id), None, None, None) => {
                p.add_key_id(id, key);
                id.to_string()
            }
            (None, Some(token), None, None) => p.add_session(token, key),
            (None, None, Some(t), Some(u)) => p.add_user(t, u, key),
            _ => {
                return Err(OciError::invalid_parameter(
                    "Give `tenancy` and `user`, or `sessionToken`, or `keyId`.",
                ));
            }
        };
        Ok(json_response(
            StatusCode::OK,
            &json!({"keyId": key_id, "fingerprint": fingerprint}),
        ))
    })())
}

fn control(emu: &Emulator) -> Value {
    let c = emu.control();
    json!({
        "principals": c.principals.len(),
        "apiKeyLimit": c.api_key_limit(),
        "faults": c.faults.list(),
    })
}

async fn get_control(State(emu): State<Emulator>) -> Response {
    json_response(StatusCode::OK, &control(&emu))
}

async fn put_control(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        if let Some(v) = m.get("apiKeyLimit") {
            let n = v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    OciError::invalid_parameter("`apiKeyLimit` must be a non-negative integer.")
                })?;
            emu.control().set_api_key_limit(n);
        }
        Ok(json_response(StatusCode::OK, &control(&emu)))
    })())
}

async fn get_faults(State(emu): State<Emulator>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"faults": emu.control().faults.list()}),
    )
}

async fn add_fault(State(emu): State<Emulator>, body: Body) -> Response {
    answer((|| {
        let m = json_body(body, emu.max_body_bytes())?;
        let fault: ControlFault = serde_json::from_value(Value::Object(m))
            .map_err(|e| OciError::invalid_parameter(format!("Invalid fault: {e}")))?;
        emu.control()
            .faults
            .add(fault)
            .map_err(OciError::invalid_parameter)?;
        Ok(json_response(
            StatusCode::OK,
            &json!({"faults": emu.control().faults.list()}),
        ))
    })())
}

async fn clear_faults(State(emu): State<Emulator>) -> Response {
    emu.control().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}
