//! Token signing keys and the key ring: the algorithm is pinned per `kid` by the key itself
//! (RFC 8725 section 3.1), never taken from a token. Keys are read and written as JWKs
//! (RFC 7517; Ed25519 as RFC 8037 `OKP`, HS256 as `oct`), so the same files work with `jose`,
//! PyJWT and other JOSE libraries.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::b64;
use super::error::TokenErrorKind;
use super::rng::Random;
use crate::error::{Error, Result};

/// The shortest HS256 secret accepted, in bytes (RFC 7518 section 3.2: at least the hash size).
pub const MIN_HMAC_KEY_BYTES: usize = 32;
/// The longest `kid` accepted.
pub const MAX_KID_LEN: usize = 128;

/// A token signature algorithm. Only these two exist; `none` and everything else are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 signatures (RFC 8037), the default.
    EdDsa,
    /// HMAC-SHA-256 with a shared secret of at least 32 bytes.
    Hs256,
}

impl Algorithm {
    /// The JOSE name: `EdDSA` or `HS256`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
        }
    }

    /// The algorithm with this exact JOSE name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "EdDSA" => Some(Algorithm::EdDsa),
            "HS256" => Some(Algorithm::Hs256),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum Material {
    Ed25519 {
        public: VerifyingKey,
        private: Option<Box<SigningKey>>,
    },
    Hmac {
        secret: Zeroizing<Vec<u8>>,
        keyed: Hmac<Sha256>,
    },
}

/// One signing or verification key with its `kid` and pinned algorithm.
/// `Debug` shows the `kid`, the algorithm and whether it can sign; never key material.
pub struct TokenKey {
    kid: String,
    material: Material,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm().name())
            .field("can_sign", &self.can_sign())
            .finish()
    }
}

fn key_err(reason: impl Into<String>) -> Error {
    TokenErrorKind::InvalidKey.err(reason)
}

fn check_kid(kid: &str) -> Result<()> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || kid.chars().any(char::is_control) {
        return Err(key_err(format!(
            "a kid must be 1..={MAX_KID_LEN} characters without control characters"
        )));
    }
    Ok(())
}

