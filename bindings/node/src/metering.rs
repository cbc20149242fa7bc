//! The request path's admission and settlement (`engine.fetch`): `sendAdmit` charges the
//! budget before the first attempt (or says how long to wait), the accepted response's body
//! passes through `sendFeed` (or a `StreamMonitor` for an event stream), and `sendSettle`
//! settles at its end. Tickets live in the engine under the attempt's number, like attempts.

use napi::bindgen_prelude::Uint8Array;
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use twinkey::usage::wire;
use twinkey::{ResponseFacts, Start, Ticket, Timestamp};

use crate::engine::NativeEngine;
use crate::errors::OrThrow;
use crate::stream::StreamMonitor;

/// One admitted `engine.fetch` request: its ticket, and once answered, the last attempt and
/// the answer's status and headers.
pub(crate) struct Metered {
    ticket: Ticket,
    attempt: Option<twinkey::Attempt>,
    status: Option<u16>,
    headers: Vec<(String, String)>,
}

/// How long to wait before asking `sendAdmit` again.
#[napi(object, object_from_js = false)]
pub struct WaitAdvice {
    /// Milliseconds to sleep.
    pub wait_ms: f64,
    /// When the request first asked: pass it back as `waitingSinceMs`.
    pub asked_ms: f64,
    /// What is full: `key`, `model:<name>` or `rate_limited`.
    pub scope: String,
}

#[napi]
impl NativeEngine {
    /// `engine.fetch`: admits request `id` (the number its attempts will use) to `url` with
    /// this body. `null`: go on (the ticket is kept under `id`); a `WaitAdvice`: sleep and ask
    /// again. Throws `BudgetExceededError` when the budget's policy refuses.
    #[napi]
    pub fn send_admit(
        &self,
        env: Env,
        id: u32,
        url: String,
        body: Option<Uint8Array>,
        waiting_since_ms: Option<f64>,
    ) -> Result<Option<WaitAdvice>> {
        let since = waiting_since_ms
            .map(Timestamp::from_millis_f64)
            .transpose()
            .or_throw(&env)?;
        let start = self
            .engine
            .admit(&url, body.as_deref().unwrap_or_default(), since);
        self.flush(&env);
        match start.or_throw(&env)? {
            Start::Go(ticket) => {
                self.metering.borrow_mut().insert(
                    id,
                    Metered {
                        ticket,
                        attempt: None,
                        status: None,
                        headers: Vec::new(),
                    },
                );
                Ok(None)
            }
            Start::Wait {
                delay,
                asked,
                scope,
                ..
            } => Ok(Some(WaitAdvice {
                wait_ms: delay.as_secs_f64() * 1000.0,
                asked_ms: asked.as_millis() as f64,
                scope,
            })),
        }
    }

    /// `engine.fetch`: the next chunk of request `id`'s (non-streamed) response body.
    #[napi]
    pub fn send_feed(&self, id: u32, chunk: Uint8Array) {
        if let Some(m) = self.metering.borrow().get(&id) {
            m.ticket.feed(&chunk);
        }
    }

    /// `engine.fetch`: request `id` ended (its body was read, failed or was cancelled, or it
    /// was never sent): settles its ticket with what passed through (`monitor`: the stream
    /// monitor of an event stream). Returns whether there was a ticket to settle.
    #[napi]
    pub fn send_settle(&self, env: Env, id: u32, monitor: Option<&StreamMonitor>) -> Result<bool> {
        let Some(m) = self.metering.borrow_mut().remove(&id) else {
            return Ok(false);
        };
        let settled = self.settle_metered(&m, monitor);
        self.flush(&env);
        settled.or_throw(&env)
    }

    /// What the key has used: rows per secret, model, endpoint and status, the last hour per
    /// minute, the budget (the core's JSON form).
    #[napi]
    pub fn usage(&self) -> Value {
        wire::usage_report_json(&self.engine.usage())
    }

    /// The engine's metrics as OpenMetrics / Prometheus text: GenAI token and duration
    /// histograms, secret state, health, expiry and counters, requests and tokens, the budget,
    /// events per kind. Names and fingerprints only, never a secret value.
    #[napi]
    pub fn metrics_text(&self) -> String {
        self.engine.metrics_text()
    }

    /// Records the final attempt and answer of request `id` (an accepted response: settled
    /// when its body ends).
    pub(crate) fn answered(
        &self,
        id: u32,
        attempt: twinkey::Attempt,
        status: u16,
        headers: Vec<(String, String)>,
    ) {
        if let Some(m) = self.metering.borrow_mut().get_mut(&id) {
            m.attempt = Some(attempt);
            m.status = Some(status);
            m.headers = headers;
        }
    }

    /// Settles request `id` at once (a refusal, or no answer), if it has a ticket.
    pub(crate) fn settle_now(
        &self,
        env: &Env,
        id: u32,
        attempt: &twinkey::Attempt,
        status: Option<u16>,
        headers: Vec<(String, String)>,
    ) {
        let Some(mut m) = self.metering.borrow_mut().remove(&id) else {
            return;
        };
        m.status = status;
        m.headers = headers;
        let facts = m.status.map(|status| ResponseFacts {
            status,
            headers: m
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: None,
        });
        // The ticket is fresh: settling cannot be refused.
        let _ = self
            .engine
            .settle(&m.ticket, Some(attempt), facts.as_ref(), None);
        self.flush(env);
    }

    fn settle_metered(
        &self,
        m: &Metered,
        monitor: Option<&StreamMonitor>,
    ) -> twinkey::Result<bool> {
        let facts = m.status.map(|status| ResponseFacts {
            status,
            headers: m
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: None,
        });
        let stream = monitor.map(StreamMonitor::usage_facts);
        self.engine.settle(
            &m.ticket,
            m.attempt.as_ref(),
            facts.as_ref(),
            stream.as_ref(),
        )
    }
}
