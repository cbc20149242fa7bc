//! Per-connection activity: whether a request is in progress, since when the connection has
//! been idle, and since when a request head has been arriving, so the connection task knows
//! its next deadline (header or idle). The stream wrapper sees bytes arrive; the request and
//! response-body guards see requests start and end.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::Frame;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::Limits;

const NONE: u64 = u64::MAX;

/// What one connection is doing, shared by its stream, its requests and its task.
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    /// Requests whose response has not been sent whole (or dropped) yet.
    busy: AtomicUsize,
    /// Milliseconds since `start` when the connection last became idle (`NONE`: never was,
    /// i.e. no request yet).
    idle_since: AtomicU64,
    /// Milliseconds since `start` of the first byte of a request head while idle (`NONE`).
    head_since: AtomicU64,
    /// Whether a first request has started.
    served: AtomicBool,
    changed: Notify,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity {
            start: Instant::now(),
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(NONE),
            head_since: AtomicU64::new(NONE),
            served: AtomicBool::new(false),
            changed: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    /// Bytes arrived on the connection.
    fn saw_bytes(&self) {
        if self.busy.load(Ordering::Acquire) == 0
            && self
                .head_since
                .compare_exchange(NONE, self.now_ms(), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// A request's head was read whole and its handler starts.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.served.store(true, Ordering::Release);
        self.head_since.store(NONE, Ordering::Release);
        self.changed.notify_one();
        Busy(self.clone())
    }

    /// When the connection must be closed if nothing changes (`None`: a request is in
    /// progress; its body has its own deadline and a response may stream for long).
    pub(crate) fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        // The first request's head is timed from the connection's start (a connection that
        // sends nothing, or a head a byte at a time, is closed alike); a later one from its
        // first byte, after an idle wait of its own.
        if !self.served.load(Ordering::Acquire) {
            return Some(self.start + limits.header_timeout);
        }
        let head = self.head_since.load(Ordering::Acquire);
        if head != NONE {
            return Some(self.at(head) + limits.header_timeout);
        }
        let idle = self.idle_since.load(Ordering::Acquire);
        Some(self.at(if idle == NONE { 0 } else { idle }) + limits.idle_timeout)
    }

    /// Waits until the activity changes.
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// Held while a request is in progress: from its handler's start until its response body is
/// sent whole or dropped.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since.store(a.now_ms(), Ordering::Release);
        a.busy.fetch_sub(1, Ordering::AcqRel);
        a.changed.notify_one();
    }
}

/// A response body that keeps its request [`Busy`] until it is done.
pub(crate) struct GuardedBody {
    inner: Body,
    _busy: Busy,
}

impl GuardedBody {
    pub(crate) fn wrap(inner: Body, busy: Busy) -> Body {
        Body::new(GuardedBody { inner, _busy: busy })
    }
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's stream that reports arriving bytes to its [`Activity`].
pub(crate) struct WatchedIo<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> WatchedIo<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>) -> Self {
        WatchedIo { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.saw_bytes();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
