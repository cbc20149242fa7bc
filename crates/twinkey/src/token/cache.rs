//! The browser client's token cache, sans I/O: when to use the cached server token, when to ask
//! the app's token provider for a new one (once, however many requests are waiting), and what
//! to do with the relay's answer (replay once with a fresh token when the relay says the token
//! expired or its key was rotated away).
//!
//! The host loops:
//!
//! ```text
//! loop { match cache.next(now) {
//!     Step::Use { token, generation } => send the request with token,
//!     Step::Fetch { ticket }          => token = provider(); cache.store(ticket, token, now)
//!                                        (or cache.fetch_failed(ticket)), then loop,
//!     Step::Wait                      => await the fetch in flight, then loop,
//! } }
//! match cache.judge(generation, replayed, status, error_header) {
//!     AfterResponse::Deliver          => hand the response to the caller,
//!     AfterResponse::RefreshAndReplay => loop again (a fresh token) and send the request once more,
//! }
//! ```
//!
//! A token is held for its own lifetime (`exp - iat`) measured on the local clock from the
//! moment it arrived, minus a refresh margin, so a browser whose clock is off still refreshes on
//! time; the relay's verdict covers the rest.

use std::sync::Mutex;
use std::time::Duration;

use zeroize::Zeroizing;

use super::error::TokenErrorKind;
use super::verify::segments;
use crate::error::Result;
use crate::time::{Timestamp, duration_ms};

/// Default margin: refresh this long before the token's end (at most half its lifetime).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// What the host should do next to get a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send the request with this token; report the response with `generation`.
    Use {
        /// The token (a bearer credential: never log it).
        token: String,
        /// Identifies this token in [`TokenCache::judge`].
        generation: u64,
    },
    /// Ask the token provider, then call [`TokenCache::store`] or [`TokenCache::fetch_failed`]
    /// with this ticket.
    Fetch {
        /// Identifies this fetch.
        ticket: u64,
    },
    /// A fetch is in flight: wait for it, then ask again.
    Wait,
}

/// What to do with a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterResponse {
    /// Hand it to the caller.
    Deliver,
    /// The token was refused as stale: get a fresh one and send the request once more.
    RefreshAndReplay,
}

impl AfterResponse {
    /// `deliver` or `refresh_and_replay`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AfterResponse::Deliver => "deliver",
            AfterResponse::RefreshAndReplay => "refresh_and_replay",
        }
    }
}

struct Held {
    token: Zeroizing<String>,
    generation: u64,
    use_until_ms: i64,
}

#[derive(Default)]
struct State {
    held: Option<Held>,
    fetching: Option<u64>,
    counter: u64,
}

/// Caches one server token for a browser client.
pub struct TokenCache {
    margin: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(DEFAULT_REFRESH_MARGIN)
    }
}

/// The `iat` and `exp` of a token, read without verification (the browser holds no key; the
/// relay verifies).
pub fn peek_lifetime(token: &str) -> Result<(i64, i64)> {
    let not_a_token = |why: &str| {
        TokenErrorKind::Provider.err(format!(
            "the token provider did not return a server token: {why}"
        ))
    };
    let [_, payload, _] = segments(token).map_err(|_| not_a_token("not a compact JWT"))?;
    // A plain `Value` keeps the browser build small (typed serde code is ~40 KB of wasm).
    let claims: serde_json::Value = super::b64::decode(payload)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| not_a_token("unreadable payload"))?;
    let int = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    match (int("iat"), int("exp")) {
        (Some(iat), Some(exp)) if exp > iat => Ok((iat, exp)),
        _ => Err(not_a_token("iat and exp are required, exp after iat")),
    }
}

