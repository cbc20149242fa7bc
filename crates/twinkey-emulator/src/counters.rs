//! Request counters per secret, read back by tests and the demo.

use std::sync::Mutex;

use serde::Serialize;
use twinkey::Timestamp;

use crate::store::Authentication;

/// Counts for one secret value of one key (a renewed secret starts a new row).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretCounts {
    /// Key OCID.
    pub key_id: String,
    /// Secret name.
    pub secret: String,
    /// Fingerprint of the value presented.
    pub fingerprint: String,
    /// Inference requests that presented this value.
    pub requests: u64,
    /// Of those, authenticated (including ones then answered with an injected fault).
    pub accepted: u64,
    /// Of those, refused with 401 (revoked, inactive, expired, ...).
    pub rejected: u64,
    /// When it was last accepted (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

/// A copy of all counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsSnapshot {
    /// All inference requests that reached authentication.
    pub total: u64,
    /// Requests with no bearer secret or one the emulator does not know.
    pub unauthenticated: u64,
    /// Requests answered 429 by the tokens-per-minute limit (nothing generated for them).
    pub rate_limited: u64,
    /// Tokens charged to the tokens-per-minute windows (answered requests' total tokens).
    pub tokens: u64,
    /// Per secret value, ordered by key id, secret name, fingerprint.
    pub secrets: Vec<SecretCounts>,
}

impl CountsSnapshot {
    /// The rows of one secret (all its values), summed: `(requests, accepted, rejected)`.
    pub fn of(&self, key_id: &str, secret: &str) -> (u64, u64, u64) {
        self.secrets
            .iter()
            .filter(|c| c.key_id == key_id && c.secret == secret)
            .fold((0, 0, 0), |(r, a, j), c| {
                (r + c.requests, a + c.accepted, j + c.rejected)
            })
    }
}

/// The emulator's request counters.
#[derive(Debug, Default)]
pub struct Counters {
    inner: Mutex<CountsSnapshot>,
}

impl Counters {
    /// Records the outcome of authenticating one request.
    pub fn record(&self, auth: &Authentication, now: Timestamp) {
        let mut s = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.total += 1;
        let (key_id, secret, fingerprint, ok) = match auth {
            Authentication::Accepted {
                key_id,
                secret,
                fingerprint,
            } => (key_id, secret, fingerprint, true),
            Authentication::Refused {
                key_id,
                secret,
                fingerprint,
                ..
            } => (key_id, secret, fingerprint, false),
            Authentication::Unknown => {
                s.unauthenticated += 1;
                return;
            }
        };
        let pos = s.secrets.binary_search_by(|c| {
            (c.key_id.as_str(), c.secret.as_str(), c.fingerprint.as_str()).cmp(&(
                key_id.as_str(),
                secret.as_str(),
                fingerprint.as_str(),
            ))
        });
        let idx = match pos {
            Ok(i) => i,
            Err(i) => {
                s.secrets.insert(
                    i,
                    SecretCounts {
                        key_id: key_id.clone(),
                        secret: secret.clone(),
                        fingerprint: fingerprint.clone(),
                        ..SecretCounts::default()
                    },
                );
                i
            }
        };
        let row = &mut s.secrets[idx];
        row.requests += 1;
        if ok {
            row.accepted += 1;
            row.last_used = Some(now.to_rfc3339());
        } else {
            row.rejected += 1;
        }
    }

    /// Counts an answered request's tokens, or a 429 of the tokens-per-minute limit.
    pub fn record_tpm(&self, tokens: u64, limited: bool) {
        let mut s = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if limited {
            s.rate_limited += 1;
        } else {
            s.tokens += tokens;
        }
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> CountsSnapshot {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        *self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = CountsSnapshot::default();
    }

    /// The time a secret was last accepted, for the control plane's `timeLastUsed`.
    pub fn last_used(&self, key_id: &str, secret: &str) -> Option<Timestamp> {
        self.snapshot()
            .secrets
            .iter()
            .filter(|c| c.key_id == key_id && c.secret == secret)
            .filter_map(|c| c.last_used.as_deref())
            .filter_map(|t| Timestamp::parse_rfc3339(t).ok())
            .max()
    }
}
