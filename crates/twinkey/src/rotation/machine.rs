//! The rotation state machine: given the key as the control plane shows it now and the
//! checkpoint, the next thing to do.

use std::time::Duration;

use super::checkpoint::{CHECKPOINT_VERSION, Checkpoint, Pending, StepRecord};
use super::options::{Retire, RotationOptions};
use super::step::{Action, Next, PlannedStep, Step};
use crate::error::{Error, Result};
use crate::key::{ApiKey, Secret, Slot};
use crate::secret::SecretState;
use crate::time::{Timestamp, duration_ms};

/// How often earlier steps are redone because the standby stopped being usable, before the
/// rotation gives up.
const MAX_REOPEN: u32 = 3;

fn refused(reason: impl Into<String>) -> Error {
    Error::RotationRefused {
        reason: reason.into(),
    }
}

fn state_error(reason: impl Into<String>) -> Error {
    Error::RotationState {
        reason: reason.into(),
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(duration_ms(d)).unwrap_or(0)
}

/// `ACTIVE` and not expiring within `margin` from `now`.
fn usable(s: &Secret, now: Timestamp, margin: Duration) -> bool {
    s.state == SecretState::Active && s.time_expiry.is_none_or(|e| e > now.plus(margin))
}

/// A secret that some transition can make usable (anything but `DELETED` or unknown).
fn recoverable(s: &Secret) -> bool {
    !matches!(s.state, SecretState::Deleted | SecretState::Unknown(_))
}

/// The secret's name, with its fingerprint when the document carries its value.
fn who(s: &Secret) -> String {
    match &s.value {
        Some(v) => format!("{} (fp {})", s.name, v.fingerprint()),
        None => s.name.clone(),
    }
}

fn describe(s: &Secret, now: Timestamp) -> String {
    match s.time_expiry {
        Some(e) if e <= now && s.state == SecretState::Active => {
            format!("{} expired at {e}", who(s))
        }
        _ => format!("{} is {}", who(s), s.state),
    }
}

fn check_key(key: &ApiKey) -> Result<()> {
    match key.lifecycle_state.as_deref() {
        // UPDATING is transient (right after a state change); the secrets' states drive the
        // steps, and a call the service cannot take yet is retried (409 IncorrectState).
        None | Some("ACTIVE") | Some("UPDATING") => Ok(()),
        Some(other) => Err(refused(format!(
            "the API key is {other}; only an ACTIVE key can be rotated"
        ))),
    }
}

/// One rotation: its checkpoint and the logic that advances it. Sans I/O: the runner reads
/// the key from the control plane, asks [`Rotation::next`], performs the action, reports it
/// with [`Rotation::complete`] and saves [`Rotation::checkpoint`] after every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    cp: Checkpoint,
}

impl Rotation {
    /// Plans a rotation of `key` (as the control plane shows it). Refused
    /// (`ROTATION_REFUSED`) when the key is not `ACTIVE`, when no standby can be chosen, or
    /// when the standby can never be made usable (`DELETED`, an unknown state); options that
    /// contradict each other are `INVALID_OPTIONS`.
    pub fn plan(key: &ApiKey, options: &RotationOptions, now: Timestamp) -> Result<Rotation> {
        if options.renew_lifetime <= options.renew_within {
            return Err(Error::InvalidOptions {
                reason: "the renewed lifetime must be longer than the renew-within window".into(),
            });
        }
        let key_id = key.id.clone().ok_or_else(|| Error::InvalidKey {
            reason: "the key has no id (OCID)".into(),
        })?;
        check_key(key)?;
        let standby = match &options.standby {
            Some(name) => key.slot_of(name)?,
            None => choose_standby(key)?,
        };
        let (old, standby) = (key.secret(standby.other()), key.secret(standby));
        if !recoverable(standby) {
            return Err(refused(format!(
                "{}: it cannot be made usable, so retiring {} would leave no usable secret",
                describe(standby, now),
                old.name
            )));
        }
        let at = now.to_rfc3339();
        Ok(Rotation {
            cp: Checkpoint {
                version: CHECKPOINT_VERSION,
                key_id,
                old: old.name.clone(),
                standby: standby.name.clone(),
                retire: options.retire,
                renew_old: options.renew_old,
                probe: options.probe,
                renew_within_ms: ms(options.renew_within),
                renew_lifetime_ms: ms(options.renew_lifetime),
                started_at: at.clone(),
                updated_at: at,
                completed: Vec::new(),
                pending: None,
                reopened: 0,
            },
        })
    }

