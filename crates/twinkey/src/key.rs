//! The API-key model: one OCI Generative AI `ApiKey` with exactly two named secrets.
//!
//! Field names follow OCI's `ApiKey` / `ApiKeyItem` resources; JSON in and out is in OCI's own
//! camelCase shape (see [`crate::json`]). Transitions follow OCI's rules: activate
//! (`INACTIVE -> ACTIVE`), deactivate (`ACTIVE -> INACTIVE`), revoke (`ACTIVE|INACTIVE ->
//! REVOKED`, irreversible) and renew (new value, `ACTIVE`, new expiry).

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::{SecretState, SecretValue};
use crate::time::Timestamp;

/// Default lifetime of a renewed secret (OCI: 90 days when no expiry is given).
pub const DEFAULT_RENEW_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// Which of the two secret slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// The first secret in `keys[]` (`key-one` by default).
    One = 0,
    /// The second secret in `keys[]` (`key-two` by default).
    Two = 1,
}

impl Slot {
    /// Both slots in order.
    pub const BOTH: [Slot; 2] = [Slot::One, Slot::Two];

    /// The other slot.
    pub fn other(self) -> Slot {
        match self {
            Slot::One => Slot::Two,
            Slot::Two => Slot::One,
        }
    }

    /// `0` or `1`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// From `0` or `1`.
    pub fn from_index(i: usize) -> Option<Slot> {
        match i {
            0 => Some(Slot::One),
            1 => Some(Slot::Two),
            _ => None,
        }
    }
}

/// One secret of a key (`ApiKeyItem`). The value, if present, never appears in any output.
#[derive(Clone)]
pub struct Secret {
    /// `keyName`, e.g. `key-one`.
    pub name: String,
    /// The secret value (`key`), absent when the document only carried `keyMask`.
    pub value: Option<SecretValue>,
    /// The reference the value was loaded from (`env:NAME` / `file:PATH`), kept for output.
    pub reference: Option<String>,
    /// `keyMask`, the service's masked display form.
    pub key_mask: Option<String>,
    /// `state`.
    pub state: SecretState,
    /// `timeExpiry`.
    pub time_expiry: Option<Timestamp>,
    /// `timeCreated`.
    pub time_created: Option<Timestamp>,
    /// `timeActivated`.
    pub time_activated: Option<Timestamp>,
    /// `timeDeactivated`.
    pub time_deactivated: Option<Timestamp>,
    /// `timeRevoked`.
    pub time_revoked: Option<Timestamp>,
    /// `timeLastUsed`.
    pub time_last_used: Option<Timestamp>,
}

impl Secret {
    /// A new `ACTIVE` secret with a value and an expiry.
    pub fn new(
        name: impl Into<String>,
        value: &str,
        time_expiry: Option<Timestamp>,
    ) -> Result<Self> {
        let name = name.into();
        validate_name(&name)?;
        let value = SecretValue::new(&name, value)?;
        Ok(Secret {
            name,
            value: Some(value),
            reference: None,
            key_mask: None,
            state: SecretState::Active,
            time_expiry,
            time_created: None,
            time_activated: None,
            time_deactivated: None,
            time_revoked: None,
            time_last_used: None,
        })
    }

    /// Sets the state (builder style).
    pub fn with_state(mut self, state: SecretState) -> Self {
        self.state = state;
        self
    }

    /// The safe fingerprint of the value (`--------` when there is no value).
    pub fn fingerprint(&self) -> &str {
        self.value
            .as_ref()
            .map(SecretValue::fingerprint)
            .unwrap_or("--------")
    }

    fn activate(&mut self, now: Timestamp) -> Result<()> {
        match &self.state {
            SecretState::Active => Ok(()),
            SecretState::Inactive => {
                self.state = SecretState::Active;
                self.time_activated = Some(now);
                Ok(())
            }
            SecretState::Revoked => Err(self.revoked()),
            other => Err(self.invalid("activate", other)),
        }
    }

