//! The tokens-per-minute budget of one key: admission before a request is sent, on an
//! estimate ([`crate::usage::request_facts`]), and settlement when its response ends, with the
//! real usage (refund or debit) and the service's rate-limit answers folded in.
//!
//! The core decides and never sleeps: [`Budget::admit`] answers *granted* (with a [`Charge`] to
//! settle), *wait until T* (the binding sleeps with its own runtime and asks again, passing
//! when it first asked), or `TPM_BUDGET_EXCEEDED` with the time to retry.
//!
//! - A key-wide limit and optional per-model limits, each a sliding one-minute [`Window`]; a
//!   request is admitted when it fits every window that applies to it.
//! - A `429` refunds its charge and blocks admission until its `Retry-After`
//!   (`retry-after-ms`, `x-ratelimit-reset-tokens`), or for an exponential back-off (1 s
//!   doubling to 60 s) when it gives none; the next success resets the back-off. This holds
//!   with no limit configured too: a budget then only folds in the service's 429s.
//! - `x-ratelimit-remaining-tokens` lower than the window's own remaining room means someone
//!   else spends the key's tokens: the difference is charged, so admissions slow down before
//!   the service refuses them.
//! - Crossing the high-water mark (a fraction of a limit) upwards is reported once, until use
//!   falls a tenth of the limit below it.

mod headers;
mod lease;
mod options;
mod window;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

pub use headers::{MAX_RETRY_AFTER, RateLimitHeaders};
pub use lease::{
    FLEET_POLL, LEASE_HOLD, LEASE_RENEW_AHEAD, LEASE_SPEND, LeaseReturn, LeaseSnapshot,
};
pub use options::{BudgetOptions, DEFAULT_HIGH_WATER, DEFAULT_MAX_WAIT, Policy};
pub use window::{KEEP_SECONDS, Window};

use crate::error::{Error, Result};
use crate::time::Timestamp;
use crate::usage::Usage;
use lease::LeaseBook;

/// First back-off after a 429 without a retry time.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest back-off after repeated 429s without a retry time.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the budget has charged for one admitted request; hand it back to [`Budget::settle`]
/// once (dropping it unsettled keeps the estimate charged, as for a response without usage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The second (Unix time) the estimate was charged in.
    second: i64,
    /// Tokens charged.
    tokens: u64,
    /// The model window charged besides the key's, if any.
    model: Option<String>,
}

impl Charge {
    /// Tokens charged on admission (the estimate).
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// The per-model limit the charge also counts against, if any.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
}

/// A limit crossing its high-water mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HighWater {
    /// `key` or `model:<name>`.
    pub scope: String,
    /// Tokens counting in the window.
    pub used: u64,
    /// The limit.
    pub limit: u64,
}

/// The answer of [`Budget::admit`].
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Send the request; settle the charge when its response ends.
    Granted {
        /// What was charged.
        charge: Charge,
        /// Set when this admission took a limit above its high-water mark.
        high_water: Option<HighWater>,
    },
    /// Sleep until `until`, then ask again (passing the time of the first ask).
    Wait {
        /// When the request will fit.
        until: Timestamp,
        /// What is full: `key`, `model:<name>` or `rate_limited`.
        scope: String,
    },
}

/// How a request that was granted ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not sent, or the connection failed before an answer: the estimate is refunded.
    NotSent,
    /// The service answered with this status; `usage` is what the response reported.
    Answered {
        /// HTTP status.
        status: u16,
        /// Usage from the body or the stream, when it had one.
        usage: Option<Usage>,
    },
}

/// One window's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowSnapshot {
    /// `key` or `model:<name>`.
    pub scope: String,
    /// The limit.
    pub limit: u64,
    /// Tokens counting now.
    pub used: u64,
}

/// The budget's state at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetSnapshot {
    /// The key's window, then each model's.
    pub windows: Vec<WindowSnapshot>,
    /// Admission is blocked until then by the service's 429.
    pub blocked_until: Option<Timestamp>,
    /// Tokens refunded in all (estimates above the real usage, refusals).
    pub refunded: u64,
    /// Tokens debited in all (real usage above the estimate, foreign use of the key).
    pub debited: u64,
    /// The fleet's leases, once [`Budget::attach_fleet`] was called.
    pub fleet: Option<LeaseSnapshot>,
}

