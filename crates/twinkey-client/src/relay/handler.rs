//! One relayed request: CORS, the token (before the body is read), the body and the scope
//! (the gate), then the upstream call through the engine's loop, and the answer streamed back.
//! Every decision is the core's (`Gate`, `CorsPolicy`, `Engine`); this file does the I/O.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use twinkey::Error;
use twinkey::token::{MAX_REQUEST_BODY, RelayRequest};

use super::filtered;
use super::reply::{self, BUDGET_HEADER};
use super::{HEALTH_PATH, Relay};
use crate::InferenceRequest;

/// Request headers passed on upstream (the body's content type is set by the relay).
const PASSED_ON: [&str; 2] = ["accept", "idempotency-key"];

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn too_large() -> Error {
    Error::InvalidRequest {
        reason: format!("the request body is over {MAX_REQUEST_BODY} bytes"),
    }
}

/// Handles every request the relay receives.
pub(crate) async fn handle(State(relay): State<Arc<Relay>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let origin = header_str(&parts.headers, header::ORIGIN);
    if parts.method == Method::OPTIONS {
        let requested = header_str(&parts.headers, header::ACCESS_CONTROL_REQUEST_HEADERS);
        return match relay.cors.preflight(origin, requested) {
            Ok(headers) => reply::preflight(&headers),
            Err(e) => reply::error(&e, &[]),
        };
    }
    let cors = match relay.cors.check(origin) {
        Ok(Some(allow)) => relay.cors.response_headers(&allow),
        Ok(None) => Vec::new(),
        Err(e) => return reply::error(&e, &[]),
    };
    if parts.method == Method::GET && parts.uri.path() == HEALTH_PATH {
        return reply::json(200, r#"{"status":"ok"}"#, &cors);
    }

    let now = relay.clock.now();
    let authorization = header_str(&parts.headers, header::AUTHORIZATION);
    let pass = match relay.gate.authenticate(authorization, now) {
        Ok(pass) => pass,
        Err(e) => return reply::error(&e, &cors),
    };
    let declared = header_str(&parts.headers, header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if declared > MAX_REQUEST_BODY as u64 {
        return reply::error_with_status(&too_large(), 413, &cors);
    }
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(b) => b,
        Err(e) if twinkey_serve::is_body_timeout(&e) => {
            return reply::error_with_status(&body_timeout(relay.limits.body_timeout), 408, &cors);
        }
        Err(_) => return reply::error_with_status(&too_large(), 413, &cors),
    };
    let request = RelayRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        authorization,
        body: &bytes,
    };
    let admission = match relay.gate.admit_with(pass, &request, now) {
        Ok(a) => a,
        Err(e) => return reply::error(&e, &cors),
    };
    let slot = match relay.gate.open_stream(&admission) {
        Ok(slot) => slot,
        Err(e) => {
            relay.gate.release(&admission);
            return reply::error(&e, &cors);
        }
    };

    let path = match &admission.upstream_query {
        Some(q) => format!("{}?{q}", admission.upstream_path),
        None => admission.upstream_path.clone(),
    };
    let mut upstream = InferenceRequest::new(parts.method.clone(), path);
    if let Some(body) = &admission.body {
        upstream = match upstream.with_body("application/json", body.clone()) {
            Ok(u) => u,
            Err(e) => return reply::error(&e, &cors),
        };
    }
    for name in PASSED_ON {
        if let Some(value) = header_str(&parts.headers, name) {
            upstream = match upstream.clone().with_header(name, value) {
                Ok(u) => u,
                Err(_) => upstream,
            };
        }
    }

    let subject = LogSafe(&admission.subject);
    let (sent, round_trips) = relay.client.send_reporting(upstream).await;
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) => {
            relay.gate.settle_failure(&admission, round_trips);
            if matches!(e, twinkey::Error::TpmBudgetExceeded { .. }) {
                tracing::info!(
                    subject = %subject,
                    endpoint = admission.endpoint.name(),
                    code = e.code(),
                    "relay: refused by the tokens-per-minute budget ({e})"
                );
            } else {
                tracing::warn!(
                    subject = %subject,
                    endpoint = admission.endpoint.name(),
                    code = e.code(),
                    "relay: upstream call failed"
                );
            }
            return reply::error(&e, &cors);
        }
    };
    tracing::info!(
        subject = %subject,
        endpoint = admission.endpoint.name(),
        model = %LogSafe(admission.model.as_deref().unwrap_or("-")),
        status = resp.status().as_u16(),
        secret = resp.secret_name(),
        fingerprint = resp.fingerprint(),
        round_trips = resp.round_trips(),
        "relayed"
    );
    let status = resp.status().as_u16();
    relay
        .gate
        .settle_response(&admission, parts.method.as_str(), status);
    let upstream_headers = resp.headers().clone();
    let mut extra = cors;
    if let Some(left) = admission.charge.remaining {
        extra.push((BUDGET_HEADER, left.to_string()));
    }
    let filter = {
        let key = relay.engine().key();
        let values = key
            .secrets()
            .iter()
            .filter_map(|s| s.value.as_ref().map(|v| v.expose().as_bytes().to_vec()))
            .collect::<Vec<_>>();
        let filter = relay.gate.body_filter(
            &admission,
            values.iter().map(Vec::as_slice),
            resp.is_event_stream(),
        );
        drop(zeroize::Zeroizing::new(values));
        filter
    };
    // A failed creation stores nothing: only a 2xx answer's id is recorded.
    let records = (200..300).contains(&status);
    let body = filtered::body(
        resp.into_stream(),
        filter,
        relay.clone(),
        records.then_some(admission),
        slot,
    );
    reply::relayed(status, &upstream_headers, &extra, body)
}

fn body_timeout(after: std::time::Duration) -> Error {
    Error::InvalidRequest {
        reason: format!(
            "the request body did not arrive within {} s",
            after.as_secs_f64()
        ),
    }
}

/// A claim value as written into a log line: control characters escaped (verification
/// refuses them already; this keeps a log line one line whatever reaches it).
struct LogSafe<'a>(&'a str);

impl std::fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}
