//! Key watch: a running engine follows its key, so that a rotation run elsewhere (a CLI, a
//! job) reaches it before the old secret is retired.
//!
//! A task looks at the key every [`WatchOptions::interval`] (with jitter; doubling on failures
//! up to a cap): a key file it reloads ([`WatchSource::File`], e.g. the secret-out file a
//! rotation writes; values, states and preference) or the control plane
//! ([`WatchSource::ControlPlane`], a signed `GetApiKey`: states, expiries and preference, never
//! values). What a document means is the core's decision ([`twinkey::Engine::follow_key`]).
//! A failed look changes nothing: the engine keeps serving from what it holds, the task logs
//! one warning per run of failures and backs off.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use twinkey::watch::{KeyUpdate, WatchOptions};
use twinkey::{ApiKey, Engine, Error, Result};

use crate::control::{CallOptions, ControlPlaneClient};

/// Where a watch looks.
#[derive(Clone, Debug)]
pub enum WatchSource {
    /// A key file, reloaded (with its `env:`/`file:` references) at every look.
    File(PathBuf),
    /// The control plane: `GetApiKey` of the engine's key.
    ControlPlane(ControlPlaneClient),
}

impl WatchSource {
    fn kind(&self) -> twinkey::watch::WatchSource {
        match self {
            WatchSource::File(_) => twinkey::watch::WatchSource::File,
            WatchSource::ControlPlane(_) => twinkey::watch::WatchSource::ControlPlane,
        }
    }
}

/// What a watch has done so far.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchStats {
    /// Looks that read a document.
    pub looks: u64,
    /// Looks whose document changed something.
    pub changed: u64,
    /// Looks that failed (unreadable file, invalid document, service error).
    pub errors: u64,
    /// Failures since the last good look.
    pub consecutive_failures: u64,
    /// The last failure's code, when the last look failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether the watch was stopped.
    pub stopped: bool,
}

#[derive(Default)]
struct Shared {
    looks: AtomicU64,
    changed: AtomicU64,
    errors: AtomicU64,
    consecutive: AtomicU64,
    last_error: Mutex<Option<String>>,
    stopped: AtomicBool,
}

/// A running key watch; dropping it (or [`KeyWatch::stop`]) stops it.
pub struct KeyWatch {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    source: twinkey::watch::WatchSource,
}

impl std::fmt::Debug for KeyWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyWatch")
            .field("source", &self.source.as_str())
            .field("stats", &self.stats())
            .finish()
    }
}

fn unit() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// One look: the document and what it changed.
async fn look(engine: &Engine, source: &WatchSource, key_id: &str) -> Result<KeyUpdate> {
    let doc: ApiKey = match source {
        WatchSource::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || ApiKey::load(&path))
                .await
                .map_err(|e| Error::Transport {
                    reason: format!("key watch: {e}"),
                })??
        }
        WatchSource::ControlPlane(client) => {
            client
                .get_api_key(key_id, &CallOptions::default())
                .await?
                .data
        }
    };
    engine.follow_key(&doc, source.kind())
}

