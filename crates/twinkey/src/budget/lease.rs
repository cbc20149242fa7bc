//! A fleet's shared budget, the local side: the leases this process holds on the key's
//! tokens-per-minute limit. The pool itself lives in Redis (`twinkey_client::fleet`); this
//! book decides when to ask it for tokens, what a request may spend, and what goes back.
//!
//! - A lease is spendable for [`LEASE_SPEND`] after it was granted; the pool holds its tokens
//!   for [`LEASE_HOLD`] ([`LEASE_SPEND`] plus the window's [`KEEP_SECONDS`]), so a token spent
//!   at any moment of the spend window still counts in the pool for as long as the service
//!   counts it. Spent tokens therefore never exceed the limit in any minute, fleet-wide; what
//!   can go over is real usage above the estimates of the requests in flight (owed, and paid
//!   from the next lease).
//! - The book asks for a slice when less than half a slice is left, or for what a waiting
//!   request needs when that is more, or — while it is spending — when every live lease's
//!   spend window ends within [`LEASE_RENEW_AHEAD`]; a refusal from the pool stops the asking
//!   until the time it gave.
//! - A lease goes back when it is exhausted (with how long ago it was last spent, so the pool
//!   can free it a minute after that rather than after the whole hold) or when its spend
//!   window ends (with what was left unspent, freed at once).
//! - Detached (Redis away), admission is the local window's alone.

use std::time::Duration;

use super::window::KEEP_SECONDS;
use crate::time::Timestamp;

/// How long a lease may be spent after it was granted.
pub const LEASE_SPEND: Duration = Duration::from_secs(5);
/// How long the pool holds a lease's tokens after granting it.
pub const LEASE_HOLD: Duration = Duration::from_secs(5 + KEEP_SECONDS as u64);
/// A process that is spending asks for a new slice this long before its live leases' spend
/// windows end, so admission does not stop at the boundary.
pub const LEASE_RENEW_AHEAD: Duration = Duration::from_secs(1);
/// How long a request no lease covers waits before it asks again.
pub const FLEET_POLL: Duration = Duration::from_millis(50);

/// A lease handed back to the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseReturn {
    /// The pool's id for it.
    pub id: String,
    /// Tokens not spent (freed at once).
    pub unused: u64,
    /// How long ago it was last spent (the pool keeps the spent part until a minute after);
    /// `None` when it never was.
    pub last_spent_ago: Option<Duration>,
}

/// The leases' figures in a [`super::BudgetSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseSnapshot {
    /// Whether admission spends leases (Redis answers).
    pub attached: bool,
    /// Tokens asked for at a time.
    pub slice_tokens: u64,
    /// Tokens spendable now.
    pub available: u64,
    /// Leases held (not handed back yet).
    pub leases: usize,
    /// Tokens used beyond the leases, paid from the next one.
    pub owed: u64,
}

#[derive(Debug)]
struct Held {
    id: String,
    granted: Timestamp,
    tokens: u64,
    spent: u64,
    last_spent: Option<Timestamp>,
}

impl Held {
    fn live(&self, now: Timestamp) -> bool {
        now < self.granted.plus(LEASE_SPEND)
    }
}

/// The leases of one process.
#[derive(Debug)]
pub(super) struct LeaseBook {
    slice: u64,
    attached: bool,
    held: Vec<Held>,
    owed: u64,
    /// The largest estimate a request is waiting to spend.
    demand: u64,
    refused_until: Option<Timestamp>,
}

impl LeaseBook {
    pub(super) fn new(slice: u64) -> Self {
        LeaseBook {
            slice,
            attached: true,
            held: Vec::new(),
            owed: 0,
            demand: 0,
            refused_until: None,
        }
    }

    pub(super) fn attached(&self) -> bool {
        self.attached
    }

    pub(super) fn attach(&mut self, slice: u64) {
        self.slice = slice;
        self.attached = true;
    }

    pub(super) fn detach(&mut self) {
        self.attached = false;
        self.demand = 0;
        self.refused_until = None;
    }

