//! `TokenKeyRing`: server tokens (SPEC section 7) for the app's server that hands them out —
//! the core's [`KeyRing`] (signing keys as JWKs, the algorithm pinned per `kid`), minting and
//! verifying through the JSON forms of [`twinkey::token::wire`]. Key material never leaves it
//! except through the explicit `toJson({ private: true })`.

use napi::bindgen_prelude::{Either, Uint8Array};
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use twinkey::Timestamp;
use twinkey::token::{
    Algorithm, FixedRandom, KeyRing, SystemRandom, TokenErrorKind, TokenKey, wire,
};

use crate::errors::OrThrow;
use crate::time::{instant, now};

/// Options of `ring.mint`.
#[napi(object)]
#[derive(Default)]
pub struct MintOptions {
    /// The minting time (RFC 3339 or epoch milliseconds; default: now).
    pub now: Option<Either<String, f64>>,
    /// Bytes to draw the token id from instead of the system's randomness (repeated when
    /// exhausted): for reproducible tests only.
    pub random: Option<Uint8Array>,
}

/// Options of `ring.toJson`.
#[napi(object)]
#[derive(Default)]
pub struct JwksOptions {
    /// Include the private material (Ed25519 `d`, HS256 `k`): to store the ring, never to
    /// publish it.
    pub private: Option<bool>,
}

/// Options of `ring.verify`.
#[napi(object)]
#[derive(Default)]
pub struct TokenVerifyOptions {
    /// The audience the token must name (e.g. `twinkey-relay`).
    pub audience: String,
    /// The issuer it must name (default: any).
    pub issuer: Option<String>,
    /// Allowed clock skew in whole seconds (default 30, at most 300).
    pub leeway_seconds: Option<f64>,
    /// The verification time (RFC 3339 or epoch milliseconds; default: now).
    pub now: Option<Either<String, f64>>,
}

/// A token's scope (the `twk` claim), in the claim's own spelling.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct TokenScope {
    /// Allowed models (`*`: any).
    pub models: Vec<String>,
    /// Allowed endpoints: `chat.completions`, `responses`, `completions`, `embeddings`,
    /// `models`.
    pub endpoints: Vec<String>,
    /// Output-token cap per request.
    #[napi(js_name = "max_output_tokens")]
    pub max_output_tokens: Option<f64>,
    /// Request budget of the token.
    #[napi(js_name = "max_requests")]
    pub max_requests: Option<f64>,
}

/// What to mint.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    /// `sub`: who the token is for (your user's id).
    pub subject: String,
    /// `twk`: what it allows.
    pub scope: TokenScope,
    /// `aud` (default `twinkey-relay`).
    pub audience: Option<String>,
    /// `iss` (default `twinkey`).
    pub issuer: Option<String>,
    /// Lifetime in whole seconds (default 600, at most 86 400).
    pub ttl_seconds: Option<f64>,
    /// `nbf` = `iat` + this many seconds (default 0).
    pub not_before_delay_seconds: Option<f64>,
    /// `jti` (default: 16 random bytes, base64url).
    pub token_id: Option<String>,
}

/// A token's claims, as the core writes them.
#[napi(object, object_from_js = false)]
pub struct TokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Audience: a string, or a list when there are several.
    pub aud: Either<String, Vec<String>>,
    /// Issued at, seconds since the epoch.
    pub iat: f64,
    /// Not before, seconds since the epoch.
    pub nbf: Option<f64>,
    /// Expires at, seconds since the epoch.
    pub exp: f64,
    /// Token id.
    pub jti: String,
    /// Scope.
    pub twk: TokenScope,
}

/// What `ring.mint` returns.
#[napi(object, object_from_js = false)]
pub struct MintedToken {
    /// The compact token, for `Authorization: Bearer` (a credential: do not log it).
    pub token: String,
    /// Its claims.
    pub claims: TokenClaims,
}

