//! Classification of an attempt's response: the only place that knows what a status code,
//! a `Retry-After` header or an OCI error code means for a secret.

use std::time::Duration;

use crate::time::Timestamp;

/// Headers the engine reads (bindings may pass only these, or all headers): the retry hints,
/// the request id, and the token rate-limit headers the budget folds in.
pub const RELEVANT_HEADERS: [&str; 6] = [
    "retry-after",
    "retry-after-ms",
    "opc-request-id",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

/// Error codes that, with a 403, mean the credential itself was refused. `NotAuthorized` and
/// `NotAllowed` are not among them: they say a permission is missing, and both secrets of a
/// key carry the same permissions, so switching would only take the whole key offline.
pub const AUTH_ERROR_CODES: [&str; 4] = [
    "NotAuthenticated",
    "InvalidApiKey",
    "invalid_api_key",
    "ApiKeyRevoked",
];

/// Largest error body the engine inspects.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The facts of a response that the engine needs: status, headers, and (only when the
/// engine asks for it with [`Verdict::NeedBody`](crate::Verdict::NeedBody)) the error body.
#[derive(Clone, Debug, Default)]
pub struct ResponseFacts<'a> {
    /// HTTP status.
    pub status: u16,
    /// Response headers (any case); only [`RELEVANT_HEADERS`] are read.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The response body, when requested.
    pub body: Option<&'a [u8]>,
}

impl<'a> ResponseFacts<'a> {
    /// Facts with just a status.
    pub fn status(status: u16) -> Self {
        ResponseFacts {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Adds the body.
    pub fn with_body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// `retry-after-ms`, else `Retry-After` (delta-seconds or an HTTP date relative to `now`).
    pub fn retry_after(&self, now: Timestamp) -> Option<Duration> {
        if let Some(ms) = self
            .get("retry-after-ms")
            .and_then(|v| v.parse::<f64>().ok())
            && ms.is_finite()
            && ms >= 0.0
        {
            return Some(Duration::from_millis(ms as u64));
        }
        let v = self.get("retry-after")?;
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(secs) = v.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_millis((secs * 1000.0) as u64));
        }
        parse_http_date(v).map(|t| t.since(now))
    }

    /// The error code in an OCI (`{"code": ...}`) or OpenAI (`{"error": {"code"|"type": ...}}`)
    /// error body.
    pub fn error_code(&self) -> Option<String> {
        let body = self.body?;
        if body.len() > MAX_ERROR_BODY {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let pick =
            |o: &serde_json::Value, k: &str| o.get(k).and_then(|c| c.as_str()).map(str::to_string);
        pick(&v, "code").or_else(|| {
            let e = v.get("error")?;
            pick(e, "code").or_else(|| pick(e, "type"))
        })
    }
}

/// What a response means for the secret that was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// The service accepted the secret (2xx, 3xx, and 4xx other than rejections).
    Accepted,
    /// The service rejected the secret: switch, cool down, replay.
    Rejected,
    /// 429: limits are per key, not per secret; no switch.
    RateLimited(Option<Duration>),
    /// 5xx: not a secret problem; no switch, the SDK retries (`Retry-After` surfaced).
    ServerError(Option<Duration>),
    /// A 403 whose meaning depends on the body's error code.
    NeedBody,
}

/// Classifies a response (SPEC section 4). `now` is only read to resolve an HTTP-date
/// `Retry-After`.
pub fn classify(facts: &ResponseFacts<'_>, now: impl FnOnce() -> Timestamp) -> Class {
    match facts.status {
        401 => Class::Rejected,
        403 => match facts.body {
            None => Class::NeedBody,
            Some(_) => match facts.error_code() {
                Some(code) if AUTH_ERROR_CODES.contains(&code.as_str()) => Class::Rejected,
                _ => Class::Accepted,
            },
        },
        429 => Class::RateLimited(facts.retry_after(now())),
        500..=599 => Class::ServerError(facts.retry_after(now())),
        _ => Class::Accepted,
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(v: &str) -> Option<Timestamp> {
    use time::format_description::well_known::Rfc2822;
    let dt = time::OffsetDateTime::parse(&v.replace("GMT", "+0000"), &Rfc2822).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(Timestamp::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(784_111_777_000); // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn statuses_are_classified() {
        assert_eq!(
            classify(&ResponseFacts::status(200), || NOW),
            Class::Accepted
        );
        assert_eq!(
            classify(&ResponseFacts::status(404), || NOW),
            Class::Accepted
        );
        assert_eq!(
            classify(&ResponseFacts::status(401), || NOW),
            Class::Rejected
        );
        assert_eq!(
            classify(&ResponseFacts::status(403), || NOW),
            Class::NeedBody
        );
        assert_eq!(
            classify(&ResponseFacts::status(503), || NOW),
            Class::ServerError(None)
        );
        assert_eq!(
            classify(
                &ResponseFacts::status(429).header("Retry-After", "7"),
                || NOW
            ),
            Class::RateLimited(Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn forbidden_depends_on_the_code() {
        let oci = br#"{"code":"NotAuthenticated","message":"x"}"#;
        let openai = br#"{"error":{"code":"invalid_api_key","message":"x"}}"#;
        let policy = br#"{"code":"NotAllowed","message":"x"}"#;
        let f = |b: &'static [u8]| classify(&ResponseFacts::status(403).with_body(b), || NOW);
        assert_eq!(f(oci), Class::Rejected);
        assert_eq!(f(openai), Class::Rejected);
        assert_eq!(f(policy), Class::Accepted);
        assert_eq!(f(b"<html>"), Class::Accepted);
    }

    #[test]
    fn retry_after_forms() {
        let f = |k: &'static str, v: &'static str| {
            ResponseFacts::status(429).header(k, v).retry_after(NOW)
        };
        assert_eq!(
            f("retry-after-ms", "1500"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(f("Retry-After", "2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(
            f("retry-after", "Sun, 06 Nov 1994 08:50:37 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(f("retry-after", "soon"), None);
        assert_eq!(f("retry-after", "-3"), None);
    }
}
