//! The two-secret fail-over engine (SPEC section 4), sans I/O.
//!
//! A binding (or [`twinkey-client`]) loops on the engine:
//!
//! ```
//! use twinkey::{ApiKey, Engine, EngineOptions, ResponseFacts, Secret, Verdict};
//! let key = ApiKey::new(
//!     Secret::new("key-one", "sk-one-example", None)?,
//!     Secret::new("key-two", "sk-two-example", None)?,
//! )?;
//! let engine = Engine::new(key, EngineOptions::default())?;
//! let mut attempt = engine.begin()?;                 // which secret to send
//! loop {
//!     let status = if attempt.secret_name() == "key-one" { 401 } else { 200 }; // "send" it
//!     match engine.complete(&attempt, &ResponseFacts::status(status)) {
//!         Verdict::Accept { .. } => break,                 // hand the response to the caller
//!         Verdict::Replay(next) => attempt = next,         // send the same request once more
//!         Verdict::NeedBody => unreachable!("only for 403"),
//!         Verdict::Fail(e) => return Err(e.into()),
//!     }
//! }
//! assert_eq!(attempt.secret_name(), "key-two");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Selection reads atomics only (no global lock); transitions of the key take a writer lock
//! that the selection path never touches.

mod alerts;
mod event;
mod fleet;
mod health;
mod metering;
mod options;
mod response;
mod views;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use alerts::AlertOptions;
pub use event::{Event, EventKind, Subscriber, SubscriptionId};
pub use health::{Counters, Health, HealthStore, MemoryStore, Outcome, RejectionInfo};
pub use metering::{SecretUsage, Start, Ticket, UsageReport};
pub use options::EngineOptions;
pub use response::{
    AUTH_ERROR_CODES, Class, MAX_ERROR_BODY, RELEVANT_HEADERS, ResponseFacts, classify,
    parse_http_date,
};

use crate::destination::Destinations;
use crate::error::{Error, Result, SecretReason, UnusableReason};
use crate::key::{ApiKey, Slot, Transition};
use crate::secret::{SecretState, SecretValue};
use crate::time::{Clock, Timestamp, duration_ms};

use event::Subscribers;

static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(1);
const NO_SLOT: u8 = u8::MAX;

/// The fail-over engine for one API key. Cheap to clone; all clones share state.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    options: EngineOptions,
    destinations: Destinations,
    skew_ms: i64,
    window_ms: i64,
    lease_ms: i64,
    clock: Arc<dyn Clock>,
    store: Arc<dyn HealthStore>,
    view: views::Views<KeyView>,
    writer: Mutex<()>,
    current: AtomicU8,
    preferred: AtomicU8,
    standby_latch: [AtomicBool; 2],
    expiring_latch: [AtomicBool; 2],
    no_usable_latch: AtomicBool,
    subscribers: Subscribers,
    budget: Option<crate::budget::Budget>,
    /// The fleet's usage totals as a fleet link last read them.
    fleet_usage: std::sync::Mutex<Option<crate::fleet::usage::FleetUsage>>,
    meter: crate::usage::Meter,
    alerts: alerts::Alerts,
}

/// An immutable snapshot of the key plus the per-slot instants the hot path compares against.
#[derive(Clone)]
struct KeyView {
    key: ApiKey,
    /// A slot is usable by its declared facts while `now < usable_until` (`i64::MIN`: never).
    usable_until: [i64; 2],
    /// `expiring_soon` applies from this instant (`i64::MAX`: never).
    expiring_from: [i64; 2],
}

impl KeyView {
    fn new(key: ApiKey, skew_ms: i64, window_ms: i64) -> Self {
        let usable_until = Slot::BOTH.map(|slot| {
            let s = key.secret(slot);
            match (&s.state, &s.value, s.time_expiry) {
                (SecretState::Active, Some(_), Some(exp)) => {
                    exp.as_millis().saturating_sub(skew_ms)
                }
                (SecretState::Active, Some(_), None) => i64::MAX,
                _ => i64::MIN,
            }
        });
        let expiring_from = Slot::BOTH.map(|slot| {
            let s = key.secret(slot);
            match (&s.state, s.time_expiry) {
                (SecretState::Active, Some(exp)) => exp.as_millis().saturating_sub(window_ms),
                _ => i64::MAX,
            }
        });
        KeyView {
            key,
            usable_until,
            expiring_from,
        }
    }

    #[inline]
    fn declared_ok(&self, slot: Slot, now: Timestamp) -> bool {
        now.as_millis() < self.usable_until[slot.index()]
    }
}

