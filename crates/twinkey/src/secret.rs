//! Secret values and their states, with hygiene by construction.
//!
//! A [`SecretValue`] is zeroized on drop, and its `Debug`/`Display` show only its
//! [fingerprint](SecretValue::fingerprint): the first 8 hex digits of its SHA-256, safe to log.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// A secret string (an OCI Generative AI API-key secret). Never printed; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretValue {
    value: String,
    #[zeroize(skip)]
    fingerprint: String,
}

impl SecretValue {
    /// Wraps a secret, rejecting values that cannot be secrets (empty, whitespace, control
    /// characters, OCIDs). `name` is only used in the error.
    pub fn new(name: &str, value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let reason = if value.is_empty() {
            Some("the value is empty")
        } else if value.trim() != value {
            Some("the value has leading or trailing whitespace")
        } else if value.chars().any(|c| c.is_control() || c == ' ') {
            Some("the value contains spaces or control characters")
        } else if value.starts_with("ocid1.") {
            Some("the value is an OCID, not a secret")
        } else {
            None
        };
        if let Some(reason) = reason {
            let mut value = value;
            value.zeroize();
            return Err(Error::InvalidSecret {
                secret: name.to_string(),
                reason: reason.to_string(),
            });
        }
        let fingerprint = fingerprint_of(value.as_bytes());
        Ok(SecretValue { value, fingerprint })
    }

    /// The secret itself. Only hand it to the transport (the `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// A short, safe-to-log fingerprint: 8 hex digits of SHA-256(value).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Constant-time equality with another secret value.
    pub fn ct_eq(&self, other: &str) -> bool {
        let a = self.value.as_bytes();
        let b = other.as_bytes();
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The fingerprint of raw secret bytes (8 lowercase hex digits of SHA-256).
pub fn fingerprint_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(fp {})", self.fingerprint)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fp {}", self.fingerprint)
    }
}

/// A secret's state, as OCI spells it (`ApiKeyItem.state`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretState {
    /// `ACTIVE`: may be used.
    Active,
    /// `INACTIVE`: deactivated; reversible.
    Inactive,
    /// `REVOKED`: permanently disabled.
    Revoked,
    /// `EXPIRED`: past its expiry (set by the service).
    Expired,
    /// `DELETED`.
    Deleted,
    /// Any other value; kept as given and never usable.
    Unknown(String),
}

impl SecretState {
    /// The states OCI defines (not [`SecretState::Unknown`]).
    pub const KNOWN: [SecretState; 5] = [
        SecretState::Active,
        SecretState::Inactive,
        SecretState::Revoked,
        SecretState::Expired,
        SecretState::Deleted,
    ];

    /// Parses OCI's spelling; unknown values are kept.
    pub fn parse(text: &str) -> Self {
        match text {
            "ACTIVE" => SecretState::Active,
            "INACTIVE" => SecretState::Inactive,
            "REVOKED" => SecretState::Revoked,
            "EXPIRED" => SecretState::Expired,
            "DELETED" => SecretState::Deleted,
            other => SecretState::Unknown(other.to_string()),
        }
    }

    /// OCI's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            SecretState::Active => "ACTIVE",
            SecretState::Inactive => "INACTIVE",
            SecretState::Revoked => "REVOKED",
            SecretState::Expired => "EXPIRED",
            SecretState::Deleted => "DELETED",
            SecretState::Unknown(s) => s,
        }
    }
}

impl fmt::Display for SecretState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_show_only_the_fingerprint() {
        let s = SecretValue::new("key-one", "sk-very-secret-value-123").unwrap();
        let shown = format!("{s:?} {s} {s:#?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains(s.fingerprint()));
        assert_eq!(s.fingerprint().len(), 8);
    }

    #[test]
    fn bad_values_are_rejected_with_codes() {
        for bad in [
            "",
            " sk-x",
            "sk x",
            "sk-\n",
            "ocid1.generativeaiapikey.oc1..x",
        ] {
            let e = SecretValue::new("key-one", bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_SECRET");
            assert!(!e.to_string().contains("sk-"), "{e}");
        }
    }

    #[test]
    fn states_round_trip_and_keep_unknown_values() {
        for s in [
            "ACTIVE",
            "INACTIVE",
            "REVOKED",
            "EXPIRED",
            "DELETED",
            "SUSPENDED",
        ] {
            assert_eq!(SecretState::parse(s).as_str(), s);
        }
        assert_eq!(
            SecretState::parse("SUSPENDED"),
            SecretState::Unknown("SUSPENDED".into())
        );
    }

    #[test]
    fn constant_time_eq() {
        let s = SecretValue::new("k", "abc").unwrap();
        assert!(s.ct_eq("abc"));
        assert!(!s.ct_eq("abd"));
        assert!(!s.ct_eq("ab"));
    }
}