impl TokenKey {
    /// An Ed25519 key from its 32-byte seed (the JWK `d`); it can sign and verify.
    pub fn ed25519_from_seed(kid: impl Into<String>, seed: &[u8]) -> Result<TokenKey> {
        let kid = kid.into();
        check_kid(&kid)?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.try_into()
                .map_err(|_| key_err(format!("Ed25519 key {kid}: the seed must be 32 bytes")))?,
        );
        let private = Box::new(SigningKey::from_bytes(&seed));
        Ok(TokenKey {
            kid,
            material: Material::Ed25519 {
                public: private.verifying_key(),
                private: Some(private),
            },
        })
    }

    /// An Ed25519 verification-only key from its 32-byte public key (the JWK `x`).
    pub fn ed25519_public(kid: impl Into<String>, public: &[u8]) -> Result<TokenKey> {
        let kid = kid.into();
        check_kid(&kid)?;
        let bytes: [u8; 32] = public
            .try_into()
            .map_err(|_| key_err(format!("Ed25519 key {kid}: x must be 32 bytes")))?;
        let public = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| key_err(format!("Ed25519 key {kid}: x is not a curve point")))?;
        if public.is_weak() {
            return Err(key_err(format!(
                "Ed25519 key {kid}: x is a weak (small-order) key"
            )));
        }
        Ok(TokenKey {
            kid,
            material: Material::Ed25519 {
                public,
                private: None,
            },
        })
    }

    /// An HS256 key from a shared secret of at least [`MIN_HMAC_KEY_BYTES`] bytes.
    pub fn hs256(kid: impl Into<String>, secret: &[u8]) -> Result<TokenKey> {
        let kid = kid.into();
        check_kid(&kid)?;
        if secret.len() < MIN_HMAC_KEY_BYTES {
            return Err(key_err(format!(
                "HS256 key {kid}: the secret must be at least {MIN_HMAC_KEY_BYTES} bytes"
            )));
        }
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|_| key_err(format!("HS256 key {kid}: unusable secret")))?;
        Ok(TokenKey {
            kid,
            material: Material::Hmac {
                secret: Zeroizing::new(secret.to_vec()),
                keyed,
            },
        })
    }

    /// A fresh key drawn from `rng`: a 32-byte Ed25519 seed or a 32-byte HS256 secret.
    pub fn generate(kid: impl Into<String>, alg: Algorithm, rng: &dyn Random) -> Result<TokenKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut())?;
        match alg {
            Algorithm::EdDsa => Self::ed25519_from_seed(kid, bytes.as_ref()),
            Algorithm::Hs256 => Self::hs256(kid, bytes.as_ref()),
        }
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm pinned for this key.
    pub fn algorithm(&self) -> Algorithm {
        match self.material {
            Material::Ed25519 { .. } => Algorithm::EdDsa,
            Material::Hmac { .. } => Algorithm::Hs256,
        }
    }

    /// Whether the key holds private material (an Ed25519 seed or an HMAC secret).
    pub fn can_sign(&self) -> bool {
        match &self.material {
            Material::Ed25519 { private, .. } => private.is_some(),
            Material::Hmac { .. } => true,
        }
    }

    /// Signs the JWS signing input. `None` for a verification-only key.
    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        match &self.material {
            Material::Ed25519 { private, .. } => {
                private.as_ref().map(|k| k.sign(input).to_bytes().to_vec())
            }
            Material::Hmac { keyed, .. } => {
                let mut mac = keyed.clone();
                mac.update(input);
                Some(mac.finalize().into_bytes().to_vec())
            }
        }
    }

    /// Verifies a signature over the JWS signing input with this key's own algorithm. Ed25519:
    /// RFC 8032 verification with a canonical `S` (`S < L`, so no malleated copies) against a
    /// public key already checked not to be of small order when it was loaded; since `R` is
    /// hashed into the challenge, no other encoding of a signature verifies. HMAC tags are
    /// compared in constant time.
    pub(crate) fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Ed25519 { public, .. } => {
                match ed25519_dalek::Signature::from_slice(signature) {
                    Ok(sig) => public.verify(input, &sig).is_ok(),
                    Err(_) => false,
                }
            }
            Material::Hmac { keyed, .. } => {
                let mut mac = keyed.clone();
                mac.update(input);
                let tag = mac.finalize().into_bytes();
                bool::from(tag.as_slice().ct_eq(signature))
            }
        }
    }

    /// Reads one JWK. `alg` is required (it pins the algorithm); `use`, when present, must be
    /// `sig`; other members are ignored.
    pub fn from_jwk(jwk: &Value) -> Result<TokenKey> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| key_err("a JWK must be a JSON object"))?;
        let text = |name: &str| obj.get(name).and_then(Value::as_str);
        let kid = text("kid").ok_or_else(|| key_err("a JWK needs a string kid"))?;
        let alg = text("alg").ok_or_else(|| {
            key_err(format!(
                "JWK {kid}: alg is required (it pins the algorithm)"
            ))
        })?;
        if let Some(u) = obj.get("use")
            && u.as_str() != Some("sig")
        {
            return Err(key_err(format!("JWK {kid}: use must be \"sig\"")));
        }
        let bytes = |name: &str| -> Result<Option<Zeroizing<Vec<u8>>>> {
            match obj.get(name) {
                None => Ok(None),
                Some(v) => v
                    .as_str()
                    .and_then(b64::decode_secret)
                    .map(|b| Some(Zeroizing::new(b)))
                    .ok_or_else(|| key_err(format!("JWK {kid}: {name} is not base64url"))),
            }
        };
        match (Algorithm::from_name(alg), text("kty")) {
            (Some(Algorithm::EdDsa), Some("OKP")) => {
                if text("crv") != Some("Ed25519") {
                    return Err(key_err(format!("JWK {kid}: crv must be Ed25519")));
                }
                let x = bytes("x")?.ok_or_else(|| key_err(format!("JWK {kid}: x is missing")))?;
                match bytes("d")? {
                    Some(d) => {
                        let key = Self::ed25519_from_seed(kid, &d)?;
                        let public = key.public_bytes().unwrap_or_default();
                        if !bool::from(public.as_slice().ct_eq(x.as_slice())) {
                            return Err(key_err(format!("JWK {kid}: x does not match d")));
                        }
                        Ok(key)
                    }
                    None => Self::ed25519_public(kid, &x),
                }
            }
            (Some(Algorithm::Hs256), Some("oct")) => {
                let k = bytes("k")?.ok_or_else(|| key_err(format!("JWK {kid}: k is missing")))?;
                Self::hs256(kid, &k)
            }
            (Some(a), kty) => Err(key_err(format!(
                "JWK {kid}: kty {kty:?} does not fit alg {a}"
            ))),
            (None, _) => Err(key_err(format!(
                "JWK {kid}: unsupported alg {alg:?} (EdDSA or HS256)"
            ))),
        }
    }

    fn public_bytes(&self) -> Option<Vec<u8>> {
        match &self.material {
            Material::Ed25519 { public, .. } => Some(public.to_bytes().to_vec()),
            Material::Hmac { .. } => None,
        }
    }

    /// The key as a JWK. With `private = false` an Ed25519 key gives its public half and an
    /// HS256 key gives `None` (a shared secret has no public half).
    pub fn to_jwk(&self, private: bool) -> Option<Value> {
        match &self.material {
            Material::Ed25519 {
                public,
                private: sk,
            } => {
                let mut jwk = json!({
                    "kty": "OKP", "crv": "Ed25519", "kid": self.kid, "alg": "EdDSA", "use": "sig",
                    "x": b64::encode(public.as_bytes()),
                });
                if private && let (Some(sk), Some(obj)) = (sk, jwk.as_object_mut()) {
                    obj.insert("d".into(), Value::String(b64::encode(sk.as_bytes())));
                }
                Some(jwk)
            }
            Material::Hmac { secret, .. } => private.then(|| {
                json!({
                    "kty": "oct", "kid": self.kid, "alg": "HS256", "use": "sig",
                    "k": b64::encode(secret),
                })
            }),
        }
    }
}

