//! `RelayGate`: the relay's admission check (the core's [`Gate`]) for a Node server that acts
//! as the relay (SPEC section 7): the server token, the endpoint, the scope, the output cap and
//! the request budget, in that order. A refusal throws the mapped error with the relay's HTTP
//! `status` and its `reply` body (OpenAI's error shape) attached; the code goes in the
//! `x-twinkey-error` header (`RELAY_ERROR_HEADER`).

use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::{Value, json};
use twinkey::token::{self, Gate, KeyRing, RelayRequest, wire};

use crate::errors::{OrThrow, error_object_with};
use crate::tokens::{TokenVerifyOptions, at};

/// The response header that carries the code of the relay's own errors (`x-twinkey-error`).
#[napi]
pub fn relay_error_header() -> String {
    token::ERROR_HEADER.to_string()
}

/// A request as the relay received it.
#[napi(object)]
pub struct GateRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query (`/v1/chat/completions`).
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The request body, if any.
    pub body: Option<Either<String, Uint8Array>>,
    /// The admission time (RFC 3339 or epoch milliseconds; default: now).
    pub now: Option<Either<String, f64>>,
}

/// A request the gate let through: what to forward upstream.
#[napi]
pub struct Admission {
    inner: token::Admission,
}

#[napi]
impl Admission {
    /// The endpoint called (`chat.completions`, `responses`, ...).
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.inner.endpoint.name().to_string()
    }

    /// The path to append to the upstream API root (`chat/completions`).
    #[napi(getter)]
    pub fn upstream_path(&self) -> String {
        self.inner.upstream_path.clone()
    }

    /// The body to forward (the output cap written in), or `null` for none.
    #[napi(getter)]
    pub fn body(&self) -> Option<Buffer> {
        self.inner.body.clone().map(Buffer::from)
    }

    /// The model the request names.
    #[napi(getter)]
    pub fn model(&self) -> Option<String> {
        self.inner.model.clone()
    }

    /// The output-token cap written into the body, if the token has one.
    #[napi(getter)]
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.inner.max_output_tokens
    }

    /// Requests left in the token's budget after this one (when it has one).
    #[napi(getter)]
    pub fn remaining(&self) -> Option<u32> {
        self.inner.charge.remaining
    }

    /// The token's subject (for logs).
    #[napi(getter)]
    pub fn subject(&self) -> String {
        self.inner.subject.clone()
    }

    /// The token's id (`jti`).
    #[napi(getter)]
    pub fn token_id(&self) -> String {
        self.inner.token_id.clone()
    }

    /// `{ endpoint, upstreamPath, model, maxOutputTokens, body (parsed JSON), remaining }`.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Value {
        wire::admission_to_json(&self.inner)
    }
}

/// The relay's admission check over a key ring and verify options. Budgets are counted in this
/// object (per token id, in memory).
#[napi]
pub struct RelayGate {
    inner: Gate,
}

/// The ring from JWK Set text.
fn ring(env: &Env, keys: &str) -> Result<KeyRing> {
    KeyRing::from_json(keys).or_throw(env)
}

#[napi]
impl RelayGate {
    /// A gate verifying with the keys of `keys` (JWK Set text, e.g. `ring.toJson()`; public
    /// keys suffice for EdDSA) and `options` (`audience`, `issuer?`, `leewaySeconds?`).
    #[napi(constructor)]
    pub fn new(env: Env, keys: String, options: TokenVerifyOptions) -> Result<Self> {
        let options = wire::verify_options_from_json(&options.to_wire()).or_throw(&env)?;
        Ok(RelayGate {
            inner: Gate::new(ring(&env, &keys)?, options),
        })
    }

    /// Swaps in new keys (signing-key rotation without a restart).
    #[napi]
    pub fn replace_keys(&self, env: Env, keys: String) -> Result<()> {
        self.inner.replace_keys(ring(&env, &keys)?);
        Ok(())
    }

    /// Admits a request, or throws the refusal (`TOKEN_MISSING`, `TOKEN_EXPIRED`,
    /// `TOKEN_SCOPE`, `TOKEN_BUDGET_EXHAUSTED`, `UNKNOWN_ENDPOINT`, `INVALID_REQUEST`, ...)
    /// with `status` (the HTTP status to answer) and `reply` (the body to answer with).
    #[napi]
    pub fn admit(&self, env: Env, request: GateRequest) -> Result<Admission> {
        let body: &[u8] = match &request.body {
            Some(Either::A(text)) => text.as_bytes(),
            Some(Either::B(bytes)) => bytes,
            None => &[],
        };
        let relay = RelayRequest {
            method: &request.method,
            path: &request.path,
            query: None,
            authorization: request.authorization.as_deref(),
            body,
        };
        let admitted = at(request.now.as_ref()).and_then(|now| self.inner.admit(&relay, now));
        match admitted {
            Ok(inner) => Ok(Admission { inner }),
            Err(e) => {
                let reply = token::error_reply(&e);
                let extra = json!({"status": reply.status, "reply": reply.body});
                Err(napi::Error::from(error_object_with(&env, &e, extra)?))
            }
        }
    }

    /// Gives an admission back to its token's budget (nothing was sent upstream).
    #[napi]
    pub fn release(&self, admission: &Admission) {
        self.inner.release(&admission.inner);
    }
}
