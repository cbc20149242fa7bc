//! The listener flags shared by `twinkey relay` and `twinkey emulate`: timeouts, the
//! connection cap and the drain on SIGTERM (defaults: [`Limits::default`]).

use std::time::Duration;

use twinkey_emulator::Limits;

/// Flags for a listener's limits.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitsArgs {
    /// Seconds a new connection has to send a complete request head (slow clients are
    /// closed).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds an idle keep-alive connection may wait for its next request.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    idle_timeout: f64,
    /// Seconds a request body has to arrive whole (else 408).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    body_timeout: f64,
    /// Open connections at most; more are answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) lets requests in flight finish.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    drain_timeout: f64,
}

fn secs(flag: &str, v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
        .ok_or_else(|| format!("--{flag} {v}: give seconds above 0, at most 86400"))
}

impl LimitsArgs {
    /// The limits these flags ask for.
    pub fn limits(&self) -> Result<Limits, crate::output::Failure> {
        let bad = |m: String| crate::output::Failure::new("INVALID_ARGUMENT", m);
        if self.max_connections == 0 {
            return Err(bad("--max-connections 0: give at least 1".into()));
        }
        Ok(Limits {
            header_timeout: secs("header-timeout", self.header_timeout).map_err(bad)?,
            idle_timeout: secs("idle-timeout", self.idle_timeout).map_err(bad)?,
            body_timeout: secs("body-timeout", self.body_timeout).map_err(bad)?,
            max_connections: self.max_connections,
            drain_timeout: secs("drain-timeout", self.drain_timeout).map_err(bad)?,
            ..Limits::default()
        })
    }
}
