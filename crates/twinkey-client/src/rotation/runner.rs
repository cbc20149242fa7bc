//! [`RotationRunner`]: drives [`Rotation`] against the control plane and the inference
//! endpoint.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use twinkey::rotation::{
    Action, Checkpoint, EngineEffect, Next, PlannedStep, ProbePolicy, Rotation, RotationOptions,
    Step, StepRecord, engine_effect,
};
use twinkey::{ApiKey, Clock, Engine, Error, Result, SecretState, SecretValue, SystemClock};

use super::files;
use super::probe::probe;
use crate::control::{CallOptions, ControlPlaneClient, retry_token};

/// The model the probe asks by default.
pub const DEFAULT_PROBE_MODEL: &str = "openai.gpt-oss-120b";

/// What a rotation runs against and where it keeps its state.
#[derive(Clone, Debug)]
pub struct RotationConfig {
    /// The API key's OCID.
    pub key_id: String,
    /// What to do.
    pub options: RotationOptions,
    /// The checkpoint file (created, replaced atomically, removed when the rotation is done).
    pub state_file: PathBuf,
    /// The OpenAI-compatible inference base URL for the probe (`.../openai/v1`).
    pub inference_url: Option<String>,
    /// The key with its secret values (e.g. a `key.json`), for probing a standby that is
    /// activated rather than renewed.
    pub values: Option<ApiKey>,
    /// Where renewed values go: a key document in OCI's shape with the values (the key
    /// file's, updated with the renewed ones), mode 0600. Required when a step renews.
    pub secret_out: Option<PathBuf>,
    /// How long and how often to probe.
    pub probe_policy: ProbePolicy,
    /// The model of the probe request.
    pub probe_model: String,
    /// How long the old secret stays in service after the switch, so that applications with
    /// a key watch (which see the switch in the key's tags) move first. Default: the
    /// control-plane watch's longest interval plus a second (34 s); zero when nothing
    /// watches.
    pub watch_grace: std::time::Duration,
}

impl RotationConfig {
    /// A rotation of `key_id` with default options, checkpointed in `state_file`.
    pub fn new(key_id: impl Into<String>, state_file: impl Into<PathBuf>) -> Self {
        RotationConfig {
            key_id: key_id.into(),
            options: RotationOptions::default(),
            state_file: state_file.into(),
            inference_url: None,
            values: None,
            secret_out: None,
            probe_policy: ProbePolicy::default(),
            probe_model: DEFAULT_PROBE_MODEL.to_string(),
            watch_grace: twinkey::watch::WatchOptions::default().retire_grace(),
        }
    }
}

/// Progress reports, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The rotation starts (or resumes from the state file).
    Started {
        /// Key OCID.
        key_id: String,
        /// The secret being retired.
        old: String,
        /// The secret being rotated to.
        standby: String,
        /// Whether it resumed a saved rotation.
        resumed: bool,
    },
    /// A step was skipped: its goal already holds.
    Skipped {
        /// The step.
        step: Step,
        /// Why.
        note: String,
    },
    /// A step's action starts.
    Acting {
        /// The step.
        step: Step,
        /// The action, e.g. `activate key-two`.
        action: String,
    },
    /// The probe was not accepted yet; it is repeated.
    Waiting {
        /// The step.
        step: Step,
        /// Attempts so far.
        attempt: u32,
        /// The last status (`None`: no answer).
        status: Option<u16>,
    },
    /// A renewed value was written to the secret-out file.
    SecretWritten {
        /// The secret.
        secret: String,
        /// Its fingerprint.
        fingerprint: String,
        /// The file.
        path: PathBuf,
    },
    /// A step is finished.
    Finished {
        /// The step.
        step: Step,
        /// What was done.
        action: String,
        /// Fingerprint of a renewed or probed value.
        fingerprint: Option<String>,
        /// What was observed.
        note: Option<String>,
    },
    /// Every step is finished; the state file is removed.
    Done,
}