    fn deactivate(&mut self, now: Timestamp) -> Result<()> {
        match &self.state {
            SecretState::Inactive => Ok(()),
            SecretState::Active => {
                self.state = SecretState::Inactive;
                self.time_deactivated = Some(now);
                Ok(())
            }
            SecretState::Revoked => Err(self.revoked()),
            other => Err(self.invalid("deactivate", other)),
        }
    }

    fn revoke(&mut self, now: Timestamp) -> Result<()> {
        match &self.state {
            SecretState::Active | SecretState::Inactive => {
                self.state = SecretState::Revoked;
                self.time_revoked = Some(now);
                Ok(())
            }
            SecretState::Revoked => Err(self.revoked()),
            other => Err(self.invalid("revoke", other)),
        }
    }

    fn renew(&mut self, value: SecretValue, expiry: Timestamp, now: Timestamp) -> Result<()> {
        match &self.state {
            SecretState::Deleted | SecretState::Unknown(_) => {
                Err(self.invalid("renew", &self.state.clone()))
            }
            _ => {
                self.value = Some(value);
                self.reference = None;
                self.key_mask = None;
                self.state = SecretState::Active;
                self.time_expiry = Some(expiry);
                self.time_created = Some(now);
                self.time_activated = Some(now);
                self.time_deactivated = None;
                self.time_revoked = None;
                self.time_last_used = None;
                Ok(())
            }
        }
    }

    fn revoked(&self) -> Error {
        Error::SecretRevoked {
            secret: self.name.clone(),
            fingerprint: self.fingerprint().to_string(),
        }
    }

    fn invalid(&self, action: &str, from: &SecretState) -> Error {
        Error::InvalidTransition {
            secret: self.name.clone(),
            action: action.to_string(),
            from: from.to_string(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("fingerprint", &self.fingerprint())
            .field("state", &self.state)
            .field("time_expiry", &self.time_expiry)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (fp {}, {})",
            self.name,
            self.fingerprint(),
            self.state
        )
    }
}

/// A transition applied to one secret.
#[derive(Clone, Debug)]
pub enum Transition {
    /// `INACTIVE -> ACTIVE`.
    Activate,
    /// `ACTIVE -> INACTIVE`.
    Deactivate,
    /// `ACTIVE|INACTIVE -> REVOKED` (irreversible).
    Revoke,
    /// A new value, `ACTIVE`, and a new expiry (default: 90 days from now).
    Renew {
        /// The new secret value.
        value: SecretValue,
        /// The new expiry; `None` means now + 90 days.
        expiry: Option<Timestamp>,
    },
}

impl Transition {
    /// `activate`, `deactivate`, `revoke` or `renew`.
    pub fn name(&self) -> &'static str {
        match self {
            Transition::Activate => "activate",
            Transition::Deactivate => "deactivate",
            Transition::Revoke => "revoke",
            Transition::Renew { .. } => "renew",
        }
    }
}

/// An OCI Generative AI API key: resource metadata plus exactly two secrets.
#[derive(Clone)]
pub struct ApiKey {
    /// OCID `ocid1.generativeaiapikey.<realm>.<region>.<unique>`.
    pub id: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `compartmentId`.
    pub compartment_id: Option<String>,
    /// The region (from the OCID when not given explicitly).
    pub region: Option<String>,
    /// `lifecycleState` as OCI spells it (unknown values kept).
    pub lifecycle_state: Option<String>,
    /// `lifecycleDetails`.
    pub lifecycle_details: Option<String>,
    /// `timeCreated`.
    pub time_created: Option<Timestamp>,
    /// `timeUpdated`.
    pub time_updated: Option<Timestamp>,
    /// `freeformTags`, kept verbatim.
    pub freeform_tags: Option<serde_json::Value>,
    /// `definedTags`, kept verbatim.
    pub defined_tags: Option<serde_json::Value>,
    /// `systemTags`, kept verbatim.
    pub system_tags: Option<serde_json::Value>,
    secrets: [Secret; 2],
}

