//! The relay's admission decision, sans I/O: from a request's `Authorization` header, method,
//! path and body to either an [`Admission`] (what to forward) or a coded refusal, rendered in
//! OpenAI's error shape by [`error_reply`]. `twinkey relay` (crate `twinkey-client`) does the
//! I/O; a Node or Python relay could loop on the same gate.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::json;

use super::budget::{BudgetLedger, Charge};
use super::cors::Header;
use super::error::TokenErrorKind;
use super::keys::KeyRing;
use super::owners::{Owner, ResponseOwners};
use super::query::check_query;
use super::relay_body::BodyFilter;
use super::scope::{Endpoint, apply_scope};
use super::streams::{StreamLimiter, StreamSlot};
use super::verify::{MAX_TOKEN_BYTES, VerifiedToken, VerifyOptions};
use crate::error::{Error, Result};
use crate::time::{Timestamp, duration_ms};

/// The relay's API root: requests go to `/v1/<endpoint>` (OpenAI's layout, so an SDK's
/// `baseURL` is `<relay>/v1`).
pub const API_PREFIX: &str = "/v1/";
/// The response header that carries the code of the relay's own errors.
pub const ERROR_HEADER: &str = "x-twinkey-error";
/// Relayed requests one token subject may have in flight at once, by default.
pub const DEFAULT_MAX_STREAMS_PER_SUBJECT: usize = 16;
/// The largest request body the relay reads.
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// The base URL an OpenAI SDK uses for a relay: `<relay_url>/v1`.
pub fn relay_base_url(relay_url: &str) -> String {
    format!(
        "{}{}",
        relay_url.trim_end_matches('/'),
        API_PREFIX.trim_end_matches('/')
    )
}

/// Whether `url` is on the relay at `relay_url` (same scheme, host and port, and under its
/// path): a client attaches its server token to such requests only.
pub fn is_relay_url(relay_url: &str, url: &str) -> bool {
    fn split(u: &str) -> Option<(String, &str)> {
        let (scheme, rest) = u.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        Some((
            format!(
                "{}://{}",
                scheme.to_ascii_lowercase(),
                authority.to_ascii_lowercase()
            ),
            path,
        ))
    }
    let (Some((base_origin, base_path)), Some((origin, path))) = (split(relay_url), split(url))
    else {
        return false;
    };
    let base_path = base_path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    origin == base_origin
        && path.starts_with(base_path)
        && matches!(
            path[base_path.len()..].chars().next(),
            None | Some('/' | '?' | '#')
        )
}

/// A request as the relay received it.
#[derive(Clone, Copy, Debug)]
pub struct RelayRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path (`/v1/chat/completions`); a `?query` left on it is read as [`Self::query`].
    pub path: &'a str,
    /// The query string without `?`, if any (forwarded only from an allow-list).
    pub query: Option<&'a str>,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The request body (empty for none).
    pub body: &'a [u8],
}

/// A request the gate let through: where to send it and what to send.
#[derive(Clone, Debug)]
pub struct Admission {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// The path to append to the upstream API root (`chat/completions`).
    pub upstream_path: String,
    /// The query string to forward (only allowed parameters), if any.
    pub upstream_query: Option<String>,
    /// The stored response the request reads, deletes or continues (its owner was checked).
    pub response_id: Option<String>,
    /// Whether the request creates a stored response, whose id the relay records for the
    /// token's subject ([`Gate::record_response`]).
    pub creates_response: bool,
    /// The body to forward (`None`: no body).
    pub body: Option<Vec<u8>>,
    /// The model the request names.
    pub model: Option<String>,
    /// The output-token cap written into the body, if the token has one.
    pub max_output_tokens: Option<u32>,
    /// The token's subject (for logs).
    pub subject: String,
    /// The token's `jti` (budget key).
    pub token_id: String,
    /// The budget charge.
    pub charge: Charge,
}

/// A token [`Gate::authenticate`] accepted; only the gate makes one.
#[derive(Clone, Debug)]
pub struct Pass(VerifiedToken);

impl Pass {
    /// The verified token.
    pub fn token(&self) -> &VerifiedToken {
        &self.0
    }
}