/// What `ring.verify` returns.
#[napi(object, object_from_js = false)]
pub struct VerifiedToken {
    /// The key that signed it.
    pub kid: String,
    /// Its algorithm.
    #[napi(ts_type = "'EdDSA' | 'HS256'")]
    pub alg: String,
    /// Its claims.
    pub claims: TokenClaims,
}

/// A JS number as JSON: an integer when it is one (the wire forms take whole numbers).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) {
        Value::from(n as u64)
    } else {
        Value::from(n)
    }
}

impl TokenVerifyOptions {
    /// The wire form `{audience, issuer?, leewaySeconds?}` (the core validates it).
    pub(crate) fn to_wire(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("audience".into(), Value::from(self.audience.as_str()));
        put(&mut o, "issuer", self.issuer.clone().map(Value::from));
        put(&mut o, "leewaySeconds", self.leeway_seconds.map(number));
        Value::Object(o)
    }
}

fn put(o: &mut serde_json::Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(v) = value {
        o.insert(name.into(), v);
    }
}

impl TokenRequest {
    /// The wire form (see [`wire`]); the core validates it.
    pub(crate) fn to_wire(&self) -> Value {
        let mut scope = serde_json::Map::new();
        scope.insert("models".into(), Value::from(self.scope.models.clone()));
        scope.insert(
            "endpoints".into(),
            Value::from(self.scope.endpoints.clone()),
        );
        put(
            &mut scope,
            "max_output_tokens",
            self.scope.max_output_tokens.map(number),
        );
        put(
            &mut scope,
            "max_requests",
            self.scope.max_requests.map(number),
        );
        let mut o = serde_json::Map::new();
        o.insert("subject".into(), Value::from(self.subject.as_str()));
        o.insert("scope".into(), Value::Object(scope));
        put(&mut o, "audience", self.audience.clone().map(Value::from));
        put(&mut o, "issuer", self.issuer.clone().map(Value::from));
        put(&mut o, "ttlSeconds", self.ttl_seconds.map(number));
        put(
            &mut o,
            "notBeforeDelaySeconds",
            self.not_before_delay_seconds.map(number),
        );
        put(&mut o, "tokenId", self.token_id.clone().map(Value::from));
        Value::Object(o)
    }
}

/// The instant `t` names, or now.
pub(crate) fn at(t: Option<&Either<String, f64>>) -> twinkey::Result<Timestamp> {
    t.map_or_else(|| Ok(now()), instant)
}

/// The keys a server mints and verifies server tokens with: several `kid`s for rotation, one of
/// them the signing key. Shows kids and algorithms only; `JSON.stringify` gives the public
/// JWK Set (HS256 keys, which have no public half, are left out).
#[napi]
pub struct TokenKeyRing {
    pub(crate) inner: KeyRing,
}

#[napi]
impl TokenKeyRing {
    /// A ring from a JWK Set (`{"keys": [...]}`) or one JWK, e.g. the file of
    /// `twinkey token keygen`. The signing key is the first key with private material.
    #[napi(factory)]
    pub fn from_json(env: Env, text: String) -> Result<Self> {
        let inner = KeyRing::from_json(&text).or_throw(&env)?;
        Ok(TokenKeyRing { inner })
    }

    /// A ring with one fresh key (`EdDSA`, the default, or `HS256`) from the system's
    /// randomness.
    #[napi(factory)]
    pub fn generate(
        env: Env,
        #[napi(ts_arg_type = "'EdDSA' | 'HS256'")] alg: String,
        kid: String,
    ) -> Result<Self> {
        let alg = Algorithm::from_name(&alg)
            .ok_or_else(|| {
                TokenErrorKind::InvalidKey.err(format!("unsupported alg {alg:?} (EdDSA or HS256)"))
            })
            .or_throw(&env)?;
        let mut inner = KeyRing::new();
        TokenKey::generate(kid, alg, &SystemRandom)
            .and_then(|key| inner.insert(key))
            .or_throw(&env)?;
        Ok(TokenKeyRing { inner })
    }

