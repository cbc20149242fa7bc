//! The bounds a listener keeps, with their defaults.

use std::time::Duration;

/// The bounds of one listener. [`Limits::default`] is what `twinkey relay` and `twinkey
/// emulate` use unless told otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time for a new connection to deliver a complete request head (default 10 s).
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection waits for its next request head (default 30 s).
    pub idle_timeout: Duration,
    /// Time for a request body to arrive whole, from the end of its head (default 30 s).
    pub body_timeout: Duration,
    /// Open connections at most; more are answered 503 and closed (default 512).
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight before dropping them (default 30 s).
    pub drain_timeout: Duration,
    /// The largest request head, in bytes (default 64 KiB; larger: 431).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            drain_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The smallest head buffer hyper accepts.
    const MIN_HEADER_BYTES: usize = 8192;

    /// The head buffer size handed to hyper (at least 8 KiB, its minimum).
    pub(crate) fn header_buffer(&self) -> usize {
        self.max_header_bytes.max(Self::MIN_HEADER_BYTES)
    }
}
