//! What the engine reports to JS: events and status snapshots, as plain objects in the
//! vectors' spelling (camelCase; instants as RFC 3339 strings; reasons as the core's codes).

use napi_derive::napi;
use twinkey::{Counters, EngineStatus as CoreStatus, Event, SecretStatus as CoreSecretStatus};

use crate::time::rfc3339;

/// One engine event (its kinds are the core's `EventKind` names, e.g. `failed_over`). Names and
/// fingerprints only, never values.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct EngineEvent {
    /// What happened.
    pub kind: String,
    /// When (engine clock), RFC 3339.
    pub at: String,
    /// The secret concerned (for `failed_over`: the one traffic left).
    pub secret: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// For `failed_over`: the secret traffic moved to.
    pub to: Option<String>,
    /// Why, as a reason code (`revoked`, `cooling_down`, ...).
    pub reason: Option<String>,
    /// HTTP status that caused it (`secret_rejected`).
    pub status: Option<u32>,
    /// End of the pause of a rejected secret (`secret_rejected`), RFC 3339.
    pub cooldown_until: Option<String>,
    /// The secret's end of validity (the early-warning event), RFC 3339.
    pub expires_at: Option<String>,
    /// What an alert is about (`budget_high_water`: `key` or `model:<name>`).
    pub scope: Option<String>,
    /// Tokens counting (`budget_high_water`).
    pub used: Option<f64>,
    /// The limit (`budget_high_water`).
    pub limit: Option<f64>,
    /// How many (`rejection_burst`: rejections within the window).
    pub count: Option<u32>,
    /// The process of the fleet that saw it, when not this one.
    pub origin: Option<String>,
    /// A one-line description.
    pub message: String,
}

impl From<&Event> for EngineEvent {
    fn from(e: &Event) -> Self {
        EngineEvent {
            kind: e.kind.as_str().to_string(),
            at: rfc3339(e.at),
            secret: e.secret.clone(),
            fingerprint: e.fingerprint.clone(),
            to: e.to.clone(),
            reason: e.reason.as_ref().map(|r| r.code().to_string()),
            status: e.status.map(u32::from),
            cooldown_until: e.cooldown_until.map(rfc3339),
            expires_at: e.expires_at.map(rfc3339),
            scope: e.scope.clone(),
            used: e.used.map(|n| n as f64),
            limit: e.limit.map(|n| n as f64),
            count: e.count,
            origin: e.origin.clone(),
            message: e.message(),
        }
    }
}

/// Per-secret counters.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct SecretCounters {
    /// Attempts handed this secret.
    pub attempts: f64,
    /// Responses showing the secret was accepted.
    pub accepted: f64,
    /// Rejections.
    pub rejected: f64,
    /// Attempts that taught nothing about the secret (rate limits, server errors, network).
    pub inconclusive: f64,
}

impl From<Counters> for SecretCounters {
    fn from(c: Counters) -> Self {
        SecretCounters {
            attempts: c.attempts as f64,
            accepted: c.accepted as f64,
            rejected: c.rejected as f64,
            inconclusive: c.inconclusive as f64,
        }
    }
}

/// One secret in a status snapshot.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct SecretStatus {
    /// Name.
    pub name: String,
    /// Safe fingerprint.
    pub fingerprint: String,
    /// Declared state, as OCI spells it.
    pub state: String,
    /// End of validity, RFC 3339.
    pub time_expiry: Option<String>,
    /// Whether a request could use it now.
    pub usable: bool,
    /// Why not, as a reason code.
    pub reason: Option<String>,
    /// The reason in words.
    pub reason_message: Option<String>,
    /// Observed health: `healthy`, `cooling_down` or `probe_due`.
    pub health: String,
    /// End of the current pause after a rejection, RFC 3339.
    pub cooldown_until: Option<String>,
    /// Consecutive rejections.
    pub consecutive_rejections: u32,
    /// Whether traffic currently goes to it.
    pub current: bool,
    /// Whether it is the configured preference.
    pub preferred: bool,
    /// Counters.
    pub counters: SecretCounters,
}

impl From<&CoreSecretStatus> for SecretStatus {
    fn from(s: &CoreSecretStatus) -> Self {
        SecretStatus {
            name: s.name.clone(),
            fingerprint: s.fingerprint.clone(),
            state: s.state.as_str().to_string(),
            time_expiry: s.time_expiry.map(rfc3339),
            usable: s.usable,
            reason: s.reason.as_ref().map(|r| r.code().to_string()),
            reason_message: s.reason.as_ref().map(ToString::to_string),
            health: s.health.as_str().to_string(),
            cooldown_until: s.cooldown_until.map(rfc3339),
            consecutive_rejections: s.consecutive_rejections,
            current: s.current,
            preferred: s.preferred,
            counters: s.counters.into(),
        }
    }
}

/// A snapshot of the engine's view of both secrets.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct EngineStatus {
    /// When it was taken (engine clock), RFC 3339.
    pub at: String,
    /// The secret traffic currently goes to.
    pub current: String,
    /// Both secrets, in `keys[]` order.
    pub secrets: Vec<SecretStatus>,
}

impl EngineStatus {
    pub(crate) fn new(s: &CoreStatus, current: String) -> Self {
        EngineStatus {
            at: rfc3339(s.at),
            current,
            secrets: s.secrets.iter().map(SecretStatus::from).collect(),
        }
    }
}
