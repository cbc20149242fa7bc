//! `NativeEngine`: the core's fail-over engine for one key. The facade's `Engine` wraps it
//! (adding `fetch` and an `EventEmitter`); its methods map one to one onto
//! [`twinkey::Engine`].
//!
//! Events: the core calls subscribers synchronously during `begin`/`complete`/... . Every call
//! into the engine happens on the JS thread, so the subscriber queues the event and the method
//! hands the queue to the JS callback before it returns: listeners run synchronously, in order,
//! on the JS thread, before the call that caused them returns.
//!
//! `begin`/`complete`/`abandon` hand out `Attempt` objects (the public API); the facade's
//! `engine.fetch` uses the `send*` methods of [`crate::sending`] instead.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::{Either, Function, FunctionRef, Uint8Array, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use twinkey::{Event, ResponseFacts, SecretState};

use crate::attempt::Attempt;
use crate::clock::ManualClock;
use crate::errors::{OrThrow, error_object};
use crate::key::ApiKey;
use crate::options::EngineOptions;
use crate::report::{EngineEvent, EngineStatus};
use crate::time::{instant, millis};

/// Events raised by the core, waiting to be handed to JS.
type Queue = Arc<Mutex<Vec<Event>>>;

/// What to do with an attempt's response (`engine.complete`).
#[napi(object, object_from_js = false)]
pub struct Verdict<'env> {
    /// `accept`: hand the response to the caller; `replay`: send the same request once more
    /// with `attempt`; `fail`: throw `error`; `need_body`: call `complete` again with the body.
    #[napi(ts_type = "'accept' | 'replay' | 'fail' | 'need_body'")]
    pub kind: String,
    /// `accept`: the delay the service asked for (rate limits, server errors), in milliseconds.
    pub retry_after_ms: Option<f64>,
    /// `replay`: the attempt to send.
    pub attempt: Option<Attempt>,
    /// `fail`: the error to throw (a `TwinkeyError`).
    pub error: Option<Unknown<'env>>,
}

/// A verdict in Rust terms, before it is shaped for one of the two APIs.
pub(crate) struct Judged<'env> {
    pub(crate) kind: &'static str,
    pub(crate) retry_after_ms: Option<f64>,
    pub(crate) next: Option<twinkey::Attempt>,
    pub(crate) error: Option<Unknown<'env>>,
}

/// Response header names the engine reads (pass these to `complete`).
#[napi]
pub fn relevant_headers() -> Vec<String> {
    twinkey::engine::RELEVANT_HEADERS
        .iter()
        .map(|h| (*h).to_string())
        .collect()
}

/// The engine of one API key. Use the facade's `Engine`, which wraps this class.
#[napi]
pub struct NativeEngine {
    pub(crate) engine: twinkey::Engine,
    events: Option<(Queue, FunctionRef<EngineEvent, ()>)>,
    /// Attempts of `engine.fetch` in flight, by id.
    pub(crate) sending: RefCell<HashMap<u32, twinkey::Attempt>>,
    /// Admitted `engine.fetch` requests, by id, until settled.
    pub(crate) metering: RefCell<HashMap<u32, crate::metering::Metered>>,
}

