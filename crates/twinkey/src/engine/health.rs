//! The engine's observed state (health, cooldowns, counters) behind a small store interface.
//!
//! [`MemoryStore`] keeps it in atomics: the selection path only loads atomics; the rare
//! transitions (rejection, recovery) take a per-slot mutex. A shared store (e.g. Redis, so a
//! fleet of processes agrees on which secret is cooling down) implements the same trait.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use crate::key::Slot;
use crate::time::Timestamp;

/// A slot's health as read on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    /// Bumped on every health transition; attempts remember it so that late responses cannot
    /// act twice on the same transition.
    pub epoch: u64,
    /// `None` when healthy; otherwise the end of the cooldown after a rejection.
    pub cooldown_until: Option<Timestamp>,
    /// End of the lease of an in-flight half-open probe, if any.
    pub probe_until: Option<Timestamp>,
}

/// Details of the last rejection (for reports; not read on the hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RejectionInfo {
    /// HTTP status of the last rejection.
    pub status: u16,
    /// When it was observed.
    pub at: Timestamp,
    /// Consecutive rejections (1 after the first).
    pub consecutive: u32,
}

/// Per-slot counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Attempts that were handed this secret.
    pub attempts: u64,
    /// Responses that showed the secret was accepted (any status but a rejection).
    pub accepted: u64,
    /// Rejections (401, or 403 with an authentication code).
    pub rejected: u64,
    /// Attempts that ended without a verdict on the secret (429, 5xx, transport errors).
    pub inconclusive: u64,
}

/// What an attempt's outcome counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handed out.
    HandedOut,
    /// The secret was accepted.
    Accepted,
    /// The secret was rejected.
    Rejected,
    /// Nothing learned about the secret.
    Inconclusive,
}

