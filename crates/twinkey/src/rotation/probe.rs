//! Step 2's verdicts: whether a probe request proves the standby works, and how long to keep
//! trying while a state change propagates.
//!
//! Only a 2xx answer passes. 401, 403 and 404 (OCI answers `NotAuthorizedOrNotFound` for a
//! principal without rights) mean "not (yet) accepted": the change may still be propagating,
//! so the probe is repeated until the timeout. 408, 429, 5xx and transport failures are
//! inconclusive and repeated too. Any other status means the probe request itself is wrong
//! (e.g. a model the region does not serve): it fails at once.

use std::time::Duration;

/// How one probe attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The endpoint answered with this status.
    Status(u16),
    /// No answer (timeout, connection failure).
    Transport,
}

/// The verdict on one probe attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeVerdict {
    /// The secret authenticated and the request succeeded.
    Passed,
    /// Not accepted (yet): try again until the timeout.
    Rejected,
    /// Nothing learned (throttled, server error, no answer): try again until the timeout.
    Inconclusive,
    /// The probe request itself was refused: stop.
    Invalid,
}

impl ProbeVerdict {
    /// `passed`, `rejected`, `inconclusive` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeVerdict::Passed => "passed",
            ProbeVerdict::Rejected => "rejected",
            ProbeVerdict::Inconclusive => "inconclusive",
            ProbeVerdict::Invalid => "invalid",
        }
    }
}

/// Judges one probe attempt.
pub fn judge(outcome: ProbeOutcome) -> ProbeVerdict {
    match outcome {
        ProbeOutcome::Status(200..=299) => ProbeVerdict::Passed,
        ProbeOutcome::Status(401 | 403 | 404) => ProbeVerdict::Rejected,
        ProbeOutcome::Status(408 | 429 | 500..=599) | ProbeOutcome::Transport => {
            ProbeVerdict::Inconclusive
        }
        ProbeOutcome::Status(_) => ProbeVerdict::Invalid,
    }
}

/// What to do after a probe attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeDecision {
    /// The standby is verified.
    Passed,
    /// Wait, then probe again.
    Retry {
        /// The wait.
        after: Duration,
    },
    /// Give up: the standby is not verified (the old secret must stay).
    Failed {
        /// The last verdict.
        verdict: ProbeVerdict,
    },
}

/// How long and how often to probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbePolicy {
    /// Give up this long after the first attempt (default 120 s).
    pub timeout: Duration,
    /// Wait after the first failed attempt (default 250 ms), doubled after each further one.
    pub first_wait: Duration,
    /// Longest wait (default 5 s).
    pub max_wait: Duration,
}

impl Default for ProbePolicy {
    fn default() -> Self {
        ProbePolicy {
            timeout: Duration::from_secs(120),
            first_wait: Duration::from_millis(250),
            max_wait: Duration::from_secs(5),
        }
    }
}

impl ProbePolicy {
    /// The wait after failed attempt number `attempts` (1 for the first).
    pub fn wait(&self, attempts: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempts.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        self.first_wait
            .checked_mul(factor)
            .map_or(self.max_wait, |d| d.min(self.max_wait))
    }

    /// The decision after attempt number `attempts` ended with `outcome`, `elapsed` after
    /// the first attempt started.
    pub fn decide(&self, attempts: u32, elapsed: Duration, outcome: ProbeOutcome) -> ProbeDecision {
        match judge(outcome) {
            ProbeVerdict::Passed => ProbeDecision::Passed,
            ProbeVerdict::Invalid => ProbeDecision::Failed {
                verdict: ProbeVerdict::Invalid,
            },
            verdict => {
                let after = self.wait(attempts);
                if elapsed.saturating_add(after) > self.timeout {
                    ProbeDecision::Failed { verdict }
                } else {
                    ProbeDecision::Retry { after }
                }
            }
        }
    }
}
