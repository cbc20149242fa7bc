//! The admission ticket of a request, carried with its accepted response until the body ends:
//! the body passes through [`Metered::feed`], and the request is settled once (usage, budget
//! reconciliation) when the body ends, fails, or is dropped unread.

use twinkey::usage::BodyFacts;
use twinkey::{Attempt, Engine, ResponseFacts, Ticket};

/// A ticket with what settling it needs.
pub(crate) struct Metered {
    engine: Engine,
    ticket: Ticket,
    attempt: Attempt,
    status: u16,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Metered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered")
            .field("secret", &self.attempt.secret_name())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Metered {
    pub(crate) fn new(
        engine: Engine,
        ticket: Ticket,
        attempt: Attempt,
        status: u16,
        headers: Vec<(String, String)>,
    ) -> Self {
        Metered {
            engine,
            ticket,
            attempt,
            status,
            headers,
        }
    }

    /// A chunk of the body as it passes.
    pub(crate) fn feed(&self, chunk: &[u8]) {
        self.ticket.feed(chunk);
    }

    /// Settles with the body fed so far, or with what a stream monitor collected.
    pub(crate) fn settle(&self, stream: Option<&BodyFacts>) {
        let facts = ResponseFacts {
            status: self.status,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: None,
        };
        // Settling twice is a no-op; a ticket of this engine cannot be refused.
        let _ = self
            .engine
            .settle(&self.ticket, Some(&self.attempt), Some(&facts), stream);
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        self.settle(None);
    }
}
