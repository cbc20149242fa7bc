//! What a request will probably cost, before it is sent: the TPM budget admits on this
//! estimate and corrects it with the real usage when the response ends.
//!
//! The prompt is estimated conservatively from the text in the request body: one token per
//! three characters (tokenizers average about four), at least one per word, plus four per
//! message for the chat template. The output is the request's own cap (`max_completion_tokens`,
//! `max_tokens` or `max_output_tokens`, times `n` choices), or the configured default when it
//! sets none.

use serde_json::Value;

use super::extract::Endpoint;

/// Output tokens assumed for a request that sets no cap (see
/// [`BudgetOptions::default_output_tokens`](crate::budget::BudgetOptions::default_output_tokens)).
pub const DEFAULT_OUTPUT_TOKENS: u64 = 1024;

/// Largest body that is parsed for an estimate; a larger one is estimated from its size.
pub const MAX_ESTIMATE_BODY: usize = 16 << 20;

/// Tokens added per chat message for the template.
const PER_MESSAGE: u64 = 4;

/// What the core reads from a request before it is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// The endpoint, from the path.
    pub endpoint: Endpoint,
    /// `model`, when the body names one.
    pub model: Option<String>,
    /// `stream: true`.
    pub stream: bool,
    /// Estimated prompt tokens.
    pub prompt_tokens: u64,
    /// The output cap of the request (× `n`), when it sets one.
    pub output_cap: Option<u64>,
    /// Prompt estimate + output cap (or the default): what the budget admits on.
    pub estimate: u64,
}

/// The facts of a request to `path` with this body (JSON, or anything: a body that is not a
/// JSON object is estimated from its size and has no model).
pub fn request_facts(path: &str, body: &[u8], default_output_tokens: u64) -> RequestFacts {
    let endpoint = Endpoint::for_path(path);
    let parsed = if body.len() <= MAX_ESTIMATE_BODY {
        serde_json::from_slice::<Value>(body).ok()
    } else {
        None
    };
    let Some(Value::Object(map)) = parsed else {
        let bytes = u64::try_from(body.len()).unwrap_or(u64::MAX);
        let prompt = bytes.div_ceil(3);
        let output = if body.is_empty() && endpoint == Endpoint::Other {
            0
        } else {
            default_output_tokens
        };
        return RequestFacts {
            endpoint,
            prompt_tokens: prompt,
            estimate: prompt.saturating_add(output),
            ..RequestFacts::default()
        };
    };
    let model = map.get("model").and_then(Value::as_str).map(str::to_string);
    let stream = map.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let mut prompt = 0u64;
    for (field, value) in &map {
        if matches!(field.as_str(), "model" | "stream" | "user" | "metadata") {
            continue;
        }
        prompt = prompt.saturating_add(text_tokens(value));
    }
    for list in ["messages", "input"] {
        if let Some(Value::Array(items)) = map.get(list) {
            let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
            prompt = prompt.saturating_add(n.saturating_mul(PER_MESSAGE));
        }
    }
    let cap = ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|f| map.get(*f).and_then(Value::as_u64));
    let choices = ["n", "best_of"]
        .iter()
        .filter_map(|f| map.get(*f).and_then(Value::as_u64))
        .max()
        .unwrap_or(1)
        .max(1);
    let output_cap = cap.map(|c| c.saturating_mul(choices));
    let output = match (output_cap, endpoint) {
        (Some(c), _) => c,
        // Embeddings and other endpoints without a generated output.
        (None, Endpoint::Other) if !map.contains_key("messages") => 0,
        (None, _) => default_output_tokens.saturating_mul(choices),
    };
    RequestFacts {
        endpoint,
        model,
        stream,
        prompt_tokens: prompt,
        output_cap,
        estimate: prompt.saturating_add(output),
    }
}

/// Tokens of the text in a JSON value: strings count, keys and numbers do not.
fn text_tokens(value: &Value) -> u64 {
    match value {
        Value::String(s) => string_tokens(s),
        Value::Array(items) => items
            .iter()
            .fold(0u64, |n, v| n.saturating_add(text_tokens(v))),
        Value::Object(map) => map
            .values()
            .fold(0u64, |n, v| n.saturating_add(text_tokens(v))),
        _ => 0,
    }
}

fn string_tokens(s: &str) -> u64 {
    let chars = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
    let words = u64::try_from(s.split_whitespace().count()).unwrap_or(u64::MAX);
    chars.div_ceil(3).max(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_request_estimate() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"Hello there, friend"}],"max_tokens":20,"n":2}"#;
        let f = request_facts("/openai/v1/chat/completions", body, 1024);
        assert_eq!(f.model.as_deref(), Some("m"));
        // "user" 2 + "Hello there, friend" (19 chars) 7 + 4 per message; output 20 × 2.
        assert_eq!(f.prompt_tokens, 13);
        assert_eq!(f.output_cap, Some(40));
        assert_eq!(f.estimate, 53);
    }

    #[test]
    fn no_cap_uses_the_default_and_bad_json_the_size() {
        let f = request_facts("/v1/responses", br#"{"model":"m","input":"abc"}"#, 100);
        assert_eq!(f.estimate, 1 + 100);
        let f = request_facts("/v1/responses", b"not json at all", 100);
        assert_eq!(f.estimate, 5 + 100);
        assert_eq!(f.model, None);
    }
}
