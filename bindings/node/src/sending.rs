//! The request path of the facade's `engine.fetch`: the same core calls as
//! `begin`/`complete`/`abandon`, shaped for the hot path. The attempt stays in the engine under
//! a number the facade picks (no wrapped JS object, no finalizer per attempt); `sendBegin`
//! returns just the `Authorization` value, and `sendComplete` returns `null` for the common
//! outcome (hand the response over as it is), so a plain request builds no JS object at all.

use napi::bindgen_prelude::{Either, Uint8Array, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use twinkey::engine::RELEVANT_HEADERS;
use twinkey::stream::{StreamKind, is_event_stream};

use crate::engine::NativeEngine;
use crate::errors::OrThrow;

/// What to do with an `engine.fetch` attempt's response, when it is not handed over as it is
/// (`sendComplete`).
#[napi(object, object_from_js = false)]
pub struct SendVerdict<'env> {
    /// `replay`: send the same request once more with `authorization` (the attempt keeps its
    /// number); `fail`: throw `error`; `need_body`: call `sendComplete` again with the body.
    #[napi(ts_type = "'replay' | 'fail' | 'need_body'")]
    pub kind: String,
    /// `replay`: the `Authorization` value to send (`Bearer <secret>`): for the transport only.
    pub authorization: Option<String>,
    /// `fail`: the error to throw (a `TwinkeyError`).
    pub error: Option<Unknown<'env>>,
}

#[napi]
impl NativeEngine {
    /// `engine.fetch`: hands out the secret for a new attempt to send a request to `url`, kept
    /// under `id` (a number the caller picks, unique among its attempts in flight); returns the
    /// `Authorization` value to send. Throws `DESTINATION_NOT_ALLOWED` when a secret may not go
    /// to `url`, `NoUsableSecretError` (send nothing), or `INVALID_ATTEMPT` when `id` is taken.
    #[napi]
    pub fn send_begin(&self, env: Env, id: u32, url: String) -> Result<String> {
        if self.sending.borrow().contains_key(&id) {
            return Err(twinkey::Error::InvalidAttempt {
                reason: format!("attempt {id} is already in flight"),
            })
            .or_throw(&env);
        }
        let attempt = self.engine.begin_for(&url);
        self.flush(&env);
        Ok(self.keep(id, attempt.or_throw(&env)?))
    }

    /// `engine.fetch`: judges the response of attempt `id` to a request for `url`. `values`
    /// holds the response's values of `RELEVANT_HEADERS`, in that order (`null` when absent);
    /// `contentType` its `Content-Type`; `body` only after a `need_body` verdict. Returns `null`
    /// to hand the response over as it is, a stream kind (`auto`, `chat_completions`,
    /// `responses`) to hand it over watched by `new StreamMonitor(kind)`, or a `SendVerdict`.
    #[napi(ts_return_type = "null | 'auto' | 'chat_completions' | 'responses' | SendVerdict")]
    #[allow(clippy::too_many_arguments)]
    pub fn send_complete<'env>(
        &self,
        env: &'env Env,
        id: u32,
        url: String,
        status: u32,
        values: Vec<Option<String>>,
        content_type: Option<String>,
        body: Option<Uint8Array>,
    ) -> Result<Option<Either<String, SendVerdict<'env>>>> {
        let attempt = self.take(env, id)?;
        let headers = RELEVANT_HEADERS
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)));
        let judged = self.judge(env, &attempt, status, headers.clone(), body.as_deref());
        // Still open: the body is asked for, or the response could not be judged.
        if judged.as_ref().is_ok_and(|j| j.kind == "need_body") || judged.is_err() {
            self.sending.borrow_mut().insert(id, attempt);
            return judged.map(|j| {
                Some(Either::B(SendVerdict {
                    kind: j.kind.to_string(),
                    authorization: None,
                    error: j.error,
                }))
            });
        }
        let judged = judged?;
        let owned: Vec<(String, String)> = headers
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        // The status fit in u16: `judge` refuses any other.
        let code = u16::try_from(status).unwrap_or(0);
        if judged.kind == "accept" {
            self.answered(id, attempt, code, owned);
            return Ok(content_type
                .filter(|ct| is_event_stream(ct))
                .map(|_| Either::A(StreamKind::for_path(&url).as_str().to_string())));
        }
        if judged.kind == "fail" {
            self.settle_now(env, id, &attempt, Some(code), owned);
        }
        Ok(Some(Either::B(SendVerdict {
            kind: judged.kind.to_string(),
            authorization: judged.next.map(|next| self.keep(id, next)),
            error: judged.error,
        })))
    }

    /// `engine.fetch`: ends attempt `id`, which got no response.
    #[napi]
    pub fn send_abandon(&self, env: Env, id: u32) -> Result<()> {
        let attempt = self.take(&env, id)?;
        let r = self.engine.abandon(&attempt);
        self.settle_now(&env, id, &attempt, None, Vec::new());
        self.flush(&env);
        r.or_throw(&env)
    }

    /// Keeps an `engine.fetch` attempt under `id` until it is completed or abandoned; its
    /// `Authorization` value.
    fn keep(&self, id: u32, attempt: twinkey::Attempt) -> String {
        let authorization = attempt.authorization();
        self.sending.borrow_mut().insert(id, attempt);
        authorization
    }

    /// Removes an `engine.fetch` attempt (`INVALID_ATTEMPT` when there is none under `id`).
    fn take(&self, env: &Env, id: u32) -> Result<twinkey::Attempt> {
        self.sending
            .borrow_mut()
            .remove(&id)
            .ok_or_else(|| twinkey::Error::InvalidAttempt {
                reason: format!("no attempt {id} in flight (completed already?)"),
            })
            .or_throw(env)
    }
}