    /// Resumes from a saved checkpoint. `ROTATION_STATE` when it belongs to another key or
    /// was started with other options (`options.standby` `None` matches any standby).
    pub fn resume(
        checkpoint: Checkpoint,
        key_id: &str,
        options: &RotationOptions,
    ) -> Result<Rotation> {
        let cp = checkpoint;
        if cp.version != CHECKPOINT_VERSION {
            return Err(state_error(format!(
                "unsupported checkpoint version {}",
                cp.version
            )));
        }
        if cp.key_id != key_id {
            return Err(state_error(format!(
                "the state file is for key {}, not {key_id}",
                cp.key_id
            )));
        }
        let mut differs = Vec::new();
        if options.standby.as_ref().is_some_and(|s| *s != cp.standby) {
            differs.push(format!("standby {}", cp.standby));
        }
        if options.retire != cp.retire {
            differs.push(format!("retire by {}", cp.retire.as_str()));
        }
        if options.renew_old != cp.renew_old {
            differs.push(format!("renew-old {}", cp.renew_old));
        }
        if options.probe != cp.probe {
            differs.push(format!("probe {}", cp.probe));
        }
        if !differs.is_empty() {
            return Err(state_error(format!(
                "the state file holds a rotation started with other options ({}); rerun with the same options, or remove the file to start over",
                differs.join(", ")
            )));
        }
        if cp.old == cp.standby {
            return Err(state_error("the state file names the same secret twice"));
        }
        Ok(Rotation { cp })
    }

