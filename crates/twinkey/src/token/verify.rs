//! Verification per RFC 8725: size limit before parsing, strict base64url and JSON (no
//! duplicate members), the algorithm pinned by the key named in `kid` (never chosen by the
//! token; `none` refused), strict Ed25519 and constant-time HMAC checks, then `exp`/`nbf`/`iat`
//! with a bounded skew, a maximal lifetime, the audience and the issuer.

use std::time::Duration;

use super::b64;
use super::claims::Claims;
use super::error::TokenErrorKind;
use super::keys::{Algorithm, KeyRing};
use super::mint::MAX_TTL;
use crate::error::Result;
use crate::time::{Timestamp, duration_ms};

/// The longest token accepted, in bytes; longer input is refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Default allowed clock skew for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Largest clock skew a verifier may allow.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// What a verifier expects of a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    audience: String,
    issuer: Option<String>,
    leeway: Duration,
}

impl VerifyOptions {
    /// Expect this audience (the relay's name); any issuer; 30 s of clock skew.
    pub fn new(audience: impl Into<String>) -> Self {
        VerifyOptions {
            audience: audience.into(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// Also require this issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the allowed clock skew; at most [`MAX_LEEWAY`].
    pub fn leeway(mut self, leeway: Duration) -> Result<Self> {
        if leeway > MAX_LEEWAY {
            return Err(crate::error::Error::InvalidOptions {
                reason: format!("token clock skew is at most {} s", MAX_LEEWAY.as_secs()),
            });
        }
        self.leeway = leeway;
        Ok(self)
    }

    /// The expected audience.
    pub fn expected_audience(&self) -> &str {
        &self.audience
    }

    /// The allowed clock skew.
    pub fn allowed_skew(&self) -> Duration {
        self.leeway
    }
}

/// A token whose signature, times, audience and issuer checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The key that signed it.
    pub kid: String,
    /// That key's algorithm.
    pub algorithm: Algorithm,
    /// The claims.
    pub claims: Claims,
}

fn invalid(reason: impl Into<String>) -> crate::error::Error {
    TokenErrorKind::Invalid.err(reason)
}

/// Splits a compact JWS into its three segments after the size and character checks.
pub(crate) fn segments(token: &str) -> Result<[&str; 3]> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenErrorKind::TooLarge.err(format!(
            "the token is {} bytes, over the {MAX_TOKEN_BYTES}-byte limit",
            token.len()
        )));
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(invalid(
            "the token holds characters outside base64url and '.'",
        ));
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        // An empty signature is left to the algorithm and signature checks, so `alg: none`
        // tokens are refused as such.
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() => Ok([h, p, s]),
        _ => Err(invalid("a token is three segments separated by '.'")),
    }
}

/// Decodes one segment and reads it as a JSON object of type `T` (typed: a member `T` reads
/// that is given twice is an error; unknown members are skipped).
pub(crate) fn json_segment<T: serde::de::DeserializeOwned>(segment: &str, what: &str) -> Result<T> {
    let bytes =
        b64::decode(segment).ok_or_else(|| invalid(format!("the {what} is not base64url")))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(invalid(format!("the {what} is not a JSON object")));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("the {what}: {}", super::strict_json::describe(&e))))
}

/// The JOSE header members twinkey reads.
#[derive(serde::Deserialize)]
struct Header {
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

impl KeyRing {
    /// Verifies `token` at `now` (see the module documentation for the order of checks).
    pub fn verify(
        &self,
        token: &str,
        options: &VerifyOptions,
        now: Timestamp,
    ) -> Result<VerifiedToken> {
        let [h, p, s] = segments(token)?;
        let header: Header = json_segment(h, "header")?;
        let Some(alg) = header.alg.as_deref() else {
            return Err(invalid("the header has no string alg"));
        };
        let Some(claimed) = Algorithm::from_name(alg) else {
            return Err(TokenErrorKind::Algorithm.err(format!(
                "algorithm {:?} is not accepted (EdDSA or HS256, pinned per key)",
                truncate(alg)
            )));
        };
        if header.crit.is_some() {
            return Err(invalid(
                "the header has crit extensions, none are supported",
            ));
        }
        if header
            .typ
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        {
            return Err(invalid("the header typ is not JWT"));
        }
        let Some(kid) = header.kid.as_deref() else {
            return Err(TokenErrorKind::UnknownKey.err("the token names no kid"));
        };
        let key = self.get(kid).ok_or_else(|| {
            TokenErrorKind::UnknownKey.err(format!("no key {:?} in the ring", truncate(kid)))
        })?;
        if key.algorithm() != claimed {
            return Err(TokenErrorKind::Algorithm.err(format!(
                "key {} is pinned to {}, the token says {claimed}",
                key.kid(),
                key.algorithm()
            )));
        }
        let signature = b64::decode(s).ok_or_else(|| invalid("the signature is not base64url"))?;
        let input_len = h.len() + 1 + p.len();
        if !key.verify(&token.as_bytes()[..input_len], &signature) {
            return Err(TokenErrorKind::Signature.err(format!(
                "the signature does not verify with key {}",
                key.kid()
            )));
        }
        let payload = b64::decode(p).ok_or_else(|| invalid("the payload is not base64url"))?;
        let claims = Claims::from_payload(&payload)?;
        check_times(&claims, options, now)?;
        if !claims.audience.iter().any(|a| a == &options.audience) {
            return Err(TokenErrorKind::Audience
                .err(format!("the token is not meant for {:?}", options.audience)));
        }
        if let Some(iss) = &options.issuer
            && &claims.issuer != iss
        {
            return Err(TokenErrorKind::Issuer.err(format!("the token is not issued by {iss:?}")));
        }
        Ok(VerifiedToken {
            kid: key.kid().to_owned(),
            algorithm: key.algorithm(),
            claims,
        })
    }
}

fn check_times(c: &Claims, options: &VerifyOptions, now: Timestamp) -> Result<()> {
    let max_life = i64::try_from(MAX_TTL.as_secs()).unwrap_or(i64::MAX);
    if c.expires_at <= c.issued_at || c.expires_at - c.issued_at > max_life {
        return Err(invalid(
            "the lifetime (exp - iat) is not within 1 s ..= 24 h",
        ));
    }
    let now_ms = now.as_millis();
    let skew = duration_ms(options.leeway);
    if now_ms >= c.expires_at.saturating_mul(1000).saturating_add(skew) {
        return Err(TokenErrorKind::Expired.err(format!(
            "expired at {}",
            Timestamp::from_millis(c.expires_at.saturating_mul(1000))
        )));
    }
    let earliest = c.not_before.unwrap_or(c.issued_at).max(c.issued_at);
    if now_ms.saturating_add(skew) < earliest.saturating_mul(1000) {
        return Err(TokenErrorKind::NotYetValid.err(format!(
            "not valid before {}",
            Timestamp::from_millis(earliest.saturating_mul(1000))
        )));
    }
    Ok(())
}

/// At most 40 characters of an untrusted string, for error messages.
fn truncate(s: &str) -> String {
    let cut: String = s.chars().take(40).filter(|c| !c.is_control()).collect();
    if cut.len() < s.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::Scope;
    use crate::token::keys::TokenKey;
    use crate::token::mint::TokenRequest;
    use crate::token::rng::FixedRandom;

    const T0: i64 = 1_800_000_000_000;

    fn ring() -> KeyRing {
        let mut r = KeyRing::new();
        r.insert(TokenKey::ed25519_from_seed("k1", &[1u8; 32]).unwrap())
            .unwrap();
        r.insert(TokenKey::hs256("h1", &[2u8; 32]).unwrap())
            .unwrap();
        r
    }

    fn mint(ring: &KeyRing) -> String {
        let req = TokenRequest::new("u", Scope::new(["m"], ["chat.completions"]));
        ring.mint(&req, Timestamp::from_millis(T0), &FixedRandom::new(vec![7]))
            .unwrap()
            .token
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0 + ms)
    }

