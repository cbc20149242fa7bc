//! Time as the core sees it: millisecond timestamps, RFC 3339 in and out, and an injected clock.
//!
//! The core never reads the wall clock by itself: an [`Engine`](crate::Engine) is given a
//! [`Clock`]. [`SystemClock`] is the default on native targets; [`ManualClock`] drives vectors
//! and simulations deterministically.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};

/// A point in time: milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// From a floating-point number of milliseconds since the Unix epoch, as JavaScript and
    /// Python give time: rounded to the millisecond; `INVALID_OPTIONS` for NaN, an infinity,
    /// or an instant outside the years 0000–9999 that RFC 3339 can write.
    pub fn from_millis_f64(ms: f64) -> Result<Self> {
        /// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
        const RANGE: std::ops::RangeInclusive<f64> = -62_167_219_200_000.0..=253_402_300_799_999.0;
        let rounded = ms.round();
        if !RANGE.contains(&rounded) {
            return Err(Error::InvalidOptions {
                reason: format!(
                    "a time must be a finite number of milliseconds since the epoch within the years 0000-9999, got {ms}"
                ),
            });
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(Timestamp(rounded as i64))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp such as `2026-01-21T10:00:00.000Z` (OCI's format).
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        let dt = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| Error::invalid_key(format!("bad timestamp {text:?}: {e}")))?;
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Timestamp)
            .map_err(|_| Error::invalid_key(format!("timestamp out of range: {text:?}")))
    }

    /// Formats as RFC 3339 in UTC with millisecond precision, as OCI does
    /// (`2026-01-21T10:00:00.000Z`).
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(dt) => {
                let (y, mo, d) = (dt.year(), u8::from(dt.month()), dt.day());
                let (h, mi, s, milli) = (dt.hour(), dt.minute(), dt.second(), dt.millisecond());
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
            }
            Err(_) => format!("@{}ms", self.0),
        }
    }

    /// This timestamp plus a duration (saturating).
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_ms(d)))
    }

    /// This timestamp minus a duration (saturating).
    pub fn minus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_ms(d)))
    }

    /// The duration from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A source of the current time, injected into the engine.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system wall clock. Not available on `wasm32-unknown-unknown` (bindings supply one).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(duration_ms(d))
    }
}

/// A clock that only moves when told to; cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct ManualClock {
    ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            ms: Arc::new(AtomicI64::new(start.0)),
        }
    }

    /// Moves the clock forward (or backward, for a negative step) by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by a duration.
    pub fn advance(&self, d: Duration) {
        self.advance_ms(duration_ms(d));
    }

    /// Sets the clock to an absolute time.
    pub fn set(&self, t: Timestamp) {
        self.ms.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.ms.load(Ordering::SeqCst))
    }
}

/// A clock backed by a callback (used by bindings whose host owns the time, e.g. wasm).
pub struct FnClock<F>(pub F);

impl<F> fmt::Debug for FnClock<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnClock")
    }
}

impl<F: Fn() -> Timestamp + Send + Sync> Clock for FnClock<F> {
    fn now(&self) -> Timestamp {
        (self.0)()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_in_oci_format() {
        let t = Timestamp::parse_rfc3339("2026-01-21T10:00:00.123Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-21T10:00:00.123Z");
        let t2 = Timestamp::parse_rfc3339("2026-01-21T12:00:00+02:00").unwrap();
        assert_eq!(t2.to_rfc3339(), "2026-01-21T10:00:00.000Z");
    }

    #[test]
    fn float_millis_are_checked_and_rounded() {
        assert_eq!(Timestamp::from_millis_f64(1.6).unwrap().as_millis(), 2);
        assert_eq!(Timestamp::from_millis_f64(-1.0).unwrap().as_millis(), -1);
        let last = Timestamp::from_millis_f64(253_402_300_799_999.0).unwrap();
        assert_eq!(last.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        let first = Timestamp::from_millis_f64(-62_167_219_200_000.0).unwrap();
        assert_eq!(first.to_rfc3339(), "0000-01-01T00:00:00.000Z");
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e20,
            253_402_300_800_000.0,
        ] {
            let err = Timestamp::from_millis_f64(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_OPTIONS", "{bad}");
        }
    }

    #[test]
    fn bad_timestamps_are_invalid_key() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-01 00:00:00",
        ] {
            let e = Timestamp::parse_rfc3339(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_KEY", "{bad}");
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_millis(1000));
        assert_eq!(c.now().as_millis(), 1000);
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now().as_millis(), 3000);
        let c2 = c.clone();
        c2.advance_ms(-500);
        assert_eq!(c.now().as_millis(), 2500);
    }
}
