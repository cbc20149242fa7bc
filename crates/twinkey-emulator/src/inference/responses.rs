//! `POST responses` (OpenAI Responses API): a plain `response` object, or SSE events from
//! `response.created` to `response.completed` (`response.incomplete` when
//! `max_output_tokens` cut the reply short). Kept for `GET responses/{id}` unless `store` is
//! false; a `previous_response_id` must name a kept one.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::completion::{Completion, Finish, complete};
use super::{admit, charge, input, json_body, json_response, models, sse, stored, unix_seconds};
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
    let (fault, key_id) = admit(emu, Route::Responses, headers).await?;
    let m = json_body(body, emu.max_body_bytes())?;
    let model = input::string(&m, "model")?;
    let prompt = input::responses_input(&m)?;
    let stream = input::flag(&m, "stream")?;
    let max_output_tokens = input::opt_positive(&m, "max_output_tokens")?;
    models::check(&model, true)?;
    stored::check_previous(emu, m.get("previous_response_id").and_then(Value::as_str))?;
    let store = m.get("store").and_then(Value::as_bool).unwrap_or(true);
    let completion = complete(
        &model,
        &prompt.texts,
        &prompt.last_user,
        max_output_tokens,
        prompt.tokens,
    );
    charge(emu, &key_id, completion.total_tokens())?;
    let r = Resp {
        id: ids::object_id("resp_"),
        msg_id: ids::object_id("msg_"),
        created: unix_seconds(emu),
        model,
        request: m,
        max_output_tokens,
    };
    if store {
        emu.stored_responses().insert(r.response(Some(&completion)));
    }
    if stream {
        Ok(sse::respond(r.events(&completion), fault.as_ref()))
    } else {
        Ok(json_response(
            StatusCode::OK,
            &r.response(Some(&completion)),
        ))
    }
}

struct Resp {
    id: String,
    msg_id: String,
    created: i64,
    model: String,
    request: Map<String, Value>,
    max_output_tokens: Option<u32>,
}

impl Resp {
    fn message(&self, text: &str, done: bool) -> Value {
        let status = if done { "completed" } else { "in_progress" };
        let content = if done {
            json!([{"type": "output_text", "text": text, "annotations": []}])
        } else {
            json!([])
        };
        json!({"type": "message", "id": self.msg_id, "status": status, "role": "assistant", "content": content})
    }

    /// The `response` object; `None` = still in progress (no output, no usage).
    fn response(&self, done: Option<&Completion>) -> Value {
        let (status, incomplete) = match done.map(|c| c.finish) {
            None => ("in_progress", Value::Null),
            Some(Finish::Stop) => ("completed", Value::Null),
            Some(Finish::Length) => ("incomplete", json!({"reason": "max_output_tokens"})),
        };
        let get = |k: &str| self.request.get(k).cloned().unwrap_or(Value::Null);
        let num = |k: &str, d: f64| {
            self.request
                .get(k)
                .filter(|v| v.is_number())
                .cloned()
                .unwrap_or(json!(d))
        };
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "error": null,
            "incomplete_details": incomplete,
            "instructions": get("instructions"),
            "max_output_tokens": self.max_output_tokens,
            "metadata": self.request.get("metadata").cloned().unwrap_or(json!({})),
            "model": self.model,
            "output": done.map_or(json!([]), |c| json!([self.message(&c.text(), true)])),
            "parallel_tool_calls": true,
            "previous_response_id": get("previous_response_id"),
            "store": self.request.get("store").cloned().unwrap_or(json!(true)),
            "temperature": num("temperature", 1.0),
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": num("top_p", 1.0),
            "truncation": "disabled",
            "usage": done.map_or(Value::Null, usage),
            "user": get("user"),
        })
    }

    fn events(&self, c: &Completion) -> Vec<String> {
        let text = c.text();
        let mut seq = 0u64;
        let mut out = Vec::with_capacity(c.pieces.len() + 8);
        let mut push = |name: &str, mut v: Value| {
            v["type"] = json!(name);
            v["sequence_number"] = json!(seq);
            seq += 1;
            out.push(sse::event(Some(name), &v.to_string()));
        };
        let part = |t: &str| json!({"type": "output_text", "text": t, "annotations": []});
        let at = |v: Value| {
            let mut base = json!({"item_id": self.msg_id, "output_index": 0, "content_index": 0});
            if let (Some(b), Value::Object(extra)) = (base.as_object_mut(), v) {
                b.extend(extra);
            }
            base
        };
        push("response.created", json!({"response": self.response(None)}));
        push(
            "response.in_progress",
            json!({"response": self.response(None)}),
        );
        push(
            "response.output_item.added",
            json!({"output_index": 0, "item": self.message("", false)}),
        );
        push("response.content_part.added", at(json!({"part": part("")})));
        for piece in &c.pieces {
            push(
                "response.output_text.delta",
                at(json!({"delta": piece, "logprobs": []})),
            );
        }
        push(
            "response.output_text.done",
            at(json!({"text": text, "logprobs": []})),
        );
        push(
            "response.content_part.done",
            at(json!({"part": part(&text)})),
        );
        push(
            "response.output_item.done",
            json!({"output_index": 0, "item": self.message(&text, true)}),
        );
        let last = match c.finish {
            Finish::Stop => "response.completed",
            Finish::Length => "response.incomplete",
        };
        push(last, json!({"response": self.response(Some(c))}));
        out
    }
}

fn usage(c: &Completion) -> Value {
    let (i, o) = (c.prompt_tokens, c.completion_tokens());
    json!({
        "input_tokens": i,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": o,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": i.saturating_add(o),
    })
}
