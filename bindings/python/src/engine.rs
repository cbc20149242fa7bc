//! `Engine`, `Attempt` and `Verdict`: the fail-over engine in Python.
//!
//! Every decision is the core's. An adapter (see `twinkey.httpx_auth`) loops: `begin()` for an
//! attempt, send the request with `attempt.authorization`, `complete(attempt, status, headers)`
//! for a verdict; `need_body` asks for the response body, `replay` carries the next
//! attempt, `fail` carries the exception to raise, `accept` hands the response on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::PyTraverseError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDateTime, PyDict, PyList, PyString};

use twinkey::engine::RELEVANT_HEADERS;
use twinkey::{
    Attempt, BudgetOptions, Engine, EngineOptions, ResponseFacts, SecretState, SubscriptionId,
    Verdict,
};
use zeroize::Zeroize;

use crate::errors::{IntoPyResult, exception_object};
use crate::event::deliver;
use crate::hygiene::{py_bool, quote, refuse_pickle};
use crate::key::PyApiKey;
use crate::status::PyEngineStatus;
use crate::time::{PyManualClock, duration, from_python_opt, seconds, to_datetime};

/// One attempt to send a request with one secret.
#[pyclass(module = "twinkey._native", name = "Attempt", frozen)]
pub struct PyAttempt {
    inner: Attempt,
}

impl PyAttempt {
    /// The core attempt.
    pub(crate) fn core(&self) -> &Attempt {
        &self.inner
    }
}

#[pymethods]
impl PyAttempt {
    /// The name of the secret to send.
    #[getter]
    fn secret(&self) -> &str {
        self.inner.secret_name()
    }

    /// Its safe fingerprint.
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    /// The `Authorization` header value, `Bearer <secret>`: for the transport only.
    #[getter]
    fn authorization(&self) -> String {
        self.inner.authorization()
    }

    /// Whether this is the single replay of a rejected request.
    #[getter]
    fn is_replay(&self) -> bool {
        self.inner.is_replay()
    }

    /// Whether this attempt probes a secret that may have recovered (half-open).
    #[getter]
    fn is_probe(&self) -> bool {
        self.inner.is_probe()
    }

    fn __repr__(&self) -> String {
        format!(
            "Attempt(secret={}, fingerprint={}, is_replay={}, is_probe={})",
            quote(self.inner.secret_name()),
            quote(self.inner.fingerprint()),
            py_bool(self.inner.is_replay()),
            py_bool(self.inner.is_probe()),
        )
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("Attempt"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("Attempt"))
    }
}

/// What to do with an attempt's response.
#[pyclass(module = "twinkey._native", name = "Verdict", frozen)]
pub struct PyVerdict {
    kind: &'static str,
    retry_after: Option<f64>,
    replay: Option<Py<PyAttempt>>,
    error: Option<Py<PyAny>>,
}

impl PyVerdict {
    fn from_core(py: Python<'_>, verdict: Verdict) -> PyResult<Self> {
        let kind = verdict.kind();
        let mut out = PyVerdict {
            kind,
            retry_after: None,
            replay: None,
            error: None,
        };
        match verdict {
            Verdict::Accept { retry_after } => out.retry_after = retry_after.map(seconds),
            Verdict::Replay(next) => out.replay = Some(Py::new(py, PyAttempt { inner: next })?),
            Verdict::Fail(e) => out.error = Some(exception_object(py, e)),
            Verdict::NeedBody => {}
        }
        Ok(out)
    }
}

#[pymethods]
impl PyVerdict {
    /// `accept`, `replay`, `fail` or `need_body`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// `need_body`: call `complete` again with the response body.
    #[getter]
    fn need_body(&self) -> bool {
        self.kind == "need_body"
    }

    /// `accept`: the delay the service asked for, in seconds, if any.
    #[getter]
    fn retry_after(&self) -> Option<f64> {
        self.retry_after
    }

    /// `replay`: the attempt to send the same request with, once.
    #[getter]
    fn replay(&self, py: Python<'_>) -> Option<Py<PyAttempt>> {
        self.replay.as_ref().map(|a| a.clone_ref(py))
    }

    /// `fail`: the exception to raise (a `twinkey.TwinkeyError`).
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let detail = match (&self.replay, &self.error, self.retry_after) {
            (Some(a), _, _) => format!(", replay={}", a.get().__repr__()),
            (_, Some(e), _) => format!(
                ", error={}",
                e.bind(py).repr().map(|r| r.to_string()).unwrap_or_default()
            ),
            (_, _, Some(s)) => format!(", retry_after={s}"),
            _ => String::new(),
        };
        format!("Verdict({}{detail})", quote(self.kind))
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("Verdict"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("Verdict"))
    }
}

