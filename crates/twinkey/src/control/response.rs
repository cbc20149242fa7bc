//! Reading control-plane answers: `ApiKey` documents, `ApiKeyCollection`s, and OCI error
//! bodies (`{"code", "message"}`) as [`Error::Service`].

use serde_json::Value;

use crate::error::{Error, Result};
use crate::json::NoSource;
use crate::key::ApiKey;

/// Longest service message kept in an error (longer ones are cut).
const MAX_MESSAGE: usize = 512;

/// Parses an `ApiKey` answer as-is. Secret values (`key`, only in Create and Renew answers)
/// are taken literally, never resolved as `env:`/`file:` references.
pub fn parse_api_key(body: &str) -> Result<ApiKey> {
    ApiKey::from_json_with(body, &NoSource)
}

/// Parses an `ApiKeyCollection` (`{"items": [ApiKeySummary]}`).
pub fn parse_collection(body: &str) -> Result<Vec<ApiKey>> {
    let value: Value = serde_json::from_str(body).map_err(|e| Error::InvalidKey {
        reason: format!(
            "the list answer is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ),
    })?;
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::InvalidKey {
            reason: "the list answer has no items array".into(),
        })?;
    items
        .iter()
        .map(|item| ApiKey::from_json_with(&item.to_string(), &NoSource))
        .collect()
}

fn cut(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The error of a non-2xx answer: OCI's `{"code", "message"}` when the body has them (an
/// OpenAI-style `{"error": {"code"|"type", "message"}}` is read too), else code `Unknown`
/// and the status text. `request_id` is the answer's `opc-request-id`.
pub fn service_error(status: u16, body: &[u8], request_id: Option<&str>) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let obj = parsed.as_ref().and_then(|v| match v.get("error") {
        Some(e) if e.is_object() => Some(e),
        _ => v.is_object().then_some(v),
    });
    let field = |name: &str| obj.and_then(|o| o.get(name)).and_then(Value::as_str);
    let code = field("code").or_else(|| field("type")).map(str::to_string);
    let message = field("message").map(cut);
    let (oci_code, message) = match (code, message) {
        (Some(c), Some(m)) => (c, m),
        (Some(c), None) => (c, format!("HTTP {status}")),
        (None, Some(m)) => ("Unknown".to_string(), m),
        (None, None) => ("Unknown".to_string(), format!("HTTP {status}")),
    };
    Error::Service {
        status,
        oci_code: cut(&oci_code),
        message,
        request_id: request_id
            .filter(|r| !r.is_empty())
            .unwrap_or("-")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn oci_and_openai_bodies() {
        let e = service_error(
            409,
            br#"{"code":"IncorrectState","message":"busy"}"#,
            Some("RID"),
        );
        assert_eq!(
            e,
            Error::Service {
                status: 409,
                oci_code: "IncorrectState".into(),
                message: "busy".into(),
                request_id: "RID".into()
            }
        );
        let e = service_error(
            401,
            br#"{"error":{"type":"invalid_api_key","message":"no"}}"#,
            None,
        );
        assert!(
            matches!(e, Error::Service { ref oci_code, ref request_id, .. } if oci_code == "invalid_api_key" && request_id == "-")
        );
        let e = service_error(502, b"<html>bad gateway</html>", Some(""));
        assert!(
            matches!(e, Error::Service { ref oci_code, ref message, .. } if oci_code == "Unknown" && message == "HTTP 502")
        );
        let long = format!(r#"{{"code":"X","message":"{}"}}"#, "m".repeat(5000));
        let e = service_error(400, long.as_bytes(), None);
        assert!(e.to_string().len() < 700);
    }

    #[test]
    fn collections_and_keys_parse_as_is() {
        let body = r#"{"items":[{"id":"ocid1.generativeaiapikey.oc1.us-chicago-1.a","displayName":"d",
            "keys":[{"keyName":"key-one","keyMask":"sk-...abcd","state":"ACTIVE"},
                    {"keyName":"key-two","keyMask":"sk-...wxyz","state":"INACTIVE"}]}]}"#;
        let keys = parse_collection(body).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].region.as_deref(), Some("us-chicago-1"));
        assert_eq!(parse_collection("[]").unwrap_err().code(), "INVALID_KEY");
        let created = r#"{"keys":[{"keyName":"a","key":"env:HOME","state":"ACTIVE"},
                                  {"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#;
        // A service value is never resolved as a reference.
        assert_eq!(
            parse_api_key(created).unwrap_err().code(),
            "SECRET_REF_UNRESOLVED"
        );
    }
}