impl ApiKey {
    /// A key holding exactly these two secrets (names must differ).
    pub fn new(one: Secret, two: Secret) -> Result<Self> {
        validate_name(&one.name)?;
        validate_name(&two.name)?;
        if one.name == two.name {
            return Err(Error::invalid_key(format!(
                "duplicate secret name {:?}",
                one.name
            )));
        }
        Ok(ApiKey {
            id: None,
            display_name: None,
            description: None,
            compartment_id: None,
            region: None,
            lifecycle_state: None,
            lifecycle_details: None,
            time_created: None,
            time_updated: None,
            freeform_tags: None,
            defined_tags: None,
            system_tags: None,
            secrets: [one, two],
        })
    }

    /// Sets the OCID (and derives the region from it when none is set).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if self.region.is_none() {
            self.region = region_from_ocid(&id);
        }
        self.id = Some(id);
        self
    }

    /// Both secrets, in `keys[]` order.
    pub fn secrets(&self) -> &[Secret; 2] {
        &self.secrets
    }

    /// The secret in a slot.
    pub fn secret(&self, slot: Slot) -> &Secret {
        &self.secrets[slot.index()]
    }

    /// Mutable access to a slot's secret.
    pub(crate) fn secret_mut(&mut self, slot: Slot) -> &mut Secret {
        &mut self.secrets[slot.index()]
    }

    /// The slot holding a secret of this name.
    pub fn slot_of(&self, name: &str) -> Result<Slot> {
        Slot::BOTH
            .into_iter()
            .find(|s| self.secrets[s.index()].name == name)
            .ok_or_else(|| Error::UnknownSecret {
                secret: name.to_string(),
            })
    }

    /// Applies a transition to the named secret.
    pub fn apply(&mut self, name: &str, transition: Transition, now: Timestamp) -> Result<Slot> {
        let slot = self.slot_of(name)?;
        let secret = self.secret_mut(slot);
        match transition {
            Transition::Activate => secret.activate(now)?,
            Transition::Deactivate => secret.deactivate(now)?,
            Transition::Revoke => secret.revoke(now)?,
            Transition::Renew { value, expiry } => {
                let expiry = expiry.unwrap_or_else(|| now.plus(DEFAULT_RENEW_LIFETIME));
                secret.renew(value, expiry, now)?;
            }
        }
        self.time_updated = Some(now);
        Ok(slot)
    }

    /// Activates the named secret (`INACTIVE -> ACTIVE`).
    pub fn activate(&mut self, name: &str, now: Timestamp) -> Result<()> {
        self.apply(name, Transition::Activate, now).map(|_| ())
    }

    /// Deactivates the named secret (`ACTIVE -> INACTIVE`).
    pub fn deactivate(&mut self, name: &str, now: Timestamp) -> Result<()> {
        self.apply(name, Transition::Deactivate, now).map(|_| ())
    }

    /// Revokes the named secret (irreversible).
    pub fn revoke(&mut self, name: &str, now: Timestamp) -> Result<()> {
        self.apply(name, Transition::Revoke, now).map(|_| ())
    }

    /// Gives the named secret a new value, `ACTIVE` state and a new expiry (default 90 days).
    pub fn renew(
        &mut self,
        name: &str,
        value: &str,
        expiry: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let value = SecretValue::new(name, value)?;
        self.apply(name, Transition::Renew { value, expiry }, now)
            .map(|_| ())
    }

    /// Sets a secret's state as reported by the service (no transition rules: the service is
    /// the authority). Returns the slot.
    pub fn sync_state(&mut self, name: &str, state: SecretState) -> Result<Slot> {
        let slot = self.slot_of(name)?;
        self.secret_mut(slot).state = state;
        Ok(slot)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("display_name", &self.display_name)
            .field("lifecycle_state", &self.lifecycle_state)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ApiKey {} [{}; {}]",
            self.display_name
                .as_deref()
                .or(self.id.as_deref())
                .unwrap_or("(unnamed)"),
            self.secrets[0],
            self.secrets[1]
        )
    }
}

