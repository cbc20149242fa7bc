//! The principals the control plane accepts: keyIds with the public keys their signatures
//! verify with — user principals (`<tenancy>/<user>/<fingerprint>`) and session tokens
//! (`ST$<token>`).

use std::collections::HashMap;
use std::sync::RwLock;

use twinkey::signer::VerifyingKey;

/// The registered principals. Cheap to share; lookups take a read lock.
#[derive(Debug, Default)]
pub struct Principals {
    keys: RwLock<HashMap<String, VerifyingKey>>,
}

impl Principals {
    /// Registers a user principal; returns its keyId `<tenancy>/<user>/<fingerprint>` (the
    /// fingerprint is the key's own, colon-hex MD5).
    pub fn add_user(&self, tenancy: &str, user: &str, key: VerifyingKey) -> String {
        let key_id = format!("{tenancy}/{user}/{}", key.fingerprint());
        self.add_key_id(&key_id, key);
        key_id
    }

    /// Registers a session token; returns its keyId `ST$<token>`.
    pub fn add_session(&self, token: &str, key: VerifyingKey) -> String {
        let key_id = format!("ST${}", token.trim());
        self.add_key_id(&key_id, key);
        key_id
    }

    /// Registers any keyId as given.
    pub fn add_key_id(&self, key_id: &str, key: VerifyingKey) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key_id.to_string(), key);
    }

    /// Removes a keyId; whether it was registered.
    pub fn remove(&self, key_id: &str) -> bool {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key_id)
            .is_some()
    }

    /// The public key of a keyId.
    pub fn lookup(&self, key_id: &str) -> Option<VerifyingKey> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key_id)
            .cloned()
    }

    /// Number of registered principals.
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
