//! The kinds of token refusal, each with a stable code (always compiled, so the codes exist in
//! every build of the core, with or without the `tokens` feature).

use std::fmt;

use crate::error::Error;

/// Why a server token, a token signing key or a relay request was refused.
///
/// The HTTP status the relay answers with is [`TokenErrorKind::http_status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// Malformed: not three base64url segments, bad base64, bad or duplicated JSON members,
    /// missing or ill-typed claims, a lifetime over 24 h, an unsupported `crit` or `typ`.
    Invalid,
    /// No bearer token was sent.
    Missing,
    /// Longer than [`MAX_TOKEN_BYTES`](crate::token::MAX_TOKEN_BYTES); refused before parsing.
    TooLarge,
    /// `alg` is `none`, unknown, or not the algorithm pinned for the token's `kid`.
    Algorithm,
    /// No key with the token's `kid` (or no `kid`).
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// `exp` has passed (beyond the allowed clock skew).
    Expired,
    /// `nbf` (or `iat`) is in the future (beyond the allowed clock skew).
    NotYetValid,
    /// `aud` does not name this relay.
    Audience,
    /// `iss` is not the expected issuer.
    Issuer,
    /// The request is outside the token's scope (model or endpoint not allowed).
    Scope,
    /// The token's request budget is used up.
    BudgetExhausted,
    /// The relay serves no such endpoint.
    UnknownEndpoint,
    /// A token signing key (JWK) is malformed, too short or inconsistent.
    InvalidKey,
    /// A mint request is invalid (lifetime over 24 h, empty scope, ...).
    InvalidRequest,
    /// The browser's token provider failed or returned something that is not a token.
    Provider,
    /// The request's `Origin` is not one the relay allows (CORS).
    Origin,
    /// The token's subject already has as many relayed requests in flight as the relay allows.
    TooManyStreams,
    /// A stored response that this token's subject did not create through this relay (or that
    /// the relay does not know).
    NotOwner,
}

impl TokenErrorKind {
    /// The stable code, e.g. `TOKEN_EXPIRED`.
    pub const fn code(self) -> &'static str {
        match self {
            TokenErrorKind::Invalid => "INVALID_TOKEN",
            TokenErrorKind::Missing => "TOKEN_MISSING",
            TokenErrorKind::TooLarge => "TOKEN_TOO_LARGE",
            TokenErrorKind::Algorithm => "TOKEN_ALGORITHM",
            TokenErrorKind::UnknownKey => "TOKEN_UNKNOWN_KEY",
            TokenErrorKind::Signature => "TOKEN_SIGNATURE",
            TokenErrorKind::Expired => "TOKEN_EXPIRED",
            TokenErrorKind::NotYetValid => "TOKEN_NOT_YET_VALID",
            TokenErrorKind::Audience => "TOKEN_AUDIENCE",
            TokenErrorKind::Issuer => "TOKEN_ISSUER",
            TokenErrorKind::Scope => "TOKEN_SCOPE",
            TokenErrorKind::BudgetExhausted => "TOKEN_BUDGET_EXHAUSTED",
            TokenErrorKind::UnknownEndpoint => "UNKNOWN_ENDPOINT",
            TokenErrorKind::InvalidKey => "INVALID_TOKEN_KEY",
            TokenErrorKind::InvalidRequest => "INVALID_TOKEN_REQUEST",
            TokenErrorKind::Provider => "TOKEN_PROVIDER",
            TokenErrorKind::Origin => "ORIGIN_NOT_ALLOWED",
            TokenErrorKind::TooManyStreams => "TOO_MANY_STREAMS",
            TokenErrorKind::NotOwner => "RESPONSE_NOT_OWNED",
        }
    }

    /// Every kind, for tables and tests.
    pub const ALL: [TokenErrorKind; 19] = [
        TokenErrorKind::Invalid,
        TokenErrorKind::Missing,
        TokenErrorKind::TooLarge,
        TokenErrorKind::Algorithm,
        TokenErrorKind::UnknownKey,
        TokenErrorKind::Signature,
        TokenErrorKind::Expired,
        TokenErrorKind::NotYetValid,
        TokenErrorKind::Audience,
        TokenErrorKind::Issuer,
        TokenErrorKind::Scope,
        TokenErrorKind::BudgetExhausted,
        TokenErrorKind::UnknownEndpoint,
        TokenErrorKind::InvalidKey,
        TokenErrorKind::InvalidRequest,
        TokenErrorKind::Provider,
        TokenErrorKind::Origin,
        TokenErrorKind::TooManyStreams,
        TokenErrorKind::NotOwner,
    ];

    /// The kind with this code, if any.
    pub fn from_code(code: &str) -> Option<TokenErrorKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The HTTP status a relay answers with: 401 for a token that does not authenticate (the
    /// client should get a new one), 403 for a valid token that does not allow the request
    /// (scope, budget, origin: retrying does not help), 404 for an unknown endpoint, 500 for server-side
    /// misconfiguration (a bad signing key or mint request).
    pub const fn http_status(self) -> u16 {
        match self {
            TokenErrorKind::Scope | TokenErrorKind::BudgetExhausted | TokenErrorKind::Origin => 403,
            TokenErrorKind::UnknownEndpoint | TokenErrorKind::NotOwner => 404,
            TokenErrorKind::TooManyStreams => 429,
            TokenErrorKind::InvalidKey
            | TokenErrorKind::InvalidRequest
            | TokenErrorKind::Provider => 500,
            _ => 401,
        }
    }

    /// The error of this kind with a reason (which must never contain a token or key).
    pub fn err(self, reason: impl Into<String>) -> Error {
        Error::Token {
            kind: self,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for TokenErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_upper_snake_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in TokenErrorKind::ALL {
            assert!(seen.insert(k.code()), "{k:?}");
            assert!(k.code().chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            assert_eq!(TokenErrorKind::from_code(k.code()), Some(k));
            let e = k.err("why");
            assert_eq!(e.code(), k.code());
            assert_eq!(e.family(), "tokens");
        }
        assert_eq!(TokenErrorKind::from_code("NOPE"), None);
    }
}
