//! The steps of a rotation and the actions they take.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A step of the rotation (SPEC section 5), in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 1. Make the standby usable: activate it, or renew it when revoked, expired or expiring.
    PrepareStandby,
    /// 2. Verify it: a real authenticated request succeeds with the standby.
    VerifyStandby,
    /// 3. Switch preference to the standby.
    Switch,
    /// 4. Deactivate (or revoke) the old secret.
    RetireOld,
    /// 5. (`renew_old`) Renew the old secret: a fresh value.
    RenewOld,
    /// 6. (`renew_old`) Park the renewed secret (`INACTIVE`) as the next standby.
    ParkOld,
}

impl Step {
    /// Every step in order.
    pub const ALL: [Step; 6] = [
        Step::PrepareStandby,
        Step::VerifyStandby,
        Step::Switch,
        Step::RetireOld,
        Step::RenewOld,
        Step::ParkOld,
    ];

    /// `prepare_standby`, `verify_standby`, `switch`, `retire_old`, `renew_old`, `park_old`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::PrepareStandby => "prepare_standby",
            Step::VerifyStandby => "verify_standby",
            Step::Switch => "switch",
            Step::RetireOld => "retire_old",
            Step::RenewOld => "renew_old",
            Step::ParkOld => "park_old",
        }
    }

    /// From [`Step::as_str`].
    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// 1-based position.
    pub fn number(self) -> usize {
        self as usize + 1
    }

    /// What the step is for, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            Step::PrepareStandby => "make the standby usable",
            Step::VerifyStandby => "verify the standby with a real request",
            Step::Switch => "switch preference to the standby",
            Step::RetireOld => "retire the old secret",
            Step::RenewOld => "renew the old secret",
            Step::ParkOld => "park the renewed secret as the next standby",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the runner must do for a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// SetApiKeyState `ACTIVE`.
    Activate {
        /// The secret.
        secret: String,
        /// `opc-retry-token` to reuse (resuming a started call), else a fresh one.
        retry_token: Option<String>,
    },
    /// RenewApiKey with this expiry; the new value is shown once (never stored by twinkey).
    Renew {
        /// The secret.
        secret: String,
        /// The new `timeExpiry`.
        expiry: Timestamp,
        /// `opc-retry-token` to reuse (resuming a started call), else a fresh one.
        retry_token: Option<String>,
    },
    /// A real inference request with the secret's value must succeed (after propagation).
    Probe {
        /// The secret.
        secret: String,
    },
    /// Make the secret the preferred one of the runner's engine (a local change).
    Switch {
        /// The secret to prefer.
        to: String,
    },
    /// SetApiKeyState `INACTIVE`.
    Deactivate {
        /// The secret.
        secret: String,
        /// `opc-retry-token` to reuse, else a fresh one.
        retry_token: Option<String>,
    },
    /// SetApiKeyState `REVOKED` (irreversible).
    Revoke {
        /// The secret.
        secret: String,
        /// `opc-retry-token` to reuse, else a fresh one.
        retry_token: Option<String>,
    },
}

impl Action {
    /// `activate`, `renew`, `probe`, `switch`, `deactivate` or `revoke`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Activate { .. } => "activate",
            Action::Renew { .. } => "renew",
            Action::Probe { .. } => "probe",
            Action::Switch { .. } => "switch",
            Action::Deactivate { .. } => "deactivate",
            Action::Revoke { .. } => "revoke",
        }
    }

    /// The secret acted on.
    pub fn secret(&self) -> &str {
        match self {
            Action::Activate { secret, .. }
            | Action::Renew { secret, .. }
            | Action::Probe { secret }
            | Action::Deactivate { secret, .. }
            | Action::Revoke { secret, .. } => secret,
            Action::Switch { to } => to,
        }
    }

    /// Whether the action is a control-plane call (record it with
    /// [`Rotation::start`](super::Rotation::start) before sending it).
    pub fn is_control_plane(&self) -> bool {
        !matches!(self, Action::Probe { .. } | Action::Switch { .. })
    }

    /// The `opc-retry-token` to reuse when resuming a started call.
    pub fn retry_token(&self) -> Option<&str> {
        match self {
            Action::Activate { retry_token, .. }
            | Action::Renew { retry_token, .. }
            | Action::Deactivate { retry_token, .. }
            | Action::Revoke { retry_token, .. } => retry_token.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Renew { secret, expiry, .. } => {
                write!(f, "renew {secret} (new value, expires {expiry})")
            }
            Action::Switch { to } => write!(f, "prefer {to}"),
            other => write!(f, "{} {}", other.name(), other.secret()),
        }
    }
}

/// What [`Rotation::next`](super::Rotation::next) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Perform `action` for `step`, then report it with
    /// [`Rotation::complete`](super::Rotation::complete).
    Do {
        /// The step.
        step: Step,
        /// The action.
        action: Action,
    },
    /// Every step is finished.
    Done,
}

/// One line of a plan (`--dry-run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedStep {
    /// The step.
    pub step: Step,
    /// The action it would take, or `None` when it would be skipped.
    pub action: Option<Action>,
    /// Why it is skipped, or that it is already finished.
    pub note: Option<String>,
}
