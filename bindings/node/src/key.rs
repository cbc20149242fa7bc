//! `ApiKey`: OCI's API-key resource with its two secrets, read from and written to OCI's JSON
//! shape; transitions as the core validates them.

use napi::bindgen_prelude::{AsyncTask, Either};
use napi::{Env, Result, Task};
use napi_derive::napi;
use serde_json::Value;
use twinkey::SecretState;

use crate::errors::{OrThrow, to_js};
use crate::time::{instant, now};

/// An OCI Generative AI API key: metadata plus exactly two secrets. Secret values never leave
/// it: `toJSON()`, `toString()` and `util.inspect` show names and fingerprints only.
#[napi]
pub struct ApiKey {
    pub(crate) inner: twinkey::ApiKey,
}

#[napi]
impl ApiKey {
    /// Parses a key document in OCI's JSON shape (`keys[].keyName`, `key`, `state`, ...). A
    /// `key` may be the value, `env:NAME` or `file:PATH` (read synchronously; prefer
    /// `ApiKey.load` for files).
    #[napi(factory)]
    pub fn from_json(env: Env, text: String) -> Result<Self> {
        let inner = twinkey::ApiKey::from_json(&text).or_throw(&env)?;
        Ok(ApiKey { inner })
    }

    /// Reads a key file off the event loop; relative `file:` references are relative to it.
    #[napi(ts_return_type = "Promise<ApiKey>")]
    pub fn load(path: String) -> AsyncTask<LoadKey> {
        AsyncTask::new(LoadKey { path })
    }

    /// Reads a key file on the calling thread (for start-up code).
    #[napi(factory)]
    pub fn load_sync(env: Env, path: String) -> Result<Self> {
        let inner = twinkey::ApiKey::load(&path).or_throw(&env)?;
        Ok(ApiKey { inner })
    }

    /// The key's OCID, when known.
    #[napi(getter)]
    pub fn id(&self) -> Option<String> {
        self.inner.id.clone()
    }

    /// `displayName`, when known.
    #[napi(getter)]
    pub fn display_name(&self) -> Option<String> {
        self.inner.display_name.clone()
    }

    /// The region (given, or taken from the OCID).
    #[napi(getter)]
    pub fn region(&self) -> Option<String> {
        self.inner.region.clone()
    }

    /// The names of the two secrets, in `keys[]` order.
    #[napi(getter)]
    pub fn secret_names(&self) -> Vec<String> {
        self.inner
            .secrets()
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// The key in OCI's JSON shape **without secret values** (references such as `env:NAME`
    /// are kept). Used by `JSON.stringify`.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.inner.to_json()).unwrap_or(Value::Null)
    }

    /// The key in OCI's JSON shape **with** its secret values, as text: to store a key that
    /// `ControlPlane.create` or `renew` returned (write it readable by its owner only). The
    /// only way a value leaves an `ApiKey`; never log it.
    #[napi]
    pub fn to_json_exposing_secrets(&self) -> String {
        self.inner.to_json_exposing_secrets()
    }

    /// `ApiKey <name> [key-one (fp 1a2b3c4d, ACTIVE); ...]`: names and fingerprints only.
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        self.inner.to_string()
    }

    /// Activates a secret (rules: `twinkey::ApiKey::activate`).
    #[napi]
    pub fn activate(&mut self, env: Env, secret: String) -> Result<()> {
        self.inner.activate(&secret, now()).or_throw(&env)
    }

    /// Deactivates a secret, reversibly (rules: `twinkey::ApiKey::deactivate`).
    #[napi]
    pub fn deactivate(&mut self, env: Env, secret: String) -> Result<()> {
        self.inner.deactivate(&secret, now()).or_throw(&env)
    }

    /// Revokes a secret, irreversibly (rules: `twinkey::ApiKey::revoke`).
    #[napi]
    pub fn revoke(&mut self, env: Env, secret: String) -> Result<()> {
        self.inner.revoke(&secret, now()).or_throw(&env)
    }

    /// Gives a secret a new value and makes it usable until `until` (default: the core's
    /// renewal lifetime, 90 days).
    #[napi]
    pub fn renew(
        &mut self,
        env: Env,
        secret: String,
        value: String,
        until: Option<Either<String, f64>>,
    ) -> Result<()> {
        let until = until.as_ref().map(instant).transpose().or_throw(&env)?;
        self.inner
            .renew(&secret, &value, until, now())
            .or_throw(&env)
    }

    /// Sets a secret's state as the service reports it (any string; no transition rules).
    #[napi]
    pub fn sync_state(&mut self, env: Env, secret: String, state: String) -> Result<()> {
        self.inner
            .sync_state(&secret, SecretState::parse(&state))
            .map(|_| ())
            .or_throw(&env)
    }
}

/// Reads a key file on the libuv thread pool (`ApiKey.load`).
pub struct LoadKey {
    path: String,
}

impl Task for LoadKey {
    type Output = twinkey::Result<twinkey::ApiKey>;
    type JsValue = ApiKey;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(twinkey::ApiKey::load(&self.path))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ApiKey> {
        output
            .map(|inner| ApiKey { inner })
            .map_err(|e| to_js(&env, &e))
    }
}
