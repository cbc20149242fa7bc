//! A request to send through the engine: buffered, so the engine's one replay can resend it.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use twinkey::{Error, Result};

/// An inference request: method, path (relative to the client's base URL), headers and a
/// buffered body. The `Authorization` header is the engine's to set.
#[derive(Clone, Debug)]
pub struct InferenceRequest {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

impl InferenceRequest {
    /// A request without a body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        InferenceRequest {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    pub fn post_json<T: Serialize + ?Sized>(path: impl Into<String>, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| invalid(format!("cannot serialize the body: {e}")))?;
        Self::new(Method::POST, path).with_body("application/json", bytes)
    }

    /// Sets the body and its content type.
    pub fn with_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Result<Self> {
        let ct = HeaderValue::from_str(content_type)
            .map_err(|_| invalid("the content type is not a valid header value"))?;
        self.headers.insert(CONTENT_TYPE, ct);
        self.body = body.into();
        Ok(self)
    }

    /// Adds a header. `Authorization` is refused: the engine chooses the secret.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("invalid header name {name:?}")))?;
        if name == AUTHORIZATION {
            return Err(invalid(
                "the Authorization header is set by the engine, not by the caller",
            ));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| invalid(format!("invalid value for header {name}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The headers (without `Authorization`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The buffered body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}