    /// The checkpoint to save.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.cp
    }

    /// The secret being retired.
    pub fn old(&self) -> &str {
        &self.cp.old
    }

    /// The secret being rotated to.
    pub fn standby(&self) -> &str {
        &self.cp.standby
    }

    /// Whether every step is finished.
    pub fn is_done(&self) -> bool {
        self.steps().iter().all(|s| self.cp.is_done(*s))
    }

    /// The steps this rotation runs (the last two only with `renew_old`).
    pub fn steps(&self) -> Vec<Step> {
        Step::ALL
            .into_iter()
            .filter(|s| self.cp.renew_old || !matches!(s, Step::RenewOld | Step::ParkOld))
            .collect()
    }

    /// The next action, given the key as the control plane shows it now. Steps whose goal
    /// already holds are recorded as skipped (idempotence: a step that was carried out but
    /// not checkpointed is not done twice). A started call ([`Rotation::start`]) is returned
    /// again with its `opc-retry-token`. Errors: `ROTATION_REFUSED` when going on would leave
    /// no usable secret; `ROTATION_STATE` for a key that is not this rotation's.
    pub fn next(&mut self, key: &ApiKey, now: Timestamp) -> Result<Next> {
        if key.id.as_deref() != Some(self.cp.key_id.as_str()) {
            return Err(state_error(format!(
                "the key read from the service is not {}",
                self.cp.key_id
            )));
        }
        check_key(key)?;
        let old = key.secret(key.slot_of(&self.cp.old)?).clone();
        let standby = key.secret(key.slot_of(&self.cp.standby)?).clone();
        'steps: loop {
            for step in self.steps() {
                if self.cp.is_done(step) {
                    continue;
                }
                // Nothing that relies on the standby, or takes the old secret out of use, goes
                // ahead unless the standby is usable beyond the renew-within window (a resumed
                // rotation may find it expiring, revoked or deactivated meanwhile).
                let relies_on_standby = match step {
                    Step::VerifyStandby | Step::Switch => true,
                    Step::RetireOld => !self.old_retired(&old),
                    Step::ParkOld => old.state == SecretState::Active,
                    Step::PrepareStandby | Step::RenewOld => false,
                };
                if relies_on_standby && !usable(&standby, now, self.renew_within()) {
                    self.reopen(&old, &standby, now)?;
                    continue 'steps;
                }
                match self.evaluate(step, &old, &standby, now)? {
                    Ok(action) => {
                        let action = self.with_pending_token(step, action);
                        return Ok(Next::Do { step, action });
                    }
                    Err(note) => self.skip(step, &note, now),
                }
            }
            return Ok(Next::Done);
        }
    }

    /// Records that a control-plane call is about to be sent with `retry_token` (save the
    /// checkpoint before sending it).
    pub fn start(&mut self, step: Step, action: &Action, retry_token: &str, now: Timestamp) {
        let expiry = match action {
            Action::Renew { expiry, .. } => Some(expiry.to_rfc3339()),
            _ => None,
        };
        self.cp.pending = Some(Pending {
            step,
            action: action.name().to_string(),
            secret: action.secret().to_string(),
            retry_token: retry_token.to_string(),
            expiry,
            since: now.to_rfc3339(),
        });
        self.cp.updated_at = now.to_rfc3339();
    }

    /// Records a finished step. `fingerprint` is that of a renewed or probed value; `note`
    /// what was observed. `ROTATION_STATE` if the step is already finished.
    pub fn complete(
        &mut self,
        step: Step,
        action: &Action,
        fingerprint: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        if self.cp.is_done(step) {
            return Err(state_error(format!("step {step} is already finished")));
        }
        if self.cp.pending.as_ref().is_some_and(|p| p.step == step) {
            self.cp.pending = None;
        }
        self.cp.completed.push(StepRecord {
            step,
            action: action.name().to_string(),
            secret: Some(action.secret().to_string()),
            at: now.to_rfc3339(),
            fingerprint: fingerprint.map(str::to_string),
            note: note.map(str::to_string),
        });
        self.cp.updated_at = now.to_rfc3339();
        Ok(())
    }

    /// The plan from here (`--dry-run`): every step with the action it would take given the
    /// key now, assuming each action has its expected effect. Nothing is changed.
    pub fn preview(&self, key: &ApiKey, now: Timestamp) -> Result<Vec<PlannedStep>> {
        let mut sim = self.clone();
        let mut key = key.clone();
        let mut out: Vec<PlannedStep> = self
            .cp
            .completed
            .iter()
            .map(|r| PlannedStep {
                step: r.step,
                action: None,
                note: Some(format!("done ({} at {})", r.action, r.at)),
            })
            .collect();
        for _ in 0..(Step::ALL.len() * 2 + 2) {
            let before = sim.cp.completed.len();
            let next = sim.next(&key, now)?;
            for r in &sim.cp.completed[before..] {
                out.push(PlannedStep {
                    step: r.step,
                    action: None,
                    note: r.note.clone(),
                });
            }
            match next {
                Next::Done => return Ok(out),
                Next::Do { step, action } => {
                    apply_action(&mut key, &action, now)?;
                    sim.complete(step, &action, None, None, now)?;
                    out.push(PlannedStep {
                        step,
                        action: Some(action),
                        note: None,
                    });
                }
            }
        }
        Ok(out)
    }

    fn renew_within(&self) -> Duration {
        Duration::from_millis(self.cp.renew_within_ms)
    }

    fn renewed_expiry(&self, now: Timestamp) -> Timestamp {
        now.plus(Duration::from_millis(self.cp.renew_lifetime_ms))
    }

    fn old_retired(&self, old: &Secret) -> bool {
        match self.cp.retire {
            Retire::Deactivate => old.state != SecretState::Active,
            Retire::Revoke => old.state == SecretState::Revoked,
        }
    }

    /// `Ok(action)` to do, or `Err(note)` when the step's goal already holds.
    fn evaluate(
        &self,
        step: Step,
        old: &Secret,
        standby: &Secret,
        now: Timestamp,
    ) -> Result<Result<Action, String>> {
        let pending = self.cp.pending.as_ref().filter(|p| p.step == step);
        if let Some(p) = pending.filter(|p| p.action == "renew") {
            // A renewal may have happened without its answer being seen: send the same call
            // again (same token, same body) so the service answers it once, with the value.
            let expiry = p
                .expiry
                .as_deref()
                .map(Timestamp::parse_rfc3339)
                .transpose()
                .map_err(|_| state_error("the pending renewal has a bad expiry"))?
                .unwrap_or_else(|| self.renewed_expiry(now));
            return Ok(Ok(Action::Renew {
                secret: p.secret.clone(),
                expiry,
                retry_token: Some(p.retry_token.clone()),
            }));
        }
        let standby_name = standby.name.clone();
        Ok(match step {
            Step::PrepareStandby => {
                let fresh = standby
                    .time_expiry
                    .is_none_or(|e| e > now.plus(self.renew_within()));
                match &standby.state {
                    SecretState::Active if fresh => Err(format!(
                        "{} is already ACTIVE{}",
                        who(standby),
                        standby
                            .time_expiry
                            .map(|e| format!(" until {e}"))
                            .unwrap_or_default()
                    )),
                    SecretState::Inactive if fresh => Ok(Action::Activate {
                        secret: standby_name,
                        retry_token: None,
                    }),
                    SecretState::Active
                    | SecretState::Inactive
                    | SecretState::Revoked
                    | SecretState::Expired => Ok(Action::Renew {
                        secret: standby_name,
                        expiry: self.renewed_expiry(now),
                        retry_token: None,
                    }),
                    SecretState::Deleted | SecretState::Unknown(_) => {
                        return Err(refused(format!(
                            "{}: it cannot be made usable, so retiring {} would leave no usable secret",
                            describe(standby, now),
                            old.name
                        )));
                    }
                }
            }
            Step::VerifyStandby if !self.cp.probe => {
                Err("the probe is disabled; the standby is not verified".to_string())
            }
            Step::VerifyStandby => Ok(Action::Probe {
                secret: standby_name,
            }),
            Step::Switch => Ok(Action::Switch { to: standby_name }),
            Step::RetireOld if self.old_retired(old) => {
                Err(format!("{} is already {}", who(old), old.state))
            }
            Step::RetireOld => match (self.cp.retire, &old.state) {
                (Retire::Deactivate, _) => Ok(Action::Deactivate {
                    secret: old.name.clone(),
                    retry_token: None,
                }),
                (Retire::Revoke, SecretState::Active | SecretState::Inactive) => {
                    Ok(Action::Revoke {
                        secret: old.name.clone(),
                        retry_token: None,
                    })
                }
                (Retire::Revoke, other) => Err(format!(
                    "{} is {other}: it cannot be revoked and is not usable",
                    old.name
                )),
            },
            Step::RenewOld if !recoverable(old) => Err(format!(
                "{} is {}: it cannot be renewed",
                old.name, old.state
            )),
            Step::RenewOld => Ok(Action::Renew {
                secret: old.name.clone(),
                expiry: self.renewed_expiry(now),
                retry_token: None,
            }),
            Step::ParkOld if old.state == SecretState::Active => Ok(Action::Deactivate {
                secret: old.name.clone(),
                retry_token: None,
            }),
            Step::ParkOld => Err(format!("{} is already {}", old.name, old.state)),
        })
    }

    fn with_pending_token(&self, step: Step, action: Action) -> Action {
        let Some(p) = self
            .cp
            .pending
            .as_ref()
            .filter(|p| p.step == step && p.action == action.name())
        else {
            return action;
        };
        let token = Some(p.retry_token.clone());
        match action {
            Action::Activate { secret, .. } => Action::Activate {
                secret,
                retry_token: token,
            },
            Action::Deactivate { secret, .. } => Action::Deactivate {
                secret,
                retry_token: token,
            },
            Action::Revoke { secret, .. } => Action::Revoke {
                secret,
                retry_token: token,
            },
            other => other,
        }
    }

    fn skip(&mut self, step: Step, note: &str, now: Timestamp) {
        if self.cp.pending.as_ref().is_some_and(|p| p.step == step) {
            self.cp.pending = None;
        }
        self.cp.completed.push(StepRecord {
            step,
            action: "skip".to_string(),
            secret: None,
            at: now.to_rfc3339(),
            fingerprint: None,
            note: Some(note.to_string()),
        });
        self.cp.updated_at = now.to_rfc3339();
    }

    /// The standby stopped being usable after it was prepared: prepare and verify it again,
    /// or refuse when it cannot be made usable (or keeps being disabled).
    fn reopen(&mut self, old: &Secret, standby: &Secret, now: Timestamp) -> Result<()> {
        if !recoverable(standby) || self.cp.reopened >= MAX_REOPEN {
            return Err(refused(format!(
                "{}: retiring {} would leave no usable secret",
                describe(standby, now),
                old.name
            )));
        }
        self.cp.reopened += 1;
        self.cp
            .completed
            .retain(|r| !matches!(r.step, Step::PrepareStandby | Step::VerifyStandby));
        self.cp.updated_at = now.to_rfc3339();
        Ok(())
    }
}

