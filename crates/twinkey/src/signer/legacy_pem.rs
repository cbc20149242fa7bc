//! OpenSSL's traditional PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info: AES-xxx-CBC,IV`),
//! what `openssl genrsa -aes128` wrote before OpenSSL 3 — the command in the OCI docs. The key
//! is `EVP_BytesToKey(MD5, passphrase, salt = IV[..8], count = 1)`.

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, Algorithm, DecryptionContext, PaddedBlockDecryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::pem::PemBlock;
use crate::error::{Error, Result};

fn unsupported(what: &str) -> Error {
    Error::InvalidPrivateKey {
        reason: format!(
            "unsupported PEM encryption {what}; convert the key with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        ),
    }
}

/// Whether the block carries OpenSSL traditional encryption headers.
pub(crate) fn is_encrypted(block: &PemBlock) -> bool {
    block
        .header("Proc-Type")
        .is_some_and(|v| v.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED"))
}

/// Decrypts the DER of a traditionally encrypted block. A wrong pass phrase gives
/// `BAD_PASSPHRASE` (bad padding) or, rarely, a DER that the caller fails to parse.
pub(crate) fn decrypt(block: &PemBlock, passphrase: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let passphrase = passphrase.ok_or(Error::BadPassphrase)?;
    let info = block
        .header("DEK-Info")
        .ok_or_else(|| unsupported("(Proc-Type ENCRYPTED without DEK-Info)"))?;
    let (cipher, iv_hex) = info
        .split_once(',')
        .ok_or_else(|| unsupported("(malformed DEK-Info)"))?;
    let (algorithm, key_len): (&'static Algorithm, usize) =
        match cipher.trim().to_ascii_uppercase().as_str() {
            "AES-128-CBC" => (&AES_128, 16),
            "AES-192-CBC" => (&AES_192, 24),
            "AES-256-CBC" => (&AES_256, 32),
            other => return Err(unsupported(other)),
        };
    let iv = decode_hex16(iv_hex.trim()).ok_or_else(|| unsupported("(malformed DEK-Info IV)"))?;
    let key = bytes_to_key(passphrase.as_bytes(), &iv[..8], key_len);
    let unbound = UnboundCipherKey::new(algorithm, &key).map_err(|_| unsupported(cipher))?;
    let decrypting =
        PaddedBlockDecryptingKey::cbc_pkcs7(unbound).map_err(|_| unsupported(cipher))?;
    let mut buf = Zeroizing::new(block.der.to_vec());
    let plain_len = decrypting
        .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| Error::BadPassphrase)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// OpenSSL `EVP_BytesToKey` with MD5 and one iteration.
fn bytes_to_key(pass: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut prev: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut h = Md5::new();
        if let Some(p) = prev {
            h.update(p);
        }
        h.update(pass);
        h.update(salt);
        let block: [u8; 16] = h.finalize().into();
        key.extend_from_slice(&block);
        prev = Some(block);
    }
    key.truncate(len);
    key
}

fn decode_hex16(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -md md5 -S 0102030405060708 -pass pass:secret -P`
        let key = bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let hex: String = key.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            hex,
            "C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB"
        );
        let short = bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 16);
        assert_eq!(&key[..16], short.as_slice());
    }

    #[test]
    fn hex_iv() {
        assert_eq!(
            decode_hex16("000102030405060708090A0B0C0D0E0F").unwrap()[15],
            15
        );
        assert!(decode_hex16("00").is_none());
        assert!(decode_hex16("zz0102030405060708090A0B0C0D0E0F").is_none());
    }
}
