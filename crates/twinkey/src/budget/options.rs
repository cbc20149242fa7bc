//! How a [`Budget`](super::Budget) is configured.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::usage::DEFAULT_OUTPUT_TOKENS;

/// What happens to a request the budget cannot admit now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Wait until the window has room, for at most `max_wait` in all; a request that would
    /// wait longer fails with `TPM_BUDGET_EXCEEDED`. The core answers "wait until T"; the
    /// binding sleeps with its own runtime and asks again.
    Wait {
        /// The longest one request waits in all.
        max_wait: Duration,
    },
    /// Fail at once with `TPM_BUDGET_EXCEEDED` (carrying `retry_after`); nothing is sent.
    FailFast,
}

impl Policy {
    /// `wait` or `fail_fast`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Wait { .. } => "wait",
            Policy::FailFast => "fail_fast",
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Wait {
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

/// The default longest wait of [`Policy::Wait`].
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30);

/// The default fraction of a limit above which `budget_high_water` is reported.
pub const DEFAULT_HIGH_WATER: f64 = 0.8;

/// A key's tokens-per-minute budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetOptions {
    /// Tokens per minute for the whole key (every model); `None`: no key-wide limit.
    pub tokens_per_minute: Option<u64>,
    /// Tokens per minute for a model (by the `model` of the request), on top of the key's.
    pub per_model: BTreeMap<String, u64>,
    /// Wait or fail fast.
    pub policy: Policy,
    /// Output tokens assumed for a request that sets no output cap.
    pub default_output_tokens: u64,
    /// Fraction of a limit (0 < x <= 1) above which `budget_high_water` is reported.
    pub high_water: f64,
}

// `high_water` is a finite number in (0, 1] once validated (no NaN), so equality is total.
impl Eq for BudgetOptions {}

impl Default for BudgetOptions {
    fn default() -> Self {
        BudgetOptions {
            tokens_per_minute: None,
            per_model: BTreeMap::new(),
            policy: Policy::default(),
            default_output_tokens: DEFAULT_OUTPUT_TOKENS,
            high_water: DEFAULT_HIGH_WATER,
        }
    }
}

/// The JSON shape bindings and vectors use (`tokensPerMinute`, `perModel`, `policy`,
/// `maxWaitMs`, `defaultOutputTokens`, `highWater`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    tokens_per_minute: Option<u64>,
    #[serde(default)]
    per_model: BTreeMap<String, u64>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    max_wait_ms: Option<u64>,
    #[serde(default)]
    default_output_tokens: Option<u64>,
    #[serde(default)]
    high_water: Option<f64>,
}

impl BudgetOptions {
    /// Options from their JSON shape: `{"tokensPerMinute": 50000, "perModel": {"m": 10000},
    /// "policy": "wait" | "fail_fast", "maxWaitMs": 30000, "defaultOutputTokens": 1024,
    /// "highWater": 0.8}`, every field optional (`null` = the default). `INVALID_OPTIONS` for
    /// an unknown field, a wrong type or an inconsistent value.
    pub fn from_json_value(value: &serde_json::Value) -> Result<Self> {
        let raw = Raw::deserialize(value).map_err(|e| Error::InvalidOptions {
            reason: format!("budget: {e}"),
        })?;
        let policy = match raw.policy.as_deref() {
            None | Some("wait") => Policy::Wait {
                max_wait: raw
                    .max_wait_ms
                    .map_or(DEFAULT_MAX_WAIT, Duration::from_millis),
            },
            Some("fail_fast") if raw.max_wait_ms.is_none() => Policy::FailFast,
            Some("fail_fast") => {
                return Err(Error::InvalidOptions {
                    reason: "budget: maxWaitMs applies to the wait policy only".into(),
                });
            }
            Some(other) => {
                return Err(Error::InvalidOptions {
                    reason: format!("budget: policy must be wait or fail_fast, not {other:?}"),
                });
            }
        };
        let options = BudgetOptions {
            tokens_per_minute: raw.tokens_per_minute,
            per_model: raw.per_model,
            policy,
            default_output_tokens: raw.default_output_tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS),
            high_water: raw.high_water.unwrap_or(DEFAULT_HIGH_WATER),
        };
        options.validate()?;
        Ok(options)
    }

    /// A budget of `tokens_per_minute` for the key, waiting up to [`DEFAULT_MAX_WAIT`].
    pub fn per_minute(tokens_per_minute: u64) -> Self {
        BudgetOptions {
            tokens_per_minute: Some(tokens_per_minute),
            ..Self::default()
        }
    }

    /// Whether any limit is set (an empty budget admits everything and only folds in 429s).
    pub fn is_limited(&self) -> bool {
        self.tokens_per_minute.is_some() || !self.per_model.is_empty()
    }

    /// `INVALID_OPTIONS` for a zero limit, an empty model name, a high-water mark outside
    /// (0, 1] or a wait longer than an hour.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::InvalidOptions {
                reason: format!("budget: {reason}"),
            })
        };
        if self.tokens_per_minute == Some(0) {
            return bad("tokensPerMinute must be at least 1");
        }
        if self.per_model.keys().any(String::is_empty) {
            return bad("a per-model limit needs a model name");
        }
        if self.per_model.values().any(|&v| v == 0) {
            return bad("a per-model limit must be at least 1");
        }
        if !(self.high_water > 0.0 && self.high_water <= 1.0) {
            return bad("highWater must be in (0, 1]");
        }
        if let Policy::Wait { max_wait } = self.policy
            && max_wait > Duration::from_secs(3600)
        {
            return bad("maxWait is at most one hour");
        }
        Ok(())
    }
}