/// Calls `f(name, value)` for each header of a mapping (`httpx.Headers`, `dict`, ...) or an
/// iterable of `(name, value)` pairs (`str` or `bytes`, e.g. `httpx.Headers.raw`).
pub fn for_each_header(
    headers: Option<&Bound<'_, PyAny>>,
    mut f: impl FnMut(&Bound<'_, PyAny>, &Bound<'_, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    let Some(headers) = headers.filter(|h| !h.is_none()) else {
        return Ok(());
    };
    if let Ok(list) = headers.cast::<PyList>() {
        // The fast path: `httpx.Headers.raw` is a list of `(bytes, bytes)`.
        for pair in list.iter() {
            f(&pair.get_item(0)?, &pair.get_item(1)?)?;
        }
        return Ok(());
    }
    let pairs = if headers.cast::<PyDict>().is_ok() || headers.hasattr("items")? {
        headers.call_method0("items")?
    } else {
        headers.clone()
    };
    for pair in pairs.try_iter()? {
        let pair = pair?;
        f(&pair.get_item(0)?, &pair.get_item(1)?)?;
    }
    Ok(())
}

/// Whether a header name (`str` or `bytes`) is `wanted`, ignoring ASCII case, without copying.
pub fn header_is(name: &Bound<'_, PyAny>, wanted: &str) -> PyResult<bool> {
    if let Ok(b) = name.cast::<PyBytes>() {
        return Ok(b.as_bytes().eq_ignore_ascii_case(wanted.as_bytes()));
    }
    Ok(name
        .cast::<PyString>()?
        .to_cow()?
        .eq_ignore_ascii_case(wanted))
}

/// A header name or value given as `str` or `bytes`.
pub fn header_text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    Ok(v.cast::<PyString>()?.to_cow()?.into_owned())
}

