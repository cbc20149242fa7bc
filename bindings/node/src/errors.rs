//! The one mapping from [`twinkey::Error`] to a JavaScript exception.
//!
//! The JS facade registers a factory, `(code, family, message, details) => Error`, that builds
//! the `TwinkeyError` subclass for [`twinkey::Error::family`]; every fallible call of the addon
//! returns the object it builds, so JS code catches real `Error` subclasses with `.code`.
//! `details` carries the structured parts of some errors (`reasons` of `NO_USABLE_SECRET`,
//! `status`/`ociCode`/`requestId` of `SERVICE_ERROR`, `received` of `STREAM_INTERRUPTED`).
//! Messages come from the core, which names secrets by name and fingerprint only.

use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, Unknown};
use napi::{Env, Error, JsValue, Result};
use napi_derive::napi;
use serde_json::{Value, json};

/// What the addon keeps per JS environment (main thread or worker).
struct Host {
    /// `(code, family, message, details) => Error`.
    factory: FunctionRef<FnArgs<(String, String, String, Value)>, Unknown<'static>>,
}

/// Registers the function that turns twinkey errors into JS `Error` objects:
/// `(code, family, message, details) => Error`. The facade calls it once at load time.
#[napi]
pub fn set_error_factory(
    env: Env,
    factory: Function<FnArgs<(String, String, String, Value)>, Unknown<'static>>,
) -> Result<()> {
    let factory = factory.create_ref()?;
    env.set_instance_data(Host { factory }, (), |_| {})
}

/// The structured parts of an error, as the facade's error classes expose them.
fn details(e: &twinkey::Error) -> Value {
    match e {
        twinkey::Error::NoUsableSecret { reasons } => json!({
            "reasons": reasons
                .iter()
                .map(|r| json!({
                    "secret": r.secret,
                    "fingerprint": r.fingerprint,
                    "reason": r.reason.code(),
                    "message": r.reason.to_string(),
                }))
                .collect::<Vec<_>>(),
        }),
        twinkey::Error::Service {
            status,
            oci_code,
            request_id,
            ..
        } => json!({"status": status, "ociCode": oci_code, "requestId": request_id}),
        twinkey::Error::StreamInterrupted { received, .. } => json!({"received": received}),
        twinkey::Error::TpmBudgetExceeded {
            scope,
            retry_after_ms,
            requested,
        } => json!({"scope": scope, "retryAfterMs": retry_after_ms, "requested": requested}),
        _ => json!({}),
    }
}

/// The JS error object for a core error: built by the facade's factory, or a plain `Error`
/// whose message starts with the code when no factory is registered.
pub(crate) fn error_object<'env>(env: &'env Env, e: &twinkey::Error) -> Result<Unknown<'env>> {
    error_object_with(env, e, Value::Null)
}

/// [`error_object`] with `extra` details (an object) added to the error's own, e.g. the HTTP
/// `status` and `reply` body of a relay gate's refusal.
pub(crate) fn error_object_with<'env>(
    env: &'env Env,
    e: &twinkey::Error,
    extra: Value,
) -> Result<Unknown<'env>> {
    let mut all = details(e);
    if let (Some(all), Value::Object(extra)) = (all.as_object_mut(), extra) {
        all.extend(extra);
    }
    let built = env
        .get_instance_data::<Host>()
        .ok()
        .flatten()
        .and_then(|host| host.factory.borrow_back(env).ok())
        .and_then(|factory| {
            let args = (
                e.code().to_string(),
                e.family().to_string(),
                e.to_string(),
                all,
            );
            factory.call(args.into()).ok()
        });
    match built {
        Some(object) => Ok(object),
        None => {
            let plain = env.create_error(Error::from_reason(format!("{}: {e}", e.code())))?;
            Ok(plain.to_unknown())
        }
    }
}

/// Converts a core error into the JS exception to throw (see [`error_object`]).
pub(crate) fn to_js(env: &Env, e: &twinkey::Error) -> Error {
    match error_object(env, e) {
        Ok(object) => Error::from(object),
        Err(err) => err,
    }
}

/// `twinkey::Result<T>` to `napi::Result<T>` through [`to_js`].
pub(crate) trait OrThrow<T> {
    /// The value, or the JS exception for the core's error.
    fn or_throw(self, env: &Env) -> Result<T>;
}

impl<T> OrThrow<T> for twinkey::Result<T> {
    fn or_throw(self, env: &Env) -> Result<T> {
        self.map_err(|e| to_js(env, &e))
    }
}
