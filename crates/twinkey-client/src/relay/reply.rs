//! Building the relay's answers: its own errors (OpenAI's shape, `x-twinkey-error`), the
//! upstream headers passed back and CORS headers (bodies are filtered by `filtered`).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use twinkey::Error;
use twinkey::token::{ERROR_HEADER, ErrorReply, Header, error_reply, error_reply_with_status};

/// Upstream response headers passed back to the caller (everything else is dropped).
const PASSED_BACK: [&str; 7] = [
    "content-type",
    "cache-control",
    "opc-request-id",
    "x-request-id",
    "retry-after",
    "retry-after-ms",
    "openai-processing-ms",
];

/// The header with the requests left in the token's budget.
pub(crate) const BUDGET_HEADER: &str = "x-twinkey-budget-remaining";

fn response(status: u16, headers: &[Header], body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    add_headers(resp.headers_mut(), headers);
    resp
}

/// Adds headers, skipping any that are not valid (they never are: names and values are ours).
pub(crate) fn add_headers(map: &mut HeaderMap, headers: &[Header]) {
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
}

fn rendered(reply: ErrorReply, cors: &[Header]) -> Response {
    let mut headers = cors.to_vec();
    headers.push(("content-type", "application/json".into()));
    headers.push((ERROR_HEADER, reply.code.to_owned()));
    headers.extend(reply.headers);
    response(reply.status, &headers, Body::from(reply.body))
}

/// The relay's own error, with the CORS headers for the caller's origin (if any).
pub(crate) fn error(e: &Error, cors: &[Header]) -> Response {
    rendered(error_reply(e), cors)
}

/// The relay's own error with an explicit status (413 for an oversized body).
pub(crate) fn error_with_status(e: &Error, status: u16, cors: &[Header]) -> Response {
    rendered(error_reply_with_status(e, status), cors)
}

/// A 500 for a handler that panicked.
pub(crate) fn internal_error() -> Response {
    let e = Error::InvalidAttempt {
        reason: "the relay failed unexpectedly".into(),
    };
    error_with_status(&e, 500, &[])
}

/// A 204 preflight answer.
pub(crate) fn preflight(headers: &[Header]) -> Response {
    response(204, headers, Body::empty())
}

/// A small JSON answer (health).
pub(crate) fn json(status: u16, body: &'static str, cors: &[Header]) -> Response {
    let mut headers = cors.to_vec();
    headers.push(("content-type", "application/json".into()));
    response(status, &headers, Body::from(body))
}

/// The answer to a relayed request: the upstream status, the passed-back headers, the relay's
/// own headers, and the body.
pub(crate) fn relayed(status: u16, upstream: &HeaderMap, extra: &[Header], body: Body) -> Response {
    let mut resp = response(status, extra, body);
    for name in PASSED_BACK {
        for v in upstream.get_all(name) {
            resp.headers_mut().append(name, v.clone());
        }
    }
    if !resp.headers().contains_key(header::CONTENT_TYPE) {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    resp
}
