//! The engine's alert latches: when an observation becomes an alert, and when the alert may
//! fire again. The hot path touches these only with relaxed loads of flags that are already
//! set; the bookkeeping runs on rejections and key transitions.
//!
//! - `rejection_burst`: `threshold` rejections of one secret within `window` (fires once while
//!   the window holds that many; re-armed when it holds fewer).
//! - `changed_out_of_band`: a secret that was accepted, and that the key model still says is
//!   `ACTIVE` with the same value, is rejected: it was revoked or deactivated elsewhere.
//!   A secret rejected before it was ever accepted is a configuration error, not this alert.
//! - `expiring_without_standby`: the secret expires within the warning window and the other
//!   secret cannot take over (unusable, or usable for no longer than this one).
//! - `traffic_after_deactivation`: a response arrives for a secret after it was deactivated or
//!   revoked through twinkey (requests still in flight, or a replica still using it).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::key::Slot;
use crate::time::{Timestamp, duration_ms};

/// Thresholds of the alerts that have them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertOptions {
    /// `rejection_burst` fires at this many rejections of one secret (default 10; at least 2).
    pub rejection_burst: u32,
    /// ... within this window (default 60 s).
    pub rejection_burst_window: Duration,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            rejection_burst: 10,
            rejection_burst_window: Duration::from_secs(60),
        }
    }
}

impl AlertOptions {
    /// `Err(reason)` when inconsistent.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if !(2..=100_000).contains(&self.rejection_burst) {
            return Err("rejection_burst must be between 2 and 100000");
        }
        if self.rejection_burst_window.is_zero()
            || self.rejection_burst_window > Duration::from_secs(24 * 3600)
        {
            return Err("rejection_burst_window must be positive and at most one day");
        }
        Ok(())
    }
}

/// One latch per slot.
#[derive(Default)]
struct Latch([AtomicBool; 2]);

impl Latch {
    /// Sets the latch; `true` for the caller that set it.
    fn fire(&self, slot: Slot) -> bool {
        let l = &self.0[slot.index()];
        !l.load(Ordering::Relaxed) && !l.swap(true, Ordering::AcqRel)
    }

    fn rearm(&self, slot: Slot) {
        let l = &self.0[slot.index()];
        if l.load(Ordering::Relaxed) {
            l.store(false, Ordering::Release);
        }
    }

    fn is_set(&self, slot: Slot) -> bool {
        self.0[slot.index()].load(Ordering::Relaxed)
    }
}

/// The alert state of one engine.
pub(crate) struct Alerts {
    threshold: usize,
    window_ms: i64,
    /// Rejection instants within the window, per slot.
    rejections: [Mutex<VecDeque<i64>>; 2],
    burst: Latch,
    /// The secret's current value was accepted at least once.
    accepted: Latch,
    out_of_band: Latch,
    expiring_alone: Latch,
    /// Deactivated or revoked through twinkey (until re-activated or renewed).
    retired: Latch,
    after_retire: Latch,
}

impl Alerts {
    pub(crate) fn new(o: &AlertOptions) -> Self {
        Alerts {
            threshold: o.rejection_burst as usize,
            window_ms: duration_ms(o.rejection_burst_window),
            rejections: Default::default(),
            burst: Latch::default(),
            accepted: Latch::default(),
            out_of_band: Latch::default(),
            expiring_alone: Latch::default(),
            retired: Latch::default(),
            after_retire: Latch::default(),
        }
    }

    /// The secret in `slot` was accepted (hot path: one relaxed load once set).
    #[inline]
    pub(crate) fn accepted(&self, slot: Slot) {
        if !self.accepted.is_set(slot) {
            self.accepted.fire(slot);
        }
    }

    /// Records a rejection; `Some(count)` when it makes a burst that has not been reported.
    pub(crate) fn rejection(&self, slot: Slot, now: Timestamp) -> Option<u32> {
        let t = now.as_millis();
        let mut q = self.rejections[slot.index()]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        while q
            .front()
            .is_some_and(|&f| f <= t.saturating_sub(self.window_ms))
        {
            q.pop_front();
        }
        q.push_back(t);
        if q.len() > self.threshold {
            q.pop_front(); // enough to judge the next one
        }
        if q.len() < self.threshold {
            self.burst.rearm(slot);
            return None;
        }
        let n = u32::try_from(q.len()).unwrap_or(u32::MAX);
        drop(q);
        self.burst.fire(slot).then_some(n)
    }

    /// A rejection of a secret the key model says is `ACTIVE` with the value that was sent:
    /// whether it should be reported as changed out of band.
    pub(crate) fn out_of_band(&self, slot: Slot) -> bool {
        self.accepted.is_set(slot) && self.out_of_band.fire(slot)
    }

    /// The slot is within its expiry window and the other cannot take over.
    pub(crate) fn expiring_alone(&self, slot: Slot) -> bool {
        self.expiring_alone.fire(slot)
    }

    /// The other secret can take over again: re-arm.
    pub(crate) fn standby_back(&self, slot: Slot) {
        self.expiring_alone.rearm(slot);
    }

    /// The secret was deactivated or revoked through twinkey.
    pub(crate) fn retired(&self, slot: Slot) {
        self.retired.fire(slot);
        self.after_retire.rearm(slot);
    }

    /// A response arrived for a secret; whether that is traffic after its deactivation that
    /// has not been reported.
    #[inline]
    pub(crate) fn after_retire(&self, slot: Slot) -> bool {
        self.retired.is_set(slot) && self.after_retire.fire(slot)
    }

    /// The secret got a new value or was activated again: forget what was seen of it.
    pub(crate) fn reset(&self, slot: Slot) {
        self.rejections[slot.index()]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        for l in [
            &self.burst,
            &self.accepted,
            &self.out_of_band,
            &self.expiring_alone,
            &self.retired,
            &self.after_retire,
        ] {
            l.rearm(slot);
        }
    }

    /// A rejected secret recovered: `changed_out_of_band` may fire again for a later change.
    pub(crate) fn recovered(&self, slot: Slot) {
        self.out_of_band.rearm(slot);
    }
}
