//! Random identifiers: secret values, OCIDs, request ids and object ids.

use std::sync::atomic::{AtomicU64, Ordering};

use twinkey::{Error, Result, SecretValue};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWER32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Length of the random part of a generated secret (after `sk-`).
pub const SECRET_RANDOM_CHARS: usize = 48;

static FALLBACK: AtomicU64 = AtomicU64::new(1);

/// `n` characters drawn uniformly from `alphabet` (rejection sampling over OS randomness).
fn random_chars(alphabet: &[u8], n: usize) -> Option<String> {
    // Largest multiple of the alphabet size that fits in a byte: no modulo bias.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).ok()?;
        for &b in &buf {
            if usize::from(b) < limit && out.len() < n {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    Some(out)
}

/// A fresh secret value: `sk-` followed by 48 random base62 characters. Oracle does not
/// document the format; clients treat it as opaque.
pub fn new_secret(name: &str) -> Result<SecretValue> {
    let mut raw =
        random_chars(BASE62, SECRET_RANDOM_CHARS).ok_or_else(|| Error::InvalidSecret {
            secret: name.to_string(),
            reason: "the system random number generator failed".into(),
        })?;
    raw.insert_str(0, "sk-");
    SecretValue::new(name, raw)
}

/// A new API-key OCID in `region` (`ocid1.generativeaiapikey.oc1.<region>.amaaaaaa...`).
pub fn key_ocid(region: &str) -> String {
    format!(
        "ocid1.generativeaiapikey.oc1.{region}.amaaaaaa{}",
        unique(52)
    )
}

/// A new compartment-like OCID for seeded keys.
pub fn compartment_ocid() -> String {
    format!("ocid1.compartment.oc1..aaaaaaaa{}", unique(52))
}

/// A request id in the Python SDK's style: 32 uppercase hex digits.
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    match getrandom::fill(&mut b) {
        Ok(()) => b.iter().map(|x| format!("{x:02X}")).collect(),
        Err(_) => format!("{:032X}", FALLBACK.fetch_add(1, Ordering::Relaxed)),
    }
}

/// An object id such as `chatcmpl-<24 hex>` or `resp_<24 hex>`.
pub fn object_id(prefix: &str) -> String {
    let mut b = [0u8; 12];
    let hex: String = match getrandom::fill(&mut b) {
        Ok(()) => b.iter().map(|x| format!("{x:02x}")).collect(),
        Err(_) => format!("{:024x}", FALLBACK.fetch_add(1, Ordering::Relaxed)),
    };
    format!("{prefix}{hex}")
}

fn unique(n: usize) -> String {
    random_chars(LOWER32, n)
        .unwrap_or_else(|| format!("{:0>n$}", FALLBACK.fetch_add(1, Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_sk_and_48_base62() {
        let a = new_secret("key-one").unwrap();
        let b = new_secret("key-one").unwrap();
        let v = a.expose();
        assert!(v.starts_with("sk-"));
        assert_eq!(v.len(), 3 + SECRET_RANDOM_CHARS);
        assert!(v[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn ids_have_their_shapes() {
        let id = key_ocid("us-chicago-1");
        assert_eq!(
            twinkey::key::region_from_ocid(&id).as_deref(),
            Some("us-chicago-1")
        );
        let rid = request_id();
        assert_eq!(rid.len(), 32);
        assert!(
            rid.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert!(object_id("resp_").starts_with("resp_"));
    }
}
