//! `controlPlane.rotate(keyId, options)`: `twinkey-client`'s [`RotationRunner`] (the
//! zero-downtime rotation of SPEC section 5, checkpointed in a state file and resumable) on
//! napi's tokio runtime. Options are `twinkey rotate`'s. Progress reports reach JS through a
//! `ThreadsafeFunction`, in order, all of them before the Promise settles.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result, Status};
use napi_derive::napi;
use tokio::sync::Notify;
use twinkey::ApiKey;
use twinkey::rotation::{Retire, RotationOptions};
use twinkey_client::rotation::{Progress, RotationConfig, RotationRunner};

use crate::control::NativeControlPlane;
use crate::engine::NativeEngine;
use crate::promise::settle;
use crate::rotation_report::{RotationPlan, RotationProgress, RotationReport};
use crate::time::duration;

/// The JS progress callback, callable from tokio's threads.
pub type ProgressCallback =
    ThreadsafeFunction<RotationProgress, Unknown<'static>, RotationProgress, Status, false>;

/// How long a finished rotation waits for JS to take its last progress reports.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The options of a rotation, as `twinkey rotate` takes them.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct RotateOptions {
    /// The secret to rotate to (default: the one not in use).
    pub standby: Option<String>,
    /// Revoke the old secret (permanent) instead of deactivating it.
    pub revoke: Option<bool>,
    /// Afterwards, renew the old secret and park it (deactivated) as the next standby.
    pub renew_old: Option<bool>,
    /// Only plan: resolve with the `RotationPlan` and change nothing.
    pub dry_run: Option<bool>,
    /// The checkpoint file (default: `.twinkey-rotate-<key suffix>.json` in the working
    /// directory). Removed when the rotation is done; run again to resume.
    pub state_file: Option<String>,
    /// The key file with the secret values (e.g. the application's `key.json`), to probe the
    /// standby with (instead of the `values` key or the engine's key).
    pub key_file: Option<String>,
    /// Where renewed values go: a key document with the values (mode 0600). Needed when a step
    /// renews (a standby that cannot just be activated, `renewOld`).
    pub secret_out: Option<String>,
    /// The OpenAI-compatible inference base URL for the probe (default: the region's).
    pub inference_url: Option<String>,
    /// The model the probe asks (one token; default `openai.gpt-oss-120b`).
    pub probe_model: Option<String>,
    /// `false`: do not verify the standby with a real request (not recommended).
    pub probe: Option<bool>,
    /// Give up the probe after this many milliseconds (default 120 000).
    pub probe_timeout_ms: Option<f64>,
    /// How long the old secret stays in service after the switch, so applications with a key
    /// watch move first (default 34 000: one control-plane watch interval; 0 when nothing
    /// watches).
    pub watch_grace_ms: Option<f64>,
}

impl RotateOptions {
    /// The runner's configuration; reads the key file (so: on the runtime, not the JS thread).
    /// `values`: the key with the secret values when no key file is named.
    fn to_config(
        &self,
        key_id: &str,
        endpoint: &str,
        region: Option<&str>,
        values: Option<ApiKey>,
    ) -> twinkey::Result<RotationConfig> {
        let state_file = self.state_file.as_ref().map_or_else(
            || twinkey::rotation::default_state_file(key_id),
            PathBuf::from,
        );
        let mut config = RotationConfig::new(key_id, state_file);
        let probe = self.probe.unwrap_or(true);
        config.options = RotationOptions {
            standby: self.standby.clone(),
            retire: if self.revoke.unwrap_or(false) {
                Retire::Revoke
            } else {
                Retire::Deactivate
            },
            renew_old: self.renew_old.unwrap_or(false),
            probe,
            ..RotationOptions::default()
        };
        config.inference_url = match &self.inference_url {
            Some(url) => Some(url.clone()),
            None if probe => twinkey::control::probe_inference_base(Some(endpoint), region)?,
            None => None,
        };
        config.values = match &self.key_file {
            Some(path) => Some(ApiKey::load(path)?),
            None => values,
        };
        config.secret_out = self.secret_out.as_ref().map(PathBuf::from);
        if let Some(model) = &self.probe_model {
            config.probe_model = model.clone();
        }
        if let Some(ms) = self.probe_timeout_ms {
            config.probe_policy.timeout = duration("probeTimeoutMs", ms)?;
        }
        if let Some(ms) = self.watch_grace_ms {
            config.watch_grace = duration("watchGraceMs", ms)?;
        }
        Ok(config)
    }
}

