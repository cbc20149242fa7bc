//! [`ControlPlaneClient`]: the eight API-key operations, signed, retried like the OCI SDKs.

use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, Stream};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, Method};
use twinkey::control::{
    self, ApiRequest, CreateApiKeyDetails, ListApiKeys, RetryDecision, RetryOutcome, RetryPolicy,
    RetryRng, UpdateApiKeyDetails, ops,
};
use twinkey::signer::{RequestParts, SignOptions, Signer};
use twinkey::{ApiKey, Clock, Error, ResponseFacts, Result, SecretState, SystemClock, Timestamp};

use super::ids::{OsRng, request_id, retry_token};
use super::options::{ApiResponse, CallOptions, Page};
use zeroize::Zeroizing;

use crate::transport::{describe, transport};

/// Largest successful answer read (a page of 1000 keys is far below).
const MAX_ANSWER: usize = 16 << 20;
/// Largest error body read.
const MAX_ERROR: usize = 64 << 10;

/// The user agent sent with every control-plane call.
const USER_AGENT: &str = concat!("twinkey/", env!("CARGO_PKG_VERSION"));

/// An answer before parsing. Its body may hold secret values (Create and Renew answers): it is
/// zeroized on drop and `Debug` shows only its length.
#[derive(Clone)]
pub struct RawResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// `etag`.
    pub etag: Option<String>,
    /// `opc-request-id`.
    pub opc_request_id: String,
    /// `opc-next-page`.
    pub next_page: Option<String>,
    /// The body.
    pub body: Zeroizing<Vec<u8>>,
    /// Attempts made.
    pub attempts: u32,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("etag", &self.etag)
            .field("opc_request_id", &self.opc_request_id)
            .field("next_page", &self.next_page)
            .field("body_bytes", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// A client of the OCI Generative AI API-key control plane.
///
/// Every request is signed with the core [`Signer`] (`date` header, the Go/Python header
/// lists) and sent exactly as signed; `opc-request-id` is sent on every call (made when not
/// given) and `opc-retry-token` on the four POSTs (the same on every retry of a call). Failures
/// are retried by the core's [`RetryPolicy`] (OCI SDK defaults: 429, 409 `IncorrectState` /
/// `LockConflict`, 5xx but 501, timeouts and connection failures; at most 8 attempts, 600 s;
/// backoff `1 s × 2ⁿ` plus up to 1 s of jitter, capped at 30 s). Error answers become
/// [`Error::Service`] with OCI's status, code, message and `opc-request-id`.
///
/// Secret values appear only in the `ApiKey`s returned by create and renew (as
/// [`SecretValue`](twinkey::SecretValue)s, never logged).
#[derive(Clone)]
pub struct ControlPlaneClient {
    signer: Signer,
    endpoint: String,
    http: Client,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ControlPlaneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlaneClient")
            .field("endpoint", &self.endpoint)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

/// A reqwest client for the control plane: rustls, no redirects (a signed request is never
/// replayed elsewhere), a 60 s timeout per attempt.
pub fn control_http_client() -> Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Transport {
            reason: format!("cannot build the HTTP client: {}", describe(&e)),
        })
}