impl TokenCache {
    /// A cache refreshing `margin` before a token's end (at most half its lifetime).
    pub fn new(margin: Duration) -> Self {
        TokenCache {
            margin,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next step for a request at `now`.
    pub fn next(&self, now: Timestamp) -> Step {
        let mut st = self.lock();
        if let Some(h) = &st.held
            && now.as_millis() < h.use_until_ms
        {
            return Step::Use {
                token: h.token.to_string(),
                generation: h.generation,
            };
        }
        if st.fetching.is_some() {
            return Step::Wait;
        }
        st.counter += 1;
        let ticket = st.counter;
        st.fetching = Some(ticket);
        Step::Fetch { ticket }
    }

    /// Stores the provider's token for fetch `ticket` (arrived at `now`). `TOKEN_PROVIDER` when
    /// it is not a server token; the fetch is over either way.
    pub fn store(&self, ticket: u64, token: &str, now: Timestamp) -> Result<u64> {
        let mut st = self.lock();
        if st.fetching == Some(ticket) {
            st.fetching = None;
        }
        let (iat, exp) = peek_lifetime(token)?;
        // Hostile claims cannot overflow: the lifetime is clamped to the 24 h a token may have.
        let life_ms = exp
            .checked_sub(iat)
            .unwrap_or(i64::MAX)
            .clamp(0, super::mint::MAX_TTL.as_secs().cast_signed())
            .saturating_mul(1000);
        let margin = duration_ms(self.margin).min(life_ms / 2);
        st.counter += 1;
        let generation = st.counter;
        st.held = Some(Held {
            token: Zeroizing::new(token.to_owned()),
            generation,
            use_until_ms: now
                .as_millis()
                .saturating_add(life_ms.saturating_sub(margin)),
        });
        Ok(generation)
    }

    /// The fetch `ticket` failed; the next request starts a new one.
    pub fn fetch_failed(&self, ticket: u64) {
        let mut st = self.lock();
        if st.fetching == Some(ticket) {
            st.fetching = None;
        }
    }

    /// Drops the cached token if it is still `generation`.
    pub fn invalidate(&self, generation: u64) {
        let mut st = self.lock();
        if st.held.as_ref().is_some_and(|h| h.generation == generation) {
            st.held = None;
        }
    }

    /// Forgets everything (sign-out).
    pub fn clear(&self) {
        let mut st = self.lock();
        st.held = None;
    }

    /// Judges the relay's answer to a request sent with token `generation`. A first attempt
    /// refused with 401 and the relay code `TOKEN_EXPIRED` or `TOKEN_UNKNOWN_KEY` (the
    /// [`ERROR_HEADER`](super::gate::ERROR_HEADER)) drops that token and replays once;
    /// everything else, and any replayed attempt, is delivered.
    pub fn judge(
        &self,
        generation: u64,
        replayed: bool,
        status: u16,
        relay_code: Option<&str>,
    ) -> AfterResponse {
        let stale = status == 401
            && matches!(
                relay_code.and_then(TokenErrorKind::from_code),
                Some(TokenErrorKind::Expired | TokenErrorKind::UnknownKey)
            );
        if stale && !replayed {
            self.invalidate(generation);
            AfterResponse::RefreshAndReplay
        } else {
            AfterResponse::Deliver
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::b64;

    fn token(iat: i64, exp: i64) -> String {
        let h = b64::encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let p = b64::encode(format!(r#"{{"iat":{iat},"exp":{exp}}}"#).as_bytes());
        format!("{h}.{p}.c2ln")
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn one_fetch_for_concurrent_callers_then_cached_until_the_margin() {
        let c = TokenCache::default();
        let Step::Fetch { ticket } = c.next(at(0)) else {
            panic!()
        };
        assert_eq!(c.next(at(1)), Step::Wait);
        assert_eq!(c.next(at(2)), Step::Wait);
        // The server's clock is far ahead: only the lifetime counts.
        let g = c
            .store(ticket, &token(5_000_000, 5_000_600), at(10))
            .unwrap();
        let tok = token(5_000_000, 5_000_600);
        assert_eq!(
            c.next(at(20)),
            Step::Use {
                token: tok.clone(),
                generation: g
            }
        );
        assert_eq!(
            c.next(at(10 + 570_000 - 1)),
            Step::Use {
                token: tok,
                generation: g
            }
        );
        assert!(matches!(c.next(at(10 + 570_000)), Step::Fetch { .. }));
    }

    #[test]
    fn short_tokens_refresh_at_half_life_and_failures_release_the_fetch() {
        let c = TokenCache::default();
        let Step::Fetch { ticket } = c.next(at(0)) else {
            panic!()
        };
        c.fetch_failed(ticket);
        let Step::Fetch { ticket } = c.next(at(0)) else {
            panic!()
        };
        assert_eq!(
            c.store(ticket, "not-a-token", at(0)).unwrap_err().code(),
            "TOKEN_PROVIDER"
        );
        let Step::Fetch { ticket } = c.next(at(0)) else {
            panic!()
        };
        c.store(ticket, &token(0, 10), at(0)).unwrap();
        assert!(matches!(c.next(at(4_999)), Step::Use { .. }));
        assert!(matches!(c.next(at(5_000)), Step::Fetch { .. }));
    }

    #[test]
    fn judge_replays_once_on_stale_tokens_only() {
        let c = TokenCache::default();
        let Step::Fetch { ticket } = c.next(at(0)) else {
            panic!()
        };
        let g = c.store(ticket, &token(0, 600), at(0)).unwrap();
        assert_eq!(c.judge(g, false, 200, None), AfterResponse::Deliver);
        assert_eq!(
            c.judge(g, false, 401, Some("TOKEN_SIGNATURE")),
            AfterResponse::Deliver
        );
        assert_eq!(
            c.judge(g, false, 403, Some("TOKEN_EXPIRED")),
            AfterResponse::Deliver
        );
        assert_eq!(
            c.judge(g, true, 401, Some("TOKEN_EXPIRED")),
            AfterResponse::Deliver
        );
        assert!(matches!(c.next(at(1)), Step::Use { .. }));
        assert_eq!(
            c.judge(g, false, 401, Some("TOKEN_EXPIRED")),
            AfterResponse::RefreshAndReplay
        );
        let Step::Fetch { ticket } = c.next(at(1)) else {
            panic!()
        };
        let g2 = c.store(ticket, &token(0, 600), at(2)).unwrap();
        // A late verdict about the older token does not drop the newer one.
        assert_eq!(
            c.judge(g, false, 401, Some("TOKEN_UNKNOWN_KEY")),
            AfterResponse::RefreshAndReplay
        );
        assert!(matches!(c.next(at(3)), Step::Use { generation, .. } if generation == g2));
    }

    #[test]
    fn hostile_lifetimes_cannot_overflow() {
        let cache = TokenCache::new(Duration::from_secs(30));
        let token = "eyJhbGciOiJFZERTQSJ9.eyJpYXQiOi05MjIzMzcyMDM2ODU0Nzc1ODA4LCJleHAiOjkyMjMzNzIwMzY4NTQ3NzU4MDd9.c2ln";
        let now = Timestamp::from_millis(1_000);
        assert!(cache.store(1, token, now).is_ok());
    }
}
