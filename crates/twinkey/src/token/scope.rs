//! Which endpoint a relayed request calls, and whether a token's scope allows it: the model
//! read from the body, the endpoint read from the method and path, and the output-token cap
//! written into the body.

use serde_json::Value;

use super::claims::Scope;
use super::error::TokenErrorKind;
use super::strict_json;
use crate::error::{Error, Result};

/// An OpenAI-compatible endpoint the relay serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST chat/completions`.
    ChatCompletions,
    /// `POST responses`, `GET`/`DELETE responses/{id}`.
    Responses,
    /// `POST completions`.
    Completions,
    /// `POST embeddings`.
    Embeddings,
    /// `GET models`, `GET models/{id}`.
    Models,
}

impl Endpoint {
    /// The name used in a token's scope: `chat.completions`, `responses`, `completions`,
    /// `embeddings`, `models`.
    pub const fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completions",
            Endpoint::Responses => "responses",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Models => "models",
        }
    }

    /// The endpoint for a method and a path relative to the API root (`chat/completions`,
    /// `models/cohere.command-r`). Ids must be plain (`[A-Za-z0-9._:-]`), so a relayed path
    /// cannot climb out of the API root.
    pub fn from_request(method: &str, path: &str) -> Option<Endpoint> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut segs = path.split('/');
        let (first, second, third) = (segs.next(), segs.next(), segs.next());
        if third.is_some() {
            return None;
        }
        let plain = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
        };
        let method = method.to_ascii_uppercase();
        match (method.as_str(), first?, second) {
            ("POST", "chat", Some("completions")) => Some(Endpoint::ChatCompletions),
            ("POST", "responses", None) => Some(Endpoint::Responses),
            ("GET" | "DELETE", "responses", Some(id)) if plain(id) => Some(Endpoint::Responses),
            ("POST", "completions", None) => Some(Endpoint::Completions),
            ("POST", "embeddings", None) => Some(Endpoint::Embeddings),
            ("GET", "models", None) => Some(Endpoint::Models),
            ("GET", "models", Some(id)) if plain(id) => Some(Endpoint::Models),
            _ => None,
        }
    }

    /// Whether a request to it with this method carries a JSON body naming a `model` (only a
    /// POST does: `GET`/`DELETE /responses/{id}` have no body).
    pub fn has_model_body(self, method: &str) -> bool {
        !matches!(self, Endpoint::Models) && method.eq_ignore_ascii_case("POST")
    }

    /// The body fields asking for several choices, each with the whole output limit.
    pub const fn choice_fields(self) -> &'static [&'static str] {
        match self {
            Endpoint::ChatCompletions => &["n"],
            Endpoint::Completions => &["n", "best_of"],
            Endpoint::Responses | Endpoint::Embeddings | Endpoint::Models => &[],
        }
    }

    /// The query parameters the relay forwards for a method on it (anything else is
    /// refused): only reads of a stored response take any.
    pub fn allowed_query(self, method: &str) -> &'static [&'static str] {
        match self {
            Endpoint::Responses if method.eq_ignore_ascii_case("GET") => &[
                "include",
                "include[]",
                "stream",
                "starting_after",
                "include_obfuscation",
            ],
            _ => &[],
        }
    }

    /// The body fields that limit output tokens; the first is set when none is present.
    pub const fn output_limit_fields(self) -> &'static [&'static str] {
        match self {
            Endpoint::ChatCompletions => &["max_tokens", "max_completion_tokens"],
            Endpoint::Responses => &["max_output_tokens"],
            Endpoint::Completions => &["max_tokens"],
            Endpoint::Embeddings | Endpoint::Models => &[],
        }
    }
}

/// A request body after the scope check: the model it names and the body to forward.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopedBody {
    /// The `model` of the request, when it names one.
    pub model: Option<String>,
    /// The output-token limit now in the body, when the token caps it.
    pub max_output_tokens: Option<u32>,
    /// The body to forward (re-serialized from the parsed JSON, so what the upstream reads is
    /// exactly what was checked); `None` when the request has no body.
    pub body: Option<Vec<u8>>,
    /// The `previous_response_id` a Responses request continues from (its owner is checked).
    pub previous_response_id: Option<String>,
}

