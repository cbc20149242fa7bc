//! Random ids for control-plane calls and the jitter source of the retry policy.

use twinkey::control::RetryRng;

const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: ids still differ between calls (they are not secrets).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, x) in b.iter_mut().enumerate() {
            *x = u8::try_from((t >> ((i * 7) % 96)) & 0xff).unwrap_or(0);
        }
    }
    b
}

/// An `opc-request-id` as the Python SDK makes it: 32 uppercase hex digits.
pub fn request_id() -> String {
    random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// An `opc-retry-token` as the Python SDK makes it: 30 random alphanumeric characters.
pub fn retry_token() -> String {
    let mut out = String::with_capacity(30);
    while out.len() < 30 {
        for b in random_bytes::<32>() {
            // 248 = 4 × 62: no modulo bias.
            if b < 248 && out.len() < 30 {
                out.push(char::from(ALNUM[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// Jitter from the OS random source.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl RetryRng for OsRng {
    fn unit(&mut self) -> f64 {
        let n = u64::from_le_bytes(random_bytes::<8>()) >> 11;
        // 53 random bits over 2^53: uniform in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let u = n as f64 / (1u64 << 53) as f64;
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let r = request_id();
        assert_eq!(r.len(), 32);
        assert!(
            r.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        let t = retry_token();
        assert_eq!(t.len(), 30);
        assert!(t.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t, retry_token());
        let u = OsRng.unit();
        assert!((0.0..1.0).contains(&u));
    }
}
