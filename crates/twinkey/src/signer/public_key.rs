//! RSA public keys for the verifier.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicKey;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY};
use base64ct::{Base64, Encoding};

use super::{pem, private_key};
use crate::error::{Error, Result};

/// An RSA public key to verify signatures with. Cheap to clone.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    parsed: ParsedPublicKey,
    bits: usize,
    fingerprint: String,
}

impl VerifyingKey {
    /// From a `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1) PEM.
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        let block = pem::parse(pem_text).map_err(bad_key)?;
        match block.label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(&block.der),
            other => Err(bad_key(&format!(
                "expected a PUBLIC KEY PEM, found \"{other}\""
            ))),
        }
    }

    /// From SubjectPublicKeyInfo or PKCS#1 `RSAPublicKey` DER (1024 to 8192 bits; see
    /// [`VerifyOptions::min_key_bits`](super::VerifyOptions::min_key_bits)).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let public = PublicKey::from_der(der).map_err(|_| bad_key("not an RSA public key"))?;
        let spki = public
            .as_der()
            .map_err(|_| bad_key("cannot encode the public key"))?;
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, der)
            .map_err(|_| bad_key("unsupported RSA public key size (1024 to 8192 bits)"))?;
        Ok(VerifyingKey {
            inner: Arc::new(KeyInner {
                parsed,
                bits: public.modulus_len() * 8,
                fingerprint: private_key::fingerprint_of(spki.as_ref()),
            }),
        })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.inner.bits
    }

    /// Colon-hex MD5 of the SubjectPublicKeyInfo DER (the OCI fingerprint).
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// Whether `signature` (base64) is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of
    /// `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        Base64::decode_vec(signature).is_ok_and(|sig| self.verify_raw(message, &sig))
    }

    /// Verifies raw signature bytes.
    pub(crate) fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        self.inner.parsed.verify_sig(message, signature).is_ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("bits", &self.inner.bits)
            .field("fingerprint", &self.inner.fingerprint)
            .finish()
    }
}

fn bad_key(reason: &str) -> Error {
    Error::InvalidConfig {
        reason: format!("invalid public key: {reason}"),
    }
}
