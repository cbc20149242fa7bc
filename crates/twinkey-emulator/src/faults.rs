//! Fault injection for the inference routes: latency, error statuses (429 with `Retry-After`,
//! 5xx, ...), a stream cut after N chunks, and holding requests until released.
//!
//! Faults are tried in the order they were added; the first one matching a request's route
//! applies (and uses up one of its `times`, when set). Hold faults are separate: while one
//! matches, requests wait *before authentication* until it is removed, so a test can gather
//! requests in flight and change a key's state under them.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// An inference route that faults can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST .../chat/completions`.
    ChatCompletions,
    /// `POST .../responses`.
    Responses,
    /// `GET .../models`.
    Models,
}

impl Route {
    /// `chat/completions`, `responses` or `models`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::ChatCompletions => "chat/completions",
            Route::Responses => "responses",
            Route::Models => "models",
        }
    }
}

/// Names accepted in [`Fault::route`].
pub const ROUTE_NAMES: [&str; 4] = ["*", "chat/completions", "responses", "models"];

/// Upper bounds that keep a mistyped fault from hanging a test run for hours.
const MAX_LATENCY_MS: u64 = 600_000;
const MAX_CHUNK_DELAY_MS: u64 = 60_000;

fn any_route() -> String {
    "*".to_string()
}

/// One fault. JSON (admin API): `{"route": "chat/completions", "status": 429, "retryAfter": 2,
/// "times": 1}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// `chat/completions`, `responses`, `models`, or `*` for all (default).
    #[serde(default = "any_route")]
    pub route: String,
    /// Delay before answering (after authentication), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Answer with this status (400–599) and an OCI error body instead of the real response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The OCI error code for `status` (default: OCI's code for the status, e.g.
    /// `TooManyRequests` for 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Retry-After` seconds sent with `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Streaming responses: abort the connection after this many events (no end marker, no
    /// chunked terminator: the client sees an unexpected end of the body). Plain JSON answers
    /// are not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_chunks: Option<u32>,
    /// Streaming responses: pause this long before each event, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_delay_ms: Option<u64>,
    /// Hold matching requests (before authentication) until this fault is removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hold: bool,
    /// Apply to this many matching requests, then disappear (default: until cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

impl Fault {
    /// A fault for every route with nothing set (build on it with struct update syntax).
    pub fn any() -> Self {
        Fault {
            route: any_route(),
            ..Fault::default()
        }
    }

    /// A fault answering `status` on `route`.
    pub fn status(route: &str, status: u16) -> Self {
        Fault {
            route: route.to_string(),
            status: Some(status),
            ..Fault::any()
        }
    }

    /// A fault cutting streams on `route` after `n` events.
    pub fn cut_after(route: &str, n: u32) -> Self {
        Fault {
            route: route.to_string(),
            cut_after_chunks: Some(n),
            ..Fault::any()
        }
    }

    /// A fault holding requests on `route` until it is removed.
    pub fn hold(route: &str) -> Self {
        Fault {
            route: route.to_string(),
            hold: true,
            ..Fault::any()
        }
    }

    /// Checks the fault; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !ROUTE_NAMES.contains(&self.route.as_str()) {
            return Err(format!(
                "route must be one of {}, not {:?}",
                ROUTE_NAMES.join(", "),
                self.route
            ));
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(format!("status must be 400-599, not {s}"));
        }
        if self.status.is_none() && (self.retry_after.is_some() || self.code.is_some()) {
            return Err("retryAfter and code need a status".into());
        }
        if let Some(code) = &self.code
            && (code.is_empty()
                || code.len() > 64
                || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err("code must be 1-64 letters, digits or '_'".into());
        }
        if self.latency_ms.is_some_and(|l| l > MAX_LATENCY_MS) {
            return Err(format!("latencyMs must be at most {MAX_LATENCY_MS}"));
        }
        if self.chunk_delay_ms.is_some_and(|l| l > MAX_CHUNK_DELAY_MS) {
            return Err(format!("chunkDelayMs must be at most {MAX_CHUNK_DELAY_MS}"));
        }
        if self.times == Some(0) {
            return Err("times must be at least 1 (omit it for no limit)".into());
        }
        let effects = self.latency_ms.is_some()
            || self.status.is_some()
            || self.cut_after_chunks.is_some()
            || self.chunk_delay_ms.is_some()
            || self.times.is_some();
        if self.hold && effects {
            return Err(
                "a hold fault has no other effect; add the others as separate faults".into(),
            );
        }
        if !self.hold && !effects {
            return Err("the fault does nothing: set latencyMs, status, cutAfterChunks, chunkDelayMs or hold".into());
        }
        Ok(())
    }

    fn matches(&self, route: Route) -> bool {
        self.route == "*" || self.route == route.as_str()
    }

    /// The latency to add, if any.
    pub fn latency(&self) -> Option<Duration> {
        self.latency_ms.map(Duration::from_millis)
    }

    /// The pause before each streamed event, if any.
    pub fn chunk_delay(&self) -> Option<Duration> {
        self.chunk_delay_ms.map(Duration::from_millis)
    }
}

