//! Reading token usage out of response bodies: a non-streamed JSON body, a Chat Completions
//! stream's final chunk (`stream_options.include_usage`) and a Responses API stream's terminal
//! `response.completed` / `response.incomplete` / `response.failed` event.
//!
//! Both OpenAI shapes are understood: `prompt_tokens`/`completion_tokens` (Chat Completions,
//! embeddings) and `input_tokens`/`output_tokens` (Responses API). Anything else is "no usage",
//! never a guess.

use serde::Deserialize;

use crate::stream::SseEvent;

/// Largest body [`usage_from_body`] parses; a larger body is counted as "no usage".
pub const MAX_USAGE_BODY: usize = 16 << 20;

/// Which API a request went to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `.../chat/completions`.
    ChatCompletions,
    /// `.../responses` (and `.../responses/{id}`).
    Responses,
    /// Anything else (embeddings, models, ...).
    #[default]
    Other,
}

impl Endpoint {
    /// The endpoint of a request path or URL (query and fragment ignored).
    pub fn for_path(path: &str) -> Endpoint {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_end_matches('/');
        if path.ends_with("/chat/completions") || path == "chat/completions" {
            return Endpoint::ChatCompletions;
        }
        let mut parts = path.rsplit('/');
        let last = parts.next().unwrap_or_default();
        let before = parts.next().unwrap_or_default();
        if last == "responses" || (before == "responses" && !last.is_empty()) {
            Endpoint::Responses
        } else {
            Endpoint::Other
        }
    }

    /// `chat_completions`, `responses` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Responses => "responses",
            Endpoint::Other => "other",
        }
    }

    /// Parses [`Endpoint::as_str`]'s words.
    pub fn parse(text: &str) -> Option<Endpoint> {
        match text {
            "chat_completions" => Some(Endpoint::ChatCompletions),
            "responses" => Some(Endpoint::Responses),
            "other" => Some(Endpoint::Other),
            _ => None,
        }
    }

    /// The OpenTelemetry GenAI `gen_ai.operation.name` of the endpoint.
    pub fn operation_name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat",
            Endpoint::Responses => "generate_content",
            Endpoint::Other => "other",
        }
    }
}

/// Tokens one request used, as the service reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
    /// Total tokens (the service's figure; input + output when it gave none).
    pub total_tokens: u64,
}

impl Usage {
    /// Usage from input and output counts (total = their sum).
    pub fn new(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
        }
    }
}

/// What a response body says about the request: the model that answered and its usage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyFacts {
    /// `model` of the response, when given.
    pub model: Option<String>,
    /// `usage`, when given and well formed.
    pub usage: Option<Usage>,
}

#[derive(Deserialize)]
struct RawUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    total_tokens: Option<u64>,
}

impl RawUsage {
    fn usage(&self) -> Option<Usage> {
        let input = self.input_tokens.or(self.prompt_tokens);
        let output = self.output_tokens.or(self.completion_tokens);
        match (input, output, self.total_tokens) {
            (None, None, None) => None,
            (i, o, t) => {
                let (i, o) = (i.unwrap_or(0), o.unwrap_or(0));
                Some(Usage {
                    input_tokens: i,
                    output_tokens: o,
                    total_tokens: t.unwrap_or(i.saturating_add(o)),
                })
            }
        }
    }
}

#[derive(Deserialize)]
struct RawBody {
    model: Option<serde_json::Value>,
    usage: Option<serde_json::Value>,
    response: Option<serde_json::Value>,
}

impl RawBody {
    fn facts(&self) -> BodyFacts {
        let model = self
            .model
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        let usage = self
            .usage
            .as_ref()
            .filter(|u| u.is_object())
            .and_then(|u| RawUsage::deserialize(u).ok())
            .and_then(|u| u.usage());
        BodyFacts { model, usage }
    }
}

/// Parses a JSON object (serde would also read a struct out of an array). The text must be
/// UTF-8 throughout, as JSON is: serde skips the fields it ignores without checking them, so a
/// body with a stray byte in an ignored key would otherwise yield usage no JSON parser sees.
fn parse_object(text: &[u8]) -> Option<RawBody> {
    let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_str::<RawBody>(std::str::from_utf8(text).ok()?).ok()
}

