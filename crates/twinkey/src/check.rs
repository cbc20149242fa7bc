//! A key's health for operations scripts (`twinkey keys check`, cron and CI): is a secret
//! expiring soon, is there a standby to rotate to, is a revoked secret still in use, and is a
//! rotation due (`twinkey rotate --if-expiring-within`). Specified by
//! `tests/vectors/check/cases.json`.
//!
//! The findings, most severe last, with the exit code each gives `keys check`:
//!
//! | code | exit | meaning |
//! |---|---|---|
//! | `expiring` | 3 | an `ACTIVE` or `INACTIVE` secret expires within the window (or its `timeExpiry` has passed while its state still says otherwise) |
//! | `no_usable_standby` | 4 | a secret can take traffic now, but the other one can be neither used nor activated (it is revoked, expired, deleted or in an unknown state) |
//! | `revoked_in_use` | 5 | a `REVOKED` or `DELETED` secret is still in use: the applications' key file has it `ACTIVE`, or the service saw it used after it was revoked |
//! | `no_usable_secret` | 6 | no secret can take traffic now |
//!
//! A secret *can take traffic* when it is `ACTIVE` and its `timeExpiry` (if any) is later than
//! now. A *standby* is the other secret, usable now or `INACTIVE` with time left (a rotation
//! activates it). The exit code is that of the most severe finding; 0 when there is none.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::key::{ApiKey, Secret, Slot};
use crate::rotation::RotationOptions;
use crate::secret::SecretState;
use crate::time::Timestamp;

/// The thresholds of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// `expiring` fires for an expiry within this window (default 14 days).
    pub expiring_within: Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            expiring_within: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// What a finding is about, by severity (least severe first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A secret expires within the window.
    Expiring,
    /// No secret to rotate to.
    NoUsableStandby,
    /// A revoked (or deleted) secret is still in use.
    RevokedInUse,
    /// No secret can take traffic.
    NoUsableSecret,
}

impl FindingKind {
    /// The stable code (`expiring`, `no_usable_standby`, `revoked_in_use`, `no_usable_secret`).
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::Expiring => "expiring",
            FindingKind::NoUsableStandby => "no_usable_standby",
            FindingKind::RevokedInUse => "revoked_in_use",
            FindingKind::NoUsableSecret => "no_usable_secret",
        }
    }

    /// The exit code `twinkey keys check` gives for it (3 to 6).
    pub fn exit_code(self) -> u8 {
        match self {
            FindingKind::Expiring => 3,
            FindingKind::NoUsableStandby => 4,
            FindingKind::RevokedInUse => 5,
            FindingKind::NoUsableSecret => 6,
        }
    }
}

/// One finding of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The secret it is about (`None` for the key as a whole).
    pub secret: Option<String>,
    /// The instant it refers to (the expiry, the revocation), when there is one.
    pub at: Option<Timestamp>,
    /// A sentence for people, naming secrets by name only.
    pub message: String,
}

/// How one secret looked to the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretCheck {
    /// `keyName`.
    pub name: String,
    /// Its state on the control plane.
    pub state: SecretState,
    /// `timeExpiry`.
    pub time_expiry: Option<Timestamp>,
    /// `timeLastUsed`.
    pub time_last_used: Option<Timestamp>,
    /// It can take traffic now.
    pub usable: bool,
    /// It is in use: `ACTIVE` on the control plane, `ACTIVE` in the applications' key file,
    /// or used after it was revoked.
    pub in_use: bool,
}

/// The result of [`check_key`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCheck {
    /// The key's OCID, when known.
    pub key_id: Option<String>,
    /// When the check was made.
    pub checked_at: Timestamp,
    /// Both secrets, in the key's order.
    pub secrets: Vec<SecretCheck>,
    /// What was found, most severe first.
    pub findings: Vec<Finding>,
}

impl KeyCheck {
    /// The exit code of `twinkey keys check`: the most severe finding's, 0 when none.
    pub fn exit_code(&self) -> u8 {
        self.findings
            .iter()
            .map(|f| f.kind.exit_code())
            .max()
            .unwrap_or(0)
    }

    /// The check as JSON (camelCase, RFC 3339 times, no value or mask of a secret).
    pub fn to_json_value(&self) -> Value {
        let t = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
        json!({
            "keyId": self.key_id,
            "checkedAt": self.checked_at.to_rfc3339(),
            "ok": self.findings.is_empty(),
            "exitCode": self.exit_code(),
            "secrets": self.secrets.iter().map(|s| json!({
                "name": s.name,
                "state": s.state.as_str(),
                "timeExpiry": t(s.time_expiry),
                "timeLastUsed": t(s.time_last_used),
                "usable": s.usable,
                "inUse": s.in_use,
            })).collect::<Vec<_>>(),
            "findings": self.findings.iter().map(|f| json!({
                "code": f.kind.code(),
                "secret": f.secret,
                "at": t(f.at),
                "message": f.message,
            })).collect::<Vec<_>>(),
        })
    }
}