/// Where a test stops the runner (a simulated crash), counting performed actions from 1.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// Right after action `n` took effect, before its checkpoint.
    AfterCall(usize),
    /// Right after action `n` was checkpointed.
    AfterCheckpoint(usize),
}

/// What `--dry-run` shows.
#[derive(Clone, Debug)]
pub struct RotationPlan {
    /// Key OCID.
    pub key_id: String,
    /// The secret being retired.
    pub old: String,
    /// The secret being rotated to.
    pub standby: String,
    /// Whether a saved rotation would be resumed.
    pub resumed: bool,
    /// The steps.
    pub steps: Vec<PlannedStep>,
    /// What would stop the rotation (missing `--secret-out`, no value to probe with, ...).
    pub problems: Vec<String>,
}

/// The outcome of a finished rotation.
#[derive(Clone, Debug)]
pub struct RotationReport {
    /// Key OCID.
    pub key_id: String,
    /// The retired secret.
    pub old: String,
    /// The secret now preferred.
    pub standby: String,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// Renewed secrets: `(name, fingerprint)`.
    pub renewed: Vec<(String, String)>,
    /// The secret-out file, when values were written.
    pub secret_out: Option<PathBuf>,
    /// Whether the run resumed a saved rotation.
    pub resumed: bool,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How long a rotation's retiring notice counts in the fleet (for processes that join later).
#[cfg(feature = "fleet")]
pub const RETIRING_NOTICE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs one rotation. See the module documentation.
#[derive(Clone)]
pub struct RotationRunner {
    control: ControlPlaneClient,
    config: RotationConfig,
    http: reqwest::Client,
    engine: Option<Engine>,
    #[cfg(feature = "fleet")]
    fleet: Option<crate::fleet::FleetOptions>,
    clock: Arc<dyn Clock>,
    on_progress: ProgressFn,
    stop_at: Option<StopAt>,
}

impl std::fmt::Debug for RotationRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationRunner")
            .field("key_id", &self.config.key_id)
            .field("state_file", &self.config.state_file)
            .finish_non_exhaustive()
    }
}

fn refused(reason: impl Into<String>) -> Error {
    Error::RotationRefused {
        reason: reason.into(),
    }
}

impl RotationRunner {
    /// A runner for `config` on `control`.
    pub fn new(control: ControlPlaneClient, config: RotationConfig) -> Result<Self> {
        Ok(RotationRunner {
            control,
            config,
            http: crate::inference::default_http_client()?,
            engine: None,
            #[cfg(feature = "fleet")]
            fleet: None,
            clock: Arc::new(SystemClock),
            on_progress: Arc::new(|_| {}),
            stop_at: None,
        })
    }

