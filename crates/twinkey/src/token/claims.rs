//! Token claims (RFC 7519 registered claims plus twinkey's scope claim `twk`) and their strict
//! reading from a verified payload.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::error::TokenErrorKind;
use crate::error::Result;

/// The name of twinkey's scope claim.
pub const SCOPE_CLAIM: &str = "twk";

/// The endpoints a token can allow, by name (see [`Endpoint`](super::Endpoint)).
pub const ENDPOINT_NAMES: [&str; 5] = [
    "chat.completions",
    "responses",
    "completions",
    "embeddings",
    "models",
];

/// The largest NumericDate accepted (9999-12-31T23:59:59Z), so time arithmetic never overflows.
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// What a token allows (claim `twk`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Allowed model ids (exact match); `"*"` allows any model.
    pub models: Vec<String>,
    /// Allowed endpoints, by name: `chat.completions`, `responses`, `completions`,
    /// `embeddings`, `models`.
    pub endpoints: Vec<String>,
    /// Output-token cap per request; the relay lowers (or sets) the request's own limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// How many requests the token may make in its lifetime (counted per `jti`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
}

impl Scope {
    /// A scope allowing these models on these endpoints, with no caps.
    pub fn new<M, E>(models: M, endpoints: E) -> Self
    where
        M: IntoIterator,
        M::Item: Into<String>,
        E: IntoIterator,
        E::Item: Into<String>,
    {
        Scope {
            models: models.into_iter().map(Into::into).collect(),
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            max_output_tokens: None,
            max_requests: None,
        }
    }

    /// Sets the output-token cap per request.
    pub fn with_max_output_tokens(mut self, cap: u32) -> Self {
        self.max_output_tokens = Some(cap);
        self
    }

    /// Sets the request budget.
    pub fn with_max_requests(mut self, budget: u32) -> Self {
        self.max_requests = Some(budget);
        self
    }

    /// Whether `model` is allowed.
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == "*" || m == model)
    }

    /// Whether the endpoint named `name` is allowed.
    pub fn allows_endpoint(&self, name: &str) -> bool {
        self.endpoints.iter().any(|e| e == name)
    }

    /// Checks a scope about to be minted: non-empty lists, known endpoint names, non-zero caps.
    pub(crate) fn validate_for_mint(&self) -> Result<()> {
        let bad = |why: String| Err(TokenErrorKind::InvalidRequest.err(why));
        if self.models.is_empty() || self.models.iter().any(|m| m.is_empty()) {
            return bad("the scope needs at least one model (or \"*\") and no empty names".into());
        }
        if self.endpoints.is_empty() {
            return bad("the scope needs at least one endpoint".into());
        }
        if let Some(e) = self
            .endpoints
            .iter()
            .find(|e| !ENDPOINT_NAMES.contains(&e.as_str()))
        {
            return bad(format!(
                "unknown endpoint {e:?} (known: {})",
                ENDPOINT_NAMES.join(", ")
            ));
        }
        if self.max_output_tokens == Some(0) || self.max_requests == Some(0) {
            return bad("max_output_tokens and max_requests must be at least 1".into());
        }
        Ok(())
    }
}

/// The claims of a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// `iss`: who minted it.
    pub issuer: String,
    /// `sub`: whom it was minted for (the app's user).
    pub subject: String,
    /// `aud`: the relays it is meant for (one string on the wire when there is one).
    pub audience: Vec<String>,
    /// `iat`, seconds since the epoch.
    pub issued_at: i64,
    /// `nbf`, seconds since the epoch.
    pub not_before: Option<i64>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// `jti`: the token's unique id (the request budget is counted per `jti`).
    pub token_id: String,
    /// `twk`: what the token allows.
    pub scope: Scope,
}

