//! What processes sharing one key tell each other about its secrets' health (sans I/O): the
//! message format and, in [`crate::Engine::apply_fleet`], what a message from another process
//! means. A transport (Redis pub/sub and keys with TTLs, in `twinkey-client`) carries the
//! messages; every decision about them is here.
//!
//! A message is a JSON object of at most [`MAX_MESSAGE_BYTES`] bytes:
//!
//! ```json
//! {"v":1,"type":"rejected","keyId":"ocid1.generativeaiapikey...","secret":"key-one",
//!  "fingerprint":"80f49e70","status":401,"atMs":1767225600000,"untilMs":1767225630000,
//!  "consecutive":1,"origin":"host-4711-a3f9"}
//! {"v":1,"type":"recovered","keyId":"...","secret":"key-one","fingerprint":"80f49e70",
//!  "atMs":1767225660000,"origin":"host-4711-a3f9"}
//! {"v":1,"type":"retiring","keyId":"...","secret":"key-one","fingerprint":"80f49e70",
//!  "atMs":1767225700000,"untilMs":1767229300000,"standbyFingerprint":"1c2d3e4f",
//!  "origin":"rotation-host-99-0c1d"}
//! ```
//!
//! A `retiring` notice comes from a rotation runner at its switch: the value is about to be
//! retired, so nobody should prefer it any more; `standbyFingerprint` (optional) is the value
//! of the other secret the rotation verified and activated.
//!
//! It names the secret by name and fingerprint, never by value. Fields not listed are ignored
//! (a later version may add some); a wrong type, a missing field or a value out of range is
//! `INVALID_FLEET_MESSAGE`.

pub mod usage;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The message format's version.
pub const VERSION: u64 = 1;

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// The longest cooldown a message may announce (a day): a longer one is refused rather than
/// trusted, since it would bench a secret fleet-wide.
pub const MAX_COOLDOWN_MS: i64 = 86_400_000;

/// What happened, as one process tells the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FleetEvent {
    /// The service rejected the secret; it cools down until `until`.
    Rejected {
        /// The HTTP status (401, or 403 with an authentication code).
        status: u16,
        /// The end of the cooldown.
        until: Timestamp,
        /// Consecutive rejections so far.
        consecutive: u32,
    },
    /// A probe of the secret succeeded: it works again.
    Recovered,
    /// A rotation is retiring this value of the secret: prefer the other one from now on
    /// (the notice counts until `until`, for processes that join later).
    Retiring {
        /// When the notice stops counting.
        until: Timestamp,
        /// The fingerprint of the other secret's value the rotation verified: a process
        /// holding that value takes it as `ACTIVE` (one holding another value of it does not
        /// switch). `None`: no claim about the other secret.
        standby: Option<String>,
    },
}

/// One message between the processes of a fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetMessage {
    /// The key's OCID.
    pub key_id: String,
    /// The secret's name (`key-one`, `key-two`).
    pub secret: String,
    /// The secret's fingerprint: the value the message is about.
    pub fingerprint: String,
    /// When it happened (the sender's clock).
    pub at: Timestamp,
    /// Who sent it (opaque; a process ignores its own messages).
    pub origin: String,
    /// What happened.
    pub event: FleetEvent,
}

/// What [`crate::Engine::apply_fleet`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetOutcome {
    /// The engine took it: the secret cools down (or works again) here too.
    Applied,
    /// The engine left it, for this reason.
    Ignored(IgnoredBecause),
}

/// Why a message was left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoredBecause {
    /// This process sent it.
    Own,
    /// It is about another key (or this engine's key has no OCID).
    OtherKey,
    /// The key has no secret of that name.
    UnknownSecret,
    /// It is about another value of the secret (renewed since, or not yet here).
    OtherValue,
    /// The cooldown it announces is over already.
    Expired,
    /// This process knows as much or more: a cooldown lasting as long, or (for a recovery) a
    /// rejection after it.
    NotNewer,
    /// A recovery of a secret that is not cooling down here.
    NotCoolingDown,
    /// A retiring notice while the other secret cannot take the traffic here.
    NoAlternative,
}

impl FleetOutcome {
    /// `applied`, or `ignored:<reason>` (the vectors' spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            FleetOutcome::Applied => "applied",
            FleetOutcome::Ignored(r) => match r {
                IgnoredBecause::Own => "ignored:own",
                IgnoredBecause::OtherKey => "ignored:other_key",
                IgnoredBecause::UnknownSecret => "ignored:unknown_secret",
                IgnoredBecause::OtherValue => "ignored:other_value",
                IgnoredBecause::Expired => "ignored:expired",
                IgnoredBecause::NotNewer => "ignored:not_newer",
                IgnoredBecause::NotCoolingDown => "ignored:not_cooling_down",
                IgnoredBecause::NoAlternative => "ignored:no_alternative",
            },
        }
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::FleetMessage {
        reason: reason.into(),
    }
}

fn text<'a>(m: &'a Map<String, Value>, field: &str, max: usize) -> Result<&'a str> {
    let s = m
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("{field} must be a string")))?;
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field} must be 1 to {max} bytes without control characters"
        )));
    }
    Ok(s)
}