    #[test]
    fn round_trip_with_both_algorithms() {
        let mut r = ring();
        let opts = VerifyOptions::new("twinkey-relay");
        let v = r.verify(&mint(&r), &opts, at(0)).unwrap();
        assert_eq!((v.kid.as_str(), v.algorithm), ("k1", Algorithm::EdDsa));
        r.set_signing_kid("h1").unwrap();
        let v = r.verify(&mint(&r), &opts, at(0)).unwrap();
        assert_eq!((v.kid.as_str(), v.algorithm), ("h1", Algorithm::Hs256));
        assert_eq!(v.claims.subject, "u");
    }

    #[test]
    fn time_bounds_with_skew() {
        let r = ring();
        let t = mint(&r);
        let opts = VerifyOptions::new("twinkey-relay");
        let code = |ms| r.verify(&t, &opts, at(ms)).err().map(|e| e.code());
        assert_eq!(code(600_000 + 29_999), None);
        assert_eq!(code(600_000 + 30_000), Some("TOKEN_EXPIRED"));
        assert_eq!(code(-30_000), None);
        assert_eq!(code(-30_001), Some("TOKEN_NOT_YET_VALID"));
        let strict = VerifyOptions::new("twinkey-relay")
            .leeway(Duration::ZERO)
            .unwrap();
        assert!(r.verify(&t, &strict, at(599_999)).is_ok());
        assert_eq!(
            r.verify(&t, &strict, at(600_000)).unwrap_err().code(),
            "TOKEN_EXPIRED"
        );
        assert!(
            VerifyOptions::new("a")
                .leeway(MAX_LEEWAY + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn audience_issuer_and_unknown_key() {
        let r = ring();
        let t = mint(&r);
        let code = |o: &VerifyOptions| r.verify(&t, o, at(0)).unwrap_err().code();
        assert_eq!(code(&VerifyOptions::new("other")), "TOKEN_AUDIENCE");
        assert_eq!(
            code(&VerifyOptions::new("twinkey-relay").issuer("x")),
            "TOKEN_ISSUER"
        );
        let mut other = KeyRing::new();
        other
            .insert(TokenKey::ed25519_from_seed("k2", &[1u8; 32]).unwrap())
            .unwrap();
        let e = other
            .verify(&t, &VerifyOptions::new("twinkey-relay"), at(0))
            .unwrap_err();
        assert_eq!(e.code(), "TOKEN_UNKNOWN_KEY");
    }

    #[test]
    fn structural_refusals() {
        let r = ring();
        let o = VerifyOptions::new("twinkey-relay");
        let t = mint(&r);
        let code = |tok: &str| r.verify(tok, &o, at(0)).unwrap_err().code();
        assert_eq!(code(&"a".repeat(MAX_TOKEN_BYTES + 1)), "TOKEN_TOO_LARGE");
        assert_eq!(code(""), "INVALID_TOKEN");
        assert_eq!(code(&format!("{t}.x")), "INVALID_TOKEN");
        assert_eq!(code(&format!(" {t}")), "INVALID_TOKEN");
        assert_eq!(code(&t.replacen('.', "..", 1)), "INVALID_TOKEN");
        let (rest, _) = t.rsplit_once('.').unwrap();
        assert_eq!(code(&format!("{rest}.")), "TOKEN_SIGNATURE");
        assert_eq!(code(&format!("{rest}.AAAA")), "TOKEN_SIGNATURE");
    }
}
