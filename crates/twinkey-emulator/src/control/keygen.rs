//! RSA key pairs for emulator principals (`twinkey emulate --init`, tests): generated with
//! aws-lc-rs, written as PKCS#8 PEM.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use twinkey::signer::VerifyingKey;
use zeroize::Zeroizing;

/// A fresh RSA key pair.
pub struct PrincipalKey {
    /// The private key, PKCS#8 PEM (`PRIVATE KEY`). Zeroized on drop.
    pub private_pem: Zeroizing<String>,
    /// The public key, SubjectPublicKeyInfo PEM (`PUBLIC KEY`).
    pub public_pem: String,
    /// The verifier for it.
    pub verifying_key: VerifyingKey,
}

impl std::fmt::Debug for PrincipalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalKey")
            .field("fingerprint", &self.verifying_key.fingerprint())
            .finish_non_exhaustive()
    }
}

impl PrincipalKey {
    /// The OCI fingerprint (colon-hex MD5 of the public key).
    pub fn fingerprint(&self) -> &str {
        self.verifying_key.fingerprint()
    }
}

/// PEM armour: base64 in 64-character lines (the core's encoder).
pub use twinkey::signer::pem_encode as pem;

/// Generates an RSA-2048 key pair.
pub fn generate_rsa_2048() -> Result<PrincipalKey, twinkey::Error> {
    let failed = |what: &str| twinkey::Error::SigningFailed {
        reason: format!("cannot generate an RSA key pair: {what}"),
    };
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("generation failed"))?;
    let private: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| failed("cannot encode the private key"))?;
    let public: PublicKeyX509Der<'static> = pair
        .public_key()
        .as_der()
        .map_err(|_| failed("cannot encode the public key"))?;
    let private_pem = Zeroizing::new(pem("PRIVATE KEY", private.as_ref()));
    let public_pem = pem("PUBLIC KEY", public.as_ref());
    let verifying_key = VerifyingKey::from_pem(&public_pem)?;
    Ok(PrincipalKey {
        private_pem,
        public_pem,
        verifying_key,
    })
}