#[napi]
impl NativeEngine {
    /// An engine for `key` (copied), on `clock` (default: the system clock); `onEvent` gets
    /// every event synchronously.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        key: &ApiKey,
        options: Option<EngineOptions>,
        clock: Option<&ManualClock>,
        on_event: Option<Function<EngineEvent, ()>>,
    ) -> Result<Self> {
        let options = options.unwrap_or_default().to_core().or_throw(&env)?;
        let key = key.inner.clone();
        let engine = match clock {
            Some(c) => twinkey::Engine::with_clock(key, options, Arc::new(c.inner.clone())),
            None => twinkey::Engine::new(key, options),
        }
        .or_throw(&env)?;
        let events = match on_event {
            Some(f) => {
                let queue: Queue = Arc::default();
                let sink = queue.clone();
                engine.subscribe(move |e| lock(&sink).push(e.clone()));
                Some((queue, f.create_ref()?))
            }
            None => None,
        };
        Ok(NativeEngine {
            engine,
            events,
            sending: RefCell::default(),
            metering: RefCell::default(),
        })
    }

    /// Hands out the secret for a new attempt; throws `NoUsableSecretError` (send nothing).
    #[napi]
    pub fn begin(&self, env: Env) -> Result<Attempt> {
        let attempt = self.engine.begin();
        self.flush(&env);
        Ok(Attempt {
            inner: attempt.or_throw(&env)?,
        })
    }

    /// Throws `EngineError` (`DESTINATION_NOT_ALLOWED`) when a secret may not be sent to `url`
    /// (not an OCI Generative AI host, loopback, or in `allowedHosts`).
    #[napi]
    pub fn check_destination(&self, env: Env, url: String) -> Result<()> {
        self.engine.check_destination(&url).or_throw(&env)
    }

    /// The OpenAI-compatible base URL of the key's region (from its OCID), or `null`.
    #[napi]
    pub fn default_base_url(&self) -> Option<String> {
        self.engine.default_base_url()
    }

    /// Judges an attempt's response: its status, its headers (only the names in
    /// `RELEVANT_HEADERS` are read) and, when a previous call answered `need_body`, its body.
    #[napi]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        attempt: &Attempt,
        status: u32,
        headers: Option<HashMap<String, String>>,
        body: Option<Uint8Array>,
    ) -> Result<Verdict<'env>> {
        let headers = headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let judged = self.judge(env, &attempt.inner, status, headers, body.as_deref())?;
        Ok(Verdict {
            kind: judged.kind.to_string(),
            retry_after_ms: judged.retry_after_ms,
            attempt: judged.next.map(|inner| Attempt { inner }),
            error: judged.error,
        })
    }

    /// Ends an attempt that got no response (network error, abort): nothing is learned about
    /// the secret.
    #[napi]
    pub fn abandon(&self, env: Env, attempt: &Attempt) -> Result<()> {
        let r = self.engine.abandon(&attempt.inner);
        self.flush(&env);
        r.or_throw(&env)
    }

    /// Per-secret state, health and counters.
    #[napi]
    pub fn status(&self) -> EngineStatus {
        EngineStatus::new(&self.engine.status(), self.engine.current())
    }

    /// The name of the secret traffic currently goes to.
    #[napi]
    pub fn current(&self) -> String {
        self.engine.current()
    }

    /// A copy of the key as the engine holds it now.
    #[napi]
    pub fn key(&self) -> ApiKey {
        ApiKey {
            inner: self.engine.key(),
        }
    }

    /// Replaces the whole key (e.g. re-read from the control plane).
    #[napi]
    pub fn replace_key(&self, env: Env, key: &ApiKey) -> Result<()> {
        let r = self.engine.replace_key(key.inner.clone());
        self.after(&env, r)
    }

    /// Follows one observed key document (`source`: `file`, whose values are taken, or
    /// `controlPlane`, whose never are): `{ changes, prefer }`.
    #[napi(
        ts_return_type = "{ changes: Array<{ change: 'value' | 'state' | 'expiry' | 'prefer' | 'preferIgnored'; secret: string; fingerprint?: string; from?: string; to?: string; reason?: string }>; prefer: string | null }"
    )]
    pub fn follow_key(&self, env: Env, key: &ApiKey, source: String) -> Result<serde_json::Value> {
        let r = twinkey::watch::WatchSource::parse(&source)
            .and_then(|s| self.engine.follow_key(&key.inner, s));
        self.flush(&env);
        r.map(|u| u.to_json_value()).or_throw(&env)
    }

    /// Sets (or, with `null`, clears) the preferred secret.
    #[napi]
    pub fn set_preferred(&self, env: Env, secret: Option<String>) -> Result<()> {
        let r = self.engine.set_preferred(secret.as_deref());
        self.after(&env, r)
    }

    /// Activates a secret.
    #[napi]
    pub fn activate(&self, env: Env, secret: String) -> Result<()> {
        let r = self.engine.activate(&secret);
        self.after(&env, r)
    }

    /// Deactivates a secret.
    #[napi]
    pub fn deactivate(&self, env: Env, secret: String) -> Result<()> {
        let r = self.engine.deactivate(&secret);
        self.after(&env, r)
    }

    /// Revokes a secret (irreversible).
    #[napi]
    pub fn revoke(&self, env: Env, secret: String) -> Result<()> {
        let r = self.engine.revoke(&secret);
        self.after(&env, r)
    }

    /// Gives a secret a new value and makes it usable until `until` (default: 90 days).
    #[napi]
    pub fn renew(
        &self,
        env: Env,
        secret: String,
        value: String,
        until: Option<Either<String, f64>>,
    ) -> Result<()> {
        let until = until.as_ref().map(instant).transpose().or_throw(&env)?;
        let r = self.engine.renew(&secret, &value, until);
        self.after(&env, r)
    }

    /// Sets a secret's state as the service reports it (any string; no transition rules).
    #[napi]
    pub fn sync_state(&self, env: Env, secret: String, state: String) -> Result<()> {
        let r = self.engine.sync_state(&secret, SecretState::parse(&state));
        self.after(&env, r)
    }

    /// The core's verdict on a response, events delivered.
    pub(crate) fn judge<'a, 'env>(
        &self,
        env: &'env Env,
        attempt: &twinkey::Attempt,
        status: u32,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
        body: Option<&'a [u8]>,
    ) -> Result<Judged<'env>> {
        let status = u16::try_from(status)
            .map_err(|_| twinkey::Error::InvalidRequest {
                reason: format!("HTTP status {status} is out of range"),
            })
            .or_throw(env)?;
        let facts = ResponseFacts {
            status,
            headers: headers.collect(),
            body,
        };
        let verdict = self.engine.complete(attempt, &facts);
        self.flush(env);
        let mut out = Judged {
            kind: verdict.kind(),
            retry_after_ms: None,
            next: None,
            error: None,
        };
        match verdict {
            twinkey::Verdict::Accept { retry_after } => {
                out.retry_after_ms = retry_after.map(millis)
            }
            twinkey::Verdict::Replay(next) => out.next = Some(next),
            twinkey::Verdict::Fail(e) => out.error = Some(error_object(env, &e)?),
            twinkey::Verdict::NeedBody => {}
        }
        Ok(out)
    }

    /// Hands queued events to the JS callback. A callback that throws is contained (the
    /// facade's dispatcher reports listener errors itself).
    pub(crate) fn flush(&self, env: &Env) {
        let Some((queue, callback)) = &self.events else {
            return;
        };
        let events = std::mem::take(&mut *lock(queue));
        if events.is_empty() {
            return;
        }
        if let Ok(f) = callback.borrow_back(env) {
            for e in &events {
                let _ = f.call(EngineEvent::from(e));
            }
        }
    }

    fn after(&self, env: &Env, r: twinkey::Result<()>) -> Result<()> {
        self.flush(env);
        r.or_throw(env)
    }
}

fn lock(queue: &Mutex<Vec<Event>>) -> std::sync::MutexGuard<'_, Vec<Event>> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}
