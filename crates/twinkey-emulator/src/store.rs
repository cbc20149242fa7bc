//! The emulator's API keys, with OCI's propagation delay between a change and inference.
//!
//! The store keeps two views of every key:
//!
//! - the **control view**, changed immediately by every operation (what a control-plane `GET`
//!   returns, with an `etag` that changes on each change);
//! - the **inference view**, which the OpenAI-compatible endpoints authenticate against. Each
//!   change is queued and reaches this view only once the propagation delay has passed, like the
//!   real service ("after the change propagates"). With a delay of 0 changes are visible at once.
//!
//! All times come from the emulator's injected [`Clock`], so tests can move time by hand.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use twinkey::key::DEFAULT_RENEW_LIFETIME;
use twinkey::{ApiKey, Clock, SecretState, SecretValue, Slot, Timestamp, Transition};

use crate::ids;

/// Region given to keys that carry no OCID and no region.
pub const DEFAULT_REGION: &str = "us-chicago-1";

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No key with this id.
    #[error("no API key with id {id}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// A key with this id is already held.
    #[error("an API key with id {id} already exists")]
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// The key model refused the change (unknown secret, revoked, invalid transition, ...).
    #[error(transparent)]
    Key(#[from] twinkey::Error),
}

/// A key in the control view.
#[derive(Clone, Debug)]
pub struct StoredKey {
    /// The key (secret values included; never print them).
    pub key: ApiKey,
    /// Changes on every change of the key (for `if-match`).
    pub etag: String,
}

impl StoredKey {
    /// The key's OCID (always set in the store).
    pub fn id(&self) -> &str {
        self.key.id.as_deref().unwrap_or_default()
    }
}

/// Why a presented secret was refused although the emulator knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The secret is not `ACTIVE` (`INACTIVE`, `REVOKED`, `EXPIRED`, `DELETED`, ...).
    State(SecretState),
    /// The secret's `timeExpiry` has passed.
    Expired(Timestamp),
    /// The key itself is not `ACTIVE` (its `lifecycleState`).
    KeyNotActive(String),
}

impl Refusal {
    /// A short word for logs and counters (`revoked`, `inactive`, `expired`, ...).
    pub fn as_str(&self) -> String {
        match self {
            Refusal::State(s) => s.as_str().to_ascii_lowercase(),
            Refusal::Expired(_) => "expired".into(),
            Refusal::KeyNotActive(s) => format!("key {}", s.to_ascii_lowercase()),
        }
    }
}

/// The result of checking a bearer secret against the inference view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// A usable secret of a held key.
    Accepted {
        /// Key OCID.
        key_id: String,
        /// Secret name.
        secret: String,
        /// Fingerprint of the presented value.
        fingerprint: String,
    },
    /// A secret the emulator knows, but not usable now.
    Refused {
        /// Key OCID.
        key_id: String,
        /// Secret name.
        secret: String,
        /// Fingerprint of the presented value.
        fingerprint: String,
        /// Why.
        why: Refusal,
    },
    /// Not a secret of any held key.
    Unknown,
}

struct Pending {
    at: Timestamp,
    id: String,
    key: Option<ApiKey>,
}

#[derive(Default)]
struct Inner {
    control: BTreeMap<String, StoredKey>,
    visible: BTreeMap<String, ApiKey>,
    pending: VecDeque<Pending>,
    etag_counter: u64,
}

impl Inner {
    fn next_etag(&mut self) -> String {
        self.etag_counter += 1;
        format!("{:016x}", self.etag_counter)
    }

    fn apply_due(&mut self, now: Timestamp) {
        while self.pending.front().is_some_and(|p| p.at <= now) {
            if let Some(p) = self.pending.pop_front() {
                match p.key {
                    Some(k) => {
                        self.visible.insert(p.id, k);
                    }
                    None => {
                        self.visible.remove(&p.id);
                    }
                }
            }
        }
    }
}