/// One attempt to send a request with one secret. Obtained from [`Engine::begin`] or a
/// [`Verdict::Replay`]; complete it with [`Engine::complete`] (or [`Engine::abandon`]).
pub struct Attempt {
    engine_id: u64,
    view: Arc<KeyView>,
    slot: Slot,
    epoch: u64,
    replay: bool,
    probe: bool,
    done: AtomicBool,
}

impl Attempt {
    fn value(&self) -> Option<&SecretValue> {
        self.view.key.secret(self.slot).value.as_ref()
    }

    /// The name of the secret to send.
    pub fn secret_name(&self) -> &str {
        &self.view.key.secret(self.slot).name
    }

    /// Its safe fingerprint.
    pub fn fingerprint(&self) -> &str {
        self.view.key.secret(self.slot).fingerprint()
    }

    /// The slot of the secret.
    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The secret value, for the transport only.
    pub fn secret_value(&self) -> &str {
        self.value().map(SecretValue::expose).unwrap_or_default()
    }

    /// The `Authorization` header value: `Bearer <secret>`.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.secret_value())
    }

    /// Whether this is the single replay of a rejected request.
    pub fn is_replay(&self) -> bool {
        self.replay
    }

    /// Whether this attempt probes a secret whose cooldown ended (half-open).
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("secret", &self.secret_name())
            .field("fingerprint", &self.fingerprint())
            .field("replay", &self.replay)
            .field("probe", &self.probe)
            .finish()
    }
}

/// What to do with an attempt's response.
#[derive(Debug)]
pub enum Verdict {
    /// Hand the response to the caller (a 429's `Retry-After` is surfaced here).
    Accept {
        /// The delay the service asked for, on 429.
        retry_after: Option<Duration>,
    },
    /// Send the same request once more, with this attempt's secret.
    Replay(Attempt),
    /// Raise this error; the response is discarded.
    Fail(Error),
    /// Call [`Engine::complete`] again with the response body (only for a 403).
    NeedBody,
}

impl Verdict {
    /// `accept`, `replay`, `fail` or `need_body`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Accept { .. } => "accept",
            Verdict::Replay(_) => "replay",
            Verdict::Fail(_) => "fail",
            Verdict::NeedBody => "need_body",
        }
    }
}

/// Health of a secret as shown by [`Engine::status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    /// Never rejected, or recovered.
    Healthy,
    /// Rejected; cooling down.
    CoolingDown,
    /// Cooldown over; the next request probes it.
    ProbeDue,
}

impl HealthState {
    /// Every health state.
    pub const ALL: [HealthState; 3] = [
        HealthState::Healthy,
        HealthState::CoolingDown,
        HealthState::ProbeDue,
    ];

    /// `healthy`, `cooling_down` or `probe_due`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::CoolingDown => "cooling_down",
            HealthState::ProbeDue => "probe_due",
        }
    }
}

/// One secret's entry in [`EngineStatus`].
#[derive(Clone, Debug)]
pub struct SecretStatus {
    /// Name.
    pub name: String,
    /// Safe fingerprint.
    pub fingerprint: String,
    /// Declared state.
    pub state: SecretState,
    /// `timeExpiry`.
    pub time_expiry: Option<Timestamp>,
    /// Whether a request could use it now.
    pub usable: bool,
    /// Why not, when not usable.
    pub reason: Option<UnusableReason>,
    /// Observed health.
    pub health: HealthState,
    /// End of the current cooldown.
    pub cooldown_until: Option<Timestamp>,
    /// Consecutive rejections.
    pub consecutive_rejections: u32,
    /// Whether traffic currently goes to it.
    pub current: bool,
    /// Whether it is the configured preference.
    pub preferred: bool,
    /// Counters.
    pub counters: Counters,
}

/// A snapshot of the engine's view of both secrets.
#[derive(Clone, Debug)]
pub struct EngineStatus {
    /// Both secrets, in `keys[]` order.
    pub secrets: [SecretStatus; 2],
    /// When the snapshot was taken.
    pub at: Timestamp,
}

enum Pick {
    Healthy,
    Probe,
}

