//! The engine's side of usage and the budget: one [`Ticket`] per request, from admission
//! (before the first attempt) to settlement (after the response ended).
//!
//! A binding's flow: [`Engine::admit`] with the URL and body (sleep for `delay` and ask again
//! on [`Start::Wait`], passing `asked`), then the attempts as before, then, while the accepted
//! response's body passes through, [`Ticket::feed`] (or a stream monitor for an event stream),
//! and [`Engine::settle`] at its end (or when it is closed early, or when no response came). The meter counts the request, the budget replaces the estimate with the
//! real usage and folds in 429s, and crossing the budget's high-water mark is an event.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Attempt, Engine, Event, EventKind, ResponseFacts};
use crate::budget::{Admission, BudgetSnapshot, Charge, HighWater, Outcome, RateLimitHeaders};
use crate::error::{Error, Result};
use crate::key::Slot;
use crate::time::Timestamp;
use crate::usage::{BodyFacts, MinuteTokens, Record, RequestFacts, UsageRow, request_facts};
use crate::usage::{DEFAULT_OUTPUT_TOKENS, MAX_USAGE_BODY, usage_from_body};

/// One admitted request, until [`Engine::settle`].
#[derive(Debug)]
pub struct Ticket {
    engine_id: u64,
    facts: RequestFacts,
    charge: Option<Charge>,
    started: Timestamp,
    done: AtomicBool,
    /// The body of the response as it passes through (`None` once it outgrew
    /// [`MAX_USAGE_BODY`]: then it has no usage).
    body: Mutex<Option<Vec<u8>>>,
}

impl Ticket {
    /// What the core read from the request (endpoint, model, stream, estimate).
    pub fn facts(&self) -> &RequestFacts {
        &self.facts
    }

    /// Feeds the next chunk of a non-streamed response's body as it passes to the caller;
    /// [`Engine::settle`] reads its usage from what was fed (up to [`MAX_USAGE_BODY`]).
    pub fn feed(&self, chunk: &[u8]) {
        let mut body = self.body.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = body.as_mut() {
            if b.len().saturating_add(chunk.len()) > MAX_USAGE_BODY {
                *body = None;
            } else {
                b.extend_from_slice(chunk);
            }
        }
    }

    /// Whether the ticket was settled.
    pub fn is_settled(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

/// The answer of [`Engine::admit`].
#[derive(Debug)]
pub enum Start {
    /// Go on with the attempts; settle the ticket at the end.
    Go(Ticket),
    /// Sleep until `until`, then admit again passing the time of the first ask.
    Wait {
        /// When the request will fit.
        until: Timestamp,
        /// How long to sleep (until `until` on the engine clock).
        delay: Duration,
        /// When the request first asked: pass it as `waiting_since` when asking again.
        asked: Timestamp,
        /// What is full: `key`, `model:<name>` or `rate_limited`.
        scope: String,
    },
}

/// One row of [`Engine::usage`]: a [`UsageRow`] with its secret's name and fingerprint.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretUsage {
    /// The secret's name.
    pub secret: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The figures.
    pub row: UsageRow,
}

/// What a key has used: per secret, model, endpoint and status; the last hour per minute;
/// the budget's windows.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageReport {
    /// When.
    pub at: Timestamp,
    /// The key's OCID, when the key has one.
    pub key_id: Option<String>,
    /// Rows ordered by secret, model, endpoint, status.
    pub rows: Vec<SecretUsage>,
    /// Tokens per minute over the last hour, oldest first; `tokens` in slot order.
    pub minutes: Vec<MinuteTokens>,
    /// The names of the two secrets, in slot order (for `minutes`).
    pub secrets: [String; 2],
    /// The budget, when one is configured.
    pub budget: Option<BudgetSnapshot>,
    /// The fleet's totals as last read from it, when the engine is in one.
    pub fleet: Option<crate::fleet::usage::FleetUsage>,
}

impl Engine {
    /// The key's budget, when one is configured (a fleet link leases and returns through it).
    pub fn budget(&self) -> Option<&crate::budget::Budget> {
        self.inner.budget.as_ref()
    }

    /// Admits a request to `url` with this body before its first attempt: the estimate is
    /// charged to the budget (when one is configured), or the answer is to wait, or
    /// `TPM_BUDGET_EXCEEDED`. `waiting_since` is when this request first asked.
    pub fn admit(&self, url: &str, body: &[u8], waiting_since: Option<Timestamp>) -> Result<Start> {
        let inner = &*self.inner;
        let default_output = inner
            .budget
            .as_ref()
            .map_or(DEFAULT_OUTPUT_TOKENS, |b| b.options().default_output_tokens);
        let facts = request_facts(url, body, default_output);
        let now = inner.clock.now();
        let (charge, high_water) = match &inner.budget {
            None => (None, None),
            Some(budget) => {
                match budget.admit(facts.estimate, facts.model.as_deref(), now, waiting_since)? {
                    Admission::Wait { until, scope } => {
                        return Ok(Start::Wait {
                            until,
                            delay: until.since(now),
                            asked: waiting_since.filter(|w| *w <= now).unwrap_or(now),
                            scope,
                        });
                    }
                    Admission::Granted { charge, high_water } => (Some(charge), high_water),
                }
            }
        };
        if let Some(h) = high_water {
            self.emit_high_water(h, now);
        }
        Ok(Start::Go(Ticket {
            engine_id: inner.id,
            facts,
            charge,
            started: now,
            done: AtomicBool::new(false),
            body: Mutex::new(Some(Vec::new())),
        }))
    }

