//! What a rotation reports to JS: progress events, the final report and the dry-run plan, as
//! plain objects (camelCase; steps by the core's names, `prepare_standby`, ...; secrets by name
//! and fingerprint, never a value) — the shapes `twinkey rotate --json` prints.

use napi_derive::napi;
use twinkey::rotation::{PlannedStep, StepRecord};
use twinkey_client::rotation::{Progress, RotationPlan as CorePlan, RotationReport as CoreReport};

/// One progress event of a rotation, in order: `started`, then per step `skipped` or `acting`
/// (`waiting` while the probe is not accepted yet, `secret_written` after a renewal) and
/// `finished`, and `done` at the end.
#[napi(object, object_from_js = false)]
#[derive(Clone, Debug, Default)]
pub struct RotationProgress {
    /// What happened.
    #[napi(
        ts_type = "'started' | 'skipped' | 'acting' | 'waiting' | 'secret_written' | 'finished' | 'done'"
    )]
    pub kind: String,
    /// `started`: the key's OCID.
    pub key_id: Option<String>,
    /// `started`: the secret being retired.
    pub old: Option<String>,
    /// `started`: the secret being rotated to.
    pub standby: Option<String>,
    /// `started`: whether a saved rotation is resumed.
    pub resumed: Option<bool>,
    /// The step (`prepare_standby`, `verify_standby`, `switch`, `retire_old`, `renew_old`,
    /// `park_old`).
    pub step: Option<String>,
    /// `acting`: the action, e.g. `activate key-two`; `finished`: its name (`activate`, ...).
    pub action: Option<String>,
    /// `skipped`: why; `finished`: what was observed.
    pub note: Option<String>,
    /// `waiting`: attempts so far.
    pub attempt: Option<u32>,
    /// `waiting`: the probe's last HTTP status (absent: no answer).
    pub status: Option<u32>,
    /// `secret_written`: the renewed secret.
    pub secret: Option<String>,
    /// `secret_written`, `finished`: the fingerprint of a renewed or probed value.
    pub fingerprint: Option<String>,
    /// `secret_written`: the secret-out file.
    pub path: Option<String>,
}

impl From<&Progress> for RotationProgress {
    fn from(p: &Progress) -> Self {
        let event = |kind: &str| RotationProgress {
            kind: kind.to_string(),
            ..RotationProgress::default()
        };
        match p {
            Progress::Started {
                key_id,
                old,
                standby,
                resumed,
            } => RotationProgress {
                key_id: Some(key_id.clone()),
                old: Some(old.clone()),
                standby: Some(standby.clone()),
                resumed: Some(*resumed),
                ..event("started")
            },
            Progress::Skipped { step, note } => RotationProgress {
                step: Some(step.as_str().to_string()),
                note: Some(note.clone()),
                ..event("skipped")
            },
            Progress::Acting { step, action } => RotationProgress {
                step: Some(step.as_str().to_string()),
                action: Some(action.clone()),
                ..event("acting")
            },
            Progress::Waiting {
                step,
                attempt,
                status,
            } => RotationProgress {
                step: Some(step.as_str().to_string()),
                attempt: Some(*attempt),
                status: status.map(u32::from),
                ..event("waiting")
            },
            Progress::SecretWritten {
                secret,
                fingerprint,
                path,
            } => RotationProgress {
                secret: Some(secret.clone()),
                fingerprint: Some(fingerprint.clone()),
                path: Some(path.display().to_string()),
                ..event("secret_written")
            },
            Progress::Finished {
                step,
                action,
                fingerprint,
                note,
            } => RotationProgress {
                step: Some(step.as_str().to_string()),
                action: Some(action.clone()),
                fingerprint: fingerprint.clone(),
                note: note.clone(),
                ..event("finished")
            },
            Progress::Done => event("done"),
        }
    }
}

/// A finished step, as checkpointed.
#[napi(object, object_from_js = false)]
pub struct RotationStep {
    /// The step.
    pub step: String,
    /// What was done: `activate`, `renew`, `probe`, `switch`, `deactivate`, `revoke` or `skip`.
    pub action: String,
    /// The secret it concerned.
    pub secret: Option<String>,
    /// Fingerprint of a renewed or probed value.
    pub fingerprint: Option<String>,
    /// What was observed, or why it was skipped.
    pub note: Option<String>,
    /// When, RFC 3339.
    pub at: String,
}