impl Engine {
    /// An engine on the system clock and the in-memory store.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn new(key: ApiKey, options: EngineOptions) -> Result<Engine> {
        Self::with_parts(
            key,
            options,
            Arc::new(crate::time::SystemClock),
            Arc::new(MemoryStore::default()),
        )
    }

    /// An engine with an injected clock (in-memory store).
    pub fn with_clock(
        key: ApiKey,
        options: EngineOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine> {
        Self::with_parts(key, options, clock, Arc::new(MemoryStore::default()))
    }

    /// An engine with an injected clock and health store.
    pub fn with_parts(
        key: ApiKey,
        options: EngineOptions,
        clock: Arc<dyn Clock>,
        store: Arc<dyn HealthStore>,
    ) -> Result<Engine> {
        options.validate()?;
        let preferred = match &options.prefer {
            Some(name) => key.slot_of(name).map_err(|_| Error::InvalidOptions {
                reason: format!("preferred secret {name:?} is not in the key"),
            })? as u8,
            None => NO_SLOT,
        };
        let budget = match &options.budget {
            Some(b) => Some(crate::budget::Budget::new(b.clone())?),
            None => None,
        };
        let alerts = alerts::Alerts::new(&options.alerts);
        let now = clock.now();
        let skew_ms = duration_ms(options.expiry_skew);
        let window_ms = duration_ms(options.expiring_soon_window);
        let current = if preferred != NO_SLOT {
            preferred
        } else {
            Slot::BOTH
                .into_iter()
                .find(|s| declared_reason(&key, *s, now, skew_ms).is_none())
                .unwrap_or(Slot::One) as u8
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                id: NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed),
                skew_ms,
                window_ms,
                lease_ms: duration_ms(options.probe_lease),
                destinations: Destinations::new(&options.allowed_hosts)?,
                options,
                clock,
                store,
                view: views::Views::new(KeyView::new(key, skew_ms, window_ms)),
                writer: Mutex::new(()),
                current: AtomicU8::new(current),
                preferred: AtomicU8::new(preferred),
                standby_latch: [AtomicBool::new(false), AtomicBool::new(false)],
                expiring_latch: [AtomicBool::new(false), AtomicBool::new(false)],
                no_usable_latch: AtomicBool::new(false),
                subscribers: Subscribers::default(),
                budget,
                fleet_usage: std::sync::Mutex::new(None),
                meter: crate::usage::Meter::new(),
                alerts,
            }),
        })
    }

    /// The options the engine was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The engine's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Subscribes to events. Callbacks run synchronously on the thread that caused the event;
    /// keep them short. A panicking callback is contained.
    pub fn subscribe(&self, f: impl Fn(&Event) + Send + Sync + 'static) -> SubscriptionId {
        self.inner.subscribers.add(Arc::new(f))
    }

    /// Events emitted so far: `(kind, secret, count)` (what the exporters count).
    pub fn event_counts(&self) -> Vec<(&'static str, String, u64)> {
        self.inner.subscribers.counts()
    }

    /// Removes a subscription; returns whether it existed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.inner.subscribers.remove(id)
    }

    /// Hands out the secret for a new attempt, or fails fast with `NO_USABLE_SECRET` (no
    /// request should then be sent).
    pub fn begin(&self) -> Result<Attempt> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let view = inner.view.load_full();
        let primary = self.primary();
        match self.pick(&view, now, [Some(primary), Some(primary.other())]) {
            Some((slot, pick, epoch)) => {
                if let Pick::Healthy = pick {
                    self.follow(&view, slot, now);
                }
                Ok(self.hand_out(view, slot, epoch, matches!(pick, Pick::Probe), false, now))
            }
            None => Err(self.no_usable(&view, now)),
        }
    }

    /// `Ok` when a secret of this engine may be sent to `url`: an OCI Generative AI inference
    /// host over HTTPS, loopback, or a host in [`EngineOptions::allowed_hosts`];
    /// `DESTINATION_NOT_ALLOWED` otherwise. Check every URL a secret goes to (redirects too).
    pub fn check_destination(&self, url: &str) -> Result<()> {
        self.inner.destinations.check(url)
    }

    /// [`Engine::begin`] for a request to `url`: refuses (`DESTINATION_NOT_ALLOWED`, nothing
    /// handed out) when a secret may not go there.
    pub fn begin_for(&self, url: &str) -> Result<Attempt> {
        self.check_destination(url)?;
        self.begin()
    }

    /// The OpenAI-compatible base URL of the key's region (from its OCID), e.g.
    /// `https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1`; `None`
    /// when the key has no id naming a region. SDK clients default to it.
    pub fn default_base_url(&self) -> Option<String> {
        let view = self.inner.view.load();
        let region = crate::key::region_from_ocid(view.key.id.as_deref()?)?;
        crate::control::inference_base_for_region(&region).ok()
    }

    /// Judges an attempt's response. See [`Verdict`].
    pub fn complete(&self, attempt: &Attempt, response: &ResponseFacts<'_>) -> Verdict {
        if let Err(e) = self.check_attempt(attempt) {
            return Verdict::Fail(e);
        }
        let already = || {
            Verdict::Fail(Error::InvalidAttempt {
                reason: "the attempt was already completed".into(),
            })
        };
        if attempt.done.load(Ordering::Acquire) {
            return already();
        }
        let inner = &*self.inner;
        let class = classify(response, || inner.clock.now());
        if class == Class::NeedBody {
            return Verdict::NeedBody;
        }
        if attempt.done.swap(true, Ordering::AcqRel) {
            return already();
        }
        let slot = attempt.slot;
        if inner.alerts.after_retire(slot) {
            let s = attempt.view.key.secret(slot);
            let mut e = Event::new(
                EventKind::TrafficAfterDeactivation,
                inner.clock.now(),
                &s.name,
                s.fingerprint(),
            );
            e.status = Some(response.status);
            self.emit(e);
        }
        match class {
            Class::Accepted => {
                inner.store.count(slot, Outcome::Accepted);
                inner.alerts.accepted(slot);
                if attempt.probe && inner.store.recover(slot, attempt.epoch) {
                    let now = inner.clock.now();
                    inner.alerts.recovered(slot);
                    inner.standby_latch[slot.index()].store(false, Ordering::Release);
                    if inner.preferred.load(Ordering::Acquire) == slot as u8 {
                        inner.current.store(slot as u8, Ordering::Release);
                    }
                    let s = attempt.view.key.secret(slot);
                    self.emit(Event::new(
                        EventKind::SecretRecovered,
                        now,
                        &s.name,
                        s.fingerprint(),
                    ));
                }
                Verdict::Accept { retry_after: None }
            }
            Class::RateLimited(retry_after) | Class::ServerError(retry_after) => {
                self.inconclusive(attempt);
                Verdict::Accept { retry_after }
            }
            Class::NeedBody => {
                self.inconclusive(attempt);
                Verdict::Accept { retry_after: None }
            }
            Class::Rejected => self.rejected(attempt, response.status, inner.clock.now()),
        }
    }

    /// Ends an attempt that got no response (timeout, reset): nothing is learned about the
    /// secret and nothing is switched; leave retrying to the SDK.
    pub fn abandon(&self, attempt: &Attempt) -> Result<()> {
        self.check_attempt(attempt)?;
        if attempt.done.swap(true, Ordering::AcqRel) {
            return Err(Error::InvalidAttempt {
                reason: "the attempt was already completed".into(),
            });
        }
        self.inconclusive(attempt);
        Ok(())
    }

    fn check_attempt(&self, attempt: &Attempt) -> Result<()> {
        if attempt.engine_id != self.inner.id {
            return Err(Error::InvalidAttempt {
                reason: "the attempt belongs to another engine".into(),
            });
        }
        Ok(())
    }

    fn inconclusive(&self, attempt: &Attempt) {
        self.inner.store.count(attempt.slot, Outcome::Inconclusive);
        if attempt.probe {
            self.inner.store.release_probe(attempt.slot, attempt.epoch);
        }
    }

    fn rejected(&self, attempt: &Attempt, status: u16, now: Timestamp) -> Verdict {
        let inner = &*self.inner;
        let slot = attempt.slot;
        inner.store.count(slot, Outcome::Rejected);
        let opts = &inner.options;
        let cooldown = |n: u32| opts.cooldown_for(n);
        // A value replaced since the attempt began says nothing about the one now in the slot.
        let same_value = inner.view.load().key.secret(slot).fingerprint() == attempt.fingerprint();
        let transition = if same_value {
            inner
                .store
                .reject(slot, attempt.epoch, status, now, &cooldown)
        } else {
            None
        };
        if let Some((until, _)) = transition {
            let s = attempt.view.key.secret(slot);
            let mut e = Event::new(EventKind::SecretRejected, now, &s.name, s.fingerprint());
            e.status = Some(status);
            e.cooldown_until = Some(until);
            self.emit(e);
        }
        let view = inner.view.load_full();
        self.alert_rejection(attempt, &view, status, transition.is_some(), now);
        if attempt.replay {
            return Verdict::Fail(self.no_usable(&view, now));
        }
        match self.pick(&view, now, [Some(slot.other()), None]) {
            Some((other, pick, epoch)) => {
                if let Pick::Healthy = pick {
                    self.follow(&view, other, now);
                }
                Verdict::Replay(self.hand_out(
                    view,
                    other,
                    epoch,
                    matches!(pick, Pick::Probe),
                    true,
                    now,
                ))
            }
            None => Verdict::Fail(self.no_usable(&view, now)),
        }
    }

    /// The alerts a rejection can raise: `changed_out_of_band` when it moved a secret that
    /// worked into cooldown while the key still says it is `ACTIVE`, unexpired, with the value
    /// that was sent; `rejection_burst` at the threshold (late rejections count too).
    fn alert_rejection(
        &self,
        attempt: &Attempt,
        view: &KeyView,
        status: u16,
        transition: bool,
        now: Timestamp,
    ) {
        let inner = &*self.inner;
        let slot = attempt.slot;
        let s = view.key.secret(slot);
        if transition
            && s.fingerprint() == attempt.fingerprint()
            && view.declared_ok(slot, now)
            && inner.alerts.out_of_band(slot)
        {
            let mut e = Event::new(EventKind::ChangedOutOfBand, now, &s.name, s.fingerprint());
            e.status = Some(status);
            self.emit(e);
        }
        if let Some(count) = inner.alerts.rejection(slot, now) {
            let s = attempt.view.key.secret(slot);
            let mut e = Event::new(EventKind::RejectionBurst, now, &s.name, s.fingerprint());
            e.status = Some(status);
            e.count = Some(count);
            self.emit(e);
        }
    }

    fn primary(&self) -> Slot {
        let p = self.inner.preferred.load(Ordering::Acquire);
        let s = if p == NO_SLOT {
            self.inner.current.load(Ordering::Acquire)
        } else {
            p
        };
        Slot::from_index(s as usize).unwrap_or(Slot::One)
    }

    /// Half-open probes first (a secret whose cooldown ended is tried by the next request),
    /// then healthy secrets in preference order.
    fn pick(
        &self,
        view: &KeyView,
        now: Timestamp,
        order: [Option<Slot>; 2],
    ) -> Option<(Slot, Pick, u64)> {
        let inner = &*self.inner;
        let mut healthy = None;
        for slot in order.into_iter().flatten() {
            if !view.declared_ok(slot, now) {
                continue;
            }
            let h = inner.store.health(slot);
            match h.cooldown_until {
                None => {
                    if healthy.is_none() {
                        healthy = Some((slot, h.epoch));
                    }
                }
                Some(until) if now >= until => {
                    let lease =
                        Timestamp::from_millis(now.as_millis().saturating_add(inner.lease_ms));
                    if inner.store.try_claim_probe(slot, h.epoch, now, lease) {
                        return Some((slot, Pick::Probe, h.epoch));
                    }
                }
                Some(_) => {}
            }
        }
        healthy.map(|(s, e)| (s, Pick::Healthy, e))
    }

    /// Makes `slot` the secret in use; the first thread to move traffic off an unusable
    /// secret reports `failed_over` (exactly once per transition).
    fn follow(&self, view: &KeyView, slot: Slot, now: Timestamp) {
        let inner = &*self.inner;
        let cur = inner.current.load(Ordering::Acquire);
        if cur == slot as u8 {
            return;
        }
        let Some(from) = Slot::from_index(cur as usize) else {
            return;
        };
        let reason = self.reason(view, from, now);
        if reason.is_none() && inner.preferred.load(Ordering::Acquire) != slot as u8 {
            return; // the one in use is fine: stay (sticky)
        }
        if inner
            .current
            .compare_exchange(cur, slot as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            && let Some(reason) = reason
        {
            {
                let s = view.key.secret(from);
                let mut e = Event::new(EventKind::FailedOver, now, &s.name, s.fingerprint());
                e.to = Some(view.key.secret(slot).name.clone());
                e.reason = Some(reason);
                self.emit(e);
            }
        }
    }

    fn hand_out(
        &self,
        view: Arc<KeyView>,
        slot: Slot,
        epoch: u64,
        probe: bool,
        replay: bool,
        now: Timestamp,
    ) -> Attempt {
        let inner = &*self.inner;
        inner.store.count(slot, Outcome::HandedOut);
        if inner.no_usable_latch.load(Ordering::Relaxed) {
            inner.no_usable_latch.store(false, Ordering::Relaxed);
        }
        let own = &inner.standby_latch[slot.index()];
        if !probe && own.load(Ordering::Relaxed) {
            own.store(false, Ordering::Release); // handed out healthy: re-arm its standby report
        }
        self.watch_standby(&view, slot.other(), now);
        self.watch_expiry(&view, now);
        Attempt {
            engine_id: inner.id,
            view,
            slot,
            epoch,
            replay,
            probe,
            done: AtomicBool::new(false),
        }
    }

    fn watch_standby(&self, view: &KeyView, standby: Slot, now: Timestamp) {
        let latch = &self.inner.standby_latch[standby.index()];
        if self.usable(view, standby, now) {
            if latch.load(Ordering::Relaxed) {
                latch.store(false, Ordering::Release);
            }
        } else if !latch.load(Ordering::Relaxed)
            && !latch.swap(true, Ordering::AcqRel)
            && let Some(reason) = self.reason(view, standby, now)
        {
            {
                let s = view.key.secret(standby);
                let mut e =
                    Event::new(EventKind::StandbyUnavailable, now, &s.name, s.fingerprint());
                e.reason = Some(reason);
                self.emit(e);
            }
        }
    }

    /// The hot-path form of [`Self::reason`]`.is_none()`: atomics and integer compares only.
    #[inline]
    fn usable(&self, view: &KeyView, slot: Slot, now: Timestamp) -> bool {
        if !view.declared_ok(slot, now) {
            return false;
        }
        let h = self.inner.store.health(slot);
        match h.cooldown_until {
            None => true,
            Some(until) => now >= until && h.probe_until.is_none_or(|p| now >= p),
        }
    }

    fn watch_expiry(&self, view: &KeyView, now: Timestamp) {
        let inner = &*self.inner;
        for slot in Slot::BOTH {
            let i = slot.index();
            let t = now.as_millis();
            if t < view.expiring_from[i] || t >= view.usable_until[i] {
                continue;
            }
            let latch = &inner.expiring_latch[i];
            if !latch.load(Ordering::Relaxed) && !latch.swap(true, Ordering::AcqRel) {
                let s = view.key.secret(slot);
                let mut e = Event::new(EventKind::ExpiringSoon, now, &s.name, s.fingerprint());
                e.expires_at = s.time_expiry;
                self.emit(e);
            }
            self.watch_standby_outlives(view, slot, now);
        }
    }

    /// `expiring_without_standby`: `slot` is in its expiry window; the other secret must be
    /// usable and outlive it to take over.
    fn watch_standby_outlives(&self, view: &KeyView, slot: Slot, now: Timestamp) {
        let inner = &*self.inner;
        let other = slot.other();
        let takes_over = self.usable(view, other, now)
            && view.usable_until[other.index()] > view.usable_until[slot.index()];
        if takes_over {
            inner.alerts.standby_back(slot);
        } else if inner.alerts.expiring_alone(slot) {
            let s = view.key.secret(slot);
            let mut e = Event::new(
                EventKind::ExpiringWithoutStandby,
                now,
                &s.name,
                s.fingerprint(),
            );
            e.expires_at = s.time_expiry;
            e.reason = self.reason(view, other, now);
            self.emit(e);
        }
    }

    /// Why a slot cannot be used right now (`None` = usable, including "probe due").
    fn reason(&self, view: &KeyView, slot: Slot, now: Timestamp) -> Option<UnusableReason> {
        if let Some(r) = declared_reason(&view.key, slot, now, self.inner.skew_ms) {
            return Some(r);
        }
        let h = self.inner.store.health(slot);
        match h.cooldown_until {
            Some(until) if now < until => {
                let info = self.inner.store.rejection(slot).unwrap_or_default();
                Some(UnusableReason::CoolingDown {
                    status: info.status,
                    rejected_at: info.at,
                    until,
                })
            }
            Some(_) if h.probe_until.is_some_and(|p| now < p) => {
                Some(UnusableReason::ProbeInFlight)
            }
            _ => None,
        }
    }

    fn reasons(&self, view: &KeyView, now: Timestamp) -> Vec<SecretReason> {
        Slot::BOTH
            .into_iter()
            .map(|slot| {
                let s = view.key.secret(slot);
                SecretReason {
                    secret: s.name.clone(),
                    fingerprint: s.fingerprint().to_string(),
                    // A slot without a reason here lost a probe race; report the probe.
                    reason: self
                        .reason(view, slot, now)
                        .unwrap_or(UnusableReason::ProbeInFlight),
                }
            })
            .collect()
    }

    fn no_usable(&self, view: &KeyView, now: Timestamp) -> Error {
        let reasons = self.reasons(view, now);
        let inner = &*self.inner;
        if !inner.no_usable_latch.swap(true, Ordering::AcqRel) {
            let cur = self.primary();
            let r = &reasons[cur.index()];
            let mut e = Event::new(EventKind::NoUsableSecret, now, &r.secret, &r.fingerprint);
            e.reason = Some(r.reason.clone());
            self.emit(e);
        }
        Error::NoUsableSecret { reasons }
    }

    fn emit(&self, event: Event) {
        self.inner.subscribers.emit(&event);
    }

    // ---- key transitions (writer side) ----

    /// Applies a transition to the named secret (validated by OCI's rules). Activation and
    /// renewal forget the secret's observed rejections.
    pub fn apply(&self, name: &str, transition: Transition) -> Result<()> {
        let reset = matches!(transition, Transition::Activate | Transition::Renew { .. });
        let renew = matches!(transition, Transition::Renew { .. });
        self.modify(|key, now| {
            let slot = key.apply(name, transition, now)?;
            Ok((slot, reset, renew))
        })
    }

    /// Activates a secret (`INACTIVE -> ACTIVE`).
    pub fn activate(&self, name: &str) -> Result<()> {
        self.apply(name, Transition::Activate)
    }

    /// Deactivates a secret (`ACTIVE -> INACTIVE`).
    pub fn deactivate(&self, name: &str) -> Result<()> {
        self.apply(name, Transition::Deactivate)
    }

    /// Revokes a secret (irreversible).
    pub fn revoke(&self, name: &str) -> Result<()> {
        self.apply(name, Transition::Revoke)
    }

    /// Gives a secret a new value, `ACTIVE` state and a new expiry (default 90 days).
    pub fn renew(&self, name: &str, value: &str, expiry: Option<Timestamp>) -> Result<()> {
        let value = SecretValue::new(name, value)?;
        self.apply(name, Transition::Renew { value, expiry })
    }

    /// Sets a secret's state as the service reports it (no transition rules).
    pub fn sync_state(&self, name: &str, state: SecretState) -> Result<()> {
        self.modify(|key, _| {
            let slot = key.slot_of(name)?;
            let was_active = key.secret(slot).state == SecretState::Active;
            let reset = !was_active && state == SecretState::Active;
            key.sync_state(name, state)?;
            Ok((slot, reset, false))
        })
    }

    /// Replaces the whole key document (e.g. re-read from the control plane). Secrets whose
    /// value changed start with a clean health record.
    pub fn replace_key(&self, key: ApiKey) -> Result<()> {
        if let Some(name) = &self.inner.options.prefer {
            key.slot_of(name)?; // validated before anything changes
        }
        let _w = self.inner.writer.lock().map_err(|_| poisoned())?;
        let old = self.inner.view.load_full();
        let changed: Vec<Slot> = Slot::BOTH
            .into_iter()
            .filter(|&s| old.key.secret(s).fingerprint() != key.secret(s).fingerprint())
            .collect();
        for slot in Slot::BOTH {
            let (was, now) = (old.key.secret(slot), key.secret(slot));
            if changed.contains(&slot) {
                continue;
            } else if was.state == SecretState::Active && retiring(&now.state) {
                self.inner.alerts.retired(slot);
            } else if was.state != SecretState::Active && now.state == SecretState::Active {
                self.inner.alerts.reset(slot);
            }
        }
        // The new view first, then the clean record: an attempt holding the old value and the
        // new epoch is then refused by the fingerprint check in `rejected`.
        self.inner.view.store(self.view_of(key));
        for slot in changed {
            self.inner.store.reset(slot);
            self.inner.alerts.reset(slot);
            self.inner.expiring_latch[slot.index()].store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Follows a key document a key watch observed (see [`crate::watch`]): takes its states,
    /// expiries and metadata, its values when it comes from a file, and the preference a
    /// rotation recorded on the key when this engine holds the value that rotation verified.
    /// Answers what changed (nothing when the document says what the engine already holds).
    /// `INVALID_KEY` for a document of another key; the engine is then left as it was.
    pub fn follow_key(
        &self,
        observed: &ApiKey,
        source: crate::watch::WatchSource,
    ) -> Result<crate::watch::KeyUpdate> {
        let update = crate::watch::follow(&self.key(), observed, source)?;
        self.replace_key(update.key.clone())?;
        if let Some(name) = &update.prefer {
            self.set_preferred(Some(name))?;
        }
        Ok(update)
    }

    fn modify(
        &self,
        f: impl FnOnce(&mut ApiKey, Timestamp) -> Result<(Slot, bool, bool)>,
    ) -> Result<()> {
        let _w = self.inner.writer.lock().map_err(|_| poisoned())?;
        let now = self.inner.clock.now();
        let mut key = self.inner.view.load().key.clone();
        let (slot, reset, renewed) = f(&mut key, now)?;
        let was_active = self.inner.view.load().key.secret(slot).state == SecretState::Active;
        if was_active && retiring(&key.secret(slot).state) {
            self.inner.alerts.retired(slot);
        }
        if renewed {
            self.inner.expiring_latch[slot.index()].store(false, Ordering::Release);
        }
        // View first, then the clean record (see `replace_key`).
        self.inner.view.store(self.view_of(key));
        if reset {
            self.inner.store.reset(slot);
            self.inner.alerts.reset(slot);
            self.inner.standby_latch[slot.index()].store(false, Ordering::Release);
        }
        Ok(())
    }

    fn view_of(&self, key: ApiKey) -> KeyView {
        KeyView::new(key, self.inner.skew_ms, self.inner.window_ms)
    }

    /// Sets (or clears) the preferred secret.
    pub fn set_preferred(&self, name: Option<&str>) -> Result<()> {
        let v = match name {
            Some(n) => self.inner.view.load().key.slot_of(n)? as u8,
            None => NO_SLOT,
        };
        self.inner.preferred.store(v, Ordering::Release);
        Ok(())
    }

    /// A copy of the key as the engine holds it now.
    pub fn key(&self) -> ApiKey {
        self.inner.view.load().key.clone()
    }

    /// The name of the secret traffic currently goes to.
    pub fn current(&self) -> String {
        let s = Slot::from_index(self.inner.current.load(Ordering::Acquire) as usize)
            .unwrap_or(Slot::One);
        self.inner.view.load().key.secret(s).name.clone()
    }

    /// Per-secret state, expiry, health and counters.
    pub fn status(&self) -> EngineStatus {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let view = inner.view.load_full();
        let current = inner.current.load(Ordering::Acquire);
        let preferred = inner.preferred.load(Ordering::Acquire);
        let one = |slot: Slot| {
            let s = view.key.secret(slot);
            let h = inner.store.health(slot);
            let reason = self.reason(&view, slot, now);
            let health = match h.cooldown_until {
                None => HealthState::Healthy,
                Some(u) if now < u => HealthState::CoolingDown,
                Some(_) => HealthState::ProbeDue,
            };
            SecretStatus {
                name: s.name.clone(),
                fingerprint: s.fingerprint().to_string(),
                state: s.state.clone(),
                time_expiry: s.time_expiry,
                usable: reason.is_none(),
                reason,
                health,
                cooldown_until: h.cooldown_until,
                consecutive_rejections: inner.store.rejection(slot).map_or(0, |r| r.consecutive),
                current: current == slot as u8,
                preferred: preferred == slot as u8,
                counters: inner.store.counters(slot),
            }
        };
        EngineStatus {
            secrets: [one(Slot::One), one(Slot::Two)],
            at: now,
        }
    }
}

fn poisoned() -> Error {
    Error::InvalidAttempt {
        reason: "engine lock poisoned by a panic".into(),
    }
}

/// A state a secret is put in to stop its use (what `traffic_after_deactivation` watches).
fn retiring(state: &SecretState) -> bool {
    matches!(
        state,
        SecretState::Inactive | SecretState::Revoked | SecretState::Deleted
    )
}

/// Why the declared facts (state, value, expiry with skew) make a slot unusable.
fn declared_reason(
    key: &ApiKey,
    slot: Slot,
    now: Timestamp,
    skew_ms: i64,
) -> Option<UnusableReason> {
    let s = key.secret(slot);
    let r = match &s.state {
        SecretState::Active => None,
        SecretState::Inactive => Some(UnusableReason::Inactive),
        SecretState::Revoked => Some(UnusableReason::Revoked),
        SecretState::Deleted => Some(UnusableReason::Deleted),
        SecretState::Expired => Some(UnusableReason::Expired { at: s.time_expiry }),
        SecretState::Unknown(v) => Some(UnusableReason::UnknownState(v.clone())),
    };
    if r.is_some() {
        return r;
    }
    if s.value.is_none() {
        return Some(UnusableReason::NoValue);
    }
    match s.time_expiry {
        Some(exp) if now.as_millis() >= exp.as_millis().saturating_sub(skew_ms) => {
            Some(UnusableReason::Expired { at: Some(exp) })
        }
        _ => None,
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("key", &self.inner.view.load().key)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}
