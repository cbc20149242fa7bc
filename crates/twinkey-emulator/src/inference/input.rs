//! Reading and validating request fields (400 `InvalidParameter` with the field's name).

use serde_json::{Map, Value};

use super::completion::count_tokens;
use crate::oci_error::OciError;

/// A required non-empty string field.
pub(crate) fn string(m: &Map<String, Value>, name: &str) -> Result<String, OciError> {
    match m.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(OciError::invalid_parameter(
            format!("`{name}` is required."),
        )),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be a string."
        ))),
    }
}

/// An optional string field.
pub(crate) fn opt_string(m: &Map<String, Value>, name: &str) -> Result<Option<String>, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be a string."
        ))),
    }
}

/// An optional boolean field (absent or null = false).
pub(crate) fn flag(m: &Map<String, Value>, name: &str) -> Result<bool, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(OciError::invalid_parameter(format!(
            "`{name}` must be a boolean."
        ))),
    }
}

/// An optional positive integer field.
pub(crate) fn opt_positive(m: &Map<String, Value>, name: &str) -> Result<Option<u32>, OciError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .map(|n| Some(u32::try_from(n).unwrap_or(u32::MAX)))
            .ok_or_else(|| {
                OciError::invalid_parameter(format!("`{name}` must be a positive integer."))
            }),
    }
}

/// The text of a message `content`: a string, or an array of parts whose `text` is taken.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o.get("text").and_then(Value::as_str),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The prompt of a request: texts in order, the last user text, and the prompt tokens.
#[derive(Clone, Debug, Default)]
pub(crate) struct Prompt {
    /// Role and text of each message, flattened (`[role, text, role, text, ...]`).
    pub texts: Vec<String>,
    /// The last user message's text.
    pub last_user: String,
    /// Estimated prompt tokens (3 per message plus role and content, plus 3 for the reply).
    pub tokens: u32,
}

impl Prompt {
    fn push(&mut self, role: &str, text: String) {
        self.tokens = self
            .tokens
            .saturating_add(3 + count_tokens(role) + count_tokens(&text));
        if role == "user" {
            self.last_user.clone_from(&text);
        }
        self.texts.push(role.to_string());
        self.texts.push(text);
    }
}

/// Chat Completions `messages`: a non-empty array of objects with a string `role`.
pub(crate) fn chat_messages(m: &Map<String, Value>) -> Result<Prompt, OciError> {
    let messages = match m.get("messages") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => {
            return Err(OciError::invalid_parameter("`messages` must not be empty."));
        }
        None | Some(Value::Null) => {
            return Err(OciError::invalid_parameter("`messages` is required."));
        }
        Some(_) => return Err(OciError::invalid_parameter("`messages` must be an array.")),
    };
    let mut prompt = Prompt {
        tokens: 3,
        ..Prompt::default()
    };
    for (i, msg) in messages.iter().enumerate() {
        let Some(obj) = msg.as_object() else {
            return Err(OciError::invalid_parameter(format!(
                "`messages[{i}]` must be an object."
            )));
        };
        let Some(role) = obj.get("role").and_then(Value::as_str) else {
            return Err(OciError::invalid_parameter(format!(
                "`messages[{i}].role` is required."
            )));
        };
        prompt.push(role, content_text(obj.get("content")));
    }
    Ok(prompt)
}

/// Responses API `input` (a string or an array of items) and `instructions`.
pub(crate) fn responses_input(m: &Map<String, Value>) -> Result<Prompt, OciError> {
    let mut prompt = Prompt {
        tokens: 3,
        ..Prompt::default()
    };
    if let Some(instructions) = opt_string(m, "instructions")? {
        prompt.push("system", instructions);
    }
    match m.get("input") {
        Some(Value::String(s)) if !s.is_empty() => prompt.push("user", s.clone()),
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => prompt.push("user", s.clone()),
                    Value::Object(o) => {
                        let role = o.get("role").and_then(Value::as_str).unwrap_or("user");
                        let text = match o.get("content") {
                            Some(c) => content_text(Some(c)),
                            None => o
                                .get("output")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                        };
                        prompt.push(role, text);
                    }
                    _ => {
                        return Err(OciError::invalid_parameter(format!(
                            "`input[{i}]` must be a string or an object."
                        )));
                    }
                }
            }
        }
        None | Some(Value::Null) => {
            return Err(OciError::invalid_parameter("`input` is required."));
        }
        Some(Value::String(_) | Value::Array(_)) => {
            return Err(OciError::invalid_parameter("`input` must not be empty."));
        }
        Some(_) => {
            return Err(OciError::invalid_parameter(
                "`input` must be a string or an array.",
            ));
        }
    }
    Ok(prompt)
}
