//! The one error type of twinkey, with stable machine-readable codes.
//!
//! Every binding maps [`Error`] through [`Error::code`]: Python raises a subclass of
//! `twinkey.TwinkeyError` with `.code`, JavaScript throws an `Error` subclass with `.code`.
//! Vectors assert codes, never messages. Messages name secrets by name and fingerprint only.

use std::fmt;

use crate::time::Timestamp;

/// Result alias used across twinkey.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a secret cannot be handed out right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnusableReason {
    /// Declared `INACTIVE` (deactivated; reversible).
    Inactive,
    /// Declared `REVOKED` (permanent).
    Revoked,
    /// Declared `DELETED`.
    Deleted,
    /// Declared `EXPIRED`, or `timeExpiry` minus the skew margin has passed.
    Expired {
        /// The secret's `timeExpiry`, when known.
        at: Option<Timestamp>,
    },
    /// A state this version of twinkey does not know; never usable.
    UnknownState(String),
    /// The document carried no value for the secret (only its `keyMask`).
    NoValue,
    /// Rejected by the service (401/403) and cooling down.
    CoolingDown {
        /// HTTP status of the rejection.
        status: u16,
        /// When the rejection was observed.
        rejected_at: Timestamp,
        /// When the secret may be probed again.
        until: Timestamp,
    },
    /// The cooldown ended and another request is already probing this secret.
    ProbeInFlight,
}

impl UnusableReason {
    /// A stable short code for the reason (used in vectors and bindings).
    pub fn code(&self) -> &'static str {
        match self {
            UnusableReason::Inactive => "inactive",
            UnusableReason::Revoked => "revoked",
            UnusableReason::Deleted => "deleted",
            UnusableReason::Expired { .. } => "expired",
            UnusableReason::UnknownState(_) => "unknown_state",
            UnusableReason::NoValue => "no_value",
            UnusableReason::CoolingDown { .. } => "cooling_down",
            UnusableReason::ProbeInFlight => "probe_in_flight",
        }
    }
}

impl fmt::Display for UnusableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnusableReason::Inactive => f.write_str("inactive (deactivated)"),
            UnusableReason::Revoked => f.write_str("revoked"),
            UnusableReason::Deleted => f.write_str("deleted"),
            UnusableReason::Expired { at: Some(at) } => write!(f, "expired at {at}"),
            UnusableReason::Expired { at: None } => f.write_str("expired"),
            UnusableReason::UnknownState(s) => write!(f, "in unknown state {s:?}"),
            UnusableReason::NoValue => f.write_str("has no value (only a mask was loaded)"),
            UnusableReason::CoolingDown {
                status,
                rejected_at,
                until,
            } => write!(
                f,
                "rejected with {status} at {rejected_at}, cooling down until {until}"
            ),
            UnusableReason::ProbeInFlight => f.write_str("being probed by another request"),
        }
    }
}

/// One secret's entry in a [`Error::NoUsableSecret`] report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretReason {
    /// The secret's name (`key-one`, ...).
    pub secret: String,
    /// The secret's safe fingerprint.
    pub fingerprint: String,
    /// Why it cannot be used.
    pub reason: UnusableReason,
}

impl fmt::Display for SecretReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (fp {}) {}",
            self.secret, self.fingerprint, self.reason
        )
    }
}