/// The relay's gate: verifies server tokens, checks scope, caps output, counts budgets.
#[derive(Debug)]
pub struct Gate {
    keys: ArcSwap<KeyRing>,
    options: VerifyOptions,
    ledger: BudgetLedger,
    owners: ResponseOwners,
    streams: StreamLimiter,
}

/// Extracts the token from an `Authorization: Bearer <token>` header.
pub fn bearer_token(header: Option<&str>) -> Result<&str> {
    let Some(value) = header else {
        return Err(TokenErrorKind::Missing.err("send Authorization: Bearer <server token>"));
    };
    if value.len() > MAX_TOKEN_BYTES + 64 {
        return Err(TokenErrorKind::TooLarge.err(format!(
            "the Authorization header is over {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim_start();
            if token.is_empty() {
                Err(TokenErrorKind::Missing.err("the bearer token is empty"))
            } else {
                Ok(token)
            }
        }
        _ => Err(TokenErrorKind::Missing.err("the Authorization scheme is not Bearer")),
    }
}

impl Gate {
    /// A gate verifying with `keys` and `options`.
    pub fn new(keys: KeyRing, options: VerifyOptions) -> Self {
        Gate {
            keys: ArcSwap::from_pointee(keys),
            options,
            ledger: BudgetLedger::new(),
            owners: ResponseOwners::default(),
            streams: StreamLimiter::new(DEFAULT_MAX_STREAMS_PER_SUBJECT),
        }
    }

    /// Sets how many relayed requests one token subject may have in flight (0: no limit;
    /// default [`DEFAULT_MAX_STREAMS_PER_SUBJECT`]).
    pub fn with_stream_limit(mut self, max: usize) -> Self {
        self.streams = StreamLimiter::new(max);
        self
    }

    /// Sets how many stored-response ids the gate remembers (default
    /// [`DEFAULT_MAX_OWNED_RESPONSES`]; the oldest go first, and are then refused).
    pub fn with_owned_responses(mut self, capacity: usize) -> Self {
        self.owners = ResponseOwners::new(capacity);
        self
    }

    /// The stored responses and their owners.
    pub fn owners(&self) -> &ResponseOwners {
        &self.owners
    }

    /// The per-subject count of requests in flight.
    pub fn streams(&self) -> &StreamLimiter {
        &self.streams
    }

    /// Takes a place for an admitted request among its subject's requests in flight
    /// (`TOO_MANY_STREAMS` when the subject has as many as allowed); hold it until the
    /// response is sent whole.
    pub fn open_stream(&self, admission: &Admission) -> Result<StreamSlot> {
        self.streams.open(&admission.subject)
    }

    /// Records that the admitted request created stored response `id` (bound to its
    /// subject and model). Only a request with [`Admission::creates_response`] records.
    pub fn record_response(&self, admission: &Admission, id: &str) {
        if admission.creates_response {
            self.owners.record(
                id,
                Owner {
                    subject: admission.subject.clone(),
                    model: admission.model.clone(),
                },
            );
        }
    }

    /// Settles an admitted request that the upstream answered with `status`: a stored
    /// response deleted with success is forgotten.
    pub fn settle_response(&self, admission: &Admission, method: &str, status: u16) {
        if let Some(id) = &admission.response_id
            && method.eq_ignore_ascii_case("DELETE")
            && (200..300).contains(&status)
        {
            self.owners.forget(id);
        }
    }

    /// The filter every relayed body goes through for `admission`: `secrets` redacted, and
    /// the created response's id read when the request creates one.
    pub fn body_filter<'a>(
        &self,
        admission: &Admission,
        secrets: impl IntoIterator<Item = &'a [u8]>,
        event_stream: bool,
    ) -> BodyFilter {
        let filter = BodyFilter::new(secrets);
        if admission.creates_response {
            filter.reading_response_id(event_stream)
        } else {
            filter
        }
    }

    /// Swaps in a new key ring (rotation without restart).
    pub fn replace_keys(&self, keys: KeyRing) {
        self.keys.store(Arc::new(keys));
    }

    /// The verification options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// The budget ledger.
    pub fn ledger(&self) -> &BudgetLedger {
        &self.ledger
    }

    /// Verifies a bearer token only.
    pub fn verify(&self, authorization: Option<&str>, now: Timestamp) -> Result<VerifiedToken> {
        let token = bearer_token(authorization)?;
        self.keys.load().verify(token, &self.options, now)
    }

    /// The first half of [`Gate::admit`]: checks the token only, so a relay can refuse an
    /// unauthenticated caller before reading its body. Complete with [`Gate::admit_with`].
    pub fn authenticate(&self, authorization: Option<&str>, now: Timestamp) -> Result<Pass> {
        self.verify(authorization, now).map(Pass)
    }

    /// Admits a request or refuses it. Order: token (so an unauthenticated caller learns
    /// nothing else), endpoint, body and scope, then the budget (a refused request is not
    /// counted).
    pub fn admit(&self, request: &RelayRequest<'_>, now: Timestamp) -> Result<Admission> {
        let pass = self.authenticate(request.authorization, now)?;
        self.admit_with(pass, request, now)
    }

    /// The second half of [`Gate::admit`], for a request whose token [`Gate::authenticate`]
    /// checked (`request.authorization` is not read again).
    pub fn admit_with(
        &self,
        pass: Pass,
        request: &RelayRequest<'_>,
        now: Timestamp,
    ) -> Result<Admission> {
        let Pass(verified) = pass;
        let (path, query) = match (request.query, request.path.split_once('?')) {
            (None, Some((path, query))) => (path, Some(query)),
            _ => (request.path, request.query),
        };
        let rel = path.strip_prefix(API_PREFIX).unwrap_or("\u{0}");
        let endpoint = Endpoint::from_request(request.method, rel).ok_or_else(|| {
            TokenErrorKind::UnknownEndpoint.err(format!(
                "the relay serves {API_PREFIX}chat/completions, responses, completions, \
                 embeddings and models, not {} {}",
                request.method.escape_debug().take(10).collect::<String>(),
                path.escape_debug().take(80).collect::<String>()
            ))
        })?;
        let scoped = apply_scope(
            &verified.claims.scope,
            endpoint,
            request.method,
            request.body,
        )?;
        let upstream_query = check_query(endpoint, request.method, query)?;
        let claims = &verified.claims;
        let upstream_path = rel.trim_end_matches('/').to_owned();
        let stored = match endpoint {
            Endpoint::Responses => upstream_path.strip_prefix("responses/").map(str::to_owned),
            _ => None,
        };
        let response_id = stored.or(scoped.previous_response_id);
        if let Some(id) = &response_id {
            let owner = self.owners.check(id, &claims.subject)?;
            if let Some(model) = owner.model.as_deref()
                && !claims.scope.allows_model(model)
            {
                return Err(TokenErrorKind::Scope.err(format!(
                    "response {:?} was made with model {:?}, which is not in the token's scope",
                    id.chars().take(64).collect::<String>(),
                    model.chars().take(80).collect::<String>()
                )));
            }
        }
        let charge = self
            .ledger
            .charge(claims, now, duration_ms(self.options.allowed_skew()))?;
        let claims = verified.claims;
        Ok(Admission {
            endpoint,
            creates_response: endpoint == Endpoint::Responses
                && request.method.eq_ignore_ascii_case("POST"),
            upstream_path,
            upstream_query,
            response_id,
            body: scoped.body,
            model: scoped.model,
            max_output_tokens: scoped.max_output_tokens,
            subject: claims.subject,
            token_id: claims.token_id,
            charge,
        })
    }

    /// Gives the request back to the token's budget (nothing was sent upstream).
    pub fn release(&self, admission: &Admission) {
        if admission.charge.limit.is_some() {
            self.ledger.refund(&admission.token_id);
        }
    }

    /// Settles an admitted request that failed: it goes back to the token's budget only when
    /// nothing was sent upstream (`round_trips == 0`); a request that reached the service
    /// (even one rejected on both secrets) stays charged.
    pub fn settle_failure(&self, admission: &Admission, round_trips: u32) {
        if round_trips == 0 {
            self.release(admission);
        }
    }
}

/// A relay error as an HTTP answer in OpenAI's error shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReply {
    /// HTTP status.
    pub status: u16,
    /// The stable code (also sent in [`ERROR_HEADER`]).
    pub code: &'static str,
    /// `{"error": {"message", "type", "param": null, "code"}}`; `type` is the code in lower case.
    pub body: String,
    /// Headers the answer carries besides the code: `retry-after` (whole seconds, rounded
    /// up) and `retry-after-ms` when the client should come back later.
    pub headers: Vec<Header>,
}

