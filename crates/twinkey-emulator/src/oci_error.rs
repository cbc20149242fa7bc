//! OCI's error body, `{"code": ..., "message": ...}`, as every error response of the emulator.
//! (The `opc-request-id` header is added to every response by the server's middleware.)

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An OCI-shaped error response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciError {
    /// HTTP status.
    pub status: StatusCode,
    /// OCI error code, e.g. `NotAuthenticated`.
    pub code: String,
    /// Human-readable message (never contains a secret).
    pub message: String,
    /// `Retry-After` seconds, when set.
    pub retry_after: Option<u64>,
}

impl OciError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        OciError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 401 `NotAuthenticated` (missing, unknown or unusable secret).
    pub fn not_authenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "NotAuthenticated",
            "The required information to complete authentication was not provided or was incorrect.",
        )
    }

    /// 404 `NotFound` for an unknown path.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Not found: no such path.",
        )
    }

    /// 400 `CannotParseRequest`.
    pub fn cannot_parse(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "CannotParseRequest", detail)
    }

    /// 400 `InvalidParameter`.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", detail)
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    /// OCI's code for a status (used for injected faults and for bare framework errors).
    pub fn code_for(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "InvalidParameter",
            401 => "NotAuthenticated",
            403 => "NotAuthorized",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            412 => "NoEtagMatch",
            413 => "RequestEntityTooLarge",
            415 => "UnsupportedMediaType",
            429 => "TooManyRequests",
            501 => "MethodNotImplemented",
            503 => "ServiceUnavailable",
            500..=599 => "InternalServerError",
            _ => "InvalidParameter",
        }
    }

    /// An error for a bare status, with OCI's code for it and a generic message.
    pub fn for_status(status: StatusCode) -> Self {
        let message = match status.as_u16() {
            405 => "The method is not allowed on this path.".to_string(),
            429 => "Too many requests for the tenancy.".to_string(),
            500..=599 => "The service encountered an internal error.".to_string(),
            _ => status.canonical_reason().unwrap_or("Error").to_string() + ".",
        };
        Self::new(status, Self::code_for(status), message)
    }

    /// Adds `Retry-After`.
    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        self.retry_after = secs;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({"code": self.code, "message": self.message}).to_string()
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body(),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<crate::store::StoreError> for OciError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match &e {
            StoreError::NotFound { .. } => Self::new(
                StatusCode::NOT_FOUND,
                "NotAuthorizedOrNotFound",
                e.to_string(),
            ),
            StoreError::AlreadyExists { .. } => {
                Self::new(StatusCode::CONFLICT, "Conflict", e.to_string())
            }
            StoreError::Key(k) => match k.code() {
                "SECRET_REVOKED" | "INVALID_TRANSITION" => {
                    Self::new(StatusCode::CONFLICT, "IncorrectState", k.to_string())
                }
                "UNKNOWN_SECRET" => Self::new(
                    StatusCode::NOT_FOUND,
                    "NotAuthorizedOrNotFound",
                    k.to_string(),
                ),
                _ => Self::invalid_parameter(k.to_string()),
            },
        }
    }
}
