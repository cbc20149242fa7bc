//! Engine options and their defaults (SPEC section 4).

use std::time::Duration;

use super::alerts::AlertOptions;
use crate::error::{Error, Result};

/// How the engine chooses and protects secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineOptions {
    /// The secret to use whenever it is usable; `None` = sticky (keep the one in use).
    pub prefer: Option<String>,
    /// A secret counts as expired this long before its `timeExpiry` (default 60 s).
    pub expiry_skew: Duration,
    /// First cooldown after a rejection (default 30 s); doubles on each further rejection.
    pub cooldown_base: Duration,
    /// Cap of the cooldown (default 15 min).
    pub cooldown_max: Duration,
    /// `expiring_soon` fires when a secret expires within this window (default 14 days).
    pub expiring_soon_window: Duration,
    /// How long a half-open probe holds its secret before another request may probe
    /// (default 30 s; protects against probes that never complete).
    pub probe_lease: Duration,
    /// Hosts besides OCI Generative AI inference hosts and loopback that secrets may be sent
    /// to (`host`, `*.domain`, `http://host` for plain HTTP); see [`crate::destination`].
    pub allowed_hosts: Vec<String>,
    /// The key's tokens-per-minute budget; `None` (the default): no budget, nothing waits.
    pub budget: Option<crate::budget::BudgetOptions>,
    /// Thresholds of the alert events (see [`AlertOptions`]).
    pub alerts: AlertOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            prefer: None,
            expiry_skew: Duration::from_secs(60),
            cooldown_base: Duration::from_secs(30),
            cooldown_max: Duration::from_secs(15 * 60),
            expiring_soon_window: Duration::from_secs(14 * 24 * 3600),
            probe_lease: Duration::from_secs(30),
            allowed_hosts: Vec::new(),
            budget: None,
            alerts: AlertOptions::default(),
        }
    }
}

impl EngineOptions {
    /// Checks the options for consistency.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::InvalidOptions {
                reason: reason.to_string(),
            })
        };
        if self.cooldown_base.is_zero() {
            return bad("cooldown_base must be positive");
        }
        if self.cooldown_max < self.cooldown_base {
            return bad("cooldown_max must be at least cooldown_base");
        }
        if self.probe_lease.is_zero() {
            return bad("probe_lease must be positive");
        }
        let day = Duration::from_secs(24 * 3600);
        if self.expiry_skew > day {
            return bad("expiry_skew must be at most one day");
        }
        if self.cooldown_max > 7 * day || self.expiring_soon_window > 3650 * day {
            return bad("durations are out of range");
        }
        self.alerts.check().or_else(bad)?;
        crate::destination::Destinations::new(&self.allowed_hosts)?;
        if let Some(b) = &self.budget {
            b.validate()?;
        }
        Ok(())
    }

    /// The cooldown after the `n`-th consecutive rejection (0-based): base × 2ⁿ, capped.
    pub fn cooldown_for(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        self.cooldown_base
            .checked_mul(factor)
            .map_or(self.cooldown_max, |d| d.min(self.cooldown_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_doubles_to_the_cap() {
        let o = EngineOptions::default();
        let secs: Vec<u64> = (0..8).map(|n| o.cooldown_for(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(o.cooldown_for(200).as_secs(), 900);
    }

    #[test]
    fn inconsistent_options_are_refused() {
        let o = EngineOptions {
            cooldown_max: Duration::from_secs(1),
            ..EngineOptions::default()
        };
        assert_eq!(o.validate().unwrap_err().code(), "INVALID_OPTIONS");
        let o = EngineOptions {
            cooldown_base: Duration::ZERO,
            ..EngineOptions::default()
        };
        assert!(o.validate().is_err());
        assert!(EngineOptions::default().validate().is_ok());
    }
}