/// Checks a secret name: 1–255 characters, starting with a letter or `_`, then letters,
/// digits, `-` or `_` (OCI Console rules).
pub fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok_first && ok_rest && name.len() <= 255 {
        Ok(())
    } else {
        Err(Error::invalid_key(format!(
            "invalid secret name {name:?}: 1-255 characters, a letter or '_' first, then letters, digits, '-' or '_'"
        )))
    }
}

/// The region part of an OCID (`ocid1.<type>.<realm>.<region>.<unique>`), if any.
pub fn region_from_ocid(ocid: &str) -> Option<String> {
    let parts: Vec<&str> = ocid.split('.').collect();
    match parts.as_slice() {
        ["ocid1", _, _, region, _] if !region.is_empty() => Some((*region).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::new(
            Secret::new("key-one", "sk-one-aaaaaaaa", None).unwrap(),
            Secret::new("key-two", "sk-two-bbbbbbbb", None)
                .unwrap()
                .with_state(SecretState::Inactive),
        )
        .unwrap()
    }

    const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    #[test]
    fn transitions_follow_oci_rules() {
        let mut k = key();
        k.activate("key-two", NOW).unwrap();
        assert_eq!(k.secret(Slot::Two).state, SecretState::Active);
        k.deactivate("key-two", NOW).unwrap();
        k.deactivate("key-two", NOW).unwrap(); // idempotent
        k.revoke("key-two", NOW).unwrap();
        for e in [
            k.activate("key-two", NOW).unwrap_err(),
            k.deactivate("key-two", NOW).unwrap_err(),
            k.revoke("key-two", NOW).unwrap_err(),
        ] {
            assert_eq!(e.code(), "SECRET_REVOKED");
        }
        // renew gives the slot a new value and makes it usable again
        k.renew("key-two", "sk-new-cccccccc", None, NOW).unwrap();
        let s = k.secret(Slot::Two);
        assert_eq!(s.state, SecretState::Active);
        assert_eq!(s.time_expiry, Some(NOW.plus(DEFAULT_RENEW_LIFETIME)));
    }

    #[test]
    fn expired_and_unknown_cannot_be_activated() {
        let mut k = key();
        k.sync_state("key-two", SecretState::Expired).unwrap();
        assert_eq!(
            k.activate("key-two", NOW).unwrap_err().code(),
            "INVALID_TRANSITION"
        );
        k.sync_state("key-two", SecretState::parse("FROZEN"))
            .unwrap();
        assert_eq!(
            k.revoke("key-two", NOW).unwrap_err().code(),
            "INVALID_TRANSITION"
        );
    }

    #[test]
    fn names_are_validated_and_unique() {
        let one = Secret::new("key-one", "sk-1", None).unwrap();
        let dup = Secret::new("key-one", "sk-2", None).unwrap();
        assert_eq!(ApiKey::new(one, dup).unwrap_err().code(), "INVALID_KEY");
        assert!(Secret::new("1bad", "sk", None).is_err());
        assert!(Secret::new("", "sk", None).is_err());
        assert_eq!(key().slot_of("nope").unwrap_err().code(), "UNKNOWN_SECRET");
    }

    #[test]
    fn region_comes_from_the_ocid() {
        let k = key().with_id("ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaa");
        assert_eq!(k.region.as_deref(), Some("us-chicago-1"));
        assert_eq!(region_from_ocid("ocid1.tenancy.oc1..aaaa"), None);
    }

    #[test]
    fn debug_never_shows_values() {
        let k = key();
        let s = format!("{k:?} {k}");
        assert!(!s.contains("sk-one"), "{s}");
        assert!(s.contains(k.secret(Slot::One).fingerprint()));
    }
}