/// The HTTP status for a relay error: token kinds per
/// [`TokenErrorKind::http_status`]; bad requests 400; no usable secret 503; transport and cut
/// streams 502; anything else 500.
pub fn http_status(e: &Error) -> u16 {
    match e {
        Error::Token { kind, .. } => kind.http_status(),
        Error::InvalidRequest { .. } => 400,
        Error::NoUsableSecret { .. } => 503,
        Error::TpmBudgetExceeded { .. } => 429,
        Error::Transport { .. } | Error::StreamInterrupted { .. } => 502,
        _ => 500,
    }
}

/// Renders a relay error (message: [`client_message`]; never a secret, a token or a key).
pub fn error_reply(e: &Error) -> ErrorReply {
    error_reply_with_status(e, http_status(e))
}

/// The message a relay client sees: the full text for what the client can act on (its token,
/// its request); a generic sentence for the relay's own state (its secrets, the upstream),
/// which the server logs instead.
pub fn client_message(e: &Error) -> String {
    match e {
        Error::Token { .. } | Error::InvalidRequest { .. } => e.to_string(),
        Error::NoUsableSecret { .. } => {
            "the relay has no usable OCI secret right now; try again later".to_string()
        }
        Error::Transport { .. } => "the upstream service could not be reached".to_string(),
        Error::StreamInterrupted { .. } => "the upstream stream was interrupted".to_string(),
        Error::TpmBudgetExceeded {
            scope,
            retry_after_ms,
            ..
        } => format!(
            "the relay's tokens-per-minute budget ({scope}) is used up; retry after {retry_after_ms} ms"
        ),
        _ => "the relay could not complete the request".to_string(),
    }
}

