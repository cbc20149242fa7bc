//! Minting: a compact JWS (`header.payload.signature`, RFC 7515) signed with the ring's signing
//! key, header `{"alg":...,"kid":...,"typ":"JWT"}`.

use std::fmt;
use std::time::Duration;

use super::b64;
use super::claims::{Claims, Scope, has_control};
use super::error::TokenErrorKind;
use super::keys::KeyRing;
use super::rng::Random;
use super::verify::MAX_TOKEN_BYTES;
use crate::error::Result;
use crate::time::Timestamp;

/// Default token lifetime: 10 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// Longest token lifetime: 24 hours.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// Default audience: what `twinkey relay` expects unless told otherwise.
pub const DEFAULT_AUDIENCE: &str = "twinkey-relay";
/// Default issuer.
pub const DEFAULT_ISSUER: &str = "twinkey";
/// Random bytes in a generated `jti` (128 bits, 22 base64url characters).
pub const JTI_BYTES: usize = 16;

/// What to mint: subject, scope and optional overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// `sub`: whom the token is for (the app's user id).
    pub subject: String,
    /// What the token allows.
    pub scope: Scope,
    /// `aud` (default [`DEFAULT_AUDIENCE`]).
    pub audience: String,
    /// `iss` (default [`DEFAULT_ISSUER`]).
    pub issuer: String,
    /// Lifetime, whole seconds, 1 s ..= 24 h (default 10 min).
    pub ttl: Duration,
    /// `nbf` as seconds after `iat` (default 0: valid from issue).
    pub not_before_delay: Duration,
    /// `jti` to use instead of a random one (vectors, idempotent minting).
    pub token_id: Option<String>,
}

impl TokenRequest {
    /// A request with the defaults: audience `twinkey-relay`, issuer `twinkey`, 10 minutes.
    pub fn new(subject: impl Into<String>, scope: Scope) -> Self {
        TokenRequest {
            subject: subject.into(),
            scope,
            audience: DEFAULT_AUDIENCE.into(),
            issuer: DEFAULT_ISSUER.into(),
            ttl: DEFAULT_TTL,
            not_before_delay: Duration::ZERO,
            token_id: None,
        }
    }

    /// Sets the audience.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Sets the issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Sets the lifetime.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets `nbf` to `iat + delay`.
    pub fn not_before_delay(mut self, delay: Duration) -> Self {
        self.not_before_delay = delay;
        self
    }

    /// Sets the `jti`.
    pub fn token_id(mut self, jti: impl Into<String>) -> Self {
        self.token_id = Some(jti.into());
        self
    }

    fn validate(&self) -> Result<()> {
        let bad = |why: &str| Err(TokenErrorKind::InvalidRequest.err(why));
        if self.subject.is_empty() || self.audience.is_empty() || self.issuer.is_empty() {
            return bad("subject, audience and issuer must be non-empty");
        }
        if self.ttl < Duration::from_secs(1) || self.ttl > MAX_TTL {
            return bad("the lifetime must be between 1 second and 24 hours");
        }
        if self.not_before_delay >= self.ttl {
            return bad("nbf must come before exp");
        }
        if matches!(&self.token_id, Some(j) if j.is_empty()) {
            return bad("jti must be non-empty");
        }
        let texts = [&self.subject, &self.issuer, &self.audience]
            .into_iter()
            .chain(&self.token_id);
        if texts.into_iter().any(|t| has_control(t)) {
            return bad("subject, audience, issuer and jti must not hold control characters");
        }
        self.scope.validate_for_mint()
    }
}

/// A minted token and its claims. `Debug` leaves the token out (it is a bearer credential).
#[derive(Clone, PartialEq, Eq)]
pub struct Minted {
    /// The compact token, for `Authorization: Bearer`.
    pub token: String,
    /// What it says.
    pub claims: Claims,
}

impl fmt::Debug for Minted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minted")
            .field("token", &"<redacted>")
            .field("claims", &self.claims)
            .finish()
    }
}

