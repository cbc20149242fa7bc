//! base64url without padding (RFC 7515 section 2), strict: padding, `+`/`/`, whitespace and
//! non-canonical trailing bits are refused, so a token has exactly one spelling.
//!
//! Token segments are public, so [`decode`] is a plain table decoder (fast); key material goes
//! through [`decode_secret`] (constant time, `base64ct`).

use base64ct::{Base64UrlUnpadded, Encoding};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INVALID: u8 = 0xFF;
const DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Encodes bytes as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes strict unpadded base64url (public data); `None` when the text is not canonical
/// base64url.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut chunks = s.chunks_exact(4);
    for c in &mut chunks {
        let mut n = 0u32;
        for &ch in c {
            let v = DECODE[usize::from(ch)];
            if v == INVALID {
                return None;
            }
            n = (n << 6) | u32::from(v);
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut n = 0u32;
        for &ch in rest {
            let v = DECODE[usize::from(ch)];
            if v == INVALID {
                return None;
            }
            n = (n << 6) | u32::from(v);
        }
        // 2 characters carry 1 byte (+4 zero bits), 3 carry 2 bytes (+2 zero bits).
        let (bytes, spare) = if rest.len() == 2 { (1, 4) } else { (2, 2) };
        if n & ((1 << spare) - 1) != 0 {
            return None;
        }
        let n = n >> spare;
        if bytes == 2 {
            out.push((n >> 8) as u8);
        }
        out.push(n as u8);
    }
    Some(out)
}

/// Decodes strict unpadded base64url key material, in constant time.
pub(crate) fn decode_secret(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").as_deref(), Some(&b"\xfb\xff"[..]));
        // Padding, the standard alphabet, whitespace and a non-canonical last character.
        for bad in ["-_8=", "+/8", "-_ 8", "-_9", "A", "QR", "QUF"] {
            assert_eq!(decode(bad), None, "{bad}");
            assert_eq!(decode_secret(bad), None, "{bad}");
        }
        assert_eq!(decode("").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn agrees_with_base64ct_on_every_length() {
        for len in 0..70u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(len))
                .collect();
            let ours = encode(&data);
            assert_eq!(ours, Base64UrlUnpadded::encode_string(&data));
            assert_eq!(decode(&ours).as_deref(), Some(&data[..]));
            assert_eq!(decode_secret(&ours).as_deref(), Some(&data[..]));
        }
    }
}