impl ControlPlaneClient {
    /// A client for `endpoint`: `https://generativeai.<region>.oci.oraclecloud.com`, or an
    /// emulator's `http://127.0.0.1:<port>` (no path; the operations add `/20231130/...`).
    pub fn new(signer: Signer, endpoint: &str) -> Result<Self> {
        let endpoint = endpoint.trim().trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| invalid(format!("endpoint {endpoint:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(format!(
                "endpoint {endpoint:?} must be an http(s) URL with a host"
            )));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(invalid(format!(
                "endpoint {endpoint:?} must not have a path or query (the API adds /20231130/...)"
            )));
        }
        Ok(ControlPlaneClient {
            signer,
            endpoint,
            http: control_http_client()?,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
        })
    }

    /// A client for a region's endpoint (`https://generativeai.<region>.oci.<realm domain>`).
    pub fn for_region(signer: Signer, region: &str) -> Result<Self> {
        let endpoint = control::endpoint_for_region(region)?;
        Self::new(signer, &endpoint)
    }

    /// A client for the region of the signer's profile (`region` in the OCI config).
    pub fn from_profile_region(signer: Signer) -> Result<Self> {
        let region = signer
            .region()
            .map(str::to_string)
            .ok_or_else(|| Error::InvalidConfig {
                reason: "the profile has no region; set `region` or give an endpoint".into(),
            })?;
        Self::for_region(signer, &region)
    }

    /// Uses another reqwest client (proxies, timeouts, ...).
    #[must_use]
    pub fn with_http_client(mut self, http: Client) -> Self {
        self.http = http;
        self
    }

    /// Uses another retry policy ([`RetryPolicy::none`] for no retries).
    #[must_use]
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Uses another clock for the signed `date` header.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// CreateApiKey. The answer's secrets carry their values (shown once).
    pub async fn create_api_key(
        &self,
        details: &CreateApiKeyDetails,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        self.key_call(ops::create(details)?, options).await
    }

    /// GetApiKey.
    pub async fn get_api_key(
        &self,
        id: &str,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        self.key_call(ops::get(id)?, options).await
    }

    /// ListApiKeys: one page.
    pub async fn list_api_keys(&self, params: &ListApiKeys, options: &CallOptions) -> Result<Page> {
        let raw = self.execute(ops::list(params)?, options).await?;
        let text = String::from_utf8_lossy(&raw.body);
        Ok(Page {
            items: control::parse_collection(&text)?,
            next_page: raw.next_page,
            opc_request_id: raw.opc_request_id,
            attempts: raw.attempts,
        })
    }

    /// Every page of ListApiKeys, following `opc-next-page`.
    pub fn list_pages<'a>(&'a self, params: &ListApiKeys) -> impl Stream<Item = Result<Page>> + 'a {
        let first = params.at_page(params.page.clone());
        stream::try_unfold(Some(first), move |next| async move {
            let Some(params) = next else {
                return Ok(None);
            };
            let page = self.list_api_keys(&params, &CallOptions::default()).await?;
            let following = page.next_page.clone().map(|p| params.at_page(Some(p)));
            Ok(Some((page, following)))
        })
    }

    /// Every key of a listing (all pages).
    pub async fn list_all(&self, params: &ListApiKeys) -> Result<Vec<ApiKey>> {
        use futures_util::TryStreamExt;
        let pages: Vec<Page> = self.list_pages(params).try_collect().await?;
        Ok(pages.into_iter().flat_map(|p| p.items).collect())
    }

    /// UpdateApiKey.
    pub async fn update_api_key(
        &self,
        id: &str,
        details: &UpdateApiKeyDetails,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        self.key_call(ops::update(id, details)?, options).await
    }

    /// DeleteApiKey.
    pub async fn delete_api_key(&self, id: &str, options: &CallOptions) -> Result<ApiResponse<()>> {
        self.unit_call(ops::delete(id)?, options).await
    }

    /// SetApiKeyState: `ACTIVE`, `INACTIVE` or `REVOKED` (irreversible).
    pub async fn set_api_key_state(
        &self,
        id: &str,
        key_name: &str,
        state: &SecretState,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        self.key_call(ops::set_state(id, key_name, state)?, options)
            .await
    }

    /// RenewApiKey: a new value (in the answer, shown once), `ACTIVE`, a new expiry (the
    /// service's default, 90 days, when `None`).
    pub async fn renew_api_key(
        &self,
        id: &str,
        key_name: &str,
        time_expiry: Option<Timestamp>,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        self.key_call(ops::renew(id, key_name, time_expiry)?, options)
            .await
    }

    /// ChangeApiKeyCompartment.
    pub async fn change_api_key_compartment(
        &self,
        id: &str,
        compartment_id: &str,
        options: &CallOptions,
    ) -> Result<ApiResponse<()>> {
        self.unit_call(ops::change_compartment(id, compartment_id)?, options)
            .await
    }

    async fn key_call(
        &self,
        req: ApiRequest,
        options: &CallOptions,
    ) -> Result<ApiResponse<ApiKey>> {
        let raw = self.execute(req, options).await?;
        let text = Zeroizing::new(String::from_utf8_lossy(&raw.body).into_owned());
        let key = control::parse_api_key(&text);
        Ok(ApiResponse {
            data: key?,
            status: raw.status,
            etag: raw.etag,
            opc_request_id: raw.opc_request_id,
            attempts: raw.attempts,
        })
    }

    async fn unit_call(&self, req: ApiRequest, options: &CallOptions) -> Result<ApiResponse<()>> {
        let raw = self.execute(req, options).await?;
        Ok(ApiResponse {
            data: (),
            status: raw.status,
            etag: raw.etag,
            opc_request_id: raw.opc_request_id,
            attempts: raw.attempts,
        })
    }

    /// Signs and sends one operation's request with retries; the raw successful answer.
    pub async fn execute(&self, req: ApiRequest, options: &CallOptions) -> Result<RawResponse> {
        let req = req.with_if_match(options.if_match.as_deref())?;
        let rid = match &options.opc_request_id {
            Some(r) => {
                let ok = !r.is_empty()
                    && r.len() <= 98
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err(invalid(
                        "opc-request-id may only hold letters, digits, '_' and '-' (at most 98)",
                    ));
                }
                r.clone()
            }
            None => request_id(),
        };
        let token = if req.operation.takes_retry_token() {
            let t = options.retry_token.clone().unwrap_or_else(retry_token);
            if t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid("opc-retry-token must be 1-64 printable characters"));
            }
            Some(t)
        } else {
            None
        };
        let policy = options.retry.unwrap_or(self.retry);
        let url = req.url(&self.endpoint);
        let method =
            Method::from_bytes(req.method().as_bytes()).map_err(|_| invalid("bad method"))?;
        let mut headers: Vec<(&str, &str)> = vec![
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("opc-request-id", &rid),
            ("user-agent", USER_AGENT),
        ];
        if let Some(t) = &token {
            headers.push(("opc-retry-token", t));
        }
        if let Some(e) = &req.if_match {
            headers.push(("if-match", e));
        }
        let body = req.body.as_deref().map(str::as_bytes);
        let started = Instant::now();
        let mut rng = OsRng;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let parts = RequestParts {
                method: req.method(),
                url: &url,
                headers: headers.clone(),
                body,
            };
            let signed = self
                .signer
                .sign(&parts, &SignOptions::default(), self.clock.now())?;
            let mut builder = self.http.request(method.clone(), signed.url.as_str());
            for (n, v) in parts
                .headers
                .iter()
                .copied()
                .chain(signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            {
                let name = HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| invalid(format!("bad header name {n:?}")))?;
                let mut value = HeaderValue::from_str(v)
                    .map_err(|_| invalid(format!("header {n} has a character HTTP forbids")))?;
                if name == reqwest::header::AUTHORIZATION {
                    value.set_sensitive(true);
                }
                builder = builder.header(name, value);
            }
            if let Some(b) = body {
                builder = builder.body(b.to_vec());
            }
            let outcome = builder.send().await;
            let elapsed = started.elapsed();
            let (err, retry_outcome_owned) = match outcome {
                Err(e) => {
                    let kind = if e.is_timeout() {
                        RetryOutcome::Timeout
                    } else if e.is_connect() {
                        RetryOutcome::Connect
                    } else {
                        RetryOutcome::Transport
                    };
                    (transport(e), OwnedOutcome::from(kind))
                }
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let header = |n: &str| {
                        resp.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let answer_rid = header("opc-request-id").unwrap_or_else(|| rid.clone());
                    let etag = header("etag");
                    let next_page = header("opc-next-page");
                    let retry_after = header("retry-after");
                    let retry_after_ms = header("retry-after-ms");
                    if (200..300).contains(&status) {
                        let body = read_limited(&mut resp, MAX_ANSWER).await?;
                        tracing::debug!(
                            target: "twinkey",
                            operation = req.operation.name(),
                            status,
                            attempts,
                            opc_request_id = %answer_rid,
                            "control plane call succeeded"
                        );
                        return Ok(RawResponse {
                            status,
                            etag,
                            opc_request_id: answer_rid,
                            next_page,
                            body: Zeroizing::new(body),
                            attempts,
                        });
                    }
                    let body = read_limited(&mut resp, MAX_ERROR).await.unwrap_or_default();
                    let err = control::service_error(status, &body, Some(&answer_rid));
                    let mut facts = ResponseFacts::status(status);
                    if let Some(v) = &retry_after {
                        facts = facts.header("retry-after", v);
                    }
                    if let Some(v) = &retry_after_ms {
                        facts = facts.header("retry-after-ms", v);
                    }
                    let ra = facts.retry_after(self.clock.now());
                    let code = match &err {
                        Error::Service { oci_code, .. } => Some(oci_code.clone()),
                        _ => None,
                    };
                    (
                        err,
                        OwnedOutcome::Status {
                            status,
                            code,
                            retry_after: ra,
                        },
                    )
                }
            };
            let decision =
                policy.decide(attempts, elapsed, &retry_outcome_owned.borrow(), rng.unit());
            match decision {
                RetryDecision::Retry { after } => {
                    tracing::info!(
                        target: "twinkey",
                        operation = req.operation.name(),
                        attempt = attempts,
                        wait_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                        error = %err.code(),
                        "control plane call failed; retrying"
                    );
                    tokio::time::sleep(after).await;
                }
                RetryDecision::GiveUp(why) => {
                    tracing::debug!(
                        target: "twinkey",
                        operation = req.operation.name(),
                        attempts,
                        why = why.code(),
                        "control plane call failed"
                    );
                    return Err(err);
                }
            }
        }
    }
}

/// A [`RetryOutcome`] that owns its code.
enum OwnedOutcome {
    Status {
        status: u16,
        code: Option<String>,
        retry_after: Option<std::time::Duration>,
    },
    Other(RetryOutcome<'static>),
}

impl From<RetryOutcome<'static>> for OwnedOutcome {
    fn from(o: RetryOutcome<'static>) -> Self {
        OwnedOutcome::Other(o)
    }
}

impl OwnedOutcome {
    fn borrow(&self) -> RetryOutcome<'_> {
        match self {
            OwnedOutcome::Status {
                status,
                code,
                retry_after,
            } => RetryOutcome::Status {
                status: *status,
                code: code.as_deref(),
                retry_after: *retry_after,
            },
            OwnedOutcome::Other(o) => *o,
        }
    }
}

async fn read_limited(resp: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > limit {
            return Err(Error::Transport {
                reason: format!("the answer exceeds {limit} bytes"),
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
