//! `StreamMonitor`: the core's SSE monitor, fed the chunks of a streamed response as they pass
//! through to the caller; it says at the end whether the stream ended with its end marker.

use napi::bindgen_prelude::Uint8Array;
use napi::{Env, Result};
use napi_derive::napi;
use twinkey::stream::{SseMonitor, StreamKind, is_event_stream};

use crate::errors::OrThrow;

/// Watches a streamed (server-sent events) response; `finish()` throws
/// `StreamInterruptedError` when it ended without its end marker.
#[napi]
pub struct StreamMonitor {
    inner: SseMonitor,
}

impl StreamMonitor {
    /// The model and usage the stream reported so far.
    pub(crate) fn usage_facts(&self) -> twinkey::usage::BodyFacts {
        self.inner.usage().clone()
    }
}

#[napi]
impl StreamMonitor {
    /// The model and token usage the stream reported so far: `{model, usage}`.
    #[napi]
    pub fn usage(&self) -> serde_json::Value {
        twinkey::usage::wire::body_facts_json(self.inner.usage())
    }

    /// A monitor for `kind`: `auto` (default), `chat_completions` or `responses`.
    #[napi(constructor)]
    pub fn new(env: Env, kind: Option<String>) -> Result<Self> {
        let kind = match kind.as_deref() {
            None => StreamKind::Auto,
            Some(k) => StreamKind::parse(k)
                .ok_or_else(|| twinkey::Error::InvalidRequest {
                    reason: format!(
                        "unknown stream kind {k:?} (auto, chat_completions, responses)"
                    ),
                })
                .or_throw(&env)?,
        };
        Ok(StreamMonitor {
            inner: SseMonitor::new(kind),
        })
    }

    /// The monitor for a response from `url` with this `Content-Type`, or `null` when the
    /// response is not an event stream.
    #[napi]
    pub fn for_response(url: String, content_type: Option<String>) -> Option<StreamMonitor> {
        content_type
            .filter(|ct| is_event_stream(ct))
            .map(|_| StreamMonitor {
                inner: SseMonitor::new(StreamKind::for_path(&url)),
            })
    }

    /// Feeds the next chunk of the body, exactly as received.
    #[napi]
    pub fn feed(&mut self, chunk: Uint8Array) {
        self.inner.observe(&chunk);
    }

    /// The body ended cleanly: how the stream ended (`done`, `response.completed`, ...), or
    /// throws `StreamInterruptedError`.
    #[napi]
    pub fn finish(&self, env: Env) -> Result<String> {
        self.inner
            .finish()
            .map(|t| t.as_str().to_string())
            .or_throw(&env)
    }

    /// Reading the body failed with `reason`: how the stream ended when its end marker had
    /// already arrived, or throws `StreamInterruptedError`.
    #[napi]
    pub fn transport_error(&self, env: Env, reason: String) -> Result<String> {
        self.inner
            .transport_error(&reason)
            .map(|t| t.as_str().to_string())
            .or_throw(&env)
    }

    /// The stream kind watched.
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().as_str().to_string()
    }

    /// Bytes fed so far.
    #[napi(getter)]
    pub fn received(&self) -> f64 {
        self.inner.received() as f64
    }

    /// Events dispatched so far.
    #[napi(getter)]
    pub fn events(&self) -> f64 {
        self.inner.events() as f64
    }
}
