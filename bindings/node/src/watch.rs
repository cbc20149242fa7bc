//! Key watch in Node: `watchKey(engine, options, controlPlane?)` makes an engine follow its key
//! (`twinkey_client::watch::KeyWatch`) on napi's tokio runtime; the facade's
//! `twinkey.watch(engine, { file } | { controlPlane })` wraps it. Options are the core's JSON
//! shape (`file`, `intervalMs`, `jitter`, `maxBackoffMs`); stats come back as an object.

use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use twinkey_client::watch::{KeyWatch, WatchSource, watch_from_json};

use crate::control::NativeControlPlane;
use crate::engine::NativeEngine;
use crate::errors::OrThrow;

/// A running key watch; `stop()` ends it.
#[napi]
pub struct NativeKeyWatch {
    watch: Mutex<KeyWatch>,
    source: String,
}

/// Makes `engine` follow its key: `options.file` (a key file it reloads) or `control` (the
/// control plane's `GetApiKey`). The first look is made at once.
#[napi]
pub fn watch_key(
    env: Env,
    engine: &NativeEngine,
    #[napi(
        ts_arg_type = "{ file?: string | null; intervalMs?: number | null; jitter?: number | null; maxBackoffMs?: number | null }"
    )]
    options: Value,
    control: Option<&NativeControlPlane>,
) -> Result<NativeKeyWatch> {
    let (source, options) =
        watch_from_json(&options, control.map(|c| c.client.clone())).or_throw(&env)?;
    let kind = match source {
        WatchSource::File(_) => "file",
        WatchSource::ControlPlane(_) => "controlPlane",
    };
    let engine = engine.engine.clone();
    let watch = napi::bindgen_prelude::within_runtime_if_available(move || {
        KeyWatch::start(engine, source, options)
    })
    .or_throw(&env)?;
    Ok(NativeKeyWatch {
        watch: Mutex::new(watch),
        source: kind.to_string(),
    })
}

impl NativeKeyWatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeyWatch> {
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[napi]
impl NativeKeyWatch {
    /// `file` or `controlPlane`.
    #[napi(getter, ts_return_type = "'file' | 'controlPlane'")]
    pub fn source(&self) -> String {
        self.source.clone()
    }

    /// What the watch has done.
    #[napi(
        ts_return_type = "{ looks: number; changed: number; errors: number; consecutiveFailures: number; lastError?: string; stopped: boolean }"
    )]
    pub fn stats(&self) -> Value {
        serde_json::to_value(self.lock().stats()).unwrap_or(Value::Null)
    }

    /// Whether `stop()` was called.
    #[napi(getter)]
    pub fn stopped(&self) -> bool {
        self.lock().stats().stopped
    }

    /// Stops the watch (idempotent); the engine keeps what it holds.
    #[napi]
    pub fn stop(&self) {
        self.lock().stop();
    }
}
