//! Key watch: what a key document observed while an application runs means for its engine,
//! and when to look again.
//!
//! An application's engine can follow its key from the control plane (a signed `GetApiKey`
//! every so often) or from a key file that it reloads when it changes. Either way the watcher
//! hands the observed document to [`crate::Engine::follow_key`], which asks [`follow`] what
//! changed: new values (a file only: the service never shows a value again), states, expiries
//! and the preference a rotation recorded on the key (the freeform tags
//! [`PREFERRED_TAG`]/[`PREFERRED_FINGERPRINT_TAG`]). A preference is followed only when the
//! engine holds exactly the value the rotation verified, so a watcher with a stale value keeps
//! sending with the secret that works. [`WatchOptions`] say how often to look, with jitter
//! and backoff, and how long a rotation waits for watchers before it retires the old secret.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::key::{ApiKey, Slot};
use crate::secret::SecretState;

/// The freeform tag naming the secret a rotation switched to (`key-one`/`key-two`).
pub const PREFERRED_TAG: &str = "twinkey-preferred";
/// The freeform tag with the fingerprint of the value that rotation verified.
pub const PREFERRED_FINGERPRINT_TAG: &str = "twinkey-preferred-fingerprint";

/// Where an observed key document came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WatchSource {
    /// A key file (it may carry values).
    File,
    /// The control plane's `GetApiKey` (never carries values).
    ControlPlane,
}

impl WatchSource {
    /// `file` or `controlPlane`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchSource::File => "file",
            WatchSource::ControlPlane => "controlPlane",
        }
    }

    /// From [`WatchSource::as_str`] (`INVALID_OPTIONS` otherwise).
    pub fn parse(text: &str) -> Result<WatchSource> {
        match text {
            "file" => Ok(WatchSource::File),
            "controlPlane" => Ok(WatchSource::ControlPlane),
            other => Err(Error::InvalidOptions {
                reason: format!("unknown watch source {other:?} (file or controlPlane)"),
            }),
        }
    }
}

/// One thing an observed document changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "camelCase")]
pub enum KeyChange {
    /// The secret has a new value (from a file); its health starts clean.
    Value {
        /// The secret.
        secret: String,
        /// Fingerprint of the new value.
        fingerprint: String,
    },
    /// The secret's state changed.
    State {
        /// The secret.
        secret: String,
        /// The state held before.
        from: String,
        /// The state observed.
        to: String,
    },
    /// The secret's expiry changed.
    Expiry {
        /// The secret.
        secret: String,
        /// The expiry held before (RFC 3339), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The expiry observed, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// A rotation's preference, followed.
    Prefer {
        /// The secret preferred from now on.
        secret: String,
    },
    /// A rotation's preference, not followed.
    PreferIgnored {
        /// The secret the key's tags name.
        secret: String,
        /// `unknown_secret`, `no_value` (nothing held for it), `stale_value` (the value held is
        /// not the one the rotation verified) or `not_active`.
        reason: String,
    },
}

impl std::fmt::Display for KeyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or_none = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".into());
        match self {
            KeyChange::Value {
                secret,
                fingerprint,
            } => write!(f, "{secret} has a new value (fp {fingerprint})"),
            KeyChange::State { secret, from, to } => write!(f, "{secret} is {to} (was {from})"),
            KeyChange::Expiry { secret, from, to } => write!(
                f,
                "{secret} expires {} (was {})",
                or_none(to),
                or_none(from)
            ),
            KeyChange::Prefer { secret } => {
                write!(f, "{secret} is preferred (a rotation's switch)")
            }
            KeyChange::PreferIgnored { secret, reason } => write!(
                f,
                "the rotation's preference for {secret} is not followed ({reason})"
            ),
        }
    }
}

/// What [`follow`] decided.
#[derive(Clone, Debug)]
pub struct KeyUpdate {
    /// The key the engine holds from now on: the observed states, expiries and metadata, with
    /// the observed values where the document has them and the held ones elsewhere.
    pub key: ApiKey,
    /// What changed, in key order (secret one, secret two, then the preference).
    pub changes: Vec<KeyChange>,
    /// The secret to prefer from now on, when the document names one that can be followed.
    pub prefer: Option<String>,
}

impl KeyUpdate {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// `{"changes": [...], "prefer": name|null}` (no values).
    pub fn to_json_value(&self) -> Value {
        serde_json::json!({ "changes": self.changes, "prefer": self.prefer })
    }
}

fn tag<'a>(key: &'a ApiKey, name: &str) -> Option<&'a str> {
    key.freeform_tags.as_ref()?.get(name)?.as_str()
}