    fn available(&self, now: Timestamp) -> u64 {
        let left: u64 = self
            .held
            .iter()
            .filter(|h| h.live(now))
            .map(|h| h.tokens - h.spent)
            .sum();
        left.saturating_sub(self.owed)
    }

    /// When a request of `estimate` tokens can be spent: `None` now, or the time to ask
    /// again (the demand is recorded so the next ask covers it).
    pub(super) fn ready_at(&mut self, now: Timestamp, estimate: u64) -> Option<Timestamp> {
        if self.available(now) >= estimate {
            return None;
        }
        self.demand = self.demand.max(estimate);
        let poll = now.plus(FLEET_POLL);
        Some(self.refused_until.map_or(poll, |r| r.max(poll)))
    }

    /// Spends `tokens` from the live leases, oldest first; what they lack is owed.
    pub(super) fn spend(&mut self, now: Timestamp, tokens: u64) {
        let mut left = tokens;
        for h in self.held.iter_mut().filter(|h| h.live(now)) {
            if left == 0 {
                break;
            }
            let take = left.min(h.tokens - h.spent);
            if take > 0 {
                h.spent += take;
                h.last_spent = Some(now);
                left -= take;
            }
        }
        self.owed = self.owed.saturating_add(left);
    }

    /// A request admitted: its demand is met.
    pub(super) fn admitted(&mut self, now: Timestamp, tokens: u64) {
        self.spend(now, tokens);
        self.demand = 0;
    }

    /// Gives `tokens` back to the live leases, newest first (what they cannot take is left
    /// to expire in the pool).
    pub(super) fn refund(&mut self, now: Timestamp, tokens: u64) {
        let mut left = tokens;
        for h in self.held.iter_mut().rev().filter(|h| h.live(now)) {
            if left == 0 {
                break;
            }
            let back = left.min(h.spent);
            h.spent -= back;
            left -= back;
        }
    }

    /// Tokens to ask the pool for now, if any.
    pub(super) fn wanted(&self, now: Timestamp) -> Option<u64> {
        if !self.attached || self.refused_until.is_some_and(|r| r > now) {
            return None;
        }
        let available = self.available(now);
        let ahead = now.plus(LEASE_RENEW_AHEAD);
        let spending = self
            .held
            .iter()
            .any(|h| h.last_spent.is_some_and(|t| now.since(t) < LEASE_SPEND));
        let lasting = self
            .held
            .iter()
            .any(|h| h.live(ahead) && h.spent < h.tokens);
        if available >= self.slice.div_ceil(2) && available >= self.demand && (lasting || !spending)
        {
            return None;
        }
        Some(self.slice.max(self.demand.saturating_sub(available)))
    }

    /// The pool granted a lease (what is owed is paid from it first).
    pub(super) fn granted(&mut self, now: Timestamp, id: String, tokens: u64) {
        let paid = self.owed.min(tokens);
        self.owed -= paid;
        self.refused_until = None;
        self.held.push(Held {
            id,
            granted: now,
            tokens,
            spent: paid,
            last_spent: (paid > 0).then_some(now),
        });
    }

    /// The pool had nothing left; it frees some in `retry_after`.
    pub(super) fn refused(&mut self, now: Timestamp, retry_after: Duration) {
        self.refused_until = Some(now.plus(retry_after.max(FLEET_POLL)));
    }

    /// The leases to hand back now: the exhausted ones and those past their spend window.
    pub(super) fn returns(&mut self, now: Timestamp) -> Vec<LeaseReturn> {
        let mut out = Vec::new();
        self.held.retain(|h| {
            let done = !h.live(now) || h.spent >= h.tokens;
            if done {
                out.push(LeaseReturn {
                    id: h.id.clone(),
                    unused: h.tokens - h.spent,
                    last_spent_ago: h.last_spent.map(|t| now.since(t)),
                });
            }
            !done
        });
        out
    }

    pub(super) fn snapshot(&self, now: Timestamp) -> LeaseSnapshot {
        LeaseSnapshot {
            attached: self.attached,
            slice_tokens: self.slice,
            available: self.available(now),
            leases: self.held.len(),
            owed: self.owed,
        }
    }
}