impl KeyRing {
    /// Mints a token for `request` at `now`, signed with the ring's signing key; `rng` draws the
    /// `jti` unless the request names one.
    pub fn mint(&self, request: &TokenRequest, now: Timestamp, rng: &dyn Random) -> Result<Minted> {
        request.validate()?;
        let key = self.signing_key().ok_or_else(|| {
            TokenErrorKind::InvalidKey.err("the key ring has no key that can sign")
        })?;
        let iat = now.as_millis().div_euclid(1000);
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let token_id = match &request.token_id {
            Some(j) => j.clone(),
            None => {
                let mut bytes = [0u8; JTI_BYTES];
                rng.fill(&mut bytes)?;
                b64::encode(&bytes)
            }
        };
        let claims = Claims {
            issuer: request.issuer.clone(),
            subject: request.subject.clone(),
            audience: vec![request.audience.clone()],
            issued_at: iat,
            not_before: Some(iat.saturating_add(secs(request.not_before_delay))),
            expires_at: iat.saturating_add(secs(request.ttl)),
            token_id,
            scope: request.scope.clone(),
        };
        let header = format!(
            r#"{{"alg":"{}","kid":{},"typ":"JWT"}}"#,
            key.algorithm().name(),
            serde_json::Value::String(key.kid().to_owned())
        );
        let mut token = b64::encode(header.as_bytes());
        token.push('.');
        token.push_str(&b64::encode(claims.to_json().as_bytes()));
        let signature = key.sign(token.as_bytes()).ok_or_else(|| {
            TokenErrorKind::InvalidKey.err(format!("key {} cannot sign", key.kid()))
        })?;
        token.push('.');
        token.push_str(&b64::encode(&signature));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenErrorKind::InvalidRequest.err(format!(
                "the token would be {} bytes, over the {MAX_TOKEN_BYTES}-byte limit (fewer models?)",
                token.len()
            )));
        }
        Ok(Minted { token, claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::keys::TokenKey;
    use crate::token::rng::FixedRandom;

    fn ring() -> KeyRing {
        let mut r = KeyRing::new();
        r.insert(TokenKey::ed25519_from_seed("k1", &[1u8; 32]).unwrap())
            .unwrap();
        r
    }

    fn scope() -> Scope {
        Scope::new(["m"], ["chat.completions"])
    }

    #[test]
    fn mints_with_defaults_and_a_random_jti() {
        let rng = FixedRandom::new(vec![0xAB; 16]);
        let m = ring()
            .mint(
                &TokenRequest::new("u", scope()),
                Timestamp::from_millis(1_000_999),
                &rng,
            )
            .unwrap();
        assert_eq!(m.claims.issued_at, 1000);
        assert_eq!(m.claims.not_before, Some(1000));
        assert_eq!(m.claims.expires_at, 1600);
        assert_eq!(m.claims.token_id, "q6urq6urq6urq6urq6urqw");
        assert_eq!(m.claims.audience, ["twinkey-relay"]);
        assert_eq!(m.token.split('.').count(), 3);
        assert!(!format!("{m:?}").contains(&m.token));
    }

    #[test]
    fn refuses_bad_requests_and_rings_without_a_signer() {
        let rng = FixedRandom::new(vec![1]);
        let now = Timestamp::from_millis(0);
        for req in [
            TokenRequest::new("u", scope()).ttl(MAX_TTL + Duration::from_secs(1)),
            TokenRequest::new("u", scope()).ttl(Duration::ZERO),
            TokenRequest::new("", scope()),
            TokenRequest::new("u", scope()).audience(""),
            TokenRequest::new("u", scope()).not_before_delay(DEFAULT_TTL),
            TokenRequest::new("u", scope()).token_id(""),
            TokenRequest::new("u", Scope::new(vec!["m".repeat(5000)], ["models"])),
        ] {
            let e = ring().mint(&req, now, &rng).unwrap_err();
            assert_eq!(e.code(), "INVALID_TOKEN_REQUEST", "{req:?}");
        }
        let e = KeyRing::new()
            .mint(&TokenRequest::new("u", scope()), now, &rng)
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_TOKEN_KEY");
    }
}
