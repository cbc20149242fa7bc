//! A streamed response body passed through chunk by chunk and watched by the core's
//! [`SseMonitor`]: a stream that ends without its end marker, or whose connection fails before
//! it, yields `STREAM_INTERRUPTED` instead of a clean end.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use twinkey::stream::{SseEvent, SseMonitor, StreamKind, Termination};
use twinkey::{Error, Result};

use crate::metered::Metered;
use crate::transport::describe;

type Inner = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The body of a streamed response: a [`Stream`] of byte chunks exactly as received (the
/// last item is an `Err` with code `STREAM_INTERRUPTED` when the stream was cut), plus
/// [`EventStream::next_event`] for parsed events.
pub struct EventStream {
    prefix: VecDeque<Bytes>,
    inner: Option<Inner>,
    monitor: SseMonitor,
    monitored: bool,
    events: VecDeque<SseEvent>,
    finished: bool,
    metered: Option<Metered>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("kind", &self.monitor.kind())
            .field("received", &self.monitor.received())
            .field("events", &self.monitor.events())
            .field("terminal", &self.monitor.terminal())
            .field("finished", &self.finished)
            .finish()
    }
}

impl EventStream {
    /// `monitored`: whether the body is an event stream whose end marker is checked (other
    /// bodies, e.g. a JSON error, are passed through and end cleanly at EOF).
    pub(crate) fn new(
        prefix: Vec<Bytes>,
        rest: Option<reqwest::Response>,
        kind: StreamKind,
        monitored: bool,
        metered: Option<Metered>,
    ) -> Self {
        EventStream {
            prefix: prefix.into(),
            inner: rest.map(|r| Box::pin(r.bytes_stream()) as Inner),
            monitor: SseMonitor::new(kind),
            monitored,
            events: VecDeque::new(),
            finished: false,
            metered,
        }
    }

    /// Settles the request's ticket: usage from the monitor for an event stream, from the
    /// body fed so far otherwise.
    fn settle(&mut self) {
        if let Some(m) = self.metered.take() {
            m.settle(self.monitored.then(|| self.monitor.usage()));
        }
    }

    /// The monitor (bytes and events received, end marker).
    pub fn monitor(&self) -> &SseMonitor {
        &self.monitor
    }

    /// How the stream ended, once its end marker arrived.
    pub fn termination(&self) -> Option<Termination> {
        self.monitor.terminal()
    }

    fn end(&mut self, outcome: Result<Termination>) -> Poll<Option<Result<Bytes>>> {
        self.finished = true;
        self.inner = None;
        self.settle();
        match outcome {
            Ok(_) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }

    fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
        keep_events: bool,
    ) -> Poll<Option<Result<Bytes>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let next = match (self.prefix.pop_front(), self.inner.as_mut()) {
            (Some(chunk), _) => Some(Ok(chunk)),
            (None, Some(inner)) => ready!(inner.as_mut().poll_next(cx)),
            (None, None) => None,
        };
        match next {
            Some(Ok(chunk)) => {
                if let (Some(m), false) = (&self.metered, self.monitored) {
                    m.feed(&chunk);
                }
                if keep_events {
                    let events = self.monitor.feed(&chunk);
                    self.events.extend(events);
                } else {
                    self.monitor.observe(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => {
                let reason = describe(&e.without_url());
                let outcome = if self.monitored {
                    self.monitor.transport_error(&reason)
                } else {
                    Err(Error::Transport { reason })
                };
                self.end(outcome)
            }
            None => {
                let outcome = if self.monitored {
                    self.monitor.finish()
                } else {
                    Ok(Termination::Done)
                };
                self.end(outcome)
            }
        }
    }

    /// The next whole event; `None` after the end marker and a clean end of the body, an
    /// `Err` (`STREAM_INTERRUPTED`) when the stream was cut.
    pub async fn next_event(&mut self) -> Option<Result<SseEvent>> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(Ok(e));
            }
            match std::future::poll_fn(|cx| self.poll_chunk(cx, true)).await {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Some(Err(e)),
                None => return None,
            }
        }
    }

    /// Reads the whole stream; all its events, or the error that cut it.
    pub async fn collect_events(mut self) -> Result<Vec<SseEvent>> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event().await {
            out.push(e?);
        }
        Ok(out)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.settle();
    }
}

impl Stream for EventStream {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx, false)
    }
}
