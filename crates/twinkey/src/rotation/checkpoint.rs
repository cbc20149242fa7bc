//! The rotation's checkpoint: everything needed to resume, as the JSON of the state file.
//! It never holds a secret value, only fingerprints.

use serde::{Deserialize, Serialize};

use super::options::Retire;
use super::step::Step;
use crate::error::{Error, Result};

/// Version of the checkpoint format.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Largest checkpoint accepted (bytes).
const MAX_CHECKPOINT: usize = 256 * 1024;

/// A finished step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// Which step.
    pub step: Step,
    /// What was done: `activate`, `renew`, `probe`, `switch`, `deactivate`, `revoke` or
    /// `skip`.
    pub action: String,
    /// The secret the step acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Fingerprint of the value involved (a renewed or probed secret), never the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Why a step was skipped, or what was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A control-plane call that was started and may or may not have reached the service: on
/// resume it is sent again with the same `opc-retry-token` (and the same body), so the
/// service answers it once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    /// Which step.
    pub step: Step,
    /// `activate`, `renew`, `deactivate` or `revoke`.
    pub action: String,
    /// The secret.
    pub secret: String,
    /// The `opc-retry-token` sent.
    pub retry_token: String,
    /// For `renew`: the `timeExpiry` sent (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// When it was started (RFC 3339).
    pub since: String,
}

/// The state of one rotation (the state file's content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// The API key's OCID.
    pub key_id: String,
    /// The secret being retired.
    pub old: String,
    /// The secret being rotated to.
    pub standby: String,
    /// How the old secret is retired.
    pub retire: Retire,
    /// Whether the old secret is renewed and parked as the next standby.
    pub renew_old: bool,
    /// Whether the standby is verified with a real request.
    pub probe: bool,
    /// Renew a standby expiring within this many milliseconds.
    pub renew_within_ms: u64,
    /// Lifetime of renewed secrets in milliseconds.
    pub renew_lifetime_ms: u64,
    /// When the rotation started (RFC 3339).
    pub started_at: String,
    /// When the checkpoint last changed (RFC 3339).
    pub updated_at: String,
    /// Finished steps, in order.
    #[serde(default)]
    pub completed: Vec<StepRecord>,
    /// A started control-plane call, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// How often an earlier step had to be redone because the standby stopped being usable.
    #[serde(default)]
    pub reopened: u32,
}

impl Checkpoint {
    /// The checkpoint as pretty JSON (no secret values: there are none in it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Parses a checkpoint; `ROTATION_STATE` when it is not one of this version.
    pub fn from_json(text: &str) -> Result<Self> {
        let bad = |reason: String| Error::RotationState { reason };
        if text.len() > MAX_CHECKPOINT {
            return Err(bad("the state file is too large".into()));
        }
        let c: Checkpoint = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "the state file is not a twinkey rotation checkpoint (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if c.version != CHECKPOINT_VERSION {
            return Err(bad(format!(
                "the state file has version {}, this twinkey reads version {CHECKPOINT_VERSION}",
                c.version
            )));
        }
        Ok(c)
    }

    /// Whether a step is finished.
    pub fn is_done(&self, step: Step) -> bool {
        self.completed.iter().any(|r| r.step == step)
    }

    /// The record of a finished step.
    pub fn record(&self, step: Step) -> Option<&StepRecord> {
        self.completed.iter().find(|r| r.step == step)
    }
}