/// The error enum of twinkey. Match on [`Error::code`] for a stable discriminator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key document is malformed or violates the model (not exactly two secrets, duplicate
    /// names, bad timestamps, ...).
    #[error("invalid API key: {reason}")]
    InvalidKey {
        /// What is wrong (never contains a secret value).
        reason: String,
    },
    /// A secret value is unacceptable (empty, looks like an OCID, ...).
    #[error("invalid secret {secret}: {reason}")]
    InvalidSecret {
        /// Secret name.
        secret: String,
        /// What is wrong.
        reason: String,
    },
    /// An `env:NAME` or `file:PATH` reference could not be resolved.
    #[error("secret {secret}: cannot resolve reference {reference}: {reason}")]
    SecretRefUnresolved {
        /// Secret name.
        secret: String,
        /// The reference as written (`env:NAME` / `file:PATH`); never the value.
        reference: String,
        /// Why it failed.
        reason: String,
    },
    /// No secret of that name in the key.
    #[error("unknown secret {secret:?}")]
    UnknownSecret {
        /// The name that was asked for.
        secret: String,
    },
    /// The secret is revoked; revocation is irreversible.
    #[error("secret {secret} (fp {fingerprint}) is revoked; revocation is irreversible")]
    SecretRevoked {
        /// Secret name.
        secret: String,
        /// Safe fingerprint.
        fingerprint: String,
    },
    /// The transition is not allowed from the secret's current state.
    #[error("cannot {action} secret {secret}: it is {from}")]
    InvalidTransition {
        /// Secret name.
        secret: String,
        /// The attempted action (`activate`, `deactivate`, ...).
        action: String,
        /// The state it is in.
        from: String,
    },
    /// Engine options are inconsistent.
    #[error("invalid options: {reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },
    /// Neither secret can be used; no request was sent.
    #[error("no usable secret: {}", join_reasons(reasons))]
    NoUsableSecret {
        /// One entry per secret.
        reasons: Vec<SecretReason>,
    },
    /// A secret was asked for a destination it may not go to (not an OCI Generative AI host,
    /// not loopback, not in `allowed_hosts`); nothing was sent.
    #[error("a secret may not be sent to {destination}: {reason}")]
    DestinationNotAllowed {
        /// Scheme and host of the refused URL (never its path or query).
        destination: String,
        /// Why.
        reason: String,
    },
    /// An attempt was completed twice or handed to an engine that did not create it.
    #[error("invalid attempt: {reason}")]
    InvalidAttempt {
        /// What is wrong.
        reason: String,
    },
    /// An OCI config file or profile is missing, incomplete or malformed.
    #[error("invalid OCI config: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// A private key could not be read (corrupted PEM, unsupported format).
    #[error("invalid private key: {reason}")]
    InvalidPrivateKey {
        /// What is wrong (never key material).
        reason: String,
    },
    /// The pass phrase of an encrypted private key is missing or wrong.
    #[error("private key pass phrase missing or wrong")]
    BadPassphrase,
    /// Signing a request failed.
    #[error("signing failed: {reason}")]
    SigningFailed {
        /// What went wrong.
        reason: String,
    },
    /// A request cannot be built or sent as given (URL without host, CR/LF in a header, ...).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The connection failed or timed out; nothing is known about the secret.
    #[error("transport error: {reason}")]
    Transport {
        /// What happened.
        reason: String,
    },
    /// The service answered with an error (OCI `{code, message}` body).
    #[error("service error {status} {oci_code}: {message} (opc-request-id {request_id})")]
    Service {
        /// HTTP status.
        status: u16,
        /// OCI error code (`NotAuthenticated`, `IncorrectState`, ...), or `Unknown`.
        oci_code: String,
        /// The service's message.
        message: String,
        /// `opc-request-id` of the response, or `-`.
        request_id: String,
    },
    /// A streamed response ended before its end marker (after the first byte; no fail-over).
    #[error("stream interrupted after {received} bytes: {reason}")]
    StreamInterrupted {
        /// Bytes received before the cut.
        received: u64,
        /// What happened.
        reason: String,
    },
    /// A key rotation was refused because carrying it out would leave no usable secret (or its
    /// options contradict each other); nothing was changed by the refused step.
    #[error("rotation refused: {reason}")]
    RotationRefused {
        /// Why (names secrets by name and fingerprint only).
        reason: String,
    },
    /// A rotation's saved state (checkpoint file) is unreadable or belongs to another rotation.
    #[error("rotation state: {reason}")]
    RotationState {
        /// What is wrong.
        reason: String,
    },
    /// The tokens-per-minute budget cannot admit the request now (policy `fail_fast`, or a wait
    /// longer than `max_wait`); nothing was sent.
    #[error("tokens-per-minute budget exceeded ({scope}): retry after {retry_after_ms} ms")]
    TpmBudgetExceeded {
        /// What is full: `key`, `model:<name>` or `rate_limited` (the service answered 429).
        scope: String,
        /// Milliseconds until the request would be admitted.
        retry_after_ms: u64,
        /// The estimate the request was refused on.
        requested: u64,
    },
    /// A message from another process of the fleet is malformed (see [`crate::fleet`]).
    #[error("fleet message refused: {reason}")]
    FleetMessage {
        /// What is wrong (quotes no field's value).
        reason: String,
    },
    /// A server token, a token signing key or a relay admission was refused (SPEC section 7).
    /// The stable code comes from [`TokenErrorKind::code`](crate::token::TokenErrorKind::code).
    #[error("{reason}")]
    Token {
        /// What kind of refusal (`TOKEN_EXPIRED`, `TOKEN_SCOPE`, ...).
        kind: crate::token::TokenErrorKind,
        /// What is wrong (never a token, a signing key or a secret).
        reason: String,
    },
}

