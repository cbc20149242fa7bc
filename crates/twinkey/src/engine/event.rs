//! Engine events: what happened to the secrets, delivered to subscribers and to `tracing`.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::error::UnusableReason;
use crate::time::Timestamp;

/// The kind of an [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Traffic moved from one secret to the other because the first became unusable.
    FailedOver,
    /// The service rejected a secret (401, or 403 with an authentication code).
    SecretRejected,
    /// A rejected secret was probed after its cooldown and worked again.
    SecretRecovered,
    /// A secret expires within the configured window.
    ExpiringSoon,
    /// The secret not in use cannot take over: no fail-over is possible.
    StandbyUnavailable,
    /// Neither secret can be used; requests fail fast without being sent.
    NoUsableSecret,
    /// The tokens-per-minute budget went above its high-water mark (`scope`, `used`,
    /// `limit`; the secret is the one in use).
    BudgetHighWater,
    /// `count` rejections of one secret within the burst window (`status`: the last one).
    RejectionBurst,
    /// A secret that worked, and that the key says is `ACTIVE` with the same value, was
    /// rejected (`status`): revoked or deactivated outside twinkey.
    ChangedOutOfBand,
    /// The secret expires within the warning window (`expires_at`) and the other one cannot
    /// take over (`reason`, when it is unusable).
    ExpiringWithoutStandby,
    /// A response (`status`) arrived for a secret after it was deactivated or revoked through
    /// twinkey: requests still in flight with it, or someone still using it.
    TrafficAfterDeactivation,
}

impl EventKind {
    /// The snake_case name used in vectors, bindings and logs (`failed_over`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FailedOver => "failed_over",
            EventKind::SecretRejected => "secret_rejected",
            EventKind::SecretRecovered => "secret_recovered",
            EventKind::ExpiringSoon => "expiring_soon",
            EventKind::StandbyUnavailable => "standby_unavailable",
            EventKind::NoUsableSecret => "no_usable_secret",
            EventKind::BudgetHighWater => "budget_high_water",
            EventKind::RejectionBurst => "rejection_burst",
            EventKind::ChangedOutOfBand => "changed_out_of_band",
            EventKind::ExpiringWithoutStandby => "expiring_without_standby",
            EventKind::TrafficAfterDeactivation => "traffic_after_deactivation",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 11] = [
        EventKind::FailedOver,
        EventKind::SecretRejected,
        EventKind::SecretRecovered,
        EventKind::ExpiringSoon,
        EventKind::StandbyUnavailable,
        EventKind::NoUsableSecret,
        EventKind::BudgetHighWater,
        EventKind::RejectionBurst,
        EventKind::ChangedOutOfBand,
        EventKind::ExpiringWithoutStandby,
        EventKind::TrafficAfterDeactivation,
    ];

    /// Whether this kind is an alert (something an operator should look at) rather than the
    /// engine reporting its own routine reaction.
    pub fn is_alert(self) -> bool {
        !matches!(self, EventKind::SecretRecovered | EventKind::FailedOver)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to a key's secrets. Carries names and fingerprints, never values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When (engine clock).
    pub at: Timestamp,
    /// The secret concerned (for `failed_over`: the one traffic left).
    pub secret: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// For `failed_over`: the secret traffic moved to.
    pub to: Option<String>,
    /// Why (for `failed_over`, `standby_unavailable`, `no_usable_secret`).
    pub reason: Option<UnusableReason>,
    /// HTTP status that caused it (`secret_rejected`).
    pub status: Option<u16>,
    /// End of the cooldown (`secret_rejected`).
    pub cooldown_until: Option<Timestamp>,
    /// The secret's expiry (`expiring_soon`).
    pub expires_at: Option<Timestamp>,
    /// What the alert is about (`budget_high_water`: `key` or `model:<name>`).
    pub scope: Option<String>,
    /// Tokens counting (`budget_high_water`).
    pub used: Option<u64>,
    /// The limit (`budget_high_water`).
    pub limit: Option<u64>,
    /// How many (`rejection_burst`: rejections within the window).
    pub count: Option<u32>,
    /// The process of the fleet that saw it, when it was not this one (`secret_rejected`,
    /// `secret_recovered` adopted from a fleet message; see [`crate::fleet`]).
    pub origin: Option<String>,
}

impl Event {
    pub(crate) fn new(kind: EventKind, at: Timestamp, secret: &str, fingerprint: &str) -> Self {
        Event {
            kind,
            at,
            secret: secret.to_string(),
            fingerprint: fingerprint.to_string(),
            to: None,
            reason: None,
            status: None,
            cooldown_until: None,
            expires_at: None,
            scope: None,
            used: None,
            limit: None,
            count: None,
            origin: None,
        }
    }