    /// The kids, in order.
    #[napi(getter)]
    pub fn kids(&self) -> Vec<String> {
        self.inner.kids().map(str::to_string).collect()
    }

    /// The kid new tokens are signed with (absent: the ring can only verify).
    #[napi(getter)]
    pub fn signing_kid(&self) -> Option<String> {
        self.inner.signing_kid().map(str::to_string)
    }

    /// Signs new tokens with the key `kid` (it must hold private material).
    #[napi]
    pub fn set_signing_kid(&mut self, env: Env, kid: String) -> Result<()> {
        self.inner.set_signing_kid(&kid).or_throw(&env)
    }

    /// Removes the key `kid` (tokens it signed stop verifying); whether it was there.
    #[napi]
    pub fn remove(&mut self, kid: String) -> bool {
        self.inner.remove(&kid).is_some()
    }

    /// The public JWK Set (`JSON.stringify` uses it): Ed25519 public halves only.
    #[napi(js_name = "toJSON")]
    pub fn to_public_json(&self) -> Value {
        self.inner.to_jwks(false)
    }

    /// The ring as JWK Set text: public keys only, unless `{ private: true }` asks for the
    /// private material too (to store the ring; keep that text secret).
    #[napi]
    pub fn to_json(&self, options: Option<JwksOptions>) -> String {
        let private = options.and_then(|o| o.private).unwrap_or(false);
        self.inner.to_jwks(private).to_string()
    }

    /// Mints a token for `request` (lifetime 10 min by default, at most 24 h). Returns
    /// `{ token, claims }`; throws `TokenError` (`INVALID_TOKEN_REQUEST`, ...).
    #[napi(ts_return_type = "MintedToken")]
    pub fn mint(
        &self,
        env: Env,
        request: TokenRequest,
        options: Option<MintOptions>,
    ) -> Result<Value> {
        let options = options.unwrap_or_default();
        let minted = (|| {
            let request = wire::request_from_json(&request.to_wire())?;
            let now = at(options.now.as_ref())?;
            match &options.random {
                Some(bytes) => self
                    .inner
                    .mint(&request, now, &FixedRandom::new(bytes.to_vec())),
                None => self.inner.mint(&request, now, &SystemRandom),
            }
        })()
        .or_throw(&env)?;
        Ok(wire::minted_to_json(&minted))
    }

    /// Verifies a token (RFC 8725: algorithm pinned by the `kid`'s key, times with bounded
    /// skew, audience, issuer) and returns `{ kid, alg, claims }` as JSON text (the facade's
    /// `verify` parses it: one string crosses the boundary instead of a tree of objects). Throws
    /// `TokenError` with the refusal's code (`TOKEN_EXPIRED`, `TOKEN_SIGNATURE`, ...).
    #[napi]
    pub fn verify_json(
        &self,
        env: Env,
        token: String,
        options: TokenVerifyOptions,
    ) -> Result<String> {
        let verified = (|| {
            let opts = wire::verify_options_from_json(&options.to_wire())?;
            self.inner.verify(&token, &opts, at(options.now.as_ref())?)
        })()
        .or_throw(&env)?;
        // `wire::verified_to_json`'s shape, with the claims as the core writes them.
        Ok(format!(
            r#"{{"kid":{},"alg":"{}","claims":{}}}"#,
            Value::from(verified.kid.as_str()),
            verified.algorithm.name(),
            verified.claims.to_json()
        ))
    }

    /// `TokenKeyRing [ed-2026-02 EdDSA (signing), hs-1 HS256]`: kids and algorithms only.
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        let signing = self.inner.signing_kid();
        let keys: Vec<String> = self
            .inner
            .kids()
            .filter_map(|kid| self.inner.get(kid))
            .map(|k| {
                let mark = if Some(k.kid()) == signing {
                    " (signing)"
                } else {
                    ""
                };
                format!("{} {}{mark}", k.kid(), k.algorithm().name())
            })
            .collect();
        format!("TokenKeyRing [{}]", keys.join(", "))
    }
}
