//! `StreamMonitor`: whether a streamed (SSE) response ended with its end marker.
//!
//! Adapters pass the body through to the caller unchanged and feed the same chunks here; at
//! the end of the body `finish()` (or `transport_error()` when the connection failed) either
//! returns how the stream ended or raises `StreamInterruptedError` (SPEC section 4: a cut
//! stream is an error, never a clean end).

use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use twinkey::stream::{SseMonitor, StreamKind, is_event_stream};

use crate::engine::{for_each_header, header_is, header_text};
use crate::errors::IntoPyResult;
use crate::hygiene::{quote, quote_opt};

/// Watches one streamed response.
#[pyclass(module = "twinkey._native", name = "StreamMonitor", frozen)]
pub struct PyStreamMonitor {
    inner: Mutex<SseMonitor>,
}

impl PyStreamMonitor {
    fn lock(&self) -> PyResult<MutexGuard<'_, SseMonitor>> {
        self.inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("stream monitor lock poisoned"))
    }

    /// The model and usage the stream reported so far.
    pub(crate) fn usage_facts(&self) -> PyResult<twinkey::usage::BodyFacts> {
        Ok(self.lock()?.usage().clone())
    }

    fn of(kind: StreamKind) -> Self {
        PyStreamMonitor {
            inner: Mutex::new(SseMonitor::new(kind)),
        }
    }
}

#[pymethods]
impl PyStreamMonitor {
    /// A monitor expecting the end marker of `kind`: `auto` (either), `chat_completions`
    /// (`data: [DONE]`) or `responses` (a terminal `response.*` event).
    #[new]
    #[pyo3(signature = (kind = "auto".to_string()), text_signature = "(kind='auto')")]
    fn new(kind: String) -> PyResult<Self> {
        let kind = StreamKind::parse(&kind)
            .ok_or_else(|| PyValueError::new_err(format!("unknown stream kind {kind:?}")))?;
        Ok(Self::of(kind))
    }

    /// A monitor for a response, or `None` when the response is not an event stream.
    /// `content_type` is the response's `Content-Type`, `path` the request path (it selects
    /// the end marker to expect).
    #[staticmethod]
    #[pyo3(signature = (content_type, path))]
    fn for_response(content_type: Option<String>, path: String) -> Option<Self> {
        content_type
            .filter(|ct| is_event_stream(ct))
            .map(|_| Self::of(StreamKind::for_path(&path)))
    }

    /// Like `for_response`, reading `Content-Type` from the response headers (a mapping or
    /// `(name, value)` pairs such as `httpx.Headers.raw`).
    #[staticmethod]
    fn for_headers(headers: &Bound<'_, PyAny>, path: String) -> PyResult<Option<Self>> {
        let mut content_type = None;
        for_each_header(Some(headers), |name, value| {
            if content_type.is_none() && header_is(name, "content-type")? {
                content_type = Some(header_text(value)?);
            }
            Ok(())
        })?;
        Ok(Self::for_response(content_type, path))
    }

    /// Feeds the next chunk of the body, exactly as received.
    fn feed(&self, chunk: &[u8]) -> PyResult<()> {
        self.lock()?.observe(chunk);
        Ok(())
    }

    /// The body ended (EOF): how the stream ended, or `StreamInterruptedError`.
    fn finish(&self) -> PyResult<&'static str> {
        self.lock()?.finish().map(|t| t.as_str()).py()
    }

    /// The connection failed while reading the body: how the stream ended when its end
    /// marker had already arrived, else `StreamInterruptedError`.
    fn transport_error(&self, reason: String) -> PyResult<&'static str> {
        self.lock()?
            .transport_error(&reason)
            .map(|t| t.as_str())
            .py()
    }

    /// The model and token usage the stream reported so far: `{"model", "usage"}`.
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let facts = self.usage_facts()?;
        crate::pyjson::to_python(py, &twinkey::usage::wire::body_facts_json(&facts))
    }

    /// The end marker seen so far, if any.
    #[getter]
    fn terminal(&self) -> PyResult<Option<&'static str>> {
        Ok(self.lock()?.terminal().map(|t| t.as_str()))
    }

    /// Bytes fed so far.
    #[getter]
    fn received(&self) -> PyResult<u64> {
        Ok(self.lock()?.received())
    }

    /// Events seen so far.
    #[getter]
    fn events(&self) -> PyResult<u64> {
        Ok(self.lock()?.events())
    }

    /// The kind of stream watched.
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        Ok(self.lock()?.kind().as_str())
    }

    fn __repr__(&self) -> PyResult<String> {
        let m = self.lock()?;
        Ok(format!(
            "StreamMonitor(kind={}, received={}, events={}, terminal={})",
            quote(m.kind().as_str()),
            m.received(),
            m.events(),
            quote_opt(m.terminal().map(|t| t.as_str()))
        ))
    }
}