fn bad_request(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

/// Checks a request of `endpoint` with `body` against `scope`: the endpoint and the model must
/// be allowed (`TOKEN_SCOPE`), the body must be one JSON object without duplicate members
/// (`INVALID_REQUEST`), and output-token limits are lowered to the cap, or set when absent.
pub fn apply_scope(
    scope: &Scope,
    endpoint: Endpoint,
    method: &str,
    body: &[u8],
) -> Result<ScopedBody> {
    if !scope.allows_endpoint(endpoint.name()) {
        return Err(TokenErrorKind::Scope.err(format!(
            "endpoint {} is not in the token's scope",
            endpoint.name()
        )));
    }
    if !endpoint.has_model_body(method) {
        // A GET or DELETE carries no body: one sent anyway would reach the upstream unchecked.
        if !body.is_empty() {
            return Err(bad_request(format!(
                "a {} request to {} carries no body",
                method.to_ascii_uppercase(),
                endpoint.name()
            )));
        }
        return Ok(ScopedBody {
            model: None,
            max_output_tokens: None,
            body: None,
            previous_response_id: None,
        });
    }
    let mut value =
        strict_json::parse(body).map_err(|e| bad_request(format!("the request body: {e}")))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| bad_request("the request body is not a JSON object"))?;
    let model = match obj.get("model") {
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => return Err(bad_request("model is not a string")),
        None => None,
    };
    match &model {
        Some(m) if scope.allows_model(m) => {}
        Some(m) => {
            return Err(TokenErrorKind::Scope.err(format!(
                "model {:?} is not in the token's scope",
                m.chars().take(80).collect::<String>()
            )));
        }
        None if scope.allows_model("*") => {}
        None => {
            return Err(TokenErrorKind::Scope.err("the request names no model"));
        }
    }
    let previous_response_id = match obj.get("previous_response_id") {
        _ if endpoint != Endpoint::Responses => None,
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(bad_request("previous_response_id is not a string")),
    };
    let fields = endpoint.output_limit_fields();
    let mut applied = None;
    if let (Some(cap), Some(first)) = (scope.max_output_tokens, fields.first()) {
        // Each choice gets the whole limit: with a cap, one choice only.
        for f in endpoint.choice_fields() {
            match obj.get(*f) {
                None | Some(Value::Null) => {}
                Some(v) => match v.as_u64() {
                    Some(0 | 1) => {}
                    Some(n) => {
                        return Err(TokenErrorKind::Scope.err(format!(
                            "the token caps output at {cap} tokens per request; {f} = {n} would \
                             multiply it (ask for one choice)"
                        )));
                    }
                    None => return Err(bad_request(format!("{f} is not a non-negative integer"))),
                },
            }
        }
        let mut present = false;
        for f in fields {
            match obj.get(*f) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let asked = v
                        .as_u64()
                        .ok_or_else(|| bad_request(format!("{f} is not a non-negative integer")))?;
                    present = true;
                    if asked > u64::from(cap) {
                        obj.insert((*f).to_owned(), Value::from(cap));
                    }
                }
            }
        }
        if !present {
            obj.insert((*first).to_owned(), Value::from(cap));
        }
        applied = Some(cap);
    }
    let body = serde_json::to_vec(&value).map_err(|e| bad_request(e.to_string()))?;
    Ok(ScopedBody {
        model,
        max_output_tokens: applied,
        body: Some(body),
        previous_response_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_method_and_path() {
        let e = |m, p| Endpoint::from_request(m, p);
        assert_eq!(
            e("POST", "chat/completions"),
            Some(Endpoint::ChatCompletions)
        );
        assert_eq!(
            e("post", "chat/completions/"),
            Some(Endpoint::ChatCompletions)
        );
        assert_eq!(e("GET", "models/cohere.command-r"), Some(Endpoint::Models));
        assert_eq!(e("GET", "responses/resp_1"), Some(Endpoint::Responses));
        for (m, p) in [
            ("GET", "chat/completions"),
            ("POST", "models"),
            ("GET", "models/.."),
            ("GET", "models/a/b"),
            ("GET", "models/a%2Fb"),
            ("POST", "files"),
            ("POST", ""),
        ] {
            assert_eq!(e(m, p), None, "{m} {p}");
        }
    }

    #[test]
    fn scope_checks_model_and_endpoint_and_caps_output() {
        let scope =
            Scope::new(["m1"], ["chat.completions", "responses"]).with_max_output_tokens(100);
        let ok = apply_scope(
            &scope,
            Endpoint::ChatCompletions,
            "POST",
            br#"{"model":"m1","max_tokens":500,"max_completion_tokens":50}"#,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(ok.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            (
                body["max_tokens"].as_u64(),
                body["max_completion_tokens"].as_u64()
            ),
            (Some(100), Some(50))
        );
        let set = apply_scope(&scope, Endpoint::Responses, "POST", br#"{"model":"m1"}"#).unwrap();
        let body: Value = serde_json::from_slice(set.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["max_output_tokens"].as_u64(), Some(100));

        let code = |ep, b: &[u8]| apply_scope(&scope, ep, "POST", b).unwrap_err().code();
        assert_eq!(
            code(Endpoint::ChatCompletions, br#"{"model":"m2"}"#),
            "TOKEN_SCOPE"
        );
        assert_eq!(
            code(Endpoint::ChatCompletions, br#"{"messages":[]}"#),
            "TOKEN_SCOPE"
        );
        assert_eq!(
            code(Endpoint::Embeddings, br#"{"model":"m1"}"#),
            "TOKEN_SCOPE"
        );
        assert_eq!(
            code(Endpoint::ChatCompletions, br#"{"model":"m1","model":"m2"}"#),
            "INVALID_REQUEST"
        );
        assert_eq!(code(Endpoint::ChatCompletions, b"[]"), "INVALID_REQUEST");
        assert_eq!(code(Endpoint::ChatCompletions, b"{"), "INVALID_REQUEST");
        assert_eq!(
            code(
                Endpoint::ChatCompletions,
                br#"{"model":"m1","max_tokens":-1}"#
            ),
            "INVALID_REQUEST"
        );
        assert_eq!(
            code(Endpoint::ChatCompletions, br#"{"model":7}"#),
            "INVALID_REQUEST"
        );
    }

    #[test]
    fn wildcard_models_and_bodiless_endpoints() {
        let scope = Scope::new(["*"], ["models", "chat.completions", "responses"]);
        assert!(
            apply_scope(
                &scope,
                Endpoint::ChatCompletions,
                "POST",
                br#"{"model":"anything"}"#
            )
            .is_ok()
        );
        assert!(
            apply_scope(
                &scope,
                Endpoint::ChatCompletions,
                "POST",
                br#"{"messages":[]}"#
            )
            .is_ok()
        );
        let m = apply_scope(&scope, Endpoint::Models, "GET", b"").unwrap();
        let get = apply_scope(&scope, Endpoint::Responses, "GET", b"").unwrap();
        assert_eq!((get.model, get.body), (None, None));
        assert_eq!((m.model, m.body), (None, None));
    }
}