/// Storage of observed secret health. Implementations must be cheap and non-blocking for
/// [`HealthStore::health`], which is on every request's path.
pub trait HealthStore: Send + Sync + fmt::Debug {
    /// The slot's current health.
    fn health(&self, slot: Slot) -> Health;
    /// Claims the half-open probe of a slot whose cooldown ended (`epoch` as read). Returns
    /// `true` for exactly one caller until the lease ends or the probe completes.
    fn try_claim_probe(
        &self,
        slot: Slot,
        epoch: u64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> bool;
    /// Releases a probe lease without a verdict (429, 5xx, transport error).
    fn release_probe(&self, slot: Slot, epoch: u64);
    /// Records a rejection seen by an attempt that began at `epoch`. Returns the new cooldown
    /// end and consecutive count if this call made the transition, `None` if another attempt
    /// already did (so events fire once per transition).
    fn reject(
        &self,
        slot: Slot,
        epoch: u64,
        status: u16,
        now: Timestamp,
        cooldown: &dyn Fn(u32) -> std::time::Duration,
    ) -> Option<(Timestamp, u32)>;
    /// Marks a rejected slot healthy after a successful probe begun at `epoch`. Returns `true`
    /// if this call made the transition.
    fn recover(&self, slot: Slot, epoch: u64) -> bool;
    /// Forgets everything observed about a slot (new value, re-activation).
    fn reset(&self, slot: Slot);
    /// Details of the last rejection, if the slot is not healthy.
    fn rejection(&self, slot: Slot) -> Option<RejectionInfo>;
    /// Counts an outcome.
    fn count(&self, slot: Slot, outcome: Outcome);
    /// The slot's counters.
    fn counters(&self, slot: Slot) -> Counters;
    /// Adopts a rejection another process of the fleet saw: the slot cools down until
    /// `until`, extended and never shortened. Returns `true` if it changed the slot. The
    /// default adopts nothing.
    fn adopt_rejection(&self, slot: Slot, info: RejectionInfo, until: Timestamp) -> bool {
        let _ = (slot, info, until);
        false
    }
    /// Adopts a recovery another process saw at `at`: ends the slot's cooldown unless it was
    /// rejected after `at`. Returns `true` if it changed the slot. The default adopts nothing.
    fn adopt_recovery(&self, slot: Slot, at: Timestamp) -> bool {
        let _ = (slot, at);
        false
    }
}

#[derive(Default)]
#[repr(align(128))]
struct SlotCell {
    epoch: AtomicU64,
    cooldown_until: AtomicI64, // i64::MIN = healthy
    probe_until: AtomicI64,    // i64::MIN = no probe
    consecutive: AtomicU32,
    detail: Mutex<RejectionInfo>,
}

/// One shard of the counters: per slot, per outcome ([`Outcome`] order). Written on every
/// attempt, so kept per thread shard and apart from the health words every attempt reads.
#[derive(Default)]
#[repr(align(128))]
struct CounterShard([[AtomicU64; 4]; 2]);

const NONE: i64 = i64::MIN;

impl SlotCell {
    /// Healthy again: no cooldown, no probe, a new epoch (under the detail lock).
    fn clear(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        self.cooldown_until.store(NONE, Ordering::Release);
        self.probe_until.store(NONE, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Cooling down until `until`, no probe, a new epoch (under the detail lock).
    fn cool_until(&self, until: Timestamp) {
        self.cooldown_until
            .store(until.as_millis(), Ordering::Release);
        self.probe_until.store(NONE, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn new() -> Self {
        let c = SlotCell::default();
        c.cooldown_until.store(NONE, Ordering::Relaxed);
        c.probe_until.store(NONE, Ordering::Relaxed);
        c
    }
}

/// The in-memory [`HealthStore`] (the default).
pub struct MemoryStore {
    cells: [SlotCell; 2],
    counters: [CounterShard; crate::shard::SHARDS],
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            cells: [SlotCell::new(), SlotCell::new()],
            counters: Default::default(),
        }
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("one", &self.health(Slot::One))
            .field("two", &self.health(Slot::Two))
            .finish()
    }
}

fn opt(ms: i64) -> Option<Timestamp> {
    (ms != NONE).then_some(Timestamp::from_millis(ms))
}

impl HealthStore for MemoryStore {
    fn health(&self, slot: Slot) -> Health {
        let c = &self.cells[slot.index()];
        Health {
            epoch: c.epoch.load(Ordering::Acquire),
            cooldown_until: opt(c.cooldown_until.load(Ordering::Acquire)),
            probe_until: opt(c.probe_until.load(Ordering::Acquire)),
        }
    }

    fn try_claim_probe(
        &self,
        slot: Slot,
        epoch: u64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> bool {
        let c = &self.cells[slot.index()];
        let held = |c: &SlotCell| {
            let p = c.probe_until.load(Ordering::Acquire);
            p != NONE && p > now.as_millis()
        };
        if held(c) {
            return false; // the common refusal, without the lock
        }
        // Claims are rare (once per cooldown); under the slot's lock no rejection, recovery or
        // reset can slip between the epoch check and the claim.
        let Ok(_guard) = c.detail.lock() else {
            return false;
        };
        if c.epoch.load(Ordering::Acquire) != epoch || held(c) {
            return false;
        }
        c.probe_until
            .store(lease_until.as_millis(), Ordering::Release);
        true
    }

    fn release_probe(&self, slot: Slot, epoch: u64) {
        let c = &self.cells[slot.index()];
        let _guard = c.detail.lock();
        if c.epoch.load(Ordering::Acquire) == epoch {
            c.probe_until.store(NONE, Ordering::Release);
        }
    }

    fn reject(
        &self,
        slot: Slot,
        epoch: u64,
        status: u16,
        now: Timestamp,
        cooldown: &dyn Fn(u32) -> std::time::Duration,
    ) -> Option<(Timestamp, u32)> {
        let c = &self.cells[slot.index()];
        let mut detail = c.detail.lock().ok()?;
        if c.epoch.load(Ordering::Acquire) != epoch {
            return None;
        }
        let n = c.consecutive.load(Ordering::Relaxed);
        let until = now.plus(cooldown(n));
        c.consecutive.store(n.saturating_add(1), Ordering::Relaxed);
        *detail = RejectionInfo {
            status,
            at: now,
            consecutive: n.saturating_add(1),
        };
        c.cool_until(until);
        Some((until, n.saturating_add(1)))
    }

    fn recover(&self, slot: Slot, epoch: u64) -> bool {
        let c = &self.cells[slot.index()];
        let Ok(_guard) = c.detail.lock() else {
            return false;
        };
        if c.epoch.load(Ordering::Acquire) != epoch
            || c.cooldown_until.load(Ordering::Acquire) == NONE
        {
            return false;
        }
        c.clear();
        true
    }

    fn reset(&self, slot: Slot) {
        let c = &self.cells[slot.index()];
        let _guard = c.detail.lock();
        c.clear();
    }

    fn adopt_rejection(&self, slot: Slot, info: RejectionInfo, until: Timestamp) -> bool {
        let c = &self.cells[slot.index()];
        let Ok(mut detail) = c.detail.lock() else {
            return false;
        };
        let current = c.cooldown_until.load(Ordering::Acquire);
        if current != NONE && current >= until.as_millis() {
            return false;
        }
        let consecutive = info.consecutive.max(c.consecutive.load(Ordering::Relaxed));
        c.consecutive.store(consecutive, Ordering::Relaxed);
        *detail = RejectionInfo {
            consecutive,
            ..info
        };
        c.cool_until(until);
        true
    }

    fn adopt_recovery(&self, slot: Slot, at: Timestamp) -> bool {
        let c = &self.cells[slot.index()];
        let Ok(detail) = c.detail.lock() else {
            return false;
        };
        if c.cooldown_until.load(Ordering::Acquire) == NONE || detail.at > at {
            return false;
        }
        c.clear();
        true
    }

    fn rejection(&self, slot: Slot) -> Option<RejectionInfo> {
        let c = &self.cells[slot.index()];
        if c.cooldown_until.load(Ordering::Acquire) == NONE {
            return None;
        }
        c.detail.lock().ok().map(|d| *d)
    }

    fn count(&self, slot: Slot, outcome: Outcome) {
        let i = match outcome {
            Outcome::HandedOut => 0,
            Outcome::Accepted => 1,
            Outcome::Rejected => 2,
            Outcome::Inconclusive => 3,
        };
        self.counters[crate::shard::mine()].0[slot.index()][i].fetch_add(1, Ordering::Relaxed);
    }

    fn counters(&self, slot: Slot) -> Counters {
        let sum = |i: usize| -> u64 {
            self.counters
                .iter()
                .map(|s| s.0[slot.index()][i].load(Ordering::Relaxed))
                .sum()
        };
        Counters {
            attempts: sum(0),
            accepted: sum(1),
            rejected: sum(2),
            inconclusive: sum(3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cd(n: u32) -> Duration {
        Duration::from_secs(30 << n)
    }

    #[test]
    fn a_transition_happens_once_per_epoch() {
        let s = MemoryStore::default();
        let now = Timestamp::from_millis(0);
        let e = s.health(Slot::One).epoch;
        assert_eq!(
            s.reject(Slot::One, e, 401, now, &cd),
            Some((Timestamp::from_millis(30_000), 1))
        );
        // a second attempt that began before the rejection sees the same old epoch
        assert_eq!(s.reject(Slot::One, e, 401, now, &cd), None);
        let h = s.health(Slot::One);
        assert_eq!(h.cooldown_until, Some(Timestamp::from_millis(30_000)));
        assert!(!s.recover(Slot::One, e));
        assert!(s.recover(Slot::One, h.epoch));
        assert_eq!(s.health(Slot::One).cooldown_until, None);
    }

    #[test]
    fn one_probe_at_a_time_until_the_lease_ends() {
        let s = MemoryStore::default();
        let e = s.health(Slot::Two).epoch;
        let t = |ms| Timestamp::from_millis(ms);
        assert!(s.try_claim_probe(Slot::Two, e, t(0), t(100)));
        assert!(!s.try_claim_probe(Slot::Two, e, t(50), t(150)));
        assert!(s.try_claim_probe(Slot::Two, e, t(100), t(200)));
        s.release_probe(Slot::Two, e);
        assert!(s.try_claim_probe(Slot::Two, e, t(120), t(220)));
    }
}
