//! The relay's CORS policy, sans I/O: which browser origins may call it, and the headers of a
//! preflight answer and of every answer to an allowed origin.

use super::error::TokenErrorKind;
use crate::error::Result;

/// Methods the relay serves.
pub const ALLOWED_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Response headers a page may read: the relay's error code and budget, the service's request
/// ids and rate-limit hints.
pub const EXPOSED_HEADERS: &str = "x-twinkey-error, x-twinkey-budget-remaining, opc-request-id, \
                                   x-request-id, retry-after, retry-after-ms";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE: u32 = 600;
const MAX_REQUESTED_HEADERS: usize = 32;

/// The browser origins allowed to call the relay (exact `scheme://host[:port]` matches, or
/// `*` for any).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any: bool,
}

/// A header to add to an answer.
pub type Header = (&'static str, String);

fn origin_err(reason: String) -> crate::error::Error {
    TokenErrorKind::Origin.err(reason)
}

impl CorsPolicy {
    /// A policy allowing these origins. Each is `*` or `scheme://host[:port]` (no path);
    /// `INVALID_OPTIONS` otherwise.
    pub fn new<I, S>(origins: I) -> Result<CorsPolicy>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut policy = CorsPolicy::default();
        for o in origins {
            let o: String = o.into();
            if o == "*" {
                policy.any = true;
                continue;
            }
            let lower = o.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"));
            let ok = rest.is_some_and(|host| {
                !host.is_empty()
                    && !host.contains('/')
                    && !host.chars().any(|c| c.is_whitespace() || c.is_control())
            });
            if !ok {
                return Err(crate::error::Error::InvalidOptions {
                    reason: format!(
                        "CORS origin {o:?} must be * or scheme://host[:port] without a path"
                    ),
                });
            }
            policy.origins.push(lower);
        }
        Ok(policy)
    }

    /// Checks a request's `Origin`. `Ok(None)`: no `Origin` (not a cross-origin browser
    /// request; nothing to add). `Ok(Some(value))`: the `Access-Control-Allow-Origin` value.
    /// `ORIGIN_NOT_ALLOWED` otherwise.
    pub fn check(&self, origin: Option<&str>) -> Result<Option<String>> {
        let Some(origin) = origin else {
            return Ok(None);
        };
        if self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Ok(Some(origin.to_owned()))
        } else {
            Err(origin_err(format!(
                "origin {:?} may not call this relay (start it with --cors-origin)",
                origin.chars().take(100).collect::<String>()
            )))
        }
    }

    /// Headers for every answer to an allowed origin.
    pub fn response_headers(&self, allow_origin: &str) -> Vec<Header> {
        vec![
            ("access-control-allow-origin", allow_origin.to_owned()),
            ("access-control-expose-headers", EXPOSED_HEADERS.to_owned()),
            ("vary", "Origin".to_owned()),
        ]
    }

    /// Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`): the headers of a
    /// 204, or `ORIGIN_NOT_ALLOWED`. Requested headers are allowed when they are valid header
    /// names (the OpenAI SDKs send their own `x-stainless-*` headers).
    pub fn preflight(
        &self,
        origin: Option<&str>,
        requested_headers: Option<&str>,
    ) -> Result<Vec<Header>> {
        let Some(allow) = self.check(origin)? else {
            return Err(origin_err("a preflight without an Origin".into()));
        };
        let mut allowed = vec!["authorization".to_owned(), "content-type".to_owned()];
        for h in requested_headers
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .take(MAX_REQUESTED_HEADERS)
        {
            let token = h.len() <= 64
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if token && !allowed.contains(&h) {
                allowed.push(h);
            }
        }
        let mut headers = self.response_headers(&allow);
        headers.push(("access-control-allow-methods", ALLOWED_METHODS.to_owned()));
        headers.push(("access-control-allow-headers", allowed.join(", ")));
        headers.push(("access-control-max-age", PREFLIGHT_MAX_AGE.to_string()));
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_validated() {
        let p = CorsPolicy::new(["http://127.0.0.1:5173", "https://App.example"]).unwrap();
        assert_eq!(p.check(None).unwrap(), None);
        assert_eq!(
            p.check(Some("https://app.example")).unwrap().as_deref(),
            Some("https://app.example")
        );
        for bad in ["http://127.0.0.1:5174", "https://app.example.evil", "null"] {
            assert_eq!(p.check(Some(bad)).unwrap_err().code(), "ORIGIN_NOT_ALLOWED");
        }
        for bad in ["127.0.0.1", "http://a/b", "ftp://x", "http://"] {
            assert!(CorsPolicy::new([bad]).is_err(), "{bad}");
        }
        assert!(CorsPolicy::new(["*"]).unwrap().check(Some("null")).is_ok());
    }

    #[test]
    fn preflight_reflects_valid_requested_headers_only() {
        let p = CorsPolicy::new(["http://localhost:8000"]).unwrap();
        let h = p
            .preflight(
                Some("http://localhost:8000"),
                Some("Authorization, x-stainless-os, bad header, x\r\ny"),
            )
            .unwrap();
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(
            get("access-control-allow-headers"),
            Some("authorization, content-type, x-stainless-os")
        );
        assert_eq!(
            get("access-control-allow-origin"),
            Some("http://localhost:8000")
        );
        assert!(p.preflight(Some("http://evil"), None).is_err());
        assert!(p.preflight(None, None).is_err());
    }
}
