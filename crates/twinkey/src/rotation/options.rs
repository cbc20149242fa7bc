//! What a rotation is asked to do.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::key::DEFAULT_RENEW_LIFETIME;

/// How the old secret is retired (step 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Retire {
    /// `INACTIVE`: reversible (the default).
    #[default]
    Deactivate,
    /// `REVOKED`: permanent, for a leaked or retired secret.
    Revoke,
}

impl Retire {
    /// `deactivate` or `revoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            Retire::Deactivate => "deactivate",
            Retire::Revoke => "revoke",
        }
    }
}

/// The options of a rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationOptions {
    /// The secret to rotate to. `None`: the secret that is not in use — when exactly one secret
    /// is `ACTIVE` the other one; when both are, the one expiring later (`key-two` on a tie);
    /// when none is, the rotation is refused until one is named.
    pub standby: Option<String>,
    /// Deactivate (default) or revoke the old secret.
    pub retire: Retire,
    /// Renew the old secret afterwards and park it (`INACTIVE`) as the next standby.
    pub renew_old: bool,
    /// Verify the standby with a real inference request before switching (default true).
    pub probe: bool,
    /// A standby expiring within this window is renewed rather than activated (default 14
    /// days, the engine's `expiring_soon` window).
    pub renew_within: Duration,
    /// Lifetime of a renewed secret (default 90 days, OCI's default).
    pub renew_lifetime: Duration,
}

impl Default for RotationOptions {
    fn default() -> Self {
        RotationOptions {
            standby: None,
            retire: Retire::Deactivate,
            renew_old: false,
            probe: true,
            renew_within: Duration::from_secs(14 * 24 * 3600),
            renew_lifetime: DEFAULT_RENEW_LIFETIME,
        }
    }
}