/// Progress reports on their way to JS: how many were sent and how many JS has taken.
struct ProgressSink {
    callback: ProgressCallback,
    sent: AtomicUsize,
    taken: Arc<(AtomicUsize, Notify)>,
}

impl ProgressSink {
    fn new(callback: ProgressCallback) -> Self {
        ProgressSink {
            callback,
            sent: AtomicUsize::new(0),
            taken: Arc::default(),
        }
    }

    /// Queues one report for the JS thread.
    fn emit(&self, p: &Progress) {
        self.sent.fetch_add(1, Ordering::AcqRel);
        let taken = self.taken.clone();
        let status = self.callback.call_with_return_value(
            RotationProgress::from(p),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |_, _| {
                taken.0.fetch_add(1, Ordering::AcqRel);
                taken.1.notify_waiters();
                Ok(())
            },
        );
        if status != Status::Ok {
            // Not queued (the environment is closing): nothing to wait for.
            self.taken.0.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Waits until JS has taken every report sent (bounded by [`DRAIN_TIMEOUT`]).
    async fn drained(&self) {
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        loop {
            let notified = self.taken.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.taken.0.load(Ordering::Acquire) >= self.sent.load(Ordering::Acquire) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

#[napi]
impl NativeControlPlane {
    /// Runs (or resumes) the rotation of key `keyId`, or with `dryRun` plans it. `values`: the
    /// key with the secret values to probe the standby with (default: `engine`'s, unless
    /// `keyFile` is given). `engine`: an engine of this process to switch at step 3 (its events
    /// are delivered at its next call).
    /// `onProgress` gets every progress report, in order, before the Promise settles. Rejects
    /// with `RotationError` (`ROTATION_REFUSED`: nothing unsafe was done; `ROTATION_STATE`: the
    /// state file), `ServiceError`, ...
    #[napi(ts_return_type = "Promise<RotationReport | RotationPlan>")]
    pub fn rotate<'env>(
        &self,
        env: &'env Env,
        key_id: String,
        options: Option<RotateOptions>,
        values: Option<&crate::key::ApiKey>,
        engine: Option<&NativeEngine>,
        #[napi(ts_arg_type = "(progress: RotationProgress) => void")] on_progress: Option<
            ProgressCallback,
        >,
    ) -> Result<PromiseRaw<'env, Either<RotationReport, RotationPlan>>> {
        let options = options.unwrap_or_default();
        let control = self.client.clone();
        let region = self.region.clone();
        let endpoint = self.client.endpoint().to_string();
        let engine = engine.map(|e| e.engine.clone());
        let values = values
            .map(|k| k.inner.clone())
            .or_else(|| engine.as_ref().map(twinkey::Engine::key));
        let sink = on_progress.map(|f| Arc::new(ProgressSink::new(f)));
        let work = async move {
            let config = options.to_config(&key_id, &endpoint, region.as_deref(), values)?;
            let mut runner = RotationRunner::new(control, config)?;
            if let Some(engine) = engine {
                runner = runner.with_engine(engine);
            }
            if options.dry_run.unwrap_or(false) {
                return Ok(Either::B(RotationPlan::from(&runner.plan().await?)));
            }
            if let Some(sink) = &sink {
                let sink = sink.clone();
                runner = runner.on_progress(move |p| sink.emit(p));
            }
            let outcome = runner.run().await;
            drop(runner);
            if let Some(sink) = &sink {
                sink.drained().await;
            }
            Ok(Either::A(RotationReport::from(&outcome?)))
        };
        settle(env, work, |_, out| Ok(out))
    }
}
