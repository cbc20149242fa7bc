//! Engine options as JS passes them (`new Engine(key, { prefer, ...Ms })`), converted to the
//! core's [`twinkey::EngineOptions`]; the core validates them (`INVALID_OPTIONS`).

use napi_derive::napi;

use crate::time::duration;

/// Options of an engine; durations in milliseconds. Unset fields take the core's defaults.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// The secret to use whenever it is usable; unset: keep the one in use (sticky).
    pub prefer: Option<String>,
    /// Margin before a secret's end of validity at which it stops being used (default 60 000).
    pub expiry_skew_ms: Option<f64>,
    /// First pause of a rejected secret (default 30 000); doubles per further rejection.
    pub cooldown_base_ms: Option<f64>,
    /// Cap of that pause (default 900 000).
    pub cooldown_max_ms: Option<f64>,
    /// Window of the early-warning event before a secret's end of validity (default 14 days).
    pub expiring_soon_window_ms: Option<f64>,
    /// How long a half-open probe holds its secret (default 30 000).
    pub probe_lease_ms: Option<f64>,
    /// Hosts besides OCI Generative AI inference hosts and loopback that secrets may be sent to
    /// (`host`, `*.domain`, `http://host` for plain HTTP).
    pub allowed_hosts: Option<Vec<String>>,
    /// The key's tokens-per-minute budget (`{tokensPerMinute, perModel, policy, maxWaitMs,
    /// defaultOutputTokens, highWater}`); unset: none.
    pub budget: Option<serde_json::Value>,
    /// `rejection_burst` fires at this many rejections of one secret (default 10, at least 2).
    pub rejection_burst: Option<u32>,
    /// ... within this window (default 60 000).
    pub rejection_burst_window_ms: Option<f64>,
}

impl EngineOptions {
    /// The core's options: defaults, overridden by the fields that are set.
    pub(crate) fn to_core(&self) -> twinkey::Result<twinkey::EngineOptions> {
        let mut o = twinkey::EngineOptions {
            prefer: self.prefer.clone(),
            allowed_hosts: self.allowed_hosts.clone().unwrap_or_default(),
            budget: self
                .budget
                .as_ref()
                .map(twinkey::BudgetOptions::from_json_value)
                .transpose()?,
            ..twinkey::EngineOptions::default()
        };
        let fields = [
            ("expirySkewMs", self.expiry_skew_ms, &mut o.expiry_skew),
            (
                "cooldownBaseMs",
                self.cooldown_base_ms,
                &mut o.cooldown_base,
            ),
            ("cooldownMaxMs", self.cooldown_max_ms, &mut o.cooldown_max),
            (
                "expiringSoonWindowMs",
                self.expiring_soon_window_ms,
                &mut o.expiring_soon_window,
            ),
            ("probeLeaseMs", self.probe_lease_ms, &mut o.probe_lease),
            (
                "rejectionBurstWindowMs",
                self.rejection_burst_window_ms,
                &mut o.alerts.rejection_burst_window,
            ),
        ];
        if let Some(n) = self.rejection_burst {
            o.alerts.rejection_burst = n;
        }
        for (name, ms, slot) in fields {
            if let Some(ms) = ms {
                *slot = duration(name, ms)?;
            }
        }
        Ok(o)
    }
}
