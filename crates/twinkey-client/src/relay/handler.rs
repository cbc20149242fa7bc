//! One relayed request: CORS, the token (before the body is read), the body and the scope
//! (the gate), then the upstream call through the engine's loop, and the answer streamed back.
//! Every decision is the core's (`Gate`, `CorsPolicy`, `Engine`); this file does the I/O.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use twinkey::Error;
use twinkey::token::{MAX_REQUEST_BODY, RelayRequest};

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
        Err(_) => return reply::error_with_status(&too_large(), 413, &cors),
    };
    let request = RelayRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        authorization,
        body: &bytes,
    };
    let admission = match relay.gate.admit_with(pass, &request, now) {
        Ok(a) => a,
        Err(e) => return reply::error(&e, &cors),
    };

    let path = match parts.uri.query() {
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

    let (sent, round_trips) = relay.client.send_reporting(upstream).await;
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) => {
            relay.gate.settle_failure(&admission, round_trips);
            tracing::warn!(
                subject = %admission.subject,
                endpoint = admission.endpoint.name(),
                code = e.code(),
                "relay: upstream call failed"
            );
            return reply::error(&e, &cors);
        }
    };
    tracing::info!(
        subject = %admission.subject,
        endpoint = admission.endpoint.name(),
        model = admission.model.as_deref().unwrap_or("-"),
        status = resp.status().as_u16(),
        secret = resp.secret_name(),
        fingerprint = resp.fingerprint(),
        round_trips = resp.round_trips(),
        "relayed"
    );
    let status = resp.status().as_u16();
    let upstream_headers = resp.headers().clone();
    let mut extra = cors;
    if let Some(left) = admission.charge.remaining {
        extra.push((BUDGET_HEADER, left.to_string()));
    }
    if !resp.status().is_success() && !resp.is_event_stream() {
        return match resp.bytes().await {
            Ok(b) => {
                let body = Body::from(reply::redact(b, relay.engine()));
                reply::relayed(status, &upstream_headers, &extra, body)
            }
            Err(e) => reply::error(&e, &extra),
        };
    }
    reply::relayed(
        status,
        &upstream_headers,
        &extra,
        Body::from_stream(resp.into_stream()),
    )
}