impl KeyWatch {
    /// Starts watching on the current Tokio runtime. The first look is made at once.
    /// `INVALID_OPTIONS` outside a runtime, for invalid options, or for a control-plane watch
    /// of a key without an OCID.
    pub fn start(engine: Engine, source: WatchSource, options: WatchOptions) -> Result<KeyWatch> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::InvalidOptions {
            reason: "a key watch must be started within a Tokio runtime".into(),
        })?;
        Self::start_on(&runtime, engine, source, options)
    }

    /// Follows a key file with the file defaults (a look every 5 s), on the current runtime.
    pub fn file(engine: Engine, path: impl Into<PathBuf>) -> Result<KeyWatch> {
        let options = WatchOptions::for_source(twinkey::watch::WatchSource::File);
        Self::start(engine, WatchSource::File(path.into()), options)
    }

    /// Follows the control plane with its defaults (a `GetApiKey` every 30 s), on the current
    /// runtime.
    pub fn control_plane(engine: Engine, client: ControlPlaneClient) -> Result<KeyWatch> {
        let options = WatchOptions::for_source(twinkey::watch::WatchSource::ControlPlane);
        Self::start(engine, WatchSource::ControlPlane(client), options)
    }

    /// [`KeyWatch::start`] on the given runtime (a binding's own), from any thread.
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        engine: Engine,
        source: WatchSource,
        options: WatchOptions,
    ) -> Result<KeyWatch> {
        options.validate()?;
        let key_id = engine.key().id.unwrap_or_default();
        if matches!(source, WatchSource::ControlPlane(_)) && key_id.is_empty() {
            return Err(Error::InvalidOptions {
                reason: "a control-plane key watch needs a key with an OCID (its id)".into(),
            });
        }
        let shared = Arc::new(Shared::default());
        let (stop, mut stopped) = watch::channel(false);
        let kind = source.kind();
        let s = shared.clone();
        let task = runtime.spawn(async move {
            loop {
                match look(&engine, &source, &key_id).await {
                    Ok(update) => {
                        s.looks.fetch_add(1, Ordering::Relaxed);
                        let was = s.consecutive.swap(0, Ordering::Relaxed);
                        *s.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        if was > 0 {
                            tracing::info!(target: "twinkey", source = kind.as_str(), "key watch: looking again works after {was} failure(s)");
                        }
                        if !update.is_empty() {
                            s.changed.fetch_add(1, Ordering::Relaxed);
                            let text: Vec<String> =
                                update.changes.iter().map(ToString::to_string).collect();
                            tracing::info!(target: "twinkey", source = kind.as_str(), "key watch: {}", text.join("; "));
                        }
                    }
                    Err(e) => {
                        s.errors.fetch_add(1, Ordering::Relaxed);
                        let n = s.consecutive.fetch_add(1, Ordering::Relaxed);
                        *s.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(e.code().to_string());
                        if n == 0 {
                            tracing::warn!(target: "twinkey", source = kind.as_str(), error = %e, "key watch: cannot look at the key; the engine keeps what it holds");
                        }
                    }
                }
                let failures = u32::try_from(s.consecutive.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
                let delay = options.next_delay(failures, unit());
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stopped.changed() => break,
                }
            }
        });
        Ok(KeyWatch {
            shared,
            stop,
            task: Some(task),
            source: kind,
        })
    }

    /// What the watch has done so far.
    pub fn stats(&self) -> WatchStats {
        let s = &self.shared;
        WatchStats {
            looks: s.looks.load(Ordering::Relaxed),
            changed: s.changed.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            consecutive_failures: s.consecutive.load(Ordering::Relaxed),
            last_error: s
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            stopped: s.stopped.load(Ordering::Relaxed),
        }
    }

    /// Stops the watch (idempotent); the engine keeps what it holds.
    pub fn stop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for KeyWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A binding's watch request: `{"file": path}` or a control plane, with the options
/// (`intervalMs`, `jitter`, `maxBackoffMs`) in the same object. `INVALID_OPTIONS` for both
/// sources or none.
pub fn watch_from_json(
    value: &Value,
    control: Option<ControlPlaneClient>,
) -> Result<(WatchSource, WatchOptions)> {
    let file = match value.get("file") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(PathBuf::from(s)),
        Some(_) => {
            return Err(Error::InvalidOptions {
                reason: "watch option file must be a path".into(),
            });
        }
    };
    let source = match (file, control) {
        (Some(path), None) => WatchSource::File(path),
        (None, Some(client)) => WatchSource::ControlPlane(client),
        (Some(_), Some(_)) => {
            return Err(Error::InvalidOptions {
                reason: "a key watch follows a file or the control plane, not both".into(),
            });
        }
        (None, None) => {
            return Err(Error::InvalidOptions {
                reason: "a key watch needs a file or a control plane".into(),
            });
        }
    };
    let options = WatchOptions::from_json_value(value, source.kind())?;
    Ok((source, options))
}