/// The emulator's faults.
#[derive(Debug)]
pub struct Faults {
    list: Mutex<Vec<Fault>>,
    version: watch::Sender<u64>,
    held: watch::Sender<u64>,
    closed: std::sync::atomic::AtomicBool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            list: Mutex::new(Vec::new()),
            version: watch::Sender::new(0),
            held: watch::Sender::new(0),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

struct HeldGuard<'a>(&'a watch::Sender<u64>);

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|h| *h = h.saturating_sub(1));
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// Adds a fault (after the existing ones).
    pub fn add(&self, fault: Fault) -> Result<(), String> {
        fault.validate()?;
        self.lock().push(fault);
        self.changed();
        Ok(())
    }

    /// Replaces all faults (validated first; nothing changes on error).
    pub fn set(&self, faults: Vec<Fault>) -> Result<(), String> {
        for (i, f) in faults.iter().enumerate() {
            f.validate().map_err(|e| format!("fault {i}: {e}"))?;
        }
        *self.lock() = faults;
        self.changed();
        Ok(())
    }

    /// Removes every fault (held requests go on).
    pub fn clear(&self) {
        self.lock().clear();
        self.changed();
    }

    /// Removes the hold faults only (held requests go on).
    pub fn release(&self) {
        self.lock().retain(|f| !f.hold);
        self.changed();
    }

    /// The faults in force (with `times` counting down).
    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// Requests waiting on a hold fault now.
    pub fn held(&self) -> u64 {
        *self.held.borrow()
    }

    /// Waits until at least `n` requests are held.
    pub async fn wait_held(&self, n: u64) {
        let mut rx = self.held.subscribe();
        // The sender lives as long as `self`, so this only ends when the condition holds.
        let _ = rx.wait_for(|h| *h >= n).await;
    }

    /// Releases every hold for good (server shutdown).
    pub(crate) fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        self.changed();
    }

    fn holds(&self, route: Route) -> bool {
        !self.closed.load(std::sync::atomic::Ordering::Acquire)
            && self.lock().iter().any(|f| f.hold && f.matches(route))
    }

    /// Waits while a hold fault matches `route`.
    pub(crate) async fn wait_while_held(&self, route: Route) {
        let mut rx = self.version.subscribe();
        if !self.holds(route) {
            return;
        }
        self.held.send_modify(|h| *h += 1);
        let _guard = HeldGuard(&self.held);
        while self.holds(route) {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// The fault for one request on `route`, if any (uses up one of its `times`).
    pub(crate) fn take(&self, route: Route) -> Option<Fault> {
        let mut list = self.lock();
        let i = list.iter().position(|f| !f.hold && f.matches(route))?;
        let fault = list[i].clone();
        match list[i].times {
            Some(1) => {
                list.remove(i);
                drop(list);
                self.changed();
            }
            Some(n) => list[i].times = Some(n - 1),
            None => {}
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn validation_names_the_problem() {
        assert!(Fault::status("chat/completions", 429).validate().is_ok());
        assert!(
            Fault::status("chat", 429)
                .validate()
                .unwrap_err()
                .contains("route")
        );
        assert!(
            Fault::status("*", 200)
                .validate()
                .unwrap_err()
                .contains("400-599")
        );
        assert!(Fault::any().validate().unwrap_err().contains("nothing"));
        let both = Fault {
            latency_ms: Some(5),
            ..Fault::hold("*")
        };
        assert!(both.validate().unwrap_err().contains("hold"));
        let f: Result<Fault, _> = serde_json::from_str(r#"{"route":"*","stauts":429}"#);
        assert!(f.is_err(), "unknown fields are refused");
    }

    #[test]
    fn first_match_applies_and_times_count_down() {
        let faults = Faults::default();
        faults
            .add(Fault {
                times: Some(2),
                ..Fault::status("responses", 503)
            })
            .unwrap();
        faults.add(Fault::status("*", 500)).unwrap();
        assert_eq!(faults.take(Route::Models).unwrap().status, Some(500));
        assert_eq!(faults.take(Route::Responses).unwrap().status, Some(503));
        assert_eq!(faults.list()[0].times, Some(1));
        assert_eq!(faults.take(Route::Responses).unwrap().status, Some(503));
        assert_eq!(faults.take(Route::Responses).unwrap().status, Some(500));
        faults.clear();
        assert!(faults.take(Route::Responses).is_none());
    }
}