/// The emulator's keys (see the module docs for the two views).
pub struct KeyStore {
    clock: Arc<dyn Clock>,
    propagation_ms: AtomicU64,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.len())
            .field("propagation", &self.propagation())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// An empty store on `clock` with a propagation delay.
    pub fn new(clock: Arc<dyn Clock>, propagation: Duration) -> Self {
        KeyStore {
            clock,
            propagation_ms: AtomicU64::new(
                u64::try_from(propagation.as_millis()).unwrap_or(u64::MAX),
            ),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The store's invariants hold between statements, so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The delay between a change and its effect on inference.
    pub fn propagation(&self) -> Duration {
        Duration::from_millis(self.propagation_ms.load(Ordering::Acquire))
    }

    /// Sets the propagation delay for changes made from now on.
    pub fn set_propagation(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.propagation_ms.store(ms, Ordering::Release);
    }

    /// Number of keys in the control view.
    pub fn len(&self) -> usize {
        self.lock().control.len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes not yet visible to inference.
    pub fn pending(&self) -> usize {
        let mut inner = self.lock();
        inner.apply_due(self.clock.now());
        inner.pending.len()
    }

    /// Adds a key; it reaches inference after the propagation delay. A key without an id gets
    /// a new OCID (and `lifecycleState` `ACTIVE`, `timeCreated` now).
    pub fn insert(&self, key: ApiKey) -> Result<StoredKey, StoreError> {
        self.insert_inner(key, false)
    }

    /// Adds a key that inference sees at once (seeding at start-up and by tests).
    pub fn insert_visible(&self, key: ApiKey) -> Result<StoredKey, StoreError> {
        self.insert_inner(key, true)
    }

    fn insert_inner(&self, mut key: ApiKey, at_once: bool) -> Result<StoredKey, StoreError> {
        let now = self.clock.now();
        if key.id.is_none() {
            let region = key
                .region
                .clone()
                .unwrap_or_else(|| DEFAULT_REGION.to_string());
            key = key.with_id(ids::key_ocid(&region));
        }
        key.lifecycle_state
            .get_or_insert_with(|| "ACTIVE".to_string());
        key.time_created.get_or_insert(now);
        let id = key.id.clone().unwrap_or_default();
        let mut inner = self.lock();
        if inner.control.contains_key(&id) {
            return Err(StoreError::AlreadyExists { id });
        }
        let etag = inner.next_etag();
        let stored = StoredKey {
            key: key.clone(),
            etag,
        };
        inner.control.insert(id.clone(), stored.clone());
        if at_once {
            inner.apply_due(now);
            inner.visible.insert(id, key);
        } else {
            self.enqueue(&mut inner, now, id, Some(key));
        }
        Ok(stored)
    }

    fn enqueue(&self, inner: &mut Inner, now: Timestamp, id: String, key: Option<ApiKey>) {
        let at = now.plus(self.propagation());
        // Keep the queue ordered by time even if the delay was shortened meanwhile.
        let pos = inner
            .pending
            .iter()
            .rposition(|p| p.at <= at)
            .map_or(0, |i| i + 1);
        inner.pending.insert(pos, Pending { at, id, key });
        inner.apply_due(now);
    }

    /// A key in the control view.
    pub fn get(&self, id: &str) -> Option<StoredKey> {
        self.lock().control.get(id).cloned()
    }

    /// All keys in the control view, ordered by id.
    pub fn list(&self) -> Vec<StoredKey> {
        self.lock().control.values().cloned().collect()
    }

    /// Changes a key with `f` (given the key and the current time) and queues the result for
    /// inference. The building block for every control-plane operation.
    pub fn modify<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut ApiKey, Timestamp) -> twinkey::Result<T>,
    ) -> Result<(StoredKey, T), StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(stored) = inner.control.get(id) else {
            return Err(StoreError::NotFound { id: id.to_string() });
        };
        let mut key = stored.key.clone();
        let out = f(&mut key, now)?;
        key.time_updated = Some(now);
        let etag = inner.next_etag();
        let stored = StoredKey {
            key: key.clone(),
            etag,
        };
        inner.control.insert(id.to_string(), stored.clone());
        self.enqueue(&mut inner, now, id.to_string(), Some(key));
        Ok((stored, out))
    }

    /// Applies OCI's `SetApiKeyState` to one secret: `ACTIVE` activates, `INACTIVE`
    /// deactivates, `REVOKED` revokes (with the model's transition rules).
    pub fn set_state(
        &self,
        id: &str,
        secret: &str,
        state: &SecretState,
    ) -> Result<StoredKey, StoreError> {
        let transition = match state {
            SecretState::Active => Transition::Activate,
            SecretState::Inactive => Transition::Deactivate,
            SecretState::Revoked => Transition::Revoke,
            other => {
                return Err(StoreError::Key(twinkey::Error::InvalidTransition {
                    secret: secret.to_string(),
                    action: format!("set state {other} on"),
                    from: "any state (only ACTIVE, INACTIVE and REVOKED can be set)".into(),
                }));
            }
        };
        self.modify(id, |key, now| {
            key.apply(secret, transition, now).map(|_| ())
        })
        .map(|(k, ())| k)
    }

    /// Sets a secret's state without transition rules (e.g. `EXPIRED`, or un-revoking for a
    /// test). Not an OCI operation: for the admin surface and tests only.
    pub fn force_state(
        &self,
        id: &str,
        secret: &str,
        state: SecretState,
    ) -> Result<StoredKey, StoreError> {
        self.modify(id, |key, _| key.sync_state(secret, state).map(|_| ()))
            .map(|(k, ())| k)
    }

    /// OCI's `RenewApiKey` for one secret: a new random value, `ACTIVE`, a new expiry (default
    /// 90 days). Returns the key and the new value (shown once).
    pub fn renew(
        &self,
        id: &str,
        secret: &str,
        expiry: Option<Timestamp>,
    ) -> Result<(StoredKey, SecretValue), StoreError> {
        let value = ids::new_secret(secret)?;
        let returned = value.clone();
        self.modify(id, move |key, now| {
            let expiry = expiry.unwrap_or_else(|| now.plus(DEFAULT_RENEW_LIFETIME));
            key.apply(
                secret,
                Transition::Renew {
                    value,
                    expiry: Some(expiry),
                },
                now,
            )
            .map(|_| ())
        })
        .map(|(k, ())| (k, returned))
    }

    /// Deletes a key: gone from the control view at once, from inference after the delay.
    pub fn remove(&self, id: &str) -> Result<StoredKey, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(stored) = inner.control.remove(id) else {
            return Err(StoreError::NotFound { id: id.to_string() });
        };
        self.enqueue(&mut inner, now, id.to_string(), None);
        Ok(stored)
    }

    /// Checks a presented bearer secret against the inference view (changes whose
    /// propagation delay has passed are applied first). Comparison is constant-time per value.
    pub fn authenticate(&self, presented: &str) -> Authentication {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.apply_due(now);
        for (id, key) in &inner.visible {
            for slot in Slot::BOTH {
                let s = key.secret(slot);
                let Some(value) = &s.value else { continue };
                if !value.ct_eq(presented) {
                    continue;
                }
                let why = match (&key.lifecycle_state, &s.state, s.time_expiry) {
                    (Some(ls), _, _) if ls != "ACTIVE" => Some(Refusal::KeyNotActive(ls.clone())),
                    (_, SecretState::Active, Some(exp)) if now >= exp => {
                        Some(Refusal::Expired(exp))
                    }
                    (_, SecretState::Active, _) => None,
                    (_, other, _) => Some(Refusal::State(other.clone())),
                };
                let (key_id, secret, fingerprint) =
                    (id.clone(), s.name.clone(), value.fingerprint().to_string());
                return match why {
                    None => Authentication::Accepted {
                        key_id,
                        secret,
                        fingerprint,
                    },
                    Some(why) => Authentication::Refused {
                        key_id,
                        secret,
                        fingerprint,
                        why,
                    },
                };
            }
        }
        Authentication::Unknown
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use twinkey::{ManualClock, Secret};

    const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn setup(delay_ms: u64) -> (KeyStore, ManualClock, String) {
        let clock = ManualClock::new(T0);
        let store = KeyStore::new(Arc::new(clock.clone()), Duration::from_millis(delay_ms));
        let key = ApiKey::new(
            Secret::new(
                "key-one",
                "sk-one-aaaaaaaa",
                Some(T0.plus(Duration::from_secs(3600))),
            )
            .unwrap(),
            Secret::new("key-two", "sk-two-bbbbbbbb", None).unwrap(),
        )
        .unwrap();
        let id = store.insert_visible(key).unwrap().id().to_string();
        (store, clock, id)
    }

    fn accepted(a: &Authentication) -> bool {
        matches!(a, Authentication::Accepted { .. })
    }

    #[test]
    fn changes_reach_inference_after_the_delay() {
        let (store, clock, id) = setup(5_000);
        assert!(accepted(&store.authenticate("sk-one-aaaaaaaa")));
        let before = store.get(&id).unwrap().etag;
        let after = store
            .set_state(&id, "key-one", &SecretState::Revoked)
            .unwrap();
        assert_ne!(before, after.etag);
        assert_eq!(after.key.secret(Slot::One).state, SecretState::Revoked);
        assert!(accepted(&store.authenticate("sk-one-aaaaaaaa")));
        assert_eq!(store.pending(), 1);
        clock.advance_ms(4_999);
        assert!(accepted(&store.authenticate("sk-one-aaaaaaaa")));
        clock.advance_ms(1);
        assert!(matches!(
            store.authenticate("sk-one-aaaaaaaa"),
            Authentication::Refused {
                why: Refusal::State(SecretState::Revoked),
                ..
            }
        ));
        assert_eq!(store.pending(), 0);
    }

    #[test]
    fn expiry_unknown_values_and_renewal() {
        let (store, clock, id) = setup(0);
        assert_eq!(store.authenticate("sk-nope"), Authentication::Unknown);
        clock.advance(Duration::from_secs(3600));
        assert!(matches!(
            store.authenticate("sk-one-aaaaaaaa"),
            Authentication::Refused {
                why: Refusal::Expired(_),
                ..
            }
        ));
        let (_, value) = store.renew(&id, "key-one", None).unwrap();
        assert_eq!(
            store.authenticate("sk-one-aaaaaaaa"),
            Authentication::Unknown
        );
        assert!(accepted(&store.authenticate(value.expose())));
    }

    #[test]
    fn transitions_follow_the_model() {
        let (store, _, id) = setup(0);
        store
            .set_state(&id, "key-two", &SecretState::Revoked)
            .unwrap();
        let e = store
            .set_state(&id, "key-two", &SecretState::Active)
            .unwrap_err();
        assert!(matches!(e, StoreError::Key(ref k) if k.code() == "SECRET_REVOKED"));
        assert!(matches!(
            store.set_state("nope", "key-two", &SecretState::Active),
            Err(StoreError::NotFound { .. })
        ));
        store
            .force_state(&id, "key-two", SecretState::Active)
            .unwrap();
        assert!(accepted(&store.authenticate("sk-two-bbbbbbbb")));
        store.remove(&id).unwrap();
        assert_eq!(
            store.authenticate("sk-two-bbbbbbbb"),
            Authentication::Unknown
        );
        assert!(store.is_empty());
    }
}