/// The default standby: the secret not in use.
fn choose_standby(key: &ApiKey) -> Result<Slot> {
    let active = |slot: Slot| key.secret(slot).state == SecretState::Active;
    match (active(Slot::One), active(Slot::Two)) {
        (true, false) => Ok(Slot::Two),
        (false, true) => Ok(Slot::One),
        (true, true) => {
            let (one, two) = (key.secret(Slot::One), key.secret(Slot::Two));
            // Both in use: retire the one expiring first; rotate to the other.
            Ok(match (one.time_expiry, two.time_expiry) {
                (Some(a), Some(b)) if a > b => Slot::One,
                (None, Some(_)) => Slot::One,
                _ => Slot::Two,
            })
        }
        (false, false) => Err(refused(
            "no secret is ACTIVE, so none is in use to rotate from; name the standby explicitly",
        )),
    }
}

/// The effect an action is expected to have on the key (what the service does): for plans,
/// simulations and vectors. A renewal keeps the simulated value (the real one is new).
pub fn apply_action(key: &mut ApiKey, action: &Action, now: Timestamp) -> Result<()> {
    match action {
        Action::Activate { secret, .. } => key.activate(secret, now),
        Action::Deactivate { secret, .. } => key.deactivate(secret, now),
        Action::Revoke { secret, .. } => key.revoke(secret, now),
        Action::Renew { secret, expiry, .. } => {
            let slot = key.slot_of(secret)?;
            let s = key.secret_mut(slot);
            s.state = SecretState::Active;
            s.time_expiry = Some(*expiry);
            s.time_created = Some(now);
            s.time_activated = Some(now);
            s.time_revoked = None;
            s.time_deactivated = None;
            Ok(())
        }
        Action::Probe { .. } | Action::Switch { .. } => Ok(()),
    }
}