impl From<&StepRecord> for RotationStep {
    fn from(r: &StepRecord) -> Self {
        RotationStep {
            step: r.step.as_str().to_string(),
            action: r.action.clone(),
            secret: r.secret.clone(),
            fingerprint: r.fingerprint.clone(),
            note: r.note.clone(),
            at: r.at.clone(),
        }
    }
}

/// A secret renewed by the rotation (its value is in the secret-out file only).
#[napi(object, object_from_js = false)]
pub struct RenewedSecret {
    /// The secret.
    pub secret: String,
    /// The new value's fingerprint.
    pub fingerprint: String,
}

/// The outcome of a finished rotation.
#[napi(object, object_from_js = false)]
pub struct RotationReport {
    /// `false`: the rotation ran (see `RotationPlan`).
    #[napi(ts_type = "false")]
    pub dry_run: bool,
    /// The key's OCID.
    pub key_id: String,
    /// The retired secret.
    pub old: String,
    /// The secret now preferred.
    pub standby: String,
    /// Whether the run resumed a saved rotation.
    pub resumed: bool,
    /// Every step, in order.
    pub steps: Vec<RotationStep>,
    /// The renewed secrets.
    pub renewed: Vec<RenewedSecret>,
    /// The secret-out file, when values were written to it.
    pub secret_out: Option<String>,
}

impl From<&CoreReport> for RotationReport {
    fn from(r: &CoreReport) -> Self {
        RotationReport {
            dry_run: false,
            key_id: r.key_id.clone(),
            old: r.old.clone(),
            standby: r.standby.clone(),
            resumed: r.resumed,
            steps: r.steps.iter().map(RotationStep::from).collect(),
            renewed: r
                .renewed
                .iter()
                .map(|(secret, fingerprint)| RenewedSecret {
                    secret: secret.clone(),
                    fingerprint: fingerprint.clone(),
                })
                .collect(),
            secret_out: r.secret_out.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// One line of a dry-run plan.
#[napi(object, object_from_js = false)]
pub struct RotationPlanStep {
    /// The step.
    pub step: String,
    /// The action it would take (`activate`, `renew`, ...); absent when it would be skipped.
    pub action: Option<String>,
    /// The secret it would concern.
    pub secret: Option<String>,
    /// The action in words, e.g. `activate key-two`.
    pub description: Option<String>,
    /// Why it would be skipped, or that it is already finished.
    pub note: Option<String>,
}

impl From<&PlannedStep> for RotationPlanStep {
    fn from(s: &PlannedStep) -> Self {
        RotationPlanStep {
            step: s.step.as_str().to_string(),
            action: s.action.as_ref().map(|a| a.name().to_string()),
            secret: s.action.as_ref().map(|a| a.secret().to_string()),
            description: s.action.as_ref().map(ToString::to_string),
            note: s.note.clone(),
        }
    }
}

/// What a dry run shows: the plan from the key's current state; nothing was changed.
#[napi(object, object_from_js = false)]
pub struct RotationPlan {
    /// `true`: nothing was changed.
    #[napi(ts_type = "true")]
    pub dry_run: bool,
    /// The key's OCID.
    pub key_id: String,
    /// The secret that would be retired.
    pub old: String,
    /// The secret that would be rotated to.
    pub standby: String,
    /// Whether a saved rotation would be resumed.
    pub resumed: bool,
    /// The steps.
    pub steps: Vec<RotationPlanStep>,
    /// What would stop the rotation (a renewal without `secretOut`, no value to probe with,
    /// ...); empty when it would run.
    pub problems: Vec<String>,
}

impl From<&CorePlan> for RotationPlan {
    fn from(p: &CorePlan) -> Self {
        RotationPlan {
            dry_run: true,
            key_id: p.key_id.clone(),
            old: p.old.clone(),
            standby: p.standby.clone(),
            resumed: p.resumed,
            steps: p.steps.iter().map(RotationPlanStep::from).collect(),
            problems: p.problems.clone(),
        }
    }
}
