//! Fleets in Node: `joinFleet(engine, options)` joins an engine to the fleet of its key
//! through Redis (`twinkey_client::fleet::RedisFleet`) on napi's tokio runtime; the facade's
//! `twinkey.fleet(engine, options)` wraps it. Options are the core's JSON shape (`url`,
//! `caFile`, `prefix`, `origin`, `opTimeoutMs`, `resyncIntervalMs`, `budgetSlice`).

use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use twinkey_client::fleet::{FleetOptions, RedisFleet};

use crate::engine::NativeEngine;
use crate::errors::OrThrow;

/// A process's link to the fleet of its key; `close()` leaves it.
#[napi]
pub struct NativeFleet {
    link: Mutex<Option<RedisFleet>>,
    origin: String,
}

/// Joins `engine` to its key's fleet (see the module docs for `options`). Returns at once;
/// until Redis answers (and whenever it is away) the engine runs on local state.
#[napi]
pub fn join_fleet(
    env: Env,
    engine: &NativeEngine,
    #[napi(
        ts_arg_type = "{ url: string; caFile?: string | null; prefix?: string | null; origin?: string | null; opTimeoutMs?: number | null; resyncIntervalMs?: number | null; budgetSlice?: number | null }"
    )]
    options: Value,
) -> Result<NativeFleet> {
    let options = FleetOptions::from_json_value(&options).or_throw(&env)?;
    let engine = engine.engine.clone();
    let link = napi::bindgen_prelude::within_runtime_if_available(move || {
        RedisFleet::start(engine, options)
    })
    .or_throw(&env)?;
    Ok(NativeFleet {
        origin: link.origin().to_string(),
        link: Mutex::new(Some(link)),
    })
}

#[napi]
impl NativeFleet {
    /// This process's name in the fleet.
    #[napi(getter)]
    pub fn origin(&self) -> String {
        self.origin.clone()
    }

    /// What the link has done (`null` once closed).
    #[napi(
        ts_return_type = "{ sent: number; applied: number; ignored: number; invalid: number; errors: number; connected: boolean; leased: number; leaseRefusals: number; returned: number; budgetShared: boolean } | null"
    )]
    pub fn stats(&self) -> Value {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        link.as_ref()
            .and_then(|l| serde_json::to_value(l.stats()).ok())
            .unwrap_or(Value::Null)
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.link
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Leaves the fleet (idempotent), after adding this process's last usage to the fleet's
    /// totals (blocking a few operation limits at most).
    #[napi]
    pub fn close(&self) {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(link) = link {
            napi::bindgen_prelude::block_on(link.close());
        }
    }
}