#[derive(Debug)]
struct State {
    key: Option<Window>,
    models: BTreeMap<String, Window>,
    blocked_until: Option<Timestamp>,
    backoff: Duration,
    above_high_water: BTreeMap<String, bool>,
    refunded: u64,
    debited: u64,
    fleet: Option<LeaseBook>,
}

/// A key's tokens-per-minute budget (thread-safe; share it between the engine's callers).
#[derive(Debug)]
pub struct Budget {
    options: BudgetOptions,
    state: Mutex<State>,
}

fn second_of(t: Timestamp) -> i64 {
    t.as_millis().div_euclid(1000)
}

fn model_scope(model: &str) -> String {
    format!("model:{model}")
}

fn signed(tokens: u64) -> i64 {
    i64::try_from(tokens).unwrap_or(i64::MAX)
}

impl Budget {
    /// A budget with these options (`INVALID_OPTIONS` when they are inconsistent).
    pub fn new(options: BudgetOptions) -> Result<Self> {
        options.validate()?;
        let state = State {
            key: options.tokens_per_minute.map(Window::new),
            models: options
                .per_model
                .iter()
                .map(|(m, &limit)| (m.clone(), Window::new(limit)))
                .collect(),
            blocked_until: None,
            backoff: Duration::ZERO,
            above_high_water: BTreeMap::new(),
            refunded: 0,
            debited: 0,
            fleet: None,
        };
        Ok(Budget {
            options,
            state: Mutex::new(state),
        })
    }

