//! `opc-retry-token`: a POST sent again with the same token (within 24 hours) gets the first
//! successful answer again instead of being carried out twice — how OCI makes retries of
//! create, set-state, renew and change-compartment safe. A token reused for a different
//! request is 409 `Conflict`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use twinkey::Timestamp;

/// How long a token is remembered.
pub const RETRY_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Most tokens remembered at once (the oldest are dropped beyond it).
const MAX_TOKENS: usize = 10_000;

/// A remembered successful answer.
#[derive(Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

struct Entry {
    request: [u8; 32],
    expires: Timestamp,
    answer: Answer,
}

/// What a token says about a request.
pub(crate) enum Lookup {
    /// Not seen (or expired): carry the request out.
    New,
    /// Seen with this request: answer the same again.
    Replay(Answer),
    /// Seen with another request.
    Conflict,
}

/// The remembered tokens.
#[derive(Default)]
pub(crate) struct RetryTokens {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for RetryTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryTokens")
    }
}

/// The identity of a request: principal, method, path and body.
pub(crate) fn request_digest(principal: &str, method: &str, target: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        principal.as_bytes(),
        method.as_bytes(),
        target.as_bytes(),
        body,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

impl RetryTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks a token up for a request.
    pub fn lookup(&self, token: &str, request: &[u8; 32], now: Timestamp) -> Lookup {
        let mut entries = self.lock();
        entries.retain(|_, e| e.expires > now);
        match entries.get(token) {
            None => Lookup::New,
            Some(e) if e.request == *request => Lookup::Replay(e.answer.clone()),
            Some(_) => Lookup::Conflict,
        }
    }

    /// Remembers the successful answer to a token's request.
    pub fn remember(&self, token: &str, request: [u8; 32], answer: Answer, now: Timestamp) {
        let mut entries = self.lock();
        if entries.len() >= MAX_TOKENS
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            token.to_string(),
            Entry {
                request,
                expires: now.plus(RETRY_TOKEN_TTL),
                answer,
            },
        );
    }
}