/// The keys a server signs and verifies tokens with: several `kid`s for rotation, one of them
/// the signing key. `Debug` lists kids and algorithms only.
#[derive(Default)]
pub struct KeyRing {
    keys: Vec<TokenKey>,
    signing: Option<usize>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("signing_kid", &self.signing_kid())
            .finish()
    }
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// A ring from a JWK Set (`{"keys": [...]}`) or a single JWK. The signing key is the first
    /// key that can sign; to rotate, put the new key first and keep the old one (or only its
    /// public half) until the tokens it signed have expired.
    pub fn from_json(text: &str) -> Result<KeyRing> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| key_err(format!("the key file is not JSON (line {})", e.line())))?;
        Self::from_jwks(&value)
    }

    /// A ring from a parsed JWK Set or single JWK.
    pub fn from_jwks(value: &Value) -> Result<KeyRing> {
        let mut ring = KeyRing::new();
        match value.get("keys") {
            Some(Value::Array(keys)) => {
                for jwk in keys {
                    ring.insert(TokenKey::from_jwk(jwk)?)?;
                }
            }
            Some(_) => return Err(key_err("keys must be a list of JWKs")),
            None => ring.insert(TokenKey::from_jwk(value)?)?,
        }
        if ring.keys.is_empty() {
            return Err(key_err("the key set is empty"));
        }
        Ok(ring)
    }

    /// Adds a key; a duplicate `kid` is refused. The first key that can sign becomes the
    /// signing key unless one is set.
    pub fn insert(&mut self, key: TokenKey) -> Result<()> {
        if self.get(key.kid()).is_some() {
            return Err(key_err(format!("duplicate kid {}", key.kid())));
        }
        if self.signing.is_none() && key.can_sign() {
            self.signing = Some(self.keys.len());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Removes the key with this `kid` (tokens it signed stop verifying); returns it.
    pub fn remove(&mut self, kid: &str) -> Option<TokenKey> {
        let i = self.keys.iter().position(|k| k.kid == kid)?;
        let signing_kid = self.signing_kid().map(str::to_owned);
        let key = self.keys.remove(i);
        self.signing = match signing_kid {
            Some(s) if s != kid => self.keys.iter().position(|k| k.kid == s),
            _ => self.keys.iter().position(TokenKey::can_sign),
        };
        Some(key)
    }

    /// Makes the key with this `kid` the signing key.
    pub fn set_signing_kid(&mut self, kid: &str) -> Result<()> {
        match self.keys.iter().position(|k| k.kid == kid) {
            Some(i) if self.keys[i].can_sign() => {
                self.signing = Some(i);
                Ok(())
            }
            Some(_) => Err(key_err(format!("key {kid} has no private material"))),
            None => Err(key_err(format!("no key {kid} in the ring"))),
        }
    }

    /// The `kid` new tokens are signed with.
    pub fn signing_kid(&self) -> Option<&str> {
        self.signing.map(|i| self.keys[i].kid())
    }

    pub(crate) fn signing_key(&self) -> Option<&TokenKey> {
        self.signing.map(|i| &self.keys[i])
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&TokenKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The kids in the ring, in order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(TokenKey::kid)
    }

    /// The ring as a JWK Set. `private = false` gives what verifiers elsewhere may hold: the
    /// public halves of Ed25519 keys (HS256 keys are left out).
    pub fn to_jwks(&self, private: bool) -> Value {
        let keys: Vec<Value> = self.keys.iter().filter_map(|k| k.to_jwk(private)).collect();
        let mut set = Map::new();
        set.insert("keys".into(), Value::Array(keys));
        Value::Object(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::rng::FixedRandom;

    fn ed(kid: &str, byte: u8) -> TokenKey {
        TokenKey::ed25519_from_seed(kid, &[byte; 32]).unwrap()
    }

    #[test]
    fn jwk_round_trip_and_debug_hides_material() {
        let k = ed("k1", 7);
        let jwk = k.to_jwk(true).unwrap();
        let back = TokenKey::from_jwk(&jwk).unwrap();
        assert_eq!(back.sign(b"x"), k.sign(b"x"));
        let public = TokenKey::from_jwk(&k.to_jwk(false).unwrap()).unwrap();
        assert!(!public.can_sign());
        let sig = k.sign(b"msg").unwrap();
        assert!(public.verify(b"msg", &sig));
        assert!(!public.verify(b"msG", &sig));
        let d = jwk["d"].as_str().unwrap().to_owned();
        let dbg = format!("{k:?} {:?}", KeyRing::from_jwks(&jwk).unwrap());
        assert!(!dbg.contains(&d), "{dbg}");
        assert!(dbg.contains("k1") && dbg.contains("EdDSA"), "{dbg}");

        let h = TokenKey::hs256("h1", &[9u8; 32]).unwrap();
        assert_eq!(h.to_jwk(false), None);
        let hb = TokenKey::from_jwk(&h.to_jwk(true).unwrap()).unwrap();
        assert!(hb.verify(b"m", &h.sign(b"m").unwrap()));
        assert!(!hb.verify(b"m", &[0u8; 32]));
        assert!(!hb.verify(b"m", &[]));
        assert!(!format!("{h:?}").contains("k\":"));
    }

    #[test]
    fn bad_jwks_are_invalid_token_key() {
        let good = ed("k", 1).to_jwk(true).unwrap();
        let mut mismatched = good.clone();
        mismatched["x"] = ed("k", 2).to_jwk(false).unwrap()["x"].clone();
        let mut no_alg = good.clone();
        no_alg.as_object_mut().unwrap().remove("alg");
        let mut none_alg = good.clone();
        none_alg["alg"] = "none".into();
        let mut swapped = good.clone();
        swapped["alg"] = "HS256".into();
        let mut enc = good.clone();
        enc["use"] = "enc".into();
        let cases = [
            mismatched,
            no_alg,
            none_alg,
            swapped,
            enc,
            json!({"kty":"oct","kid":"h","alg":"HS256","k": b64::encode(&[1u8; 16])}),
            json!({"kty":"OKP","crv":"X25519","kid":"x","alg":"EdDSA","x": b64::encode(&[1u8; 32])}),
            json!({"kty":"OKP","crv":"Ed25519","kid":"x","alg":"EdDSA","x": "not base64!"}),
            json!({"kty":"OKP","crv":"Ed25519","kid":"","alg":"EdDSA","x": good["x"]}),
            json!([1]),
        ];
        for c in cases {
            let e = TokenKey::from_jwk(&c).unwrap_err();
            assert_eq!(e.code(), "INVALID_TOKEN_KEY", "{c}");
        }
        // A small-order point is refused as a verification key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(TokenKey::ed25519_public("w", &identity).is_err());
    }

    #[test]
    fn ring_rotation_keeps_one_signing_key() {
        let mut ring = KeyRing::new();
        ring.insert(TokenKey::from_jwk(&ed("old", 1).to_jwk(false).unwrap()).unwrap())
            .unwrap();
        assert_eq!(ring.signing_kid(), None);
        ring.insert(ed("new", 2)).unwrap();
        ring.insert(ed("next", 3)).unwrap();
        assert_eq!(ring.signing_kid(), Some("new"));
        assert!(ring.insert(ed("new", 4)).is_err());
        ring.set_signing_kid("next").unwrap();
        assert!(ring.set_signing_kid("old").is_err());
        ring.remove("next");
        assert_eq!(ring.signing_kid(), Some("new"));
        assert_eq!(ring.kids().collect::<Vec<_>>(), ["old", "new"]);
        let public = ring.to_jwks(false);
        assert_eq!(public["keys"].as_array().unwrap().len(), 2);
        assert!(public["keys"][1].get("d").is_none());
        let text = ring.to_jwks(true).to_string();
        let again = KeyRing::from_json(&text).unwrap();
        assert_eq!(again.signing_kid(), Some("new"));
        assert!(KeyRing::from_json(r#"{"keys":[]}"#).is_err());
        assert!(KeyRing::from_json("nope").is_err());
    }

    #[test]
    fn generated_keys_come_from_the_injected_rng() {
        let rng = FixedRandom::new(vec![5u8; 32]);
        let k = TokenKey::generate("g", Algorithm::EdDsa, &rng).unwrap();
        assert_eq!(k.sign(b"m"), ed("g", 5).sign(b"m"));
        let h = TokenKey::generate("h", Algorithm::Hs256, &rng).unwrap();
        assert_eq!(h.algorithm(), Algorithm::Hs256);
    }
}
