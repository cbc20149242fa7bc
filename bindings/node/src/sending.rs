//! The request path of the facade's `engine.fetch`: the same core calls as
//! `begin`/`complete`/`abandon`, but the attempts stay in the engine under a number, so a
//! request creates no wrapped JS object (and no finalizer) per attempt, and one call both
//! judges a response and says whether it is an event stream to watch.

use napi::bindgen_prelude::{Uint8Array, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use twinkey::engine::RELEVANT_HEADERS;
use twinkey::stream::{StreamKind, is_event_stream};

use crate::engine::NativeEngine;
use crate::errors::OrThrow;

/// An attempt of `engine.fetch`, kept by the engine under `id` until it is completed or
/// abandoned.
#[napi(object, object_from_js = false)]
pub struct Sending {
    /// The number to pass to `sendComplete` / `sendAbandon`.
    pub id: u32,
    /// The `Authorization` header value to send (`Bearer <secret>`): for the transport only.
    pub authorization: String,
}

/// What to do with an `engine.fetch` attempt's response (`sendComplete`).
#[napi(object, object_from_js = false)]
pub struct SendVerdict<'env> {
    /// As `Verdict.kind`.
    #[napi(ts_type = "'accept' | 'replay' | 'fail' | 'need_body'")]
    pub kind: String,
    /// `accept`: the delay the service asked for, in milliseconds.
    pub retry_after_ms: Option<f64>,
    /// `replay`: the attempt to send.
    pub next: Option<Sending>,
    /// `fail`: the error to throw (a `TwinkeyError`).
    pub error: Option<Unknown<'env>>,
    /// For an event stream: the stream kind to watch once accepted (`new StreamMonitor(stream)`).
    #[napi(ts_type = "'auto' | 'chat_completions' | 'responses'")]
    pub stream: Option<String>,
}

#[napi]
impl NativeEngine {
    /// `engine.fetch`: hands out the secret for a new attempt, kept under a number; throws
    /// `NoUsableSecretError` (send nothing).
    #[napi]
    pub fn send_begin(&self, env: Env) -> Result<Sending> {
        let attempt = self.engine.begin();
        self.flush(&env);
        Ok(self.keep(attempt.or_throw(&env)?))
    }

    /// `engine.fetch`: judges the response of attempt `id` to a request for `url`. `values`
    /// holds the response's values of `RELEVANT_HEADERS`, in that order (`null` when absent);
    /// `contentType` its `Content-Type`, so an accepted event stream comes with the kind of
    /// stream to watch.
    #[napi]
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
    ) -> Result<SendVerdict<'env>> {
        let attempt = self.take(env, id)?;
        let headers = RELEVANT_HEADERS
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)));
        let judged = self.judge(env, &attempt, status, headers, body.as_deref());
        // Still open: the body is asked for, or the response could not be judged.
        if judged.as_ref().is_ok_and(|j| j.kind == "need_body") || judged.is_err() {
            self.sending.borrow_mut().insert(id, attempt);
        }
        let judged = judged?;
        let stream = content_type
            .filter(|ct| is_event_stream(ct))
            .map(|_| StreamKind::for_path(&url).as_str().to_string());
        Ok(SendVerdict {
            kind: judged.kind.to_string(),
            retry_after_ms: judged.retry_after_ms,
            next: judged.next.map(|next| self.keep(next)),
            error: judged.error,
            stream,
        })
    }

    /// `engine.fetch`: ends attempt `id`, which got no response.
    #[napi]
    pub fn send_abandon(&self, env: Env, id: u32) -> Result<()> {
        let attempt = self.take(&env, id)?;
        let r = self.engine.abandon(&attempt);
        self.flush(&env);
        r.or_throw(&env)
    }

    /// Keeps an `engine.fetch` attempt until it is completed or abandoned.
    fn keep(&self, attempt: twinkey::Attempt) -> Sending {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let authorization = attempt.authorization();
        self.sending.borrow_mut().insert(id, attempt);
        Sending { id, authorization }
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
