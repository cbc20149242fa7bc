//! `ManualClock`: the core's manual clock, so engines (and the shared vectors) run on a time
//! that moves only when told to.

use napi::bindgen_prelude::Either;
use napi::{Env, Result};
use napi_derive::napi;
use twinkey::{Clock, Timestamp};

use crate::errors::OrThrow;
use crate::time::{instant, rfc3339};

/// A clock that moves only when told to. Give it to `new Engine(key, { clock })`.
#[napi]
pub struct ManualClock {
    pub(crate) inner: twinkey::ManualClock,
}

#[napi]
impl ManualClock {
    /// A clock stopped at `start` (RFC 3339 string or epoch milliseconds; default: the epoch).
    #[napi(constructor)]
    pub fn new(env: Env, start: Option<Either<String, f64>>) -> Result<Self> {
        let start = match start {
            Some(t) => instant(&t).or_throw(&env)?,
            None => Timestamp::from_millis(0),
        };
        Ok(ManualClock {
            inner: twinkey::ManualClock::new(start),
        })
    }

    /// Moves the clock by `ms` milliseconds (negative: backwards).
    #[napi]
    pub fn advance(&self, ms: f64) {
        self.inner.advance_ms(ms as i64);
    }

    /// Sets the clock to an absolute time (RFC 3339 string or epoch milliseconds).
    #[napi]
    pub fn set(&self, env: Env, t: Either<String, f64>) -> Result<()> {
        self.inner.set(instant(&t).or_throw(&env)?);
        Ok(())
    }

    /// The clock's time in epoch milliseconds.
    #[napi]
    pub fn now(&self) -> f64 {
        self.inner.now().as_millis() as f64
    }

    /// The clock's time as RFC 3339 (`2026-01-21T10:00:00.000Z`).
    #[napi(js_name = "toISOString")]
    pub fn to_iso_string(&self) -> String {
        rfc3339(self.inner.now())
    }
}