    /// Settles a ticket once its request ended. `attempt` is the last attempt (`None` when
    /// none was made); `response` the final answer (`None`: nothing came back), with the body
    /// of a non-streamed response unless it was fed to [`Ticket::feed`]; `stream` what a
    /// stream monitor read from a streamed one. Answers `false` (and does nothing) when the
    /// ticket was settled already, so a binding may settle both at the end of a body and when
    /// it is closed.
    pub fn settle(
        &self,
        ticket: &Ticket,
        attempt: Option<&Attempt>,
        response: Option<&ResponseFacts<'_>>,
        stream: Option<&BodyFacts>,
    ) -> Result<bool> {
        let inner = &*self.inner;
        if ticket.engine_id != inner.id {
            return Err(Error::InvalidAttempt {
                reason: "the ticket belongs to another engine".into(),
            });
        }
        if let Some(a) = attempt {
            self.check_attempt(a)?;
        }
        if ticket.done.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let now = inner.clock.now();
        let fed = ticket
            .body
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|b| !b.is_empty());
        let from_body;
        let facts: Option<&BodyFacts> = match (stream, response.and_then(|r| r.body), fed) {
            (Some(s), _, _) => Some(s),
            (None, Some(body), _) => {
                from_body = usage_from_body(body);
                Some(&from_body)
            }
            (None, None, Some(body)) => {
                from_body = usage_from_body(&body);
                Some(&from_body)
            }
            (None, None, None) => None,
        };
        let usage = facts.and_then(|f| f.usage);
        let headers = response.map_or_else(RateLimitHeaders::default, |r| {
            RateLimitHeaders::parse(r.headers.iter().copied(), now)
        });
        if let (Some(budget), Some(charge)) = (&inner.budget, &ticket.charge) {
            let outcome = match response {
                None => Outcome::NotSent,
                Some(r) => Outcome::Answered {
                    status: r.status,
                    usage,
                },
            };
            if let Some(h) = budget.settle(charge.clone(), outcome, &headers, now) {
                self.emit_high_water(h, now);
            }
        }
        if let Some(a) = attempt {
            let model = facts
                .and_then(|f| f.model.clone())
                .or_else(|| ticket.facts.model.clone())
                .unwrap_or_default();
            inner.meter.record(&Record {
                slot: a.slot,
                model,
                endpoint: ticket.facts.endpoint,
                status: response.map_or(0, |r| r.status),
                duration: now.since(ticket.started),
                usage,
                at: now,
            });
        }
        Ok(true)
    }

    fn emit_high_water(&self, h: HighWater, now: Timestamp) {
        let view = self.inner.view.load();
        let current = Slot::from_index(usize::from(self.inner.current.load(Ordering::Acquire)))
            .unwrap_or(Slot::One);
        let s = view.key.secret(current);
        let mut e = Event::new(EventKind::BudgetHighWater, now, &s.name, s.fingerprint());
        e.scope = Some(h.scope);
        e.used = Some(h.used);
        e.limit = Some(h.limit);
        self.emit(e);
    }

    /// Tokens and requests so far, the last hour per minute, and the budget.
    pub fn usage(&self) -> UsageReport {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let view = inner.view.load();
        let rows = inner
            .meter
            .rows()
            .into_iter()
            .map(|row| {
                let s = view.key.secret(row.slot.unwrap_or(Slot::One));
                SecretUsage {
                    secret: s.name.clone(),
                    fingerprint: s.fingerprint().to_string(),
                    row,
                }
            })
            .collect();
        UsageReport {
            at: now,
            key_id: view.key.id.clone(),
            rows,
            minutes: inner.meter.minutes(now),
            secrets: Slot::BOTH.map(|s| view.key.secret(s).name.clone()),
            budget: inner.budget.as_ref().map(|b| b.snapshot(now)),
            fleet: self.fleet_usage(),
        }
    }

    /// Sets the fleet's totals as just read (by a fleet link); [`Engine::usage`] and the
    /// metrics show them from then on.
    pub fn set_fleet_usage(&self, usage: crate::fleet::usage::FleetUsage) {
        *self
            .inner
            .fleet_usage
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(usage);
    }

    /// The fleet's totals as last set, if any.
    pub fn fleet_usage(&self) -> Option<crate::fleet::usage::FleetUsage> {
        self.inner
            .fleet_usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
