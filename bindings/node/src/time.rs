//! Time values at the boundary: RFC 3339 strings out (as OCI writes them), RFC 3339 strings or
//! epoch milliseconds in, and durations in milliseconds.

use std::time::Duration;

use napi::bindgen_prelude::Either;
use twinkey::{Clock, SystemClock, Timestamp};

/// An instant given by JS: an RFC 3339 string or milliseconds since the Unix epoch.
pub(crate) type JsInstant = Either<String, f64>;

/// Parses a [`JsInstant`] (`INVALID_KEY` for a malformed timestamp, `INVALID_OPTIONS` for a
/// number that is not a time, as the core reports them).
pub(crate) fn instant(t: &JsInstant) -> twinkey::Result<Timestamp> {
    match t {
        Either::A(text) => Timestamp::parse_rfc3339(text),
        Either::B(ms) => Timestamp::from_millis_f64(*ms),
    }
}

/// RFC 3339 with milliseconds, UTC (`2026-01-21T10:00:00.000Z`).
pub(crate) fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// Milliseconds as a JS number.
pub(crate) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The wall clock, for key transitions made outside an engine.
pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}

/// A non-negative number of milliseconds from JS (`INVALID_OPTIONS` otherwise).
pub(crate) fn duration(name: &str, ms: f64) -> twinkey::Result<Duration> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| twinkey::Error::InvalidOptions {
        reason: format!("{name} must be a non-negative number of milliseconds"),
    })
}
