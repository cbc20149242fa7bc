//! Relayed requests in flight per token subject: one subject cannot hold every upstream
//! stream of a relay. A [`StreamSlot`] is held while a request is relayed (until its response
//! body is sent whole or dropped) and gives its place back when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::error::TokenErrorKind;
use crate::error::Result;

#[derive(Debug)]
struct Counts {
    max: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// The per-subject limit.
#[derive(Clone, Debug)]
pub struct StreamLimiter {
    counts: Arc<Counts>,
}

/// A place taken by one relayed request; dropping it gives the place back.
#[derive(Debug)]
pub struct StreamSlot {
    counts: Arc<Counts>,
    subject: String,
}

impl StreamLimiter {
    /// At most `max` requests in flight per subject (0: no limit).
    pub fn new(max: usize) -> Self {
        StreamLimiter {
            counts: Arc::new(Counts {
                max,
                open: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The limit (0: none).
    pub fn max(&self) -> usize {
        self.counts.max
    }

    /// Takes a place for `subject`, or refuses with `TOO_MANY_STREAMS` (429).
    pub fn open(&self, subject: &str) -> Result<StreamSlot> {
        let mut open = self.counts.lock();
        let n = open.entry(subject.to_owned()).or_insert(0);
        if self.counts.max > 0 && *n >= self.counts.max {
            return Err(TokenErrorKind::TooManyStreams.err(format!(
                "this token's subject already has {} requests in flight through the relay \
                 (the limit); wait for one to finish",
                self.counts.max
            )));
        }
        *n += 1;
        Ok(StreamSlot {
            counts: self.counts.clone(),
            subject: subject.to_owned(),
        })
    }

    /// Requests in flight for `subject`.
    pub fn in_flight(&self, subject: &str) -> usize {
        self.counts.lock().get(subject).copied().unwrap_or(0)
    }
}

impl Counts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        if let Some(n) = open.get_mut(&self.subject) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.subject);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_gets_at_most_max_places_and_gets_them_back() {
        let l = StreamLimiter::new(2);
        let a = l.open("alice").unwrap();
        let _b = l.open("alice").unwrap();
        assert_eq!(l.open("alice").unwrap_err().code(), "TOO_MANY_STREAMS");
        let _c = l.open("bob").unwrap();
        drop(a);
        assert_eq!(l.in_flight("alice"), 1);
        assert!(l.open("alice").is_ok());
        let unlimited = StreamLimiter::new(0);
        let held: Vec<_> = (0..100).map(|_| unlimited.open("x").unwrap()).collect();
        assert_eq!(unlimited.in_flight("x"), 100);
        drop(held);
        assert_eq!(unlimited.in_flight("x"), 0);
    }
}