/// The wire form, in the member order twinkey writes.
#[derive(Serialize)]
struct Wire<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: WireAud<'a>,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    exp: i64,
    jti: &'a str,
    twk: &'a Scope,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireAud<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl Claims {
    /// The compact JSON payload, members in the order `iss, sub, aud, iat, nbf, exp, jti, twk`.
    pub fn to_json(&self) -> String {
        let aud = match self.audience.as_slice() {
            [one] => WireAud::One(one),
            many => WireAud::Many(many),
        };
        let wire = Wire {
            iss: &self.issuer,
            sub: &self.subject,
            aud,
            iat: self.issued_at,
            nbf: self.not_before,
            exp: self.expires_at,
            jti: &self.token_id,
            twk: &self.scope,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Reads claims from a verified payload (JSON bytes): every required claim present with
    /// its type; a claim twinkey reads given twice is refused; other members are ignored.
    pub(crate) fn from_payload(payload: &[u8]) -> Result<Claims> {
        if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("the payload is not a JSON object"));
        }
        let w: WirePayload = serde_json::from_slice(payload)
            .map_err(|e| invalid(format!("the payload: {}", super::strict_json::describe(&e))))?;
        let string = |v: Option<String>, name: &str| match v {
            Some(s) if has_control(&s) => Err(invalid(format!(
                "claim {name} holds a control character (newline, escape, ...)"
            ))),
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(invalid(format!("claim {name} is not a non-empty string"))),
            None => Err(invalid(format!("claim {name} is missing"))),
        };
        let date = |v: Option<i64>, name: &str| match v {
            Some(n) if (0..=MAX_NUMERIC_DATE).contains(&n) => Ok(Some(n)),
            Some(_) => Err(invalid(format!("claim {name} is not a NumericDate"))),
            None => Ok(None),
        };
        let audience = match w.aud {
            Some(Audience(a)) if !a.is_empty() => a,
            Some(_) => return Err(invalid("claim aud is an empty list")),
            None => return Err(invalid("claim aud is missing")),
        };
        if audience.iter().any(|a| has_control(a)) {
            return Err(invalid("claim aud holds a control character"));
        }
        let scope = w
            .twk
            .ok_or_else(|| invalid(format!("claim {SCOPE_CLAIM} is missing")))?;
        if scope
            .models
            .iter()
            .chain(scope.endpoints.iter())
            .any(|m| has_control(m))
        {
            return Err(invalid(format!(
                "claim {SCOPE_CLAIM} holds a control character"
            )));
        }
        Ok(Claims {
            issuer: string(w.iss, "iss")?,
            subject: string(w.sub, "sub")?,
            audience,
            issued_at: date(w.iat, "iat")?.ok_or_else(|| invalid("claim iat is missing"))?,
            not_before: date(w.nbf, "nbf")?,
            expires_at: date(w.exp, "exp")?.ok_or_else(|| invalid("claim exp is missing"))?,
            token_id: string(w.jti, "jti")?,
            scope: Scope {
                models: scope.models,
                endpoints: scope.endpoints,
                max_output_tokens: scope.max_output_tokens,
                max_requests: scope.max_requests,
            },
        })
    }
}

/// Whether a claim value holds a control character (C0, DEL, C1: newlines, ANSI escapes),
/// which could forge log lines where it is written.
pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The payload as read: typed, so a known claim given twice is an error and unknown members
/// are skipped without being kept.
#[derive(Deserialize)]
struct WirePayload {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    twk: Option<WireScope>,
}

#[derive(Deserialize)]
struct WireScope {
    models: Vec<String>,
    endpoints: Vec<String>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
    #[serde(default)]
    max_requests: Option<u32>,
}

/// `aud`: one string or a list of strings.
struct Audience(Vec<String>);

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Audience, E> {
                Ok(Audience(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Audience, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Audience(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn invalid(reason: impl Into<String>) -> crate::error::Error {
    TokenErrorKind::Invalid.err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            issuer: "app".into(),
            subject: "user-1".into(),
            audience: vec!["relay".into()],
            issued_at: 100,
            not_before: None,
            expires_at: 700,
            token_id: "j1".into(),
            scope: Scope::new(["m"], ["chat.completions"]).with_max_requests(3),
        }
    }

    #[test]
    fn writes_members_in_a_fixed_order_and_reads_them_back() {
        let c = claims();
        let json = c.to_json();
        assert_eq!(
            json,
            r#"{"iss":"app","sub":"user-1","aud":"relay","iat":100,"exp":700,"jti":"j1","twk":{"models":["m"],"endpoints":["chat.completions"],"max_requests":3}}"#
        );
        let back = Claims::from_payload(json.as_bytes()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn several_audiences_are_a_list() {
        let mut c = claims();
        c.audience = vec!["a".into(), "b".into()];
        assert!(c.to_json().contains(r#""aud":["a","b"]"#));
    }

    #[test]
    fn ill_typed_claims_are_invalid_token() {
        let cases = [
            r#"{"iss":"a","sub":"s","aud":"r","iat":1,"exp":2,"jti":"j"}"#,
            r#"{"iss":"a","sub":"s","aud":"r","iat":1.5,"exp":2,"jti":"j","twk":{"models":[],"endpoints":[]}}"#,
            r#"{"iss":"a","sub":"s","aud":7,"iat":1,"exp":2,"jti":"j","twk":{"models":[],"endpoints":[]}}"#,
            r#"{"iss":"a","sub":"","aud":"r","iat":1,"exp":2,"jti":"j","twk":{"models":[],"endpoints":[]}}"#,
            r#"{"iss":"a","sub":"s","aud":"r","iat":-1,"exp":2,"jti":"j","twk":{"models":[],"endpoints":[]}}"#,
            r#"{"iss":"a","sub":"s","aud":"r","iat":1,"exp":2,"jti":"j","twk":{"models":["m"],"endpoints":["x"],"max_requests":-1}}"#,
            r#"[1]"#,
        ];
        for c in cases {
            let e = Claims::from_payload(c.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "INVALID_TOKEN", "{c}");
        }
    }

    #[test]
    fn mint_validation_refuses_empty_or_unknown_scope() {
        assert!(
            Scope::new(["m"], ["chat.completions"])
                .validate_for_mint()
                .is_ok()
        );
        for s in [
            Scope::new(Vec::<String>::new(), ["chat.completions"]),
            Scope::new(["m"], Vec::<String>::new()),
            Scope::new(["m"], ["chat/completions"]),
            Scope::new(["m"], ["models"]).with_max_requests(0),
        ] {
            assert_eq!(
                s.validate_for_mint().unwrap_err().code(),
                "INVALID_TOKEN_REQUEST"
            );
        }
    }
}