    fn seen_by(&self) -> String {
        self.origin
            .as_deref()
            .map(|o| format!(" (seen by {} in the fleet)", o.escape_debug()))
            .unwrap_or_default()
    }

    /// A one-line human description (no secret values).
    pub fn message(&self) -> String {
        let who = format!("{} (fp {})", self.secret, self.fingerprint);
        match self.kind {
            EventKind::FailedOver => format!(
                "failed over from {who} to {}{}",
                self.to.as_deref().unwrap_or("?"),
                self.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            EventKind::SecretRejected => format!(
                "{who} rejected with {}{}; cooling down until {}",
                self.status.unwrap_or(0),
                self.seen_by(),
                self.cooldown_until
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            ),
            EventKind::SecretRecovered => format!("{who} recovered{}", self.seen_by()),
            EventKind::ExpiringSoon => format!(
                "{who} expires at {}",
                self.expires_at.map(|t| t.to_string()).unwrap_or_default()
            ),
            EventKind::StandbyUnavailable => format!(
                "standby {who} unavailable{}: no fail-over possible",
                self.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            EventKind::NoUsableSecret => format!("no usable secret; {who} is unusable"),
            EventKind::BudgetHighWater => format!(
                "tokens-per-minute budget {} at {} of {} tokens",
                self.scope.as_deref().unwrap_or("key"),
                self.used.unwrap_or(0),
                self.limit.unwrap_or(0)
            ),
            EventKind::RejectionBurst => format!(
                "{who} rejected {} times within the burst window (last status {})",
                self.count.unwrap_or(0),
                self.status.unwrap_or(0)
            ),
            EventKind::ChangedOutOfBand => format!(
                "{who} worked before and was rejected with {} although the key says it is \
                 ACTIVE: revoked or deactivated outside twinkey?",
                self.status.unwrap_or(0)
            ),
            EventKind::ExpiringWithoutStandby => format!(
                "{who} expires at {} and the other secret cannot take over{}",
                self.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                self.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            EventKind::TrafficAfterDeactivation => format!(
                "a response ({}) arrived for {who} after it was deactivated through twinkey",
                self.status.unwrap_or(0)
            ),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message())
    }
}

/// A subscriber callback.
pub type Subscriber = Arc<dyn Fn(&Event) + Send + Sync>;

/// The handle returned by [`Engine::subscribe`](crate::Engine::subscribe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

#[derive(Default)]
pub(crate) struct Subscribers {
    next: AtomicU64,
    list: RwLock<Vec<(SubscriptionId, Subscriber)>>,
    /// Events emitted so far, per (kind, secret) (for the exporters).
    counts: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Subscribers {
    pub(crate) fn add(&self, f: Subscriber) -> SubscriptionId {
        let id = SubscriptionId(self.next.fetch_add(1, Ordering::Relaxed));
        if let Ok(mut l) = self.list.write() {
            l.push((id, f));
        }
        id
    }

    pub(crate) fn remove(&self, id: SubscriptionId) -> bool {
        match self.list.write() {
            Ok(mut l) => {
                let before = l.len();
                l.retain(|(i, _)| *i != id);
                l.len() != before
            }
            Err(_) => false,
        }
    }

    /// Events emitted so far: `(kind, secret, count)`, ordered by kind name and secret.
    pub(crate) fn counts(&self) -> Vec<(&'static str, String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|((k, s), n)| (*k, s.clone(), *n))
            .collect()
    }

    /// Logs the event, counts it and calls every subscriber; a panicking subscriber is
    /// contained.
    pub(crate) fn emit(&self, event: &Event) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((event.kind.as_str(), event.secret.clone()))
            .or_default() += 1;
        match event.kind {
            EventKind::SecretRecovered => {
                tracing::info!(target: "twinkey", event = event.kind.as_str(), secret = %event.secret, fingerprint = %event.fingerprint, "{}", event.message());
            }
            _ => {
                tracing::warn!(target: "twinkey", event = event.kind.as_str(), secret = %event.secret, fingerprint = %event.fingerprint, "{}", event.message());
            }
        }
        let subs: Vec<Subscriber> = match self.list.read() {
            Ok(l) => l.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return,
        };
        for f in subs {
            let _ = catch_unwind(AssertUnwindSafe(|| f(event)));
        }
    }
}