    /// Calls `f` with every progress report.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Arc::new(f);
        self
    }

    /// An engine of this process to switch: at step 3 it learns the standby (state, renewed
    /// value) and prefers it; later steps update its states.
    #[must_use]
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// The fleet of the key (Redis): at the switch, the runner tells it the old secret is
    /// being retired ([`crate::fleet::announce`]), so no process of the fleet prefers it any
    /// more. Needs the old value's fingerprint, from the engine or the key file.
    #[cfg(feature = "fleet")]
    #[must_use]
    pub fn with_fleet(mut self, options: crate::fleet::FleetOptions) -> Self {
        self.fleet = Some(options);
        self
    }

    /// Uses another clock (timestamps in the checkpoint, renewal expiries).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses another HTTP client for the probe.
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Test hook: stop (as if killed) at a point.
    #[doc(hidden)]
    #[must_use]
    pub fn stop_at(mut self, at: StopAt) -> Self {
        self.stop_at = Some(at);
        self
    }

    fn emit(&self, p: &Progress) {
        (self.on_progress)(p);
    }

    async fn fetch(&self) -> Result<ApiKey> {
        Ok(self
            .control
            .get_api_key(&self.config.key_id, &CallOptions::default())
            .await?
            .data)
    }

    /// The saved rotation, or a new plan; `(rotation, resumed)`.
    fn open(&self, key: &ApiKey) -> Result<(Rotation, bool)> {
        let now = self.clock.now();
        match files::load_state(&self.config.state_file)? {
            Some(cp) => Ok((
                Rotation::resume(cp, &self.config.key_id, &self.config.options)?,
                true,
            )),
            None => Ok((Rotation::plan(key, &self.config.options, now)?, false)),
        }
    }

    /// Whether the rotation has work within `window` (`twinkey rotate --if-expiring-within`):
    /// `Some(reason)` when a rotation is in progress (its checkpoint exists: it is always
    /// resumed) or when the secret in use expires within `window` (`twinkey::check::rotation_due`);
    /// `None` when nothing is due. Changes nothing.
    pub async fn due_within(&self, window: std::time::Duration) -> Result<Option<String>> {
        if files::load_state(&self.config.state_file)?.is_some() {
            return Ok(Some(format!(
                "a rotation is in progress ({})",
                self.config.state_file.display()
            )));
        }
        let key = self.fetch().await?;
        twinkey::check::rotation_due(&key, &self.config.options, window, self.clock.now())
    }

    /// The plan from the current state (`--dry-run`): nothing is changed, no file written.
    pub async fn plan(&self) -> Result<RotationPlan> {
        let key = self.fetch().await?;
        let (rotation, resumed) = self.open(&key)?;
        let steps = rotation.preview(&key, self.clock.now())?;
        let mut problems = self.problems(&rotation, &steps);
        if let Err(e) = self.check_values() {
            problems.insert(0, e.to_string());
        }
        Ok(RotationPlan {
            key_id: self.config.key_id.clone(),
            old: rotation.old().to_string(),
            standby: rotation.standby().to_string(),
            resumed,
            steps,
            problems,
        })
    }

    /// What would stop the plan: a renewal without a secret-out file, a probe without an
    /// inference URL or without a value to probe with.
    fn problems(&self, rotation: &Rotation, steps: &[PlannedStep]) -> Vec<String> {
        let mut out = Vec::new();
        let renews: Vec<&str> = steps
            .iter()
            .filter_map(|s| match &s.action {
                Some(Action::Renew { secret, .. }) => Some(secret.as_str()),
                _ => None,
            })
            .collect();
        if !renews.is_empty() && self.config.secret_out.is_none() {
            out.push(format!(
                "renewing {} makes a new value that is shown only once: give a secret-out file",
                renews.join(" and ")
            ));
        }
        let probes = steps
            .iter()
            .any(|s| matches!(s.action, Some(Action::Probe { .. })));
        if probes {
            if self.config.inference_url.is_none() {
                out.push("the probe needs the inference URL".into());
            }
            let standby = rotation.standby();
            let renewed = renews.contains(&standby)
                || rotation
                    .checkpoint()
                    .record(Step::PrepareStandby)
                    .is_some_and(|r| r.action == "renew");
            let known = self
                .config
                .values
                .as_ref()
                .and_then(|k| k.slot_of(standby).ok().map(|s| k.secret(s).value.is_some()))
                .unwrap_or(false);
            if !renewed && !known {
                out.push(format!(
                    "no value for {standby} to probe with: give the key file holding it (or disable the probe)"
                ));
            }
        }
        out
    }

    /// The key file must be this key's (a value of another key would pass the probe and
    /// prove nothing).
    fn check_values(&self) -> Result<()> {
        match self.config.values.as_ref().and_then(|k| k.id.as_deref()) {
            Some(id) if id != self.config.key_id => Err(refused(format!(
                "the key file is for {id}, not {}",
                self.config.key_id
            ))),
            _ => Ok(()),
        }
    }

    /// Runs (or resumes) the rotation to the end.
    pub async fn run(&self) -> Result<RotationReport> {
        self.check_values()?;
        let mut key = self.fetch().await?;
        let (mut rotation, resumed) = self.open(&key)?;
        let preview = rotation.preview(&key, self.clock.now())?;
        if let Some(p) = self.problems(&rotation, &preview).into_iter().next() {
            return Err(refused(p));
        }
        let path = self.config.state_file.clone();
        files::save_state(&path, rotation.checkpoint())?;
        self.emit(&Progress::Started {
            key_id: self.config.key_id.clone(),
            old: rotation.old().to_string(),
            standby: rotation.standby().to_string(),
            resumed,
        });
        let mut renewed: BTreeMap<String, SecretValue> =
            self.recover_renewed(rotation.checkpoint())?;
        let mut performed = 0usize;
        loop {
            let now = self.clock.now();
            let before = rotation.checkpoint().completed.len();
            let next = rotation.next(&key, now)?;
            let skipped: Vec<StepRecord> = rotation.checkpoint().completed[before..]
                .iter()
                .filter(|r| r.action == "skip")
                .cloned()
                .collect();
            if rotation.checkpoint().completed.len() != before || !skipped.is_empty() {
                files::save_state(&path, rotation.checkpoint())?;
            }
            for r in &skipped {
                self.emit(&Progress::Skipped {
                    step: r.step,
                    note: r.note.clone().unwrap_or_default(),
                });
            }
            let (step, action) = match next {
                Next::Done => break,
                Next::Do { step, action } => (step, action),
            };
            if step == Step::RetireOld && action.retry_token().is_none() {
                self.wait_for_watchers(rotation.checkpoint()).await;
            }
            self.emit(&Progress::Acting {
                step,
                action: action.to_string(),
            });
            performed += 1;
            let mut fingerprint = None;
            let mut note = None;
            if action.is_control_plane() {
                let token = action
                    .retry_token()
                    .map_or_else(retry_token, str::to_string);
                rotation.start(step, &action, &token, self.clock.now());
                files::save_state(&path, rotation.checkpoint())?;
                let answer = self.call(&action, &token).await?;
                key = answer;
                if let Action::Renew { secret, .. } = &action {
                    let value = key
                        .slot_of(secret)
                        .ok()
                        .and_then(|s| key.secret(s).value.clone())
                        .ok_or_else(|| Error::Service {
                            status: 200,
                            oci_code: "MissingValue".into(),
                            message: format!(
                                "the RenewApiKey answer carries no value for {secret}"
                            ),
                            request_id: "-".into(),
                        })?;
                    fingerprint = Some(value.fingerprint().to_string());
                    renewed.insert(secret.clone(), value);
                    self.write_secret_out(&key, &renewed, Some(secret))?;
                }
                self.update_engine(step, &action, &key, &renewed);
            } else {
                match &action {
                    Action::Probe { secret } => {
                        let value = self.probe_value(secret, &renewed, rotation.checkpoint())?;
                        let url = self.config.inference_url.as_deref().unwrap_or_default();
                        let probed = probe(
                            &self.http,
                            url,
                            &self.config.probe_model,
                            secret,
                            &value,
                            &self.config.probe_policy,
                            |attempt, status| {
                                self.emit(&Progress::Waiting {
                                    step,
                                    attempt,
                                    status,
                                });
                            },
                        )
                        .await?;
                        fingerprint = Some(value.fingerprint().to_string());
                        note = Some(format!(
                            "HTTP {} after {} attempt{}",
                            probed.status,
                            probed.attempts,
                            if probed.attempts == 1 { "" } else { "s" }
                        ));
                    }
                    Action::Switch { to } => {
                        let verified = self.known_fingerprint(to, &renewed);
                        key = self
                            .record_preference(&key, to, verified.as_deref())
                            .await?;
                        self.write_secret_out(&key, &renewed, None)?;
                        #[cfg(feature = "fleet")]
                        let told = self.tell_fleet(to, &key, &renewed).await;
                        #[cfg(not(feature = "fleet"))]
                        let told = String::new();
                        self.update_engine(step, &action, &key, &renewed);
                        let grace = self.config.watch_grace.as_secs_f64();
                        let watchers = if grace > 0.0 {
                            format!(
                                "; key watches have {grace:.1} s before the old secret is retired"
                            )
                        } else {
                            String::new()
                        };
                        fingerprint = verified;
                        note = Some(if self.engine.is_some() {
                            format!("the engine prefers {to}, recorded on the key{told}{watchers}")
                        } else {
                            format!(
                                "{to} is the preferred secret from now on, recorded on the key{told}{watchers}"
                            )
                        });
                    }
                    _ => {}
                }
            }
            self.check_stop(StopAt::AfterCall(performed))?;
            rotation.complete(
                step,
                &action,
                fingerprint.as_deref(),
                note.as_deref(),
                self.clock.now(),
            )?;
            files::save_state(&path, rotation.checkpoint())?;
            self.emit(&Progress::Finished {
                step,
                action: action.name().to_string(),
                fingerprint,
                note,
            });
            self.check_stop(StopAt::AfterCheckpoint(performed))?;
            if !action.is_control_plane() {
                key = self.fetch().await?;
            }
        }
        if !renewed.is_empty() {
            let fresh = self.fetch().await?;
            self.write_secret_out(&fresh, &renewed, None)?;
        }
        let report = RotationReport {
            key_id: self.config.key_id.clone(),
            old: rotation.old().to_string(),
            standby: rotation.standby().to_string(),
            steps: rotation.checkpoint().completed.clone(),
            renewed: renewed
                .iter()
                .map(|(n, v)| (n.clone(), v.fingerprint().to_string()))
                .collect(),
            secret_out: (!renewed.is_empty())
                .then(|| self.config.secret_out.clone())
                .flatten(),
            resumed,
        };
        files::remove_state(&path)?;
        self.emit(&Progress::Done);
        Ok(report)
    }

    fn check_stop(&self, here: StopAt) -> Result<()> {
        if self.stop_at == Some(here) {
            return Err(Error::Transport {
                reason: format!("stopped at {here:?} (test hook)"),
            });
        }
        Ok(())
    }

    async fn call(&self, action: &Action, token: &str) -> Result<ApiKey> {
        let id = &self.config.key_id;
        let options = CallOptions::retry_token(token);
        let c = &self.control;
        let answer = match action {
            Action::Activate { secret, .. } => {
                c.set_api_key_state(id, secret, &SecretState::Active, &options)
                    .await?
            }
            Action::Deactivate { secret, .. } => {
                c.set_api_key_state(id, secret, &SecretState::Inactive, &options)
                    .await?
            }
            Action::Revoke { secret, .. } => {
                c.set_api_key_state(id, secret, &SecretState::Revoked, &options)
                    .await?
            }
            Action::Renew { secret, expiry, .. } => {
                if self.config.secret_out.is_none() {
                    return Err(refused(format!(
                        "renewing {secret} makes a new value that is shown only once: give a secret-out file"
                    )));
                }
                c.renew_api_key(id, secret, Some(*expiry), &options).await?
            }
            Action::Probe { .. } | Action::Switch { .. } => return self.fetch().await,
        };
        Ok(answer.data)
    }

    /// Values renewed by an interrupted run, read back from the secret-out file and matched
    /// by the fingerprints in the checkpoint.
    fn recover_renewed(&self, cp: &Checkpoint) -> Result<BTreeMap<String, SecretValue>> {
        let mut out = BTreeMap::new();
        let wanted: Vec<(&str, &str)> = cp
            .completed
            .iter()
            .filter(|r| r.action == "renew")
            .filter_map(|r| Some((r.secret.as_deref()?, r.fingerprint.as_deref()?)))
            .collect();
        if wanted.is_empty() {
            return Ok(out);
        }
        let Some(path) = &self.config.secret_out else {
            return Ok(out);
        };
        let Some(doc) = files::read_key_document(path)? else {
            return Ok(out);
        };
        for (name, fp) in wanted {
            if let Some(v) = doc
                .slot_of(name)
                .ok()
                .and_then(|s| doc.secret(s).value.clone())
                .filter(|v| v.fingerprint() == fp)
            {
                out.insert(name.to_string(), v);
            }
        }
        Ok(out)
    }

    fn probe_value(
        &self,
        secret: &str,
        renewed: &BTreeMap<String, SecretValue>,
        cp: &Checkpoint,
    ) -> Result<SecretValue> {
        if let Some(v) = renewed.get(secret) {
            return Ok(v.clone());
        }
        if let Some(r) = cp
            .record(Step::PrepareStandby)
            .filter(|r| r.action == "renew")
        {
            return Err(refused(format!(
                "{secret} was renewed (fp {}) but its value is not in the secret-out file; it cannot be probed",
                r.fingerprint.as_deref().unwrap_or("?")
            )));
        }
        self.config
            .values
            .as_ref()
            .and_then(|k| k.slot_of(secret).ok().and_then(|s| k.secret(s).value.clone()))
            .ok_or_else(|| {
                refused(format!(
                    "no value for {secret} to probe with: give the key file holding it (or disable the probe)"
                ))
            })
    }

    /// Writes the secret-out document: the key as the service shows it, with the values of
    /// the key file and the renewed ones.
    fn write_secret_out(
        &self,
        key: &ApiKey,
        renewed: &BTreeMap<String, SecretValue>,
        just_renewed: Option<&str>,
    ) -> Result<()> {
        let Some(path) = &self.config.secret_out else {
            return Ok(());
        };
        let with_value = |slot: twinkey::Slot| {
            let mut s = key.secret(slot).clone();
            s.value = renewed.get(&s.name).cloned().or_else(|| {
                self.config.values.as_ref().and_then(|k| {
                    k.slot_of(&s.name)
                        .ok()
                        .and_then(|i| k.secret(i).value.clone())
                })
            });
            s.reference = None;
            s
        };
        let mut doc = ApiKey::new(
            with_value(twinkey::Slot::One),
            with_value(twinkey::Slot::Two),
        )?;
        doc.id = key.id.clone();
        doc.display_name = key.display_name.clone();
        doc.description = key.description.clone();
        doc.compartment_id = key.compartment_id.clone();
        doc.region = key.region.clone();
        doc.lifecycle_state = key.lifecycle_state.clone();
        doc.lifecycle_details = key.lifecycle_details.clone();
        doc.time_created = key.time_created;
        doc.time_updated = key.time_updated;
        doc.freeform_tags = key.freeform_tags.clone();
        doc.defined_tags = key.defined_tags.clone();
        doc.system_tags = key.system_tags.clone();
        files::write_key_document(path, &doc)?;
        if let Some(name) = just_renewed
            && let Some(v) = renewed.get(name)
        {
            self.emit(&Progress::SecretWritten {
                secret: name.to_string(),
                fingerprint: v.fingerprint().to_string(),
                path: path.clone(),
            });
        }
        Ok(())
    }

    /// The fingerprint of the value this rotation holds for `name`: renewed, from the key file
    /// or from the engine.
    fn known_fingerprint(
        &self,
        name: &str,
        renewed: &BTreeMap<String, SecretValue>,
    ) -> Option<String> {
        if let Some(v) = renewed.get(name) {
            return Some(v.fingerprint().to_string());
        }
        [
            self.config.values.clone(),
            self.engine.as_ref().map(Engine::key),
        ]
        .iter()
        .flatten()
        .find_map(|k| {
            let s = k.secret(k.slot_of(name).ok()?);
            s.value.as_ref().map(|v| v.fingerprint().to_string())
        })
    }

    /// Records the switch on the key itself (its freeform tags, see [`twinkey::watch`]), for
    /// the applications that watch it; answers the key as the service now shows it.
    async fn record_preference(
        &self,
        key: &ApiKey,
        to: &str,
        fingerprint: Option<&str>,
    ) -> Result<ApiKey> {
        if twinkey::watch::prefers(key, to, fingerprint) {
            return Ok(key.clone());
        }
        let details = twinkey::control::UpdateApiKeyDetails {
            freeform_tags: Some(twinkey::watch::preference_tags(key, to, fingerprint)),
            ..Default::default()
        };
        let answer = self
            .control
            .update_api_key(&self.config.key_id, &details, &CallOptions::default())
            .await?;
        Ok(answer.data)
    }

    /// Waits until key watches have had [`RotationConfig::watch_grace`] since the switch
    /// (counted from the checkpoint, so a resumed rotation waits only what is left).
    async fn wait_for_watchers(&self, checkpoint: &Checkpoint) {
        let Some(at) = checkpoint
            .completed
            .iter()
            .rev()
            .find(|r| r.step == Step::Switch && r.action == "switch")
            .and_then(|r| twinkey::Timestamp::parse_rfc3339(&r.at).ok())
        else {
            return;
        };
        let wait = twinkey::watch::retire_wait(at, self.config.watch_grace, self.clock.now());
        if !wait.is_zero() {
            tracing::info!(target: "twinkey", "waiting {:.1} s for key watches before retiring the old secret", wait.as_secs_f64());
            tokio::time::sleep(wait).await;
        }
    }

    /// Tells the fleet (when there is one) that the secret other than `to` is being retired;
    /// answers what to add to the step's note. A failure is logged, never fatal: the fleet
    /// still follows the retirement once the old secret is refused.
    #[cfg(feature = "fleet")]
    async fn tell_fleet(
        &self,
        to: &str,
        key: &ApiKey,
        renewed: &BTreeMap<String, SecretValue>,
    ) -> String {
        let Some(options) = &self.fleet else {
            return String::new();
        };
        let Ok(slot) = key.slot_of(to) else {
            return String::new();
        };
        let from = key.secret(slot.other()).name.clone();
        let fingerprint = self.known_fingerprint(&from, &BTreeMap::new());
        let standby = self.known_fingerprint(to, renewed);
        let Some(fingerprint) = fingerprint else {
            tracing::warn!(target: "twinkey", "cannot tell the fleet {from} is retiring: no value of it here (give the key file)");
            return "; the fleet was not told (no value of the old secret here)".into();
        };
        let now = self.clock.now();
        let message = twinkey::fleet::FleetMessage {
            key_id: self.config.key_id.clone(),
            secret: from.clone(),
            fingerprint,
            at: now,
            origin: format!("rotation-{}", std::process::id()),
            event: twinkey::fleet::FleetEvent::Retiring {
                until: now.plus(RETIRING_NOTICE),
                standby,
            },
        };
        match crate::fleet::announce(options, &message).await {
            Ok(()) => format!("; the fleet was told {from} is retiring"),
            Err(e) => {
                tracing::warn!(target: "twinkey", error = %e, "could not tell the fleet {from} is retiring");
                "; the fleet could not be told".into()
            }
        }
    }

    /// Keeps an in-process engine in step with the rotation (the core says how).
    fn update_engine(
        &self,
        step: Step,
        action: &Action,
        key: &ApiKey,
        renewed: &BTreeMap<String, SecretValue>,
    ) {
        let Some(engine) = &self.engine else { return };
        let result = match engine_effect(step, action) {
            EngineEffect::None => Ok(()),
            EngineEffect::Prefer { secret } => {
                let expiry = key
                    .slot_of(&secret)
                    .ok()
                    .and_then(|s| key.secret(s).time_expiry);
                match renewed.get(&secret) {
                    Some(v) => engine.renew(&secret, v.expose(), expiry),
                    None => engine.sync_state(&secret, SecretState::Active),
                }
                .and_then(|()| engine.set_preferred(Some(&secret)))
            }
            EngineEffect::SetState { secret, state } => engine.sync_state(&secret, state),
        };
        if let Err(e) = result {
            tracing::warn!(target: "twinkey", error = %e, "could not update the engine during the rotation");
        }
    }
}
