//! `GET models`: the models the emulator answers for.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{admit, json_response};
use crate::Emulator;
use crate::faults::Route;
use crate::oci_error::OciError;

/// The models served: `(id, owner, supports the Responses API)`. Ids as OCI spells them.
pub const MODELS: [(&str, &str, bool); 5] = [
    ("openai.gpt-oss-120b", "openai", true),
    ("openai.gpt-oss-20b", "openai", true),
    ("xai.grok-3", "xai", true),
    ("xai.grok-3-mini", "xai", true),
    ("meta.llama-3.3-70b-instruct", "meta", false),
];

/// `created` of every model (2025-08-01, a fixed date so answers are deterministic).
const CREATED: i64 = 1_754_006_400;

/// 404 unless `model` is served; 400 when it is served but not on the Responses API.
pub(crate) fn check(model: &str, responses_api: bool) -> Result<(), OciError> {
    match MODELS.iter().find(|(id, _, _)| *id == model) {
        Some((_, _, true)) => Ok(()),
        Some((_, _, false)) if !responses_api => Ok(()),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "Model {model} is not available on the Responses API."
        ))),
        None => Err(OciError::new(
            StatusCode::NOT_FOUND,
            "NotAuthorizedOrNotFound",
            format!(
                "Model {model:?} not found. Available: {}.",
                MODELS.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

pub(crate) async fn handle(State(emu): State<Emulator>, headers: HeaderMap) -> Response {
    if let Err(e) = admit(&emu, Route::Models, &headers).await {
        return e.into_response();
    }
    let data: Vec<_> = MODELS
        .iter()
        .map(|(id, owner, _)| json!({"id": id, "object": "model", "created": CREATED, "owned_by": owner}))
        .collect();
    json_response(StatusCode::OK, &json!({"object": "list", "data": data}))
}
