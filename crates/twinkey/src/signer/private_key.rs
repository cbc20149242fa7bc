//! RSA private keys: PEM (PKCS#1, PKCS#8, encrypted PKCS#8, OpenSSL traditional encryption)
//! to an aws-lc-rs key pair, its fingerprint, and RSASSA-PKCS1-v1_5 SHA-256 signing.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use md5::{Digest, Md5};
use pkcs8::EncryptedPrivateKeyInfoRef;
use zeroize::Zeroizing;

use super::{legacy_pem, pem};
use crate::error::{Error, Result};

/// OCI accepts API signing keys of at least 2048 bits; aws-lc-rs signs 2048 to 8192.
pub(crate) const MIN_BITS: usize = 2048;

/// A parsed RSA private key with its public half precomputed.
pub(crate) struct PrivateKey {
    pair: RsaKeyPair,
    public_der: Vec<u8>,
    fingerprint: String,
    bits: usize,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidPrivateKey {
        reason: reason.into(),
    }
}

/// Colon-hex MD5 of a SubjectPublicKeyInfo DER (the OCI key fingerprint).
pub(crate) fn fingerprint_of(spki_der: &[u8]) -> String {
    let digest = Md5::digest(spki_der);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.join(":")
}

impl PrivateKey {
    /// Parses a PEM RSA private key. `passphrase` decrypts an encrypted key and is ignored for
    /// an unencrypted one (as the SDKs do). Errors: `INVALID_PRIVATE_KEY` (corrupted PEM, not
    /// RSA, under 2048 bits, unsupported encryption), `BAD_PASSPHRASE` (missing or wrong).
    pub(crate) fn from_pem(text: &str, passphrase: Option<&str>) -> Result<Self> {
        let block = pem::parse(text).map_err(invalid)?;
        let pair = match block.label.as_str() {
            "RSA PRIVATE KEY" if legacy_pem::is_encrypted(&block) => {
                let der = legacy_pem::decrypt(&block, passphrase)?;
                // A wrong pass phrase that happens to yield valid padding decodes to garbage.
                RsaKeyPair::from_der(&der).map_err(|_| Error::BadPassphrase)?
            }
            "RSA PRIVATE KEY" => {
                RsaKeyPair::from_der(&block.der).map_err(|e| rejected("PKCS#1", &e))?
            }
            "PRIVATE KEY" => {
                RsaKeyPair::from_pkcs8(&block.der).map_err(|e| rejected("PKCS#8", &e))?
            }
            "ENCRYPTED PRIVATE KEY" => {
                let der = decrypt_pkcs8(&block.der, passphrase)?;
                RsaKeyPair::from_pkcs8(&der).map_err(|e| rejected("PKCS#8", &e))?
            }
            other => {
                return Err(invalid(format!(
                    "expected an RSA private key PEM, found \"{other}\""
                )));
            }
        };
        Self::from_pair(pair)
    }

    fn from_pair(pair: RsaKeyPair) -> Result<Self> {
        let public_der = pair
            .public_key()
            .as_der()
            .map(|d: PublicKeyX509Der<'static>| d.as_ref().to_vec())
            .map_err(|_| invalid("cannot encode the public key"))?;
        let bits = pair.public_modulus_len() * 8;
        Ok(PrivateKey {
            fingerprint: fingerprint_of(&public_der),
            public_der,
            bits,
            pair,
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        // aws-lc-rs ignores the RNG for PKCS#1 v1.5 (deterministic); the API still takes one.
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| Error::SigningFailed {
                reason: "RSA signing failed".into(),
            })?;
        Ok(signature)
    }

    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// The SubjectPublicKeyInfo DER.
    pub(crate) fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }
}

/// Maps aws-lc-rs's rejection to a useful message (never key material).
fn rejected(format: &str, e: &aws_lc_rs::error::KeyRejected) -> Error {
    match e.description_() {
        "TooSmall" => invalid(format!(
            "the RSA key is smaller than {MIN_BITS} bits; OCI API signing keys must be at least \
             {MIN_BITS} bits"
        )),
        "TooLarge" => invalid("the RSA key is larger than 8192 bits"),
        _ => invalid(format!(
            "the {format} data is not a valid RSA private key (corrupted, or another key type)"
        )),
    }
}

/// The most PBKDF2 iterations an encrypted key may ask for (OpenSSL writes 2 048; OWASP's
/// advice for PBKDF2-SHA256 is 600 000). More would let a key file stall the process.
pub const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

/// The most memory scrypt may ask for (128 · r · N bytes), and its largest `p`.
pub const MAX_SCRYPT_BYTES: u64 = 256 << 20;
/// See [`MAX_SCRYPT_BYTES`].
pub const MAX_SCRYPT_PARALLELISM: u16 = 4;

/// Refuses key-derivation parameters that would cost minutes or gigabytes before the pass
/// phrase is even tried.
fn check_cost(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<()> {
    use pkcs8::pkcs5::pbes2::Kdf;
    let Some(params) = scheme.pbes2() else {
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => Err(invalid(format!(
            "the ENCRYPTED PRIVATE KEY asks for {} PBKDF2 iterations (at most \
             {MAX_PBKDF2_ITERATIONS} are accepted)",
            p.iteration_count
        ))),
        Kdf::Scrypt(p) => {
            let bytes = 128u64
                .saturating_mul(u64::from(p.block_size))
                .saturating_mul(p.cost_parameter);
            if bytes > MAX_SCRYPT_BYTES || p.parallelization > MAX_SCRYPT_PARALLELISM {
                Err(invalid(format!(
                    "the ENCRYPTED PRIVATE KEY asks scrypt for {} MiB with p = {} (at most \
                     {} MiB and p = {MAX_SCRYPT_PARALLELISM} are accepted)",
                    bytes >> 20,
                    p.parallelization,
                    MAX_SCRYPT_BYTES >> 20
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Decrypts an `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2: PBKDF2 or scrypt, AES-CBC/GCM or
/// DES-EDE3-CBC).
fn decrypt_pkcs8(der: &[u8], passphrase: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let info = EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|_| invalid("the ENCRYPTED PRIVATE KEY block is corrupted"))?;
    check_cost(&info.encryption_algorithm)?;
    let passphrase = passphrase.ok_or(Error::BadPassphrase)?;
    match info.decrypt(passphrase.as_bytes()) {
        Ok(doc) => Ok(Zeroizing::new(doc.as_bytes().to_vec())),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed)) => {
            Err(Error::BadPassphrase)
        }
        // Decrypted with valid padding but not DER: a wrong pass phrase.
        Err(pkcs8::Error::Asn1(_)) => Err(Error::BadPassphrase),
        Err(pkcs8::Error::EncryptedPrivateKey(e)) => Err(invalid(format!(
            "unsupported PKCS#8 encryption ({e}); convert the key with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        ))),
        Err(_) => Err(invalid("the ENCRYPTED PRIVATE KEY block is corrupted")),
    }
}
