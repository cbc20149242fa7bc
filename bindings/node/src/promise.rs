//! Async work as Promises: a future runs on napi's tokio runtime (feature `tokio_rt`), and its
//! outcome is converted on the JS thread — the value by the caller's conversion, a core error
//! by the one error mapping ([`crate::errors`]), so a rejected Promise carries the same
//! `TwinkeyError` subclass a synchronous call would throw.

use std::future::Future;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, Result};

use crate::errors::to_js;

/// Runs `work` on the tokio runtime; the Promise resolves with `convert(value)` or rejects with
/// the JS error of the core error.
pub(crate) fn settle<'env, T, V, F, C>(
    env: &'env Env,
    work: F,
    convert: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = twinkey::Result<T>> + Send + 'static,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(work.await) },
        move |env, outcome| match outcome {
            Ok(value) => convert(env, value),
            Err(e) => Err(to_js(env, &e)),
        },
    )
}
