//! Fixtures shared by the fuzz targets: keys and rings read from the shared test vectors, so
//! every target starts from the same known-good material the other suites use.

use std::sync::OnceLock;

use twinkey::Signer;
use twinkey::token::KeyRing;

/// The RSA signing key `rsa2048-pkcs1` of `tests/vectors/signing/keys.json`.
pub fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let keys: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/signing/keys.json")).unwrap();
        let pem = keys["keys"]["rsa2048-pkcs1"]["private_key_pem"].as_str().unwrap();
        Signer::from_pem(KEY_ID, pem, None).unwrap()
    })
}

/// The key id [`signer`] signs with.
pub const KEY_ID: &str = "ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/20:3b:97:13:55:1c";

/// The token ring `main` of `tests/vectors/tokens/keys.json` (EdDSA and HS256 keys, private).
pub fn ring() -> KeyRing {
    static JWKS: OnceLock<String> = OnceLock::new();
    let text = JWKS.get_or_init(|| {
        let keys: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/tokens/keys.json")).unwrap();
        keys["rings"]["main"].to_string()
    });
    KeyRing::from_json(text).unwrap()
}

/// [`ring`], built once (for targets that only verify).
pub fn shared_ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(ring)
}

/// Splits `data` into chunks at the cut points given by its first bytes (for parsers fed in
/// pieces): returns the payload and the chunk lengths.
pub fn chunks(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let n = usize::from(n % 8).min(rest.len());
    let (cuts, payload) = rest.split_at(n);
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let len = usize::from(c).min(payload.len() - at);
        out.push(&payload[at..at + len]);
        at += len;
    }
    out.push(&payload[at..]);
    (out, payload)
}