/// The model and usage of a non-streamed JSON response body (Chat Completions, Responses,
/// embeddings). A body that is not a JSON object, or has no well-formed `usage`, has none.
pub fn usage_from_body(body: &[u8]) -> BodyFacts {
    if body.len() > MAX_USAGE_BODY {
        return BodyFacts::default();
    }
    parse_object(body).map(|b| b.facts()).unwrap_or_default()
}

/// Collects model and usage from a streamed response's events, as a binding's stream
/// monitor dispatches them.
#[derive(Clone, Debug, Default)]
pub struct StreamUsage {
    facts: BodyFacts,
}

impl StreamUsage {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks at one dispatched event. Chat chunks are parsed only when they mention a usage
    /// object (the final `include_usage` chunk) or until the model is known; Responses events
    /// only when terminal (their `response` carries model and usage).
    pub fn observe(&mut self, event: &SseEvent) {
        let data = event.data.as_str();
        let name = event.event.as_deref();
        let terminal = |n: &str| {
            matches!(
                n,
                "response.completed" | "response.incomplete" | "response.failed"
            )
        };
        let is_responses_terminal = name.is_some_and(terminal)
            || (name.is_none()
                && (data.contains("\"response.completed\"")
                    || data.contains("\"response.incomplete\"")
                    || data.contains("\"response.failed\"")));
        if is_responses_terminal {
            if let Some(raw) = parse_object(data.as_bytes())
                && let Some(inner @ serde_json::Value::Object(_)) = &raw.response
                && let Ok(inner) = RawBody::deserialize(inner)
            {
                let f = inner.facts();
                self.merge(f);
            }
            return;
        }
        if name.is_some_and(|n| n.starts_with("response.")) {
            return;
        }
        let wants_model = self.facts.model.is_none() && data.contains("\"model\"");
        if !(wants_model || data.contains("\"usage\":{") || data.contains("\"usage\": {")) {
            return;
        }
        if let Some(raw) = parse_object(data.as_bytes()) {
            let f = raw.facts();
            self.merge(f);
        }
    }

    fn merge(&mut self, f: BodyFacts) {
        if self.facts.model.is_none() {
            self.facts.model = f.model;
        }
        if f.usage.is_some() {
            self.facts.usage = f.usage;
        }
    }

    /// What the stream said so far.
    pub fn facts(&self) -> &BodyFacts {
        &self.facts
    }

    /// The usage, when the stream reported one.
    pub fn usage(&self) -> Option<Usage> {
        self.facts.usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_utf8_has_no_usage() {
        // Found by the usage_readers fuzz target: invalid UTF-8 inside a key serde ignores.
        // (The shared vectors are JSON text, which cannot carry such a body.)
        let body = b"{\"model\":\"m\",\"x\":[{\"r\xd9le\":1}],\"usage\":{\"prompt_tokens\":1}}";
        assert_eq!(usage_from_body(body), BodyFacts::default());
        let fine = b"{\"model\":\"m\",\"x\":[{\"r\xc3\xb4le\":1}],\"usage\":{\"prompt_tokens\":1}}";
        assert_eq!(usage_from_body(fine).model.as_deref(), Some("m"));
    }

    #[test]
    fn endpoints_by_path() {
        let e = Endpoint::for_path;
        assert_eq!(e("/openai/v1/chat/completions"), Endpoint::ChatCompletions);
        assert_eq!(
            e("/openai/v1/chat/completions/?x=1"),
            Endpoint::ChatCompletions
        );
        assert_eq!(e("/openai/v1/responses"), Endpoint::Responses);
        assert_eq!(e("/openai/v1/responses/resp_1"), Endpoint::Responses);
        assert_eq!(e("/openai/v1/embeddings"), Endpoint::Other);
        assert_eq!(e(""), Endpoint::Other);
    }

    #[test]
    fn both_usage_shapes() {
        let chat =
            br#"{"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#;
        assert_eq!(usage_from_body(chat).usage, Some(Usage::new(3, 4)));
        let resp = br#"{"model":"m","usage":{"input_tokens":5,"output_tokens":6}}"#;
        assert_eq!(usage_from_body(resp).usage, Some(Usage::new(5, 6)));
        assert_eq!(usage_from_body(b"{}").usage, None);
        assert_eq!(usage_from_body(b"[1]").usage, None);
        assert_eq!(usage_from_body(br#"{"usage":null}"#).usage, None);
        assert_eq!(
            usage_from_body(br#"{"usage":{"prompt_tokens":-1}}"#).usage,
            None
        );
    }
}