fn usable(s: &Secret, now: Timestamp) -> bool {
    s.state == SecretState::Active && s.time_expiry.is_none_or(|e| e > now)
}

/// Usable now, or `INACTIVE` with time left: a rotation can move traffic to it.
fn can_stand_by(s: &Secret, now: Timestamp) -> bool {
    matches!(s.state, SecretState::Active | SecretState::Inactive)
        && s.time_expiry.is_none_or(|e| e > now)
}

fn gone(s: &Secret) -> bool {
    matches!(s.state, SecretState::Revoked | SecretState::Deleted)
}

/// The service saw the secret used after it was revoked.
fn used_after_revocation(s: &Secret) -> bool {
    matches!((s.time_last_used, s.time_revoked), (Some(used), Some(revoked)) if used > revoked)
}

fn local_active(local: Option<&ApiKey>, name: &str) -> bool {
    local
        .and_then(|k| k.slot_of(name).ok().map(|slot| k.secret(slot)))
        .is_some_and(|s| s.state == SecretState::Active)
}

/// Checks `key` (as the control plane shows it) at `now`. `local` is the key file the
/// applications load, when given: a secret it has `ACTIVE` is in use. It must be the same key
/// (`INVALID_OPTIONS` when both have ids and they differ).
pub fn check_key(
    key: &ApiKey,
    local: Option<&ApiKey>,
    options: &CheckOptions,
    now: Timestamp,
) -> Result<KeyCheck> {
    if let (Some(a), Some(b)) = (key.id.as_deref(), local.and_then(|k| k.id.as_deref()))
        && a != b
    {
        return Err(Error::InvalidOptions {
            reason: format!("the key file is for {b}, not {a}"),
        });
    }
    let horizon = now.plus(options.expiring_within);
    let mut findings = Vec::new();
    let mut secrets = Vec::new();
    for slot in [Slot::One, Slot::Two] {
        let s = key.secret(slot);
        let other = key.secret(slot.other());
        let in_file = local_active(local, &s.name);
        let in_use =
            s.state == SecretState::Active || in_file || (gone(s) && used_after_revocation(s));
        if gone(s) && in_use {
            let by = if in_file {
                "the key file still has it ACTIVE"
            } else {
                "the service saw it used after it was revoked"
            };
            findings.push(Finding {
                kind: FindingKind::RevokedInUse,
                secret: Some(s.name.clone()),
                at: s.time_revoked,
                message: format!("{} is {} but still in use: {by}", s.name, s.state),
            });
        }
        if matches!(s.state, SecretState::Active | SecretState::Inactive)
            && let Some(exp) = s.time_expiry
            && exp <= horizon
        {
            let when = if exp <= now { "expired" } else { "expires" };
            findings.push(Finding {
                kind: FindingKind::Expiring,
                secret: Some(s.name.clone()),
                at: Some(exp),
                message: format!("{} ({}) {when} at {exp}", s.name, s.state),
            });
        }
        let takes_traffic = usable(s, now);
        if takes_traffic && !can_stand_by(other, now) {
            findings.push(Finding {
                kind: FindingKind::NoUsableStandby,
                secret: Some(other.name.clone()),
                at: None,
                message: format!(
                    "{} takes the traffic, but {} ({}{}) can be neither used nor activated: renew it",
                    s.name,
                    other.name,
                    other.state,
                    match other.time_expiry {
                        Some(e) if e <= now => format!(", expired at {e}"),
                        _ => String::new(),
                    }
                ),
            });
        }
        secrets.push(SecretCheck {
            name: s.name.clone(),
            state: s.state.clone(),
            time_expiry: s.time_expiry,
            time_last_used: s.time_last_used,
            usable: takes_traffic,
            in_use,
        });
    }
    if !secrets.iter().any(|s| s.usable) {
        findings.push(Finding {
            kind: FindingKind::NoUsableSecret,
            secret: None,
            at: None,
            message: "no secret can take traffic now (none is ACTIVE with time left)".into(),
        });
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.kind));
    Ok(KeyCheck {
        key_id: key.id.clone(),
        checked_at: now,
        secrets,
        findings,
    })
}

/// Whether `twinkey rotate --if-expiring-within WINDOW` has work: `Some(reason)` when the
/// secret the rotation would retire (the one in use, as [`crate::rotation::Rotation::plan`]
/// picks it) expires within `window` of `now`, or already has; `None` when nothing is due.
/// A rotation in progress (a checkpoint) is always resumed and does not ask.
pub fn rotation_due(
    key: &ApiKey,
    options: &RotationOptions,
    window: Duration,
    now: Timestamp,
) -> Result<Option<String>> {
    let plan = crate::rotation::Rotation::plan(key, options, now)?;
    let old = key.secret(key.slot_of(plan.old())?);
    Ok(match old.time_expiry {
        Some(exp) if exp <= now.plus(window) => Some(format!(
            "{} (in use) {} at {exp}",
            old.name,
            if exp <= now { "expired" } else { "expires" }
        )),
        _ => None,
    })
}
