//! Stored responses and who created them: a Responses API id created through the relay is
//! bound to the token subject (and model) that created it, so another subject cannot read,
//! delete or continue it with the relay's real secret. Bounded: the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::error::TokenErrorKind;
use crate::error::Result;

/// How many response ids a relay remembers by default.
pub const DEFAULT_MAX_OWNED_RESPONSES: usize = 100_000;

/// The longest response id remembered (longer ones are not recorded, so never usable).
pub const MAX_RESPONSE_ID_BYTES: usize = 256;

/// Who created a stored response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The token subject.
    pub subject: String,
    /// The model named at creation, if any.
    pub model: Option<String>,
}

#[derive(Debug, Default)]
struct Table {
    owners: HashMap<String, Owner>,
    order: VecDeque<String>,
}

/// Response ids and their owners.
#[derive(Debug)]
pub struct ResponseOwners {
    capacity: usize,
    table: Mutex<Table>,
}

impl Default for ResponseOwners {
    fn default() -> Self {
        ResponseOwners::new(DEFAULT_MAX_OWNED_RESPONSES)
    }
}

impl ResponseOwners {
    /// A table remembering at most `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        ResponseOwners {
            capacity: capacity.max(1),
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `owner` created `id` (a second record of an id keeps its first owner).
    pub fn record(&self, id: &str, owner: Owner) {
        if id.is_empty() || id.len() > MAX_RESPONSE_ID_BYTES {
            return;
        }
        let mut t = self.lock();
        if t.owners.contains_key(id) {
            return;
        }
        while t.order.len() >= self.capacity {
            if let Some(old) = t.order.pop_front() {
                t.owners.remove(&old);
            }
        }
        t.owners.insert(id.to_owned(), owner);
        t.order.push_back(id.to_owned());
    }

    /// Forgets `id` (after a successful delete).
    pub fn forget(&self, id: &str) {
        let mut t = self.lock();
        if t.owners.remove(id).is_some() {
            t.order.retain(|k| k != id);
        }
    }

    /// The owner of `id`, if known.
    pub fn owner(&self, id: &str) -> Option<Owner> {
        self.lock().owners.get(id).cloned()
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().owners.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that `subject` may use response `id`: it created it through this relay. An id
    /// the relay does not know and another subject's id are refused alike
    /// (`RESPONSE_NOT_OWNED`, 404), so a caller learns nothing about ids it does not own.
    pub fn check(&self, id: &str, subject: &str) -> Result<Owner> {
        match self.owner(id) {
            Some(owner) if owner.subject == subject => Ok(owner),
            _ => Err(TokenErrorKind::NotOwner.err(format!(
                "response {:?} was not created through this relay with a token of this subject",
                id.chars().take(64).collect::<String>()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(s: &str) -> Owner {
        Owner {
            subject: s.into(),
            model: Some("m".into()),
        }
    }

    #[test]
    fn ids_belong_to_their_creator_and_the_table_is_bounded() {
        let t = ResponseOwners::new(2);
        t.record("resp_1", owner("alice"));
        t.record("resp_1", owner("mallory"));
        assert_eq!(t.check("resp_1", "alice").unwrap().subject, "alice");
        assert_eq!(
            t.check("resp_1", "mallory").unwrap_err().code(),
            "RESPONSE_NOT_OWNED"
        );
        assert_eq!(
            t.check("resp_x", "alice").unwrap_err().code(),
            "RESPONSE_NOT_OWNED"
        );
        t.record("resp_2", owner("bob"));
        t.record("resp_3", owner("bob"));
        assert_eq!(t.len(), 2);
        assert!(t.owner("resp_1").is_none(), "the oldest went first");
        t.forget("resp_2");
        assert!(t.check("resp_2", "bob").is_err());
        t.record(&"x".repeat(300), owner("bob"));
        assert_eq!(t.len(), 1);
    }
}