/// Renders a relay error with an explicit status (e.g. 413 for an oversized body).
pub fn error_reply_with_status(e: &Error, status: u16) -> ErrorReply {
    let code = e.code();
    let body = json!({
        "error": {
            "message": client_message(e),
            "type": code.to_ascii_lowercase(),
            "param": null,
            "code": code,
        }
    });
    let headers = match e {
        Error::TpmBudgetExceeded { retry_after_ms, .. } => vec![
            ("retry-after", retry_after_ms.div_ceil(1000).to_string()),
            ("retry-after-ms", retry_after_ms.to_string()),
        ],
        _ => Vec::new(),
    };
    ErrorReply {
        status,
        code,
        body: body.to_string(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::Scope;
    use crate::token::keys::TokenKey;
    use crate::token::mint::TokenRequest;
    use crate::token::rng::FixedRandom;

    const T0: i64 = 1_800_000_000_000;

    fn setup(scope: Scope) -> (Gate, String) {
        let mut ring = KeyRing::new();
        ring.insert(TokenKey::ed25519_from_seed("k1", &[3u8; 32]).unwrap())
            .unwrap();
        let token = ring
            .mint(
                &TokenRequest::new("user", scope),
                Timestamp::from_millis(T0),
                &FixedRandom::new(vec![9]),
            )
            .unwrap()
            .token;
        (Gate::new(ring, VerifyOptions::new("twinkey-relay")), token)
    }

    fn req<'a>(
        auth: Option<&'a str>,
        method: &'a str,
        path: &'a str,
        body: &'a [u8],
    ) -> RelayRequest<'a> {
        RelayRequest {
            method,
            path,
            query: None,
            authorization: auth,
            body,
        }
    }

    #[test]
    fn relay_urls() {
        assert_eq!(
            relay_base_url("http://127.0.0.1:8787/"),
            "http://127.0.0.1:8787/v1"
        );
        let base = "http://127.0.0.1:8787";
        assert!(is_relay_url(
            base,
            "http://127.0.0.1:8787/v1/chat/completions"
        ));
        assert!(is_relay_url(
            "https://x.example/relay/",
            "https://X.example/relay/v1/models?a=1"
        ));
        for other in [
            "http://127.0.0.1:8788/v1/chat/completions",
            "https://127.0.0.1:8787/v1",
            "http://127.0.0.1:8787@evil.example/v1",
            "http://evil.example/http://127.0.0.1:8787/v1",
            "//127.0.0.1:8787/v1",
            "javascript:alert(1)",
        ] {
            assert!(!is_relay_url(base, other), "{other}");
        }
        assert!(!is_relay_url(
            "https://x.example/relay",
            "https://x.example/relayx/v1"
        ));
    }

    #[test]
    fn admits_within_scope_and_counts_the_budget() {
        let (gate, token) = setup(
            Scope::new(["m"], ["chat.completions"])
                .with_max_requests(1)
                .with_max_output_tokens(10),
        );
        let auth = format!("Bearer {token}");
        let now = Timestamp::from_millis(T0);
        let body = br#"{"model":"m","messages":[]}"#;
        let a = gate
            .admit(&req(Some(&auth), "POST", "/v1/chat/completions", body), now)
            .unwrap();
        assert_eq!(a.upstream_path, "chat/completions");
        assert_eq!(a.max_output_tokens, Some(10));
        assert_eq!(a.charge.remaining, Some(0));
        let e = gate
            .admit(&req(Some(&auth), "POST", "/v1/chat/completions", body), now)
            .unwrap_err();
        assert_eq!(e.code(), "TOKEN_BUDGET_EXHAUSTED");
        gate.release(&a);
        assert!(
            gate.admit(&req(Some(&auth), "POST", "/v1/chat/completions", body), now)
                .is_ok()
        );
    }

    #[test]
    fn refusals_and_their_replies() {
        let (gate, token) = setup(Scope::new(["m"], ["chat.completions"]).with_max_requests(5));
        let auth = format!("bearer  {token}");
        let now = Timestamp::from_millis(T0);
        let code = |r: RelayRequest<'_>| gate.admit(&r, now).unwrap_err().code();
        assert_eq!(
            code(req(None, "POST", "/v1/chat/completions", b"{}")),
            "TOKEN_MISSING"
        );
        assert_eq!(
            code(req(
                Some("Basic abc"),
                "POST",
                "/v1/chat/completions",
                b"{}"
            )),
            "TOKEN_MISSING"
        );
        assert_eq!(
            code(req(Some(&auth), "POST", "/v2/chat/completions", b"{}")),
            "UNKNOWN_ENDPOINT"
        );
        assert_eq!(
            code(req(Some(&auth), "GET", "/v1/models", b"")),
            "TOKEN_SCOPE"
        );
        assert_eq!(
            code(req(
                Some(&auth),
                "POST",
                "/v1/chat/completions",
                br#"{"model":"x"}"#
            )),
            "TOKEN_SCOPE"
        );
        assert_eq!(
            code(req(Some(&auth), "POST", "/v1/chat/completions", b"nope")),
            "INVALID_REQUEST"
        );
        // Refused requests did not use the budget.
        assert_eq!(
            gate.ledger()
                .used(&gate.verify(Some(&auth), now).unwrap().claims.token_id),
            0
        );

        let e = gate
            .admit(&req(None, "GET", "/v1/models", b""), now)
            .unwrap_err();
        let reply = error_reply(&e);
        assert_eq!((reply.status, reply.code), (401, "TOKEN_MISSING"));
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["type"], "token_missing");
        assert_eq!(body["error"]["code"], "TOKEN_MISSING");
        assert_eq!(http_status(&TokenErrorKind::Scope.err("x")), 403);
        assert_eq!(http_status(&Error::NoUsableSecret { reasons: vec![] }), 503);
        assert!(reply.headers.is_empty());
    }

    #[test]
    fn a_full_budget_is_a_429_with_retry_after() {
        let reply = error_reply(&Error::TpmBudgetExceeded {
            scope: "model:m".into(),
            retry_after_ms: 1_200,
            requested: 50,
        });
        assert_eq!((reply.status, reply.code), (429, "TPM_BUDGET_EXCEEDED"));
        assert_eq!(
            reply.headers,
            vec![
                ("retry-after", "2".to_string()),
                ("retry-after-ms", "1200".to_string())
            ]
        );
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(
            body["error"]["message"],
            "the relay's tokens-per-minute budget (model:m) is used up; retry after 1200 ms"
        );
    }
}
