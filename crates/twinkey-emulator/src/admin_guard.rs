//! The admin surface's guard. It hands out secret values and has no authentication, so it
//! answers only requests a local tool would send:
//!
//! - the `Host` is a loopback name (a page cannot reach it through DNS rebinding: a rebound
//!   name arrives with its own `Host`);
//! - a write (any method but `GET`/`HEAD`/`OPTIONS`) is refused when a browser says it comes
//!   from elsewhere (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not loopback), and
//!   when it carries a body that is not `Content-Type: application/json` (a cross-site form or
//!   `text/plain` POST needs no preflight; JSON does, and the emulator answers none).

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::oci_error::OciError;

/// Whether a host name (no port) is loopback.
fn is_loopback_name(name: &str) -> bool {
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// The host name of a `Host` value (`name[:port]` or `[v6][:port]`).
fn host_name(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    }
}

/// Whether an `Origin` is a loopback origin (`http(s)://loopback[:port]`).
fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https") && !rest.contains('/') && is_loopback_name(host_name(rest))
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// Why a request may not reach the admin surface (`None`: it may).
pub(crate) fn refusal(method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    if !is_loopback_name(host_name(header(headers, header::HOST).unwrap_or(""))) {
        return Some("the emulator's admin surface answers only to a loopback Host");
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if header(headers, header::HeaderName::from_static("sec-fetch-site"))
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return Some("the emulator's admin surface refuses cross-site writes");
    }
    if header(headers, header::ORIGIN).is_some_and(|o| !is_loopback_origin(o)) {
        return Some("the emulator's admin surface takes writes from a loopback Origin only");
    }
    let has_body = header(headers, header::TRANSFER_ENCODING).is_some()
        || header(headers, header::CONTENT_LENGTH).is_some_and(|n| n.trim() != "0");
    let json = header(headers, header::CONTENT_TYPE).is_some_and(|t| {
        let media = t.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case("application/json")
    });
    let typed = header(headers, header::CONTENT_TYPE).is_some();
    if (has_body || typed) && !json {
        return Some("writes to the emulator's admin surface need Content-Type: application/json");
    }
    None
}

/// The middleware around the admin routes.
pub(crate) async fn guard(req: Request, next: Next) -> Response {
    match refusal(req.method(), req.headers()) {
        None => next.run(req).await,
        Some(why) => OciError::new(StatusCode::FORBIDDEN, "NotAllowed", why).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn local_tools_pass() {
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(refusal(&Method::GET, &headers(&[host])), None);
        assert_eq!(
            refusal(
                &Method::POST,
                &headers(&[
                    host,
                    ("content-type", "application/json; charset=utf-8"),
                    ("content-length", "2")
                ])
            ),
            None
        );
        assert_eq!(
            refusal(&Method::DELETE, &headers(&[("host", "localhost")])),
            None
        );
        assert_eq!(
            refusal(
                &Method::POST,
                &headers(&[
                    ("host", "[::1]:9"),
                    ("origin", "http://localhost:5173"),
                    ("sec-fetch-site", "same-site"),
                    ("content-length", "0")
                ])
            ),
            None
        );
    }

    #[test]
    fn what_a_web_page_could_send_is_refused() {
        let host = ("host", "127.0.0.1:8080");
        for h in [
            vec![("host", "evil.example:8080")],
            vec![
                host,
                ("content-type", "text/plain"),
                ("content-length", "10"),
            ],
            vec![host, ("content-length", "10")],
            vec![host, ("content-type", "application/x-www-form-urlencoded")],
            vec![
                host,
                ("origin", "https://evil.example"),
                ("content-type", "application/json"),
            ],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "http://127.0.0.1.evil.example")],
            vec![
                host,
                ("sec-fetch-site", "cross-site"),
                ("content-type", "application/json"),
            ],
        ] {
            assert!(refusal(&Method::POST, &headers(&h)).is_some(), "{h:?}");
        }
        assert!(
            refusal(
                &Method::GET,
                &headers(&[("host", "evil.example"), ("origin", "https://evil.example")])
            )
            .is_some()
        );
    }
}
