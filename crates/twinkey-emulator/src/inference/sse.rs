//! Streaming responses as server-sent events, with the stream-cut and chunk-delay faults.

use std::io;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::faults::Fault;

/// One event as sent: `data: <json>\n\n`, optionally preceded by `event: <name>\n`.
pub(crate) fn event(name: Option<&str>, data: &str) -> String {
    match name {
        Some(n) => format!("event: {n}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// A `text/event-stream` response sending each event as one chunk.
///
/// With a `cutAfterChunks` fault the connection is aborted after that many events: the
/// body stream fails, so hyper drops the connection without the chunked terminator and the
/// client sees an unexpected end of the body, exactly like a network cut. Before failing the
/// stream pauses once, so the response head and the events before the cut are flushed to the
/// socket first (with `0`, the client gets the head and then the cut). A cut at or past the
/// number of events leaves the stream whole.
pub(crate) fn respond(events: Vec<String>, fault: Option<&Fault>) -> Response {
    let delay = fault.and_then(Fault::chunk_delay);
    let cut = fault
        .and_then(|f| f.cut_after_chunks)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n < events.len());
    let mut items: Vec<Option<Bytes>> = events.into_iter().map(|e| Some(Bytes::from(e))).collect();
    if let Some(n) = cut {
        items.truncate(n);
        items.push(None);
    }
    let stream = futures_util::stream::iter(items).then(move |item| async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        match item {
            Some(bytes) => Ok(bytes),
            None => {
                tokio::task::yield_now().await;
                tracing::debug!("injected fault: cutting the stream");
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "injected fault: stream cut",
                ))
            }
        }
    });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