/// What `observed` (from `source`) means for an engine holding `held`.
///
/// `INVALID_KEY` when the document is another key (a different OCID) or names its secrets
/// differently: a watcher never replaces the key it follows with another one.
pub fn follow(held: &ApiKey, observed: &ApiKey, source: WatchSource) -> Result<KeyUpdate> {
    if let (Some(a), Some(b)) = (&held.id, &observed.id)
        && a != b
    {
        return Err(Error::invalid_key(format!(
            "the watched document is key {b}, not {a}, the key this engine follows"
        )));
    }
    let mut key = observed.clone();
    let mut changes = Vec::new();
    let mut secrets = [
        held.secret(Slot::One).clone(),
        held.secret(Slot::Two).clone(),
    ];
    for slot in Slot::BOTH {
        let (was, seen) = (held.secret(slot), observed.secret(slot));
        if was.name != seen.name {
            return Err(Error::invalid_key(format!(
                "the watched document names secret {} {:?}, the engine holds {:?}",
                slot.index() + 1,
                seen.name,
                was.name
            )));
        }
        let mut next = seen.clone();
        match (&seen.value, source) {
            (Some(v), WatchSource::File) => {
                if was.value.as_ref().map(|w| w.fingerprint()) != Some(v.fingerprint()) {
                    changes.push(KeyChange::Value {
                        secret: seen.name.clone(),
                        fingerprint: v.fingerprint().to_string(),
                    });
                }
            }
            // The service never shows a value again; a value in such a document is not taken.
            _ => {
                next.value = was.value.clone();
                next.reference = was.reference.clone();
            }
        }
        if was.state != seen.state {
            changes.push(KeyChange::State {
                secret: seen.name.clone(),
                from: was.state.as_str().to_string(),
                to: seen.state.as_str().to_string(),
            });
        }
        if was.time_expiry != seen.time_expiry {
            changes.push(KeyChange::Expiry {
                secret: seen.name.clone(),
                from: was.time_expiry.map(|t| t.to_rfc3339()),
                to: seen.time_expiry.map(|t| t.to_rfc3339()),
            });
        }
        secrets[slot.index()] = next;
    }
    let [one, two] = secrets;
    let ids = (key.id.take(), key.display_name.take());
    let mut merged = ApiKey::new(one, two)?;
    (merged.id, merged.display_name) = ids;
    merged.id = merged.id.or_else(|| held.id.clone());
    merged.description = key.description.take();
    merged.compartment_id = key.compartment_id.take();
    merged.region = key.region.take().or_else(|| held.region.clone());
    merged.lifecycle_state = key.lifecycle_state.take();
    merged.lifecycle_details = key.lifecycle_details.take();
    merged.time_created = key.time_created;
    merged.time_updated = key.time_updated;
    merged.freeform_tags = key.freeform_tags.take();
    merged.defined_tags = key.defined_tags.take();
    merged.system_tags = key.system_tags.take();
    let (before, now) = (preference(held), preference(&merged));
    let mut prefer = None;
    match &now {
        Some((name, None)) => {
            prefer = Some(name.clone());
            if before != now {
                changes.push(KeyChange::Prefer {
                    secret: name.clone(),
                });
            }
        }
        Some((name, Some(reason))) if before != now => changes.push(KeyChange::PreferIgnored {
            secret: name.clone(),
            reason: (*reason).to_string(),
        }),
        _ => {}
    }
    Ok(KeyUpdate {
        key: merged,
        changes,
        prefer,
    })
}

/// The freeform tags a rotation's switch to `secret` gives the key: the key's own tags, with
/// [`PREFERRED_TAG`] set to `secret` and [`PREFERRED_FINGERPRINT_TAG`] to the fingerprint of
/// the value it verified (removed when that value is not known here). Non-string tag values
/// (OCI's freeform tags are strings) are dropped.
pub fn preference_tags(
    key: &ApiKey,
    secret: &str,
    fingerprint: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let mut tags: std::collections::BTreeMap<String, String> = key
        .freeform_tags
        .as_ref()
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    tags.insert(PREFERRED_TAG.into(), secret.into());
    match fingerprint {
        Some(fp) => tags.insert(PREFERRED_FINGERPRINT_TAG.into(), fp.into()),
        None => tags.remove(PREFERRED_FINGERPRINT_TAG),
    };
    tags
}

/// Whether `key`'s tags already say what [`preference_tags`] would.
pub fn prefers(key: &ApiKey, secret: &str, fingerprint: Option<&str>) -> bool {
    tag(key, PREFERRED_TAG) == Some(secret) && tag(key, PREFERRED_FINGERPRINT_TAG) == fingerprint
}

/// The secret a key's tags prefer, and why it cannot be followed (`None`: it can).
fn preference(key: &ApiKey) -> Option<(String, Option<&'static str>)> {
    let name = tag(key, PREFERRED_TAG)?;
    let wanted = tag(key, PREFERRED_FINGERPRINT_TAG);
    let reason = match key.slot_of(name) {
        Err(_) => Some("unknown_secret"),
        Ok(slot) => {
            let s = key.secret(slot);
            match (&s.value, wanted) {
                (None, _) => Some("no_value"),
                (Some(v), Some(fp)) if v.fingerprint() != fp => Some("stale_value"),
                _ if s.state != SecretState::Active => Some("not_active"),
                _ => None,
            }
        }
    };
    Some((name.to_string(), reason))
}

