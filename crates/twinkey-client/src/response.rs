//! The response the engine accepted, with what it took to get it.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;
use twinkey::engine::MAX_ERROR_BODY;
use twinkey::stream::{StreamKind, is_event_stream};
use twinkey::{Error, Result};

use crate::metered::Metered;
use crate::stream::EventStream;
use crate::transport::{read_prefix, transport};

/// A response the engine accepted (any status: 2xx, 4xx other than a rejection, 429, 5xx).
/// The body is not read yet; read it once with [`bytes`](Self::bytes), [`json`](Self::json),
/// [`text`](Self::text) or [`into_stream`](Self::into_stream).
#[derive(Debug)]
pub struct InferenceResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) round_trips: u32,
    pub(crate) secret: String,
    pub(crate) fingerprint: String,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) kind: StreamKind,
    pub(crate) prefix: Vec<Bytes>,
    pub(crate) rest: Option<reqwest::Response>,
    /// Settled when the body ends or this is dropped.
    pub(crate) metered: Option<Metered>,
}

impl InferenceResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The service's `opc-request-id`.
    pub fn request_id(&self) -> Option<&str> {
        self.header("opc-request-id")
    }

    /// HTTP exchanges it took: 1, or 2 when the first secret was rejected and the request was
    /// replayed on the other.
    pub fn round_trips(&self) -> u32 {
        self.round_trips
    }

    /// The name of the secret that got this response.
    pub fn secret_name(&self) -> &str {
        &self.secret
    }

    /// That secret's safe fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The delay the service asked for (429 `Retry-After`), as the engine read it.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether the body is a server-sent event stream.
    pub fn is_event_stream(&self) -> bool {
        self.header(CONTENT_TYPE.as_str())
            .is_some_and(is_event_stream)
    }

    /// The body as a stream of chunks, passed through as received. For an event stream the
    /// core's monitor checks the end: a cut yields `STREAM_INTERRUPTED`, never a clean end.
    pub fn into_stream(mut self) -> EventStream {
        let monitored = self.is_event_stream();
        let metered = self.metered.take();
        EventStream::new(self.prefix, self.rest, self.kind, monitored, metered)
    }

    /// The whole body. An event stream is read through the monitor (`STREAM_INTERRUPTED` when
    /// cut); any other body fails with `TRANSPORT` if the connection breaks.
    pub async fn bytes(mut self) -> Result<Bytes> {
        if self.is_event_stream() {
            let mut stream = self.into_stream();
            let mut out = BytesMut::new();
            while let Some(chunk) = stream.next().await {
                out.extend_from_slice(&chunk?);
            }
            return Ok(out.freeze());
        }
        let rest = match self.rest.take() {
            Some(r) => r.bytes().await.map_err(transport)?,
            None => Bytes::new(),
        };
        let body = if self.prefix.is_empty() {
            rest
        } else {
            self.prefix.push(rest);
            Bytes::from(self.prefix.concat())
        };
        if let Some(m) = self.metered.take() {
            m.feed(&body);
            m.settle(None);
        }
        Ok(body)
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body parsed as JSON. A body that is not the expected JSON is a `SERVICE_ERROR`
    /// with OCI code `Unknown`.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let status = self.status.as_u16();
        let request_id = self.request_id().unwrap_or("-").to_string();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Service {
            status,
            oci_code: "Unknown".into(),
            message: format!("the response body is not the expected JSON: {e}"),
            request_id,
        })
    }

    /// `Ok(self)` for a 2xx response; otherwise reads the (bounded) error body and returns
    /// it as `SERVICE_ERROR` with the service's code and message (OCI `{code, message}` or
    /// OpenAI `{"error": {...}}` bodies).
    pub async fn error_for_status(mut self) -> Result<Self> {
        if self.status.is_success() {
            return Ok(self);
        }
        let mut body = self.prefix.concat();
        if let Some(mut rest) = self.rest.take() {
            let more = read_prefix(&mut rest, MAX_ERROR_BODY)
                .await
                .map_err(transport)?;
            body.extend(more.iter().flat_map(|b| b.iter().copied()));
        }
        body.truncate(MAX_ERROR_BODY);
        Err(service_error(
            self.status,
            self.request_id().unwrap_or("-"),
            &body,
        ))
    }
}

/// A non-2xx answer as [`Error::Service`].
pub(crate) fn service_error(status: StatusCode, request_id: &str, body: &[u8]) -> Error {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let (code, message) = match (text(&v, "code"), v.get("error")) {
        (Some(code), _) => (Some(code), text(&v, "message")),
        (None, Some(e)) => (
            text(e, "code").or_else(|| text(e, "type")),
            text(e, "message"),
        ),
        (None, None) => (None, None),
    };
    Error::Service {
        status: status.as_u16(),
        oci_code: code.unwrap_or_else(|| "Unknown".into()),
        message: message
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
        request_id: request_id.to_string(),
    }
}
