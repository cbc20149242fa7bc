//! The OpenAI-compatible inference routes, served under both documented bases
//! (`/openai/v1` and `/20231130/actions/v1`): `POST chat/completions`, `POST responses`,
//! `GET`/`DELETE responses/{id}` (stored responses), `GET models`.
//!
//! Every request goes through the same steps (`admit`): wait while a hold fault matches,
//! authenticate the bearer secret against the inference view of the keys (401
//! `NotAuthenticated` otherwise), count it, then apply the route's fault (latency, an injected
//! status). The body is parsed only after that, so a request without a usable secret learns
//! nothing about its body.

mod chat;
pub mod completion;
mod input;
mod models;
mod responses;
mod sse;
pub mod stored;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};

use crate::Emulator;
use crate::faults::{Fault, Route};
use crate::oci_error::OciError;
use crate::store::Authentication;

pub use models::MODELS;

/// The inference routes, to be nested under each base.
pub(crate) fn router() -> Router<Emulator> {
    Router::new()
        .route("/chat/completions", post(chat::handle))
        .route("/responses", post(responses::handle))
        .route("/responses/{id}", get(stored::get).delete(stored::delete))
        .route("/models", get(models::handle))
}

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Hold, authentication, counting and faults, in that order. Returns the route's fault for
/// the handler (stream cut, chunk delay) and the key the secret belongs to.
pub(crate) async fn admit(
    emu: &Emulator,
    route: Route,
    headers: &HeaderMap,
) -> Result<(Option<Fault>, String), OciError> {
    emu.faults().wait_while_held(route).await;
    let auth = bearer(headers).map_or(Authentication::Unknown, |t| emu.store().authenticate(t));
    emu.counters().record(&auth, emu.now());
    let key_id = match &auth {
        Authentication::Accepted {
            key_id,
            secret,
            fingerprint,
        } => {
            tracing::debug!(route = route.as_str(), secret, fingerprint, "accepted");
            key_id.clone()
        }
        Authentication::Refused {
            secret,
            fingerprint,
            why,
            ..
        } => {
            tracing::info!(route = route.as_str(), secret, fingerprint, why = %why.as_str(), "refused: 401");
            return Err(OciError::not_authenticated());
        }
        Authentication::Unknown => {
            tracing::info!(route = route.as_str(), "no known secret: 401");
            return Err(OciError::not_authenticated());
        }
    };
    let fault = emu.faults().take(route);
    if let Some(latency) = fault.as_ref().and_then(Fault::latency) {
        tokio::time::sleep(latency).await;
    }
    if let Some(f) = &fault
        && let Some(status) = f.status
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = f.code.as_deref().unwrap_or(OciError::code_for(status));
        let message = format!(
            "Injected fault on {}: {}",
            route.as_str(),
            OciError::for_status(status).message
        );
        return Err(OciError::new(status, code, message).with_retry_after(f.retry_after));
    }
    Ok((fault, key_id))
}

/// Charges an answer's total tokens to its key's minute: `429 TooManyRequests` with
/// `Retry-After` (whole seconds, rounded up) when the key's tokens-per-minute limit has no room.
pub(crate) fn charge(emu: &Emulator, key_id: &str, tokens: u64) -> Result<(), OciError> {
    match emu.tpm().charge(key_id, tokens, emu.now()) {
        Ok(()) => {
            emu.counters().record_tpm(tokens, false);
            Ok(())
        }
        Err(wait) => {
            emu.counters().record_tpm(tokens, true);
            let secs = wait.as_millis().div_ceil(1000);
            tracing::info!(
                key_id,
                tokens,
                retry_after = secs,
                "tokens-per-minute limit: 429"
            );
            Err(OciError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Tokens per minute exceeded for this API key.",
            )
            .with_retry_after(Some(u64::try_from(secs).unwrap_or(u64::MAX))))
        }
    }
}

/// The request body as JSON (413 over the limit, 400 when unreadable or not JSON).
pub(crate) fn json_value(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Value, OciError> {
    let bytes = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => OciError::too_large(limit),
        _ => OciError::cannot_parse("The request body could not be read."),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        OciError::cannot_parse(format!(
            "The request body is not valid JSON (line {}, column {}).",
            e.line(),
            e.column()
        ))
    })
}

/// The request body as a JSON object (413 over the limit, 400 otherwise).
pub(crate) fn json_body(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Map<String, Value>, OciError> {
    match json_value(body, limit)? {
        Value::Object(map) => Ok(map),
        _ => Err(OciError::invalid_parameter(
            "The request body must be a JSON object.",
        )),
    }
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

/// Seconds since the epoch on the emulator's clock (OpenAI's `created`).
pub(crate) fn unix_seconds(emu: &Emulator) -> i64 {
    emu.now().as_millis().div_euclid(1000)
}
