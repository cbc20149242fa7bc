//! Per-call options and what a call returns.

use twinkey::ApiKey;
use twinkey::control::RetryPolicy;

/// Options of one control-plane call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// `if-match`: the `etag` of an earlier answer (operations that change a key).
    pub if_match: Option<String>,
    /// `opc-request-id` (letters, digits, `_`, `-`); a new one is made when absent.
    pub opc_request_id: Option<String>,
    /// `opc-retry-token` for the four POSTs; a new one is made when absent. The same token is
    /// sent on every retry of the call; pass one to make a call safe to repeat later (the
    /// service answers a token's request once).
    pub retry_token: Option<String>,
    /// This call's retry policy instead of the client's.
    pub retry: Option<RetryPolicy>,
}

impl CallOptions {
    /// With `if-match`.
    pub fn if_match(etag: impl Into<String>) -> Self {
        CallOptions {
            if_match: Some(etag.into()),
            ..CallOptions::default()
        }
    }

    /// With an `opc-retry-token`.
    pub fn retry_token(token: impl Into<String>) -> Self {
        CallOptions {
            retry_token: Some(token.into()),
            ..CallOptions::default()
        }
    }
}

/// A successful answer.
#[derive(Clone, Debug)]
pub struct ApiResponse<T> {
    /// The parsed body (`()` for Delete and ChangeCompartment).
    pub data: T,
    /// HTTP status.
    pub status: u16,
    /// `etag`, for a later `if-match`.
    pub etag: Option<String>,
    /// `opc-request-id` of the answer (the one sent, when the service echoes it).
    pub opc_request_id: String,
    /// Attempts made (1 without retries).
    pub attempts: u32,
}

/// One page of ListApiKeys.
#[derive(Clone, Debug)]
pub struct Page {
    /// The keys (secrets show `keyMask` only).
    pub items: Vec<ApiKey>,
    /// `opc-next-page`: pass it as `page` for the next page; `None` on the last.
    pub next_page: Option<String>,
    /// `opc-request-id` of the answer.
    pub opc_request_id: String,
    /// Attempts made.
    pub attempts: u32,
}
