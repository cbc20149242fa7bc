//! The engine's side of a fleet (see [`crate::fleet`]): which of its own events the other
//! processes should hear of, and what a message from one of them changes here.

use std::sync::atomic::Ordering;

use super::{Engine, Event, EventKind, Pick, RejectionInfo};
use crate::fleet::{FleetEvent, FleetMessage, FleetOutcome, IgnoredBecause};

impl Engine {
    /// The message to tell the fleet about `event`, if it is one the others should hear of:
    /// a rejection or a recovery this process saw (not one it adopted from the fleet), on a
    /// key with an OCID. `origin` names this process.
    pub fn fleet_message(&self, event: &Event, origin: &str) -> Option<FleetMessage> {
        if event.origin.is_some() {
            return None;
        }
        let view = self.inner.view.load_full();
        let key_id = view.key.id.clone()?;
        let slot = view.key.slot_of(&event.secret).ok()?;
        if view.key.secret(slot).fingerprint() != event.fingerprint {
            return None;
        }
        let fleet_event = match event.kind {
            EventKind::SecretRejected => FleetEvent::Rejected {
                status: event.status?,
                until: event.cooldown_until?,
                consecutive: self
                    .inner
                    .store
                    .rejection(slot)
                    .map_or(1, |r| r.consecutive.max(1)),
            },
            EventKind::SecretRecovered => FleetEvent::Recovered,
            _ => return None,
        };
        Some(FleetMessage {
            key_id,
            secret: event.secret.clone(),
            fingerprint: event.fingerprint.clone(),
            at: event.at,
            origin: origin.to_owned(),
            event: fleet_event,
        })
    }

    /// Applies a message from another process of the fleet (this one is `own_origin`).
    /// A rejection cools the secret down here until the same instant (a cooldown is extended,
    /// never shortened) and moves traffic off it as a local rejection would; a recovery ends
    /// the cooldown unless this process saw a rejection after it. Messages about another key,
    /// another value of the secret, or a cooldown already over change nothing. A retiring
    /// notice makes the other secret the preferred one (and moves traffic to it) when it can
    /// take the traffic here (an `INACTIVE` other secret whose value is the one the notice
    /// names as verified counts as `ACTIVE` from then on). Events fire as for local changes, with [`Event::origin`] set (so
    /// they are not sent back).
    pub fn apply_fleet(&self, message: &FleetMessage, own_origin: &str) -> FleetOutcome {
        use FleetOutcome::{Applied, Ignored};
        let inner = &*self.inner;
        if message.origin == own_origin {
            return Ignored(IgnoredBecause::Own);
        }
        let view = inner.view.load_full();
        if view.key.id.as_deref() != Some(message.key_id.as_str()) {
            return Ignored(IgnoredBecause::OtherKey);
        }
        let Ok(slot) = view.key.slot_of(&message.secret) else {
            return Ignored(IgnoredBecause::UnknownSecret);
        };
        let s = view.key.secret(slot);
        if s.fingerprint() != message.fingerprint {
            return Ignored(IgnoredBecause::OtherValue);
        }
        let now = inner.clock.now();
        match message.event {
            FleetEvent::Rejected {
                status,
                until,
                consecutive,
            } => {
                if until <= now {
                    return Ignored(IgnoredBecause::Expired);
                }
                let info = RejectionInfo {
                    status,
                    at: message.at,
                    consecutive,
                };
                if !inner.store.adopt_rejection(slot, info, until) {
                    return Ignored(IgnoredBecause::NotNewer);
                }
                let mut e = Event::new(EventKind::SecretRejected, now, &s.name, s.fingerprint());
                e.status = Some(status);
                e.cooldown_until = Some(until);
                e.origin = Some(message.origin.clone());
                self.emit(e);
                if inner.current.load(Ordering::Acquire) == slot as u8
                    && let Some((other, Pick::Healthy, _)) =
                        self.pick(&view, now, [Some(slot.other()), None])
                {
                    self.follow(&view, other, now);
                }
                Applied
            }
            FleetEvent::Recovered => {
                let Some(rejection) = inner.store.rejection(slot) else {
                    return Ignored(IgnoredBecause::NotCoolingDown);
                };
                if rejection.at > message.at {
                    return Ignored(IgnoredBecause::NotNewer);
                }
                if !inner.store.adopt_recovery(slot, message.at) {
                    return Ignored(IgnoredBecause::NotCoolingDown);
                }
                inner.standby_latch[slot.index()].store(false, Ordering::Release);
                if inner.preferred.load(Ordering::Acquire) == slot as u8 {
                    inner.current.store(slot as u8, Ordering::Release);
                }
                let mut e = Event::new(EventKind::SecretRecovered, now, &s.name, s.fingerprint());
                e.origin = Some(message.origin.clone());
                self.emit(e);
                Applied
            }
            FleetEvent::Retiring { until, ref standby } => {
                if until <= now {
                    return Ignored(IgnoredBecause::Expired);
                }
                let other = slot.other();
                let o = view.key.secret(other);
                if let Some(fp) = standby {
                    if *fp != o.fingerprint() {
                        return Ignored(IgnoredBecause::NoAlternative);
                    }
                    // The rotation verified and activated this very value.
                    let inactive = o.state == crate::secret::SecretState::Inactive;
                    if inactive
                        && self
                            .sync_state(&o.name, crate::secret::SecretState::Active)
                            .is_err()
                    {
                        return Ignored(IgnoredBecause::NoAlternative);
                    }
                }
                let view = inner.view.load_full();
                if inner.preferred.load(Ordering::Acquire) == other as u8
                    && inner.current.load(Ordering::Acquire) == other as u8
                {
                    return Ignored(IgnoredBecause::NotNewer);
                }
                if !matches!(
                    self.pick(&view, now, [Some(other), None]),
                    Some((o, Pick::Healthy, _)) if o == other
                ) {
                    return Ignored(IgnoredBecause::NoAlternative);
                }
                inner.preferred.store(other as u8, Ordering::Release);
                self.follow(&view, other, now);
                Applied
            }
        }
    }
}
