//! A tokens-per-minute limit per key, as OCI meters Generative AI keys: every answered
//! request's total tokens count against its key for the 60 s after it arrived; a request that
//! would take a key past its limit is answered `429 TooManyRequests` with `Retry-After` (the
//! seconds until enough of the minute has drained) and nothing is generated for it. A request
//! larger than the limit on its own is refused too (OCI cannot serve it either). Off (no limit)
//! unless set: `EmulatorOptions::tokens_per_minute`, `twinkey emulate --tokens-per-minute`, or
//! `PUT /admin/config {"tokensPerMinute": N}` (`null` turns it off).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use twinkey::Timestamp;

const MINUTE_MS: i64 = 60_000;

/// The per-key windows.
#[derive(Debug, Default)]
pub struct TpmLimit {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    limit: Option<u64>,
    /// Per key: (arrival ms, tokens), oldest first.
    windows: HashMap<String, VecDeque<(i64, u64)>>,
}

impl TpmLimit {
    /// A limit of `limit` tokens per minute per key (`None`: unlimited).
    pub fn new(limit: Option<u64>) -> Self {
        TpmLimit {
            state: Mutex::new(State {
                limit,
                windows: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The limit now.
    pub fn limit(&self) -> Option<u64> {
        self.lock().limit
    }

    /// Sets (or clears) the limit; the windows are kept.
    pub fn set_limit(&self, limit: Option<u64>) {
        self.lock().limit = limit;
    }

    /// Tokens counting for `key_id` at `now`.
    pub fn used(&self, key_id: &str, now: Timestamp) -> u64 {
        let mut s = self.lock();
        s.windows
            .get_mut(key_id)
            .map_or(0, |w| drain(w, now.as_millis()))
    }

    /// Charges `tokens` to `key_id` at `now`, or refuses with the wait until they would fit.
    pub fn charge(&self, key_id: &str, tokens: u64, now: Timestamp) -> Result<(), Duration> {
        let mut s = self.lock();
        let Some(limit) = s.limit else {
            return Ok(());
        };
        let t = now.as_millis();
        let w = s.windows.entry(key_id.to_owned()).or_default();
        let used = drain(w, t);
        if used.saturating_add(tokens) <= limit {
            w.push_back((t, tokens));
            return Ok(());
        }
        // The earliest time enough charges have left the minute for this one to fit.
        let mut left = used;
        let mut at = t + MINUTE_MS;
        for &(arrived, n) in w.iter() {
            left -= n;
            if left.saturating_add(tokens) <= limit {
                at = arrived + MINUTE_MS;
                break;
            }
        }
        Err(Duration::from_millis(
            u64::try_from((at - t).max(1)).unwrap_or(1),
        ))
    }
}

/// Drops what left the minute; returns what still counts.
fn drain(w: &mut VecDeque<(i64, u64)>, now_ms: i64) -> u64 {
    while w.front().is_some_and(|&(a, _)| a + MINUTE_MS <= now_ms) {
        w.pop_front();
    }
    w.iter().map(|&(_, n)| n).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_holds_the_limit_and_says_when_there_is_room() {
        let l = TpmLimit::new(Some(100));
        let at = |ms| Timestamp::from_millis(ms);
        assert!(l.charge("k", 60, at(0)).is_ok());
        assert!(l.charge("k", 40, at(10_000)).is_ok());
        assert_eq!(
            l.charge("k", 1, at(20_000)),
            Err(Duration::from_millis(40_000))
        );
        assert_eq!(
            l.charge("k", 50, at(20_000)),
            Err(Duration::from_millis(40_000))
        );
        assert_eq!(
            l.charge("k", 70, at(20_000)),
            Err(Duration::from_millis(50_000))
        );
        assert!(l.charge("other", 100, at(20_000)).is_ok(), "per key");
        assert_eq!(l.used("k", at(59_999)), 100);
        assert_eq!(l.used("k", at(60_000)), 40);
        assert!(l.charge("k", 60, at(60_000)).is_ok());
        assert!(
            l.charge("k", 101, at(200_000)).is_err(),
            "larger than the limit alone"
        );
        l.set_limit(None);
        assert!(l.charge("k", 10_000, at(200_000)).is_ok());
    }
}