fn int(m: &Map<String, Value>, field: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64> {
    m.get(field)
        .and_then(Value::as_i64)
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            bad(format!(
                "{field} must be an integer from {} to {}",
                range.start(),
                range.end()
            ))
        })
}

impl FleetMessage {
    /// Reads a message (see the module documentation). `INVALID_FLEET_MESSAGE` for anything
    /// else, with a reason that quotes no field's value.
    pub fn from_json(bytes: &[u8]) -> Result<FleetMessage> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(bad(format!("longer than {MAX_MESSAGE_BYTES} bytes")));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
        let m = v.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let version = m
            .get("v")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("v must be an integer"))?;
        if version != VERSION {
            return Err(bad(format!("version {version} is not supported")));
        }
        let fingerprint = text(m, "fingerprint", 64)?;
        if !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("fingerprint must be hexadecimal"));
        }
        let at = int(m, "atMs", 0..=i64::MAX)?;
        let event = match m.get("type").and_then(Value::as_str) {
            Some("rejected") => {
                let until = int(m, "untilMs", 0..=i64::MAX)?;
                if until < at || until - at > MAX_COOLDOWN_MS {
                    return Err(bad(format!(
                        "untilMs must be from atMs to atMs + {MAX_COOLDOWN_MS}"
                    )));
                }
                FleetEvent::Rejected {
                    status: u16::try_from(int(m, "status", 400..=499)?).unwrap_or(401),
                    until: Timestamp::from_millis(until),
                    consecutive: u32::try_from(int(m, "consecutive", 1..=1_000_000)?).unwrap_or(1),
                }
            }
            Some("recovered") => FleetEvent::Recovered,
            Some("retiring") => {
                let until = int(m, "untilMs", 0..=i64::MAX)?;
                if until < at || until - at > MAX_COOLDOWN_MS {
                    return Err(bad(format!(
                        "untilMs must be from atMs to atMs + {MAX_COOLDOWN_MS}"
                    )));
                }
                let standby = match m.get("standbyFingerprint") {
                    None | Some(Value::Null) => None,
                    Some(_) => {
                        let fp = text(m, "standbyFingerprint", 64)?;
                        if !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return Err(bad("standbyFingerprint must be hexadecimal"));
                        }
                        Some(fp.to_owned())
                    }
                };
                FleetEvent::Retiring {
                    until: Timestamp::from_millis(until),
                    standby,
                }
            }
            _ => {
                return Err(bad(
                    "type must be \"rejected\", \"recovered\" or \"retiring\"",
                ));
            }
        };
        Ok(FleetMessage {
            key_id: text(m, "keyId", 512)?.to_owned(),
            secret: text(m, "secret", 64)?.to_owned(),
            fingerprint: fingerprint.to_owned(),
            at: Timestamp::from_millis(at),
            origin: text(m, "origin", 128)?.to_owned(),
            event,
        })
    }

    /// The message as JSON (what [`FleetMessage::from_json`] reads back).
    pub fn to_json_value(&self) -> Value {
        let mut v = json!({
            "v": VERSION,
            "keyId": self.key_id,
            "secret": self.secret,
            "fingerprint": self.fingerprint,
            "atMs": self.at.as_millis(),
            "origin": self.origin,
        });
        match &self.event {
            FleetEvent::Rejected {
                status,
                until,
                consecutive,
            } => {
                v["type"] = "rejected".into();
                v["status"] = (*status).into();
                v["untilMs"] = until.as_millis().into();
                v["consecutive"] = (*consecutive).into();
            }
            FleetEvent::Recovered => v["type"] = "recovered".into(),
            FleetEvent::Retiring { until, standby } => {
                v["type"] = "retiring".into();
                v["untilMs"] = until.as_millis().into();
                if let Some(fp) = standby {
                    v["standbyFingerprint"] = fp.as_str().into();
                }
            }
        }
        v
    }

    /// [`FleetMessage::to_json_value`] as text.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let m = FleetMessage {
            key_id: "ocid1.k".into(),
            secret: "key-one".into(),
            fingerprint: "80f49e70".into(),
            at: Timestamp::from_millis(1_000),
            origin: "a".into(),
            event: FleetEvent::Rejected {
                status: 401,
                until: Timestamp::from_millis(31_000),
                consecutive: 1,
            },
        };
        assert_eq!(FleetMessage::from_json(m.to_json().as_bytes()).unwrap(), m);
        let e = FleetMessage::from_json(&vec![b' '; MAX_MESSAGE_BYTES + 1]).unwrap_err();
        assert_eq!(e.code(), "INVALID_FLEET_MESSAGE");
        let secretish = br#"{"v":1,"type":"rejected","keyId":"k","secret":"sk-very-secret","fingerprint":"zz","atMs":1,"origin":"o"}"#;
        let e = FleetMessage::from_json(secretish).unwrap_err();
        assert!(!e.to_string().contains("sk-very-secret"), "{e}");
    }
}