    /// The options.
    pub fn options(&self) -> &BudgetOptions {
        &self.options
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the windows inconsistent (every update
        // is a few integer operations), so a poisoned lock is taken over.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to send a request estimated at `estimate` tokens for `model` at `now`.
    /// `waiting_since` is when this request first asked (after a [`Admission::Wait`]); the
    /// policy's `max_wait` counts from then.
    pub fn admit(
        &self,
        estimate: u64,
        model: Option<&str>,
        now: Timestamp,
        waiting_since: Option<Timestamp>,
    ) -> Result<Admission> {
        let mut st = self.lock();
        let s = second_of(now);
        let model_key = model
            .filter(|m| st.models.contains_key(*m))
            .map(str::to_string);
        // The latest time any window (or the service) lets the request through.
        let mut ready = now;
        let mut scope = String::new();
        if let Some(until) = st.blocked_until {
            if until > now {
                ready = until;
                scope = "rate_limited".to_string();
            } else {
                st.blocked_until = None;
            }
        }
        if let Some(w) = st.key.as_mut() {
            let at = Timestamp::from_millis(w.fits_at(s, estimate).saturating_mul(1000));
            if at > ready {
                ready = at;
                scope = "key".to_string();
            }
        }
        if let Some(m) = &model_key
            && let Some(w) = st.models.get_mut(m)
        {
            let at = Timestamp::from_millis(w.fits_at(s, estimate).saturating_mul(1000));
            if at > ready {
                ready = at;
                scope = model_scope(m);
            }
        }
        if st.key.is_some()
            && let Some(book) = st.fleet.as_mut().filter(|b| b.attached())
            && let Some(at) = book.ready_at(now, estimate)
            && at > ready
        {
            ready = at;
            scope = "fleet".to_string();
        }
        if ready > now {
            let started = waiting_since.filter(|w| *w <= now).unwrap_or(now);
            let refuse = match self.options.policy {
                Policy::FailFast => true,
                Policy::Wait { max_wait } => ready.since(started) > max_wait,
            };
            if refuse {
                return Err(Error::TpmBudgetExceeded {
                    scope,
                    retry_after_ms: u64::try_from(ready.since(now).as_millis()).unwrap_or(u64::MAX),
                    requested: estimate,
                });
            }
            return Ok(Admission::Wait {
                until: ready,
                scope,
            });
        }
        let second = match st.key.as_mut() {
            Some(w) => w.charge(s, estimate),
            None => s,
        };
        if let Some(m) = &model_key
            && let Some(w) = st.models.get_mut(m)
        {
            w.charge(s, estimate);
        }
        if let Some(book) = st.fleet.as_mut().filter(|b| b.attached()) {
            book.admitted(now, estimate);
        }
        let high_water = self.check_high_water(&mut st, s, model_key.as_deref());
        Ok(Admission::Granted {
            charge: Charge {
                second,
                tokens: estimate,
                model: model_key,
            },
            high_water,
        })
    }

    /// Settles a charge when its request ended: the real usage replaces the estimate (a
    /// success without usage keeps the estimate; a refusal, a 429 or a request not sent gets
    /// it back); a 429 and the rate-limit headers fold into the budget. Answers a high-water
    /// crossing the settlement caused (a debit).
    pub fn settle(
        &self,
        charge: Charge,
        outcome: Outcome,
        headers: &RateLimitHeaders,
        now: Timestamp,
    ) -> Option<HighWater> {
        let mut st = self.lock();
        let s = second_of(now);
        let estimate = signed(charge.tokens);
        let delta = match outcome {
            Outcome::NotSent => -estimate,
            Outcome::Answered { usage: Some(u), .. } => signed(u.total_tokens) - estimate,
            Outcome::Answered {
                status,
                usage: None,
            } if (200..300).contains(&status) => 0,
            // An error answer without usage generated nothing.
            Outcome::Answered { usage: None, .. } => -estimate,
        };
        if delta < 0 {
            st.refunded = st.refunded.saturating_add(delta.unsigned_abs());
        } else {
            st.debited = st.debited.saturating_add(delta.unsigned_abs());
        }
        if let Some(book) = st.fleet.as_mut().filter(|b| b.attached()) {
            if delta < 0 {
                book.refund(now, delta.unsigned_abs());
            } else {
                book.spend(now, delta.unsigned_abs());
            }
        }
        if let Some(w) = st.key.as_mut() {
            w.adjust(s, charge.second, delta);
        }
        if let Some(m) = &charge.model
            && let Some(w) = st.models.get_mut(m)
        {
            w.adjust(s, charge.second, delta);
        }
        match outcome {
            Outcome::Answered { status: 429, .. } => {
                let wait = headers
                    .retry_after
                    .or(headers.reset_tokens)
                    .unwrap_or_else(|| {
                        let next = if st.backoff.is_zero() {
                            FIRST_BACKOFF
                        } else {
                            (st.backoff * 2).min(MAX_BACKOFF)
                        };
                        st.backoff = next;
                        next
                    });
                let until = now.plus(wait);
                st.blocked_until = Some(st.blocked_until.map_or(until, |b| b.max(until)));
            }
            Outcome::Answered { status, .. } if (200..300).contains(&status) => {
                st.backoff = Duration::ZERO;
            }
            _ => {}
        }
        self.fold_remaining(&mut st, s, headers);
        self.check_high_water(&mut st, s, charge.model.as_deref())
    }

    /// Reads the rate-limit headers of any answer (also one not tied to a charge).
    pub fn observe_headers(&self, headers: &RateLimitHeaders, now: Timestamp) {
        let mut st = self.lock();
        self.fold_remaining(&mut st, second_of(now), headers);
    }

    fn fold_remaining(&self, st: &mut State, s: i64, headers: &RateLimitHeaders) {
        let Some(remaining) = headers.remaining_tokens else {
            return;
        };
        let Some(w) = st.key.as_mut() else {
            return;
        };
        let own = w.limit().saturating_sub(w.used(s));
        if remaining < own {
            let foreign = own - remaining;
            w.charge(s, foreign);
            st.debited = st.debited.saturating_add(foreign);
        }
    }

    fn check_high_water(&self, st: &mut State, s: i64, model: Option<&str>) -> Option<HighWater> {
        let mut crossed = None;
        let mut windows: Vec<(String, u64, u64)> = Vec::new();
        if let Some(w) = st.key.as_mut() {
            windows.push(("key".to_string(), w.used(s), w.limit()));
        }
        if let Some(m) = model
            && let Some(w) = st.models.get_mut(m)
        {
            windows.push((model_scope(m), w.used(s), w.limit()));
        }
        for (scope, used, limit) in windows {
            let mark = self.options.high_water * limit as f64;
            let rearm = mark - 0.1 * limit as f64;
            let above = st.above_high_water.entry(scope.clone()).or_insert(false);
            let u = used as f64;
            if !*above && u > mark {
                *above = true;
                if crossed.is_none() {
                    crossed = Some(HighWater { scope, used, limit });
                }
            } else if *above && u < rearm {
                *above = false;
            }
        }
        crossed
    }

    /// The windows' use, the 429 block and the refund/debit totals at `now`.
    pub fn snapshot(&self, now: Timestamp) -> BudgetSnapshot {
        let mut st = self.lock();
        let s = second_of(now);
        let mut windows = Vec::new();
        if let Some(w) = st.key.as_mut() {
            windows.push(WindowSnapshot {
                scope: "key".to_string(),
                limit: w.limit(),
                used: w.used(s),
            });
        }
        for (m, w) in st.models.iter_mut() {
            windows.push(WindowSnapshot {
                scope: model_scope(m),
                limit: w.limit(),
                used: w.used(s),
            });
        }
        BudgetSnapshot {
            windows,
            blocked_until: st.blocked_until.filter(|b| *b > now),
            refunded: st.refunded,
            debited: st.debited,
            fleet: st.fleet.as_ref().map(|b| b.snapshot(now)),
        }
    }

    /// The slice a fleet leases by default: a tenth of the key-wide limit (`None` without one).
    pub fn default_slice(&self) -> Option<u64> {
        self.options.tokens_per_minute.map(|l| l.div_ceil(10))
    }

    /// Shares the key-wide limit with a fleet: from now on a request also needs tokens leased
    /// from the pool (spendable for [`LEASE_SPEND`], held by the pool for [`LEASE_HOLD`]),
    /// `slice_tokens` asked for at a time. Answers
    /// `false` (and changes nothing) without a key-wide limit; `INVALID_OPTIONS` for a slice
    /// of zero or above the limit. Called again after [`Budget::detach_fleet`], it re-attaches.
    pub fn attach_fleet(&self, slice_tokens: u64) -> Result<bool> {
        let Some(limit) = self.options.tokens_per_minute else {
            return Ok(false);
        };
        if slice_tokens == 0 || slice_tokens > limit {
            return Err(Error::InvalidOptions {
                reason: format!("budget: a fleet slice must be 1 to {limit} tokens"),
            });
        }
        let mut st = self.lock();
        match st.fleet.as_mut() {
            Some(b) => b.attach(slice_tokens),
            None => st.fleet = Some(LeaseBook::new(slice_tokens)),
        }
        Ok(true)
    }

    /// The pool is out of reach: admission goes by the local window alone until
    /// [`Budget::attach_fleet`] again.
    pub fn detach_fleet(&self) {
        if let Some(b) = self.lock().fleet.as_mut() {
            b.detach();
        }
    }

    /// Tokens to lease from the pool now, if any.
    pub fn lease_wanted(&self, now: Timestamp) -> Option<u64> {
        self.lock().fleet.as_ref().and_then(|b| b.wanted(now))
    }

    /// The pool granted `tokens` under `id`.
    pub fn lease_granted(&self, now: Timestamp, id: String, tokens: u64) {
        if let Some(b) = self.lock().fleet.as_mut() {
            b.granted(now, id, tokens);
        }
    }

    /// The pool had nothing to lease; it frees tokens in `retry_after`.
    pub fn lease_refused(&self, now: Timestamp, retry_after: Duration) {
        if let Some(b) = self.lock().fleet.as_mut() {
            b.refused(now, retry_after);
        }
    }

    /// The leases to hand back to the pool now (exhausted, or past their spend window).
    pub fn lease_returns(&self, now: Timestamp) -> Vec<LeaseReturn> {
        self.lock()
            .fleet
            .as_mut()
            .map(|b| b.returns(now))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
