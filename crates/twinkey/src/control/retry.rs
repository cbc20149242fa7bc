//! The control-plane retry policy of the OCI SDKs (reference `oci.md` 1.6), as decisions.
//!
//! Retryable: a timeout or a connection failure, 409 with `IncorrectState` or `LockConflict`,
//! any 429, and any 5xx except 501. Everything else is final. At most 8 attempts and 600 s in
//! all. The wait before retry `n` (1 for the first retry) is the Python SDK's default
//! "decorrelated jitter": `min(base × 2ⁿ⁻¹ + jitter × u, cap)` with `u` uniform in `[0, 1)`,
//! base 1 s, jitter 1 s, cap 30 s. A `Retry-After` on the answer raises the wait to that many
//! seconds (never above the cap).
//!
//! `u` comes from the caller ([`RetryRng`]), so schedules are deterministic in vectors; the
//! caller also sleeps. The same `opc-retry-token` must be sent on every retry of one call.

use std::time::Duration;

/// How a call attempt ended, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryOutcome<'a> {
    /// The service answered with a non-2xx status.
    Status {
        /// HTTP status.
        status: u16,
        /// The OCI error code from the body, if any.
        code: Option<&'a str>,
        /// `Retry-After` of the answer, if any.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    Timeout,
    /// The connection could not be made, or broke before the answer's head.
    Connect,
    /// Any other transport failure (TLS, a malformed answer, ...): not retried.
    Transport,
}

impl RetryOutcome<'_> {
    /// An answered status without code or `Retry-After`.
    pub fn status(status: u16) -> Self {
        RetryOutcome::Status {
            status,
            code: None,
            retry_after: None,
        }
    }

    /// Whether the OCI SDKs retry this outcome.
    pub fn is_retryable(&self) -> bool {
        match *self {
            RetryOutcome::Status { status, code, .. } => match status {
                429 => true,
                409 => matches!(code, Some("IncorrectState" | "LockConflict")),
                501 => false,
                500..=599 => true,
                _ => false,
            },
            RetryOutcome::Timeout | RetryOutcome::Connect => true,
            RetryOutcome::Transport => false,
        }
    }
}

/// Why a call is not retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiveUp {
    /// The outcome is final (success statuses never reach the policy).
    NotRetryable,
    /// The attempt budget is used up.
    MaxAttempts,
    /// Waiting would exceed the total time budget.
    MaxElapsed,
}

impl GiveUp {
    /// `not_retryable`, `max_attempts` or `max_elapsed`.
    pub fn code(self) -> &'static str {
        match self {
            GiveUp::NotRetryable => "not_retryable",
            GiveUp::MaxAttempts => "max_attempts",
            GiveUp::MaxElapsed => "max_elapsed",
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then send the call again (re-signed, same `opc-retry-token`).
    Retry {
        /// The wait.
        after: Duration,
    },
    /// Stop and report the last outcome.
    GiveUp(GiveUp),
}

/// A source of uniform random numbers in `[0, 1)` for the jitter (the RNG seam).
pub trait RetryRng {
    /// The next number in `[0, 1)`.
    fn unit(&mut self) -> f64;
}

impl<F: FnMut() -> f64> RetryRng for F {
    fn unit(&mut self) -> f64 {
        self()
    }
}

/// The retry policy; [`RetryPolicy::default`] is the OCI SDKs' default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most attempts in all, the first included (default 8; 1 = no retries).
    pub max_attempts: u32,
    /// Most time from the first attempt to the last retry's start (default 600 s).
    pub max_elapsed: Duration,
    /// Wait before the first retry, doubled on each further retry (default 1 s).
    pub base: Duration,
    /// Most random time added to a wait (default 1 s).
    pub jitter: Duration,
    /// Longest wait (default 30 s).
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(600),
            base: Duration::from_secs(1),
            jitter: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry `retry` (1 for the first), for a uniform `unit` in `[0, 1)`:
    /// `min(base × 2^(retry-1) + floor(jitter × unit), cap)`, in whole milliseconds.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let base = u64::try_from(self.base.as_millis()).unwrap_or(u64::MAX);
        let cap = u64::try_from(self.cap.as_millis()).unwrap_or(u64::MAX);
        let jitter_ms = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        let factor = 1u64
            .checked_shl(retry.saturating_sub(1).min(63))
            .unwrap_or(u64::MAX);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // jitter_ms fits f64 exactly for any realistic value; the product is floored.
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let jitter = ((jitter_ms as f64) * unit).floor() as u64;
        let ms = base.saturating_mul(factor).saturating_add(jitter).min(cap);
        Duration::from_millis(ms)
    }

    /// The decision after attempt number `attempts` (1 for the first) failed with `outcome`,
    /// `elapsed` after the first attempt started; `unit` is a fresh uniform number.
    pub fn decide(
        &self,
        attempts: u32,
        elapsed: Duration,
        outcome: &RetryOutcome<'_>,
        unit: f64,
    ) -> RetryDecision {
        if !outcome.is_retryable() {
            return RetryDecision::GiveUp(GiveUp::NotRetryable);
        }
        if attempts >= self.max_attempts {
            return RetryDecision::GiveUp(GiveUp::MaxAttempts);
        }
        let mut after = self.backoff(attempts, unit);
        if let RetryOutcome::Status {
            retry_after: Some(ra),
            ..
        } = outcome
        {
            after = after.max((*ra).min(self.cap));
        }
        if elapsed.saturating_add(after) > self.max_elapsed {
            return RetryDecision::GiveUp(GiveUp::MaxElapsed);
        }
        RetryDecision::Retry { after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_default_schedule() {
        let p = RetryPolicy::default();
        let ms: Vec<u128> = (1..=7).map(|n| p.backoff(n, 0.0).as_millis()).collect();
        assert_eq!(ms, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(p.backoff(1, 0.999).as_millis(), 1999);
        assert_eq!(p.backoff(200, 0.5).as_millis(), 30000);
        assert_eq!(p.backoff(1, f64::NAN).as_millis(), 1000);
    }

    #[test]
    fn decisions() {
        let p = RetryPolicy::default();
        let busy = RetryOutcome::Status {
            status: 409,
            code: Some("IncorrectState"),
            retry_after: None,
        };
        assert!(
            matches!(p.decide(1, Duration::ZERO, &busy, 0.0), RetryDecision::Retry { after } if after.as_millis() == 1000)
        );
        assert_eq!(
            p.decide(8, Duration::ZERO, &busy, 0.0),
            RetryDecision::GiveUp(GiveUp::MaxAttempts)
        );
        assert_eq!(
            p.decide(1, Duration::from_secs(600), &busy, 0.0),
            RetryDecision::GiveUp(GiveUp::MaxElapsed)
        );
        assert_eq!(
            p.decide(1, Duration::ZERO, &RetryOutcome::status(501), 0.0),
            RetryDecision::GiveUp(GiveUp::NotRetryable)
        );
        let throttled = RetryOutcome::Status {
            status: 429,
            code: None,
            retry_after: Some(Duration::from_secs(90)),
        };
        assert_eq!(
            p.decide(1, Duration::ZERO, &throttled, 0.0),
            RetryDecision::Retry {
                after: Duration::from_secs(30)
            }
        );
        let mut n = 0.0;
        let mut rng = || {
            n += 0.25;
            n
        };
        assert!((rng.unit() - 0.25).abs() < f64::EPSILON);
    }
}