/// The headers the engine reads ([`RELEVANT_HEADERS`]); the others are skipped uncopied.
fn relevant_headers(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for_each_header(headers, |name, value| {
        for wanted in RELEVANT_HEADERS {
            if header_is(name, wanted)? {
                out.push((wanted, header_text(value)?));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// One `on_event` / `subscribe` callback. The Python reference is held once (shared with the
/// core's subscriber through the `Arc`), so the garbage collector can see and break cycles
/// through it (`__traverse__` / `__clear__`).
struct Subscription {
    id: SubscriptionId,
    callback: Arc<Py<PyAny>>,
}

/// The two-secret fail-over engine for one key. Thread-safe; share one per key.
#[pyclass(module = "twinkey._native", name = "Engine", frozen)]
pub struct PyEngine {
    pub(crate) engine: Engine,
    subscriptions: Mutex<HashMap<u64, Subscription>>,
    next_subscription: AtomicU64,
}

fn lock_poisoned() -> PyErr {
    PyRuntimeError::new_err("engine subscription lock poisoned")
}

impl PyEngine {
    fn subscribe_callback(&self, callback: Py<PyAny>) -> PyResult<u64> {
        let callback = Arc::new(callback);
        let shared = Arc::clone(&callback);
        let id = self.engine.subscribe(move |event| deliver(&shared, event));
        let n = self.next_subscription.fetch_add(1, Ordering::Relaxed);
        self.subscriptions
            .lock()
            .map_err(|_| lock_poisoned())?
            .insert(n, Subscription { id, callback });
        Ok(n)
    }
}

#[pymethods]
impl PyEngine {
    /// An engine over a copy of `key`. Durations are in seconds.
    #[new]
    #[pyo3(signature = (
        key, *, prefer = None, expiry_skew = 60.0, cooldown_base = 30.0, cooldown_max = 900.0,
        expiring_soon_window = 1_209_600.0, probe_lease = 30.0, allowed_hosts = None,
        budget = None, rejection_burst = 10, rejection_burst_window = 60.0, on_event = None,
        clock = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        key: &Bound<'_, PyApiKey>,
        prefer: Option<String>,
        expiry_skew: f64,
        cooldown_base: f64,
        cooldown_max: f64,
        expiring_soon_window: f64,
        probe_lease: f64,
        allowed_hosts: Option<Vec<String>>,
        budget: Option<&Bound<'_, PyAny>>,
        rejection_burst: u32,
        rejection_burst_window: f64,
        on_event: Option<Py<PyAny>>,
        clock: Option<&Bound<'_, PyManualClock>>,
    ) -> PyResult<Self> {
        let budget = match budget {
            Some(b) => Some(BudgetOptions::from_json_value(&crate::pyjson::to_value(b)?).py()?),
            None => None,
        };
        let options = EngineOptions {
            prefer,
            expiry_skew: duration("expiry_skew", expiry_skew)?,
            cooldown_base: duration("cooldown_base", cooldown_base)?,
            cooldown_max: duration("cooldown_max", cooldown_max)?,
            expiring_soon_window: duration("expiring_soon_window", expiring_soon_window)?,
            probe_lease: duration("probe_lease", probe_lease)?,
            allowed_hosts: allowed_hosts.unwrap_or_default(),
            budget,
            alerts: twinkey::AlertOptions {
                rejection_burst,
                rejection_burst_window: duration("rejection_burst_window", rejection_burst_window)?,
            },
        };
        let key = key.get().snapshot()?;
        let engine = match clock {
            Some(c) => Engine::with_clock(key, options, Arc::new(c.get().clock.clone())),
            None => Engine::new(key, options),
        }
        .py()?;
        let this = PyEngine {
            engine,
            subscriptions: Mutex::new(HashMap::new()),
            next_subscription: AtomicU64::new(1),
        };
        if let Some(cb) = on_event {
            this.subscribe_callback(cb)?;
        }
        Ok(this)
    }

    /// The secret for a new attempt. Raises `NoUsableSecretError` when neither secret can be
    /// used (then send nothing).
    fn begin(&self) -> PyResult<PyAttempt> {
        Ok(PyAttempt {
            inner: self.engine.begin().py()?,
        })
    }

    /// The secret for a new attempt to send a request to `url`. Raises
    /// `EngineError` (`DESTINATION_NOT_ALLOWED`) when a secret may not go there (not an OCI
    /// Generative AI host, loopback, or in `allowed_hosts`), `NoUsableSecretError` when neither
    /// secret can be used; then send nothing.
    fn begin_for(&self, url: &str) -> PyResult<PyAttempt> {
        Ok(PyAttempt {
            inner: self.engine.begin_for(url).py()?,
        })
    }

    /// Raises `EngineError` (`DESTINATION_NOT_ALLOWED`) when a secret may not be sent to `url`.
    fn check_destination(&self, url: &str) -> PyResult<()> {
        self.engine.check_destination(url).py()
    }

    /// The OpenAI-compatible base URL of the key's region (from its OCID), or `None`.
    #[getter]
    fn default_base_url(&self) -> Option<String> {
        self.engine.default_base_url()
    }

    /// Judges an attempt's response from its status and headers (and, only when a previous
    /// verdict said `need_body`, its body).
    #[pyo3(signature = (attempt, status, headers = None, body = None))]
    fn complete(
        &self,
        py: Python<'_>,
        attempt: &Bound<'_, PyAttempt>,
        status: u16,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&[u8]>,
    ) -> PyResult<PyVerdict> {
        let headers = relevant_headers(headers)?;
        let facts = ResponseFacts {
            status,
            headers: headers.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            body,
        };
        PyVerdict::from_core(py, self.engine.complete(&attempt.get().inner, &facts))
    }

    /// Admits a request to `url` with this body before its first attempt: the estimate is
    /// charged to the engine's budget (when it has one). Answers a `ticket`, or `wait`
    /// seconds to sleep before asking again with `waiting_since_ms=admission.asked_ms`;
    /// raises `BudgetExceededError` when the policy refuses.
    #[pyo3(signature = (url, body = None, waiting_since_ms = None))]
    fn admit(
        &self,
        py: Python<'_>,
        url: &str,
        body: Option<&[u8]>,
        waiting_since_ms: Option<f64>,
    ) -> PyResult<crate::metering::PyEngineAdmission> {
        crate::metering::admit(
            py,
            &self.engine,
            url,
            body.unwrap_or_default(),
            waiting_since_ms,
        )
    }

    /// Settles a ticket when its request ended: the last `attempt` (or `None`), the final
    /// `status` (`None`: no answer), its `headers`, and the `body` of a non-streamed response
    /// (unless fed to the ticket) or the `stream` monitor of a streamed one. Returns `False`
    /// when the ticket was settled already.
    #[pyo3(signature = (ticket, attempt = None, status = None, headers = None, body = None, stream = None))]
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        ticket: &Bound<'_, crate::metering::PyTicket>,
        attempt: Option<&Bound<'_, PyAttempt>>,
        status: Option<u16>,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&[u8]>,
        stream: Option<&Bound<'_, crate::stream::PyStreamMonitor>>,
    ) -> PyResult<bool> {
        crate::metering::settle(&self.engine, ticket, attempt, status, headers, body, stream)
    }

    /// What the key has used: rows per secret, model, endpoint and status, the last hour
    /// per minute and the budget (the core's JSON form as a dict).
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::metering::usage(py, &self.engine)
    }

    /// The engine's metrics as OpenMetrics / Prometheus text: GenAI token and duration
    /// histograms, secret state, health, expiry and counters, requests and tokens, the budget,
    /// events per kind. Names and fingerprints only, never a secret value.
    fn metrics_text(&self) -> String {
        self.engine.metrics_text()
    }

    /// Ends an attempt that got no response (timeout, reset): nothing is learned.
    fn abandon(&self, attempt: &Bound<'_, PyAttempt>) -> PyResult<()> {
        self.engine.abandon(&attempt.get().inner).py()
    }

    /// Per-secret state, lifetime, health and counters.
    fn status(&self) -> PyEngineStatus {
        self.engine.status().into()
    }

    /// The name of the secret traffic currently goes to.
    #[getter]
    fn current(&self) -> String {
        self.engine.current()
    }

    /// A copy of the key as the engine holds it now.
    #[getter]
    fn key(&self) -> PyApiKey {
        PyApiKey::from_key(self.engine.key())
    }

    /// The engine clock's current time.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.engine.now())
    }

    /// Activates a secret; forgets its observed rejections.
    fn activate(&self, name: String) -> PyResult<()> {
        self.engine.activate(&name).py()
    }

    /// Deactivates a secret (reversible).
    fn deactivate(&self, name: String) -> PyResult<()> {
        self.engine.deactivate(&name).py()
    }

    /// Revokes a secret (irreversible).
    fn revoke(&self, name: String) -> PyResult<()> {
        self.engine.revoke(&name).py()
    }

    /// Gives a secret a new value and lifetime (the core's default when none is given).
    #[pyo3(signature = (name, value, *, expiry = None))]
    fn renew(
        &self,
        name: String,
        mut value: String,
        expiry: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let done = from_python_opt(expiry)
            .and_then(|expiry| self.engine.renew(&name, &value, expiry).py());
        value.zeroize();
        done
    }

    /// Sets a secret's state as the service reports it (no transition rules).
    fn sync_state(&self, name: String, state: String) -> PyResult<()> {
        self.engine
            .sync_state(&name, SecretState::parse(&state))
            .py()
    }

    /// Sets (or, with `None`, clears) the preferred secret.
    #[pyo3(signature = (name))]
    fn set_preferred(&self, name: Option<String>) -> PyResult<()> {
        self.engine.set_preferred(name.as_deref()).py()
    }

    /// Replaces the whole key (e.g. re-read from the control plane); secrets whose value
    /// changed start with a clean health record.
    fn replace_key(&self, key: &Bound<'_, PyApiKey>) -> PyResult<()> {
        self.engine.replace_key(key.get().snapshot()?).py()
    }

    /// Follows one observed key document (`doc`: JSON or an `ApiKey`; `source`: `"file"`, whose
    /// values are taken, or `"controlPlane"`, whose never are): states, expiries, values and a
    /// rotation's preference. Returns `{"changes": [...], "prefer": name | None}`; raises
    /// `KeyDocumentError` (`INVALID_KEY`) for another key's document.
    #[pyo3(signature = (doc, source = "file"))]
    fn follow_key<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
        source: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::watch::follow_key(py, self, doc, source)
    }

    /// Calls `callback(event)` for every event; returns an id for `unsubscribe`.
    fn subscribe(&self, callback: Py<PyAny>) -> PyResult<u64> {
        self.subscribe_callback(callback)
    }

    /// Removes a subscription; returns whether it existed.
    fn unsubscribe(&self, subscription: u64) -> PyResult<bool> {
        let removed = self
            .subscriptions
            .lock()
            .map_err(|_| lock_poisoned())?
            .remove(&subscription);
        Ok(removed.is_some_and(|s| self.engine.unsubscribe(s.id)))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // `try_lock`: a collection must never wait; a subscription being added is skipped.
        if let Ok(subscriptions) = self.subscriptions.try_lock() {
            for s in subscriptions.values() {
                visit.call(s.callback.as_ref())?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            for (_, s) in subscriptions.drain() {
                self.engine.unsubscribe(s.id);
            }
        }
    }

    fn __repr__(&self) -> String {
        let key = self.engine.key();
        let [one, two] = key.secrets();
        format!(
            "Engine([{one}, {two}], current={})",
            quote(&self.engine.current())
        )
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse_pickle("Engine"))
    }

    fn __reduce_ex__(&self, _protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(refuse_pickle("Engine"))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
}