fn join_reasons(reasons: &[SecretReason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The stable code of this error, e.g. `NO_USABLE_SECRET`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidKey { .. } => "INVALID_KEY",
            Error::InvalidSecret { .. } => "INVALID_SECRET",
            Error::SecretRefUnresolved { .. } => "SECRET_REF_UNRESOLVED",
            Error::UnknownSecret { .. } => "UNKNOWN_SECRET",
            Error::SecretRevoked { .. } => "SECRET_REVOKED",
            Error::InvalidTransition { .. } => "INVALID_TRANSITION",
            Error::InvalidOptions { .. } => "INVALID_OPTIONS",
            Error::NoUsableSecret { .. } => "NO_USABLE_SECRET",
            Error::InvalidAttempt { .. } => "INVALID_ATTEMPT",
            Error::DestinationNotAllowed { .. } => "DESTINATION_NOT_ALLOWED",
            Error::StreamInterrupted { .. } => "STREAM_INTERRUPTED",
            Error::InvalidConfig { .. } => "INVALID_CONFIG",
            Error::InvalidPrivateKey { .. } => "INVALID_PRIVATE_KEY",
            Error::BadPassphrase => "BAD_PASSPHRASE",
            Error::SigningFailed { .. } => "SIGNING_FAILED",
            Error::InvalidRequest { .. } => "INVALID_REQUEST",
            Error::Transport { .. } => "TRANSPORT",
            Error::Service { .. } => "SERVICE_ERROR",
            Error::RotationRefused { .. } => "ROTATION_REFUSED",
            Error::RotationState { .. } => "ROTATION_STATE",
            Error::TpmBudgetExceeded { .. } => "TPM_BUDGET_EXCEEDED",
            Error::FleetMessage { .. } => "INVALID_FLEET_MESSAGE",
            Error::Token { kind, .. } => kind.code(),
        }
    }

    /// The family of the code, used by bindings to pick an exception subclass:
    /// `key`, `secret`, `engine`, `stream`, `signing`, `request`, `transport`, `service`,
    /// `rotation`, `tokens`, `budget`, `fleet`.
    pub fn family(&self) -> &'static str {
        match self {
            Error::InvalidKey { .. } | Error::InvalidOptions { .. } => "key",
            Error::InvalidSecret { .. }
            | Error::SecretRefUnresolved { .. }
            | Error::UnknownSecret { .. }
            | Error::SecretRevoked { .. }
            | Error::InvalidTransition { .. } => "secret",
            Error::NoUsableSecret { .. }
            | Error::InvalidAttempt { .. }
            | Error::DestinationNotAllowed { .. } => "engine",
            Error::StreamInterrupted { .. } => "stream",
            Error::InvalidConfig { .. }
            | Error::InvalidPrivateKey { .. }
            | Error::BadPassphrase
            | Error::SigningFailed { .. } => "signing",
            Error::InvalidRequest { .. } => "request",
            Error::Transport { .. } => "transport",
            Error::Service { .. } => "service",
            Error::RotationRefused { .. } | Error::RotationState { .. } => "rotation",
            Error::Token { .. } => "tokens",
            Error::TpmBudgetExceeded { .. } => "budget",
            Error::FleetMessage { .. } => "fleet",
        }
    }

    pub(crate) fn invalid_key(reason: impl Into<String>) -> Self {
        Error::InvalidKey {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_upper_snake() {
        let errors = [
            Error::invalid_key("x"),
            Error::NoUsableSecret { reasons: vec![] },
            Error::SecretRevoked {
                secret: "a".into(),
                fingerprint: "b".into(),
            },
        ];
        for e in errors {
            let code = e.code();
            assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
        assert_eq!(
            Error::NoUsableSecret { reasons: vec![] }.code(),
            "NO_USABLE_SECRET"
        );
    }

    #[test]
    fn no_usable_secret_message_names_each_secret() {
        let e = Error::NoUsableSecret {
            reasons: vec![
                SecretReason {
                    secret: "key-one".into(),
                    fingerprint: "0123abcd".into(),
                    reason: UnusableReason::Revoked,
                },
                SecretReason {
                    secret: "key-two".into(),
                    fingerprint: "89ab4567".into(),
                    reason: UnusableReason::Inactive,
                },
            ],
        };
        let m = e.to_string();
        assert!(m.contains("key-one (fp 0123abcd) revoked"), "{m}");
        assert!(m.contains("key-two (fp 89ab4567) inactive"), "{m}");
    }
}
