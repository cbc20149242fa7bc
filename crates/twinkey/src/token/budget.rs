//! The request budget: how many requests each token (by `jti`) has made. In memory; entries are
//! dropped once their token has expired, so the ledger holds at most the live tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use super::claims::Claims;
use super::error::TokenErrorKind;
use crate::error::Result;
use crate::time::Timestamp;

/// Prune expired entries every this many charges.
const PRUNE_EVERY: u64 = 1024;

#[derive(Debug)]
struct Entry {
    used: u32,
    /// When the entry may be forgotten (token expiry plus the verifier's skew), ms.
    forget_at: i64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    charges: u64,
}

/// Counts requests per token id against the token's `max_requests`.
#[derive(Debug, Default)]
pub struct BudgetLedger {
    state: Mutex<State>,
}

/// The outcome of a charge: the budget, if the token has one, and what is left of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The token's `max_requests`, if any.
    pub limit: Option<u32>,
    /// Requests left after this one (when there is a limit).
    pub remaining: Option<u32>,
}

impl BudgetLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request for the token; `TOKEN_BUDGET_EXHAUSTED` when its budget is used up
    /// (the request is then not counted). `keep_ms` is how long past `exp` to remember it.
    pub fn charge(&self, claims: &Claims, now: Timestamp, keep_ms: i64) -> Result<Charge> {
        let Some(limit) = claims.scope.max_requests else {
            return Ok(Charge {
                limit: None,
                remaining: None,
            });
        };
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.charges = st.charges.wrapping_add(1);
        if st.charges.is_multiple_of(PRUNE_EVERY) {
            let now_ms = now.as_millis();
            st.entries.retain(|_, e| e.forget_at > now_ms);
        }
        let forget_at = claims
            .expires_at
            .saturating_mul(1000)
            .saturating_add(keep_ms);
        let entry = st
            .entries
            .entry(claims.token_id.clone())
            .or_insert(Entry { used: 0, forget_at });
        if entry.used >= limit {
            return Err(TokenErrorKind::BudgetExhausted
                .err(format!("the token's budget of {limit} requests is used up")));
        }
        entry.used += 1;
        Ok(Charge {
            limit: Some(limit),
            remaining: Some(limit - entry.used),
        })
    }

    /// Gives back one request (nothing was sent upstream, e.g. no usable secret).
    pub fn refund(&self, token_id: &str) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = st.entries.get_mut(token_id) {
            e.used = e.used.saturating_sub(1);
        }
    }

    /// Requests counted for a token id.
    pub fn used(&self, token_id: &str) -> u32 {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.entries.get(token_id).map_or(0, |e| e.used)
    }

    /// Number of tokens remembered (for tests and metrics).
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }

    /// Whether no token is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::Scope;

    fn claims(jti: &str, budget: Option<u32>) -> Claims {
        let mut scope = Scope::new(["m"], ["models"]);
        scope.max_requests = budget;
        Claims {
            issuer: "i".into(),
            subject: "s".into(),
            audience: vec!["a".into()],
            issued_at: 0,
            not_before: None,
            expires_at: 10,
            token_id: jti.into(),
            scope,
        }
    }

    #[test]
    fn counts_per_jti_and_refunds() {
        let l = BudgetLedger::new();
        let now = Timestamp::from_millis(0);
        let c = claims("a", Some(2));
        assert_eq!(l.charge(&c, now, 0).unwrap().remaining, Some(1));
        assert_eq!(l.charge(&c, now, 0).unwrap().remaining, Some(0));
        assert_eq!(
            l.charge(&c, now, 0).unwrap_err().code(),
            "TOKEN_BUDGET_EXHAUSTED"
        );
        l.refund("a");
        assert!(l.charge(&c, now, 0).is_ok());
        assert!(l.charge(&claims("b", Some(1)), now, 0).is_ok());
        assert_eq!(l.charge(&claims("c", None), now, 0).unwrap().limit, None);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn forgets_expired_tokens() {
        let l = BudgetLedger::new();
        let late = Timestamp::from_millis(1_000_000);
        for i in 0..PRUNE_EVERY {
            let c = claims(&format!("t{i}"), Some(5));
            let _ = l.charge(&c, late, 0);
        }
        assert!(l.len() <= 1, "{}", l.len());
    }
}