/// How often a watcher looks at its key, and how long a rotation waits for watchers.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchOptions {
    /// Time between looks when all is well (default 30 s for the control plane, 5 s for a
    /// file; see [`WatchOptions::for_source`]).
    pub interval: Duration,
    /// Each delay is spread uniformly over `interval × (1 ± jitter)` (default 0.1), so a
    /// fleet's processes do not poll in step.
    pub jitter: f64,
    /// After failures the delay doubles per failure, up to this (default 5 minutes).
    pub max_backoff: Duration,
}

/// The control plane's default watch interval.
pub const DEFAULT_CONTROL_PLANE_INTERVAL: Duration = Duration::from_secs(30);
/// A key file's default watch interval.
pub const DEFAULT_FILE_INTERVAL: Duration = Duration::from_secs(5);

impl Default for WatchOptions {
    fn default() -> Self {
        Self::for_source(WatchSource::ControlPlane)
    }
}

impl WatchOptions {
    /// The defaults for a source.
    pub fn for_source(source: WatchSource) -> Self {
        WatchOptions {
            interval: match source {
                WatchSource::File => DEFAULT_FILE_INTERVAL,
                WatchSource::ControlPlane => DEFAULT_CONTROL_PLANE_INTERVAL,
            },
            jitter: 0.1,
            max_backoff: Duration::from_secs(300),
        }
    }

    /// `INVALID_OPTIONS` for an interval under 10 ms or over a day, a jitter outside
    /// `[0, 0.5]`, or a backoff cap below the interval.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidOptions { reason });
        if self.interval < Duration::from_millis(10) || self.interval > Duration::from_secs(86_400)
        {
            return bad(format!(
                "watch interval {:?} is outside 10 ms..1 day",
                self.interval
            ));
        }
        if !(0.0..=0.5).contains(&self.jitter) {
            return bad(format!("watch jitter {} is outside 0..0.5", self.jitter));
        }
        if self.max_backoff < self.interval {
            return bad("the watch backoff cap is below the interval".into());
        }
        Ok(())
    }

    /// The delay before the next look after `failures` consecutive failed looks (0 after a
    /// success), given `unit`, a uniform random number in `[0, 1)`: `interval × 2^failures`
    /// capped at `max_backoff`, then spread by the jitter.
    pub fn next_delay(&self, failures: u32, unit: f64) -> Duration {
        let base = self.interval.as_secs_f64() * 2f64.powi(failures.min(30) as i32);
        let base = base.min(self.max_backoff.as_secs_f64());
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let spread = 1.0 + self.jitter * (2.0 * unit - 1.0);
        Duration::from_millis((base * spread * 1000.0).round() as u64)
    }

    /// How long a rotation waits after its switch before it retires the old secret, so that
    /// every watcher with these options has looked once: the longest delay plus a second for
    /// the look itself.
    pub fn retire_grace(&self) -> Duration {
        self.next_delay(0, 1.0) + Duration::from_secs(1)
    }

    /// From `{"intervalMs", "jitter", "maxBackoffMs"}` (all optional) over the defaults of
    /// `source`.
    pub fn from_json_value(value: &Value, source: WatchSource) -> Result<WatchOptions> {
        let mut o = WatchOptions::for_source(source);
        let bad = |field: &str| Error::InvalidOptions {
            reason: format!("watch option {field} must be a non-negative number"),
        };
        let ms = |field: &str| -> Result<Option<Duration>> {
            match value.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .map(|n| Some(Duration::from_millis(n)))
                    .ok_or_else(|| bad(field)),
            }
        };
        if let Some(d) = ms("intervalMs")? {
            o.interval = d;
            if value.get("maxBackoffMs").is_none_or(Value::is_null) {
                o.max_backoff = o.max_backoff.max(d);
            }
        }
        if let Some(d) = ms("maxBackoffMs")? {
            o.max_backoff = d;
        }
        match value.get("jitter") {
            None | Some(Value::Null) => {}
            Some(v) => o.jitter = v.as_f64().ok_or_else(|| bad("jitter"))?,
        }
        o.validate()?;
        Ok(o)
    }
}

/// How much longer a rotation whose switch completed at `switched` must wait at `now` before
/// it retires the old secret (zero once `grace` has passed).
pub fn retire_wait(
    switched: crate::time::Timestamp,
    grace: Duration,
    now: crate::time::Timestamp,
) -> Duration {
    grace.saturating_sub(now.since(switched))
}
