//! `POST chat/completions`: plain JSON, or SSE in OpenAI's chunk format ending with
//! `data: [DONE]` (with a final usage chunk when `stream_options.include_usage` is set).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::completion::{Completion, complete};
use super::{admit, charge, input, json_body, json_response, models, sse, unix_seconds};
use crate::Emulator;
use crate::faults::Route;
use crate::ids;
use crate::oci_error::OciError;

pub(crate) async fn handle(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(&emu, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run(
    emu: &Emulator,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OciError> {
    let (fault, key_id) = admit(emu, Route::ChatCompletions, headers).await?;
    let m = json_body(body, emu.max_body_bytes())?;
    let model = input::string(&m, "model")?;
    let prompt = input::chat_messages(&m)?;
    let stream = input::flag(&m, "stream")?;
    let include_usage = match m.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => input::flag(o, "include_usage")?,
        Some(_) => {
            return Err(OciError::invalid_parameter(
                "`stream_options` must be an object.",
            ));
        }
    };
    let max_tokens = match input::opt_positive(&m, "max_completion_tokens")? {
        Some(n) => Some(n),
        None => input::opt_positive(&m, "max_tokens")?,
    };
    models::check(&model, false)?;
    let completion = complete(
        &model,
        &prompt.texts,
        &prompt.last_user,
        max_tokens,
        prompt.tokens,
    );
    charge(emu, &key_id, completion.total_tokens())?;
    let id = ids::object_id("chatcmpl-");
    let created = unix_seconds(emu);
    if stream {
        let events = chunks(&id, created, &model, &completion, include_usage);
        Ok(sse::respond(events, fault.as_ref()))
    } else {
        let body = json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": completion.text(), "refusal": null},
                "logprobs": null,
                "finish_reason": completion.finish.as_str(),
            }],
            "usage": usage(&completion),
        });
        Ok(json_response(StatusCode::OK, &body))
    }
}

fn usage(c: &Completion) -> Value {
    let (p, o) = (c.prompt_tokens, c.completion_tokens());
    json!({
        "prompt_tokens": p,
        "completion_tokens": o,
        "total_tokens": p.saturating_add(o),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

/// The SSE events: a role chunk, one chunk per piece, a finish chunk, the usage chunk when
/// asked for (then every chunk carries `"usage": null`), and `[DONE]`.
fn chunks(id: &str, created: i64, model: &str, c: &Completion, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut v = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include_usage {
            v["usage"] = Value::Null;
        }
        sse::event(None, &v.to_string())
    };
    let mut out = Vec::with_capacity(c.pieces.len() + 4);
    out.push(chunk(json!({"role": "assistant", "content": ""}), None));
    for piece in &c.pieces {
        out.push(chunk(json!({"content": piece}), None));
    }
    out.push(chunk(json!({}), Some(c.finish.as_str())));
    if include_usage {
        let v = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage(c),
        });
        out.push(sse::event(None, &v.to_string()));
    }
    out.push(sse::event(None, "[DONE]"));
    out
}
