//! The sliding one-minute window behind a tokens-per-minute limit.
//!
//! Why not GCRA (`governor`) or a token bucket: the budget charges an *estimate* before a
//! request is sent and corrects it when the response reports the real usage, and a refund must
//! give back room to the minute the tokens were charged in. GCRA keeps one "theoretical arrival
//! time" that only moves forward (governor has no API to return cells), and a bucket refilled
//! continuously lets up to twice its limit through in one minute (a full bucket plus a minute
//! of refill), which a service counting tokens per minute answers with 429s. A window of
//! one-second slots does both: any 60 s span holds at most the limit (plus one oversized
//! request admitted into an empty window), and a correction lands in the slot it belongs to.

/// Slots in the ring (a power of two above [`KEEP_SECONDS`]).
const SLOTS: usize = 64;

/// How long a charge counts, in whole seconds after the second it was made in. 62 rather than
/// 60: a charge made at 12.9 s still counts at 72.9 s, and the request it paid for may reach
/// the service up to a second after it was admitted.
pub const KEEP_SECONDS: i64 = 62;

/// Tokens charged per second over the last [`KEEP_SECONDS`] seconds.
#[derive(Clone, Debug)]
pub struct Window {
    limit: u64,
    tokens: [u64; SLOTS],
    second: [i64; SLOTS],
    total: u64,
    /// The latest second seen (time never goes backwards inside the window).
    latest: i64,
}

fn slot(second: i64) -> usize {
    // rem_euclid keeps negative seconds (before 1970) in range; SLOTS fits in i64.
    usize::try_from(second.rem_euclid(SLOTS as i64)).unwrap_or(0)
}

impl Window {
    /// An empty window holding at most `limit` tokens per minute.
    pub fn new(limit: u64) -> Self {
        Window {
            limit,
            tokens: [0; SLOTS],
            second: [i64::MIN; SLOTS],
            total: 0,
            latest: i64::MIN,
        }
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Drops what no longer counts at `now` (seconds); returns the second used from now on.
    fn advance(&mut self, now: i64) -> i64 {
        let now = now.max(self.latest);
        if now != self.latest {
            self.latest = now;
            for i in 0..SLOTS {
                if self.tokens[i] > 0 && now - self.second[i] >= KEEP_SECONDS {
                    self.total -= self.tokens[i];
                    self.tokens[i] = 0;
                }
            }
        }
        now
    }

    /// Tokens counting at `now`.
    pub fn used(&mut self, now: i64) -> u64 {
        self.advance(now);
        self.total
    }

    /// Whether `tokens` more fit at `now`: within the limit, or into an empty window (a single
    /// request larger than the limit is let through alone rather than never).
    pub fn fits(&mut self, now: i64, tokens: u64) -> bool {
        self.advance(now);
        self.total == 0 || self.total.saturating_add(tokens) <= self.limit
    }

    /// The second at which `tokens` will fit (the earliest slot whose expiry frees enough),
    /// or `now` when they fit already.
    pub fn fits_at(&mut self, now: i64, tokens: u64) -> i64 {
        let now = self.advance(now);
        if self.total == 0 || self.total.saturating_add(tokens) <= self.limit {
            return now;
        }
        // Room needed: total + tokens - limit, or everything when tokens alone exceed it.
        let excess = (self.total.saturating_add(tokens) - self.limit).min(self.total);
        let mut freed = 0u64;
        for s in (now - KEEP_SECONDS + 1)..=now {
            let i = slot(s);
            if self.second[i] == s {
                freed = freed.saturating_add(self.tokens[i]);
                if freed >= excess {
                    return s + KEEP_SECONDS;
                }
            }
        }
        now + KEEP_SECONDS
    }

    /// Charges `tokens` at `now`; returns the second charged (for [`Window::adjust`]).
    pub fn charge(&mut self, now: i64, tokens: u64) -> i64 {
        let now = self.advance(now);
        let i = slot(now);
        if self.second[i] != now {
            // Whatever the slot held is at least SLOTS seconds old and already dropped.
            self.second[i] = now;
            self.tokens[i] = 0;
        }
        self.tokens[i] = self.tokens[i].saturating_add(tokens);
        self.total = self.total.saturating_add(tokens);
        now
    }

    /// Corrects a charge made at second `charged` by `delta` tokens: a refund (negative) is
    /// taken from that second's slot while it still counts (and dropped once it no longer
    /// does); a debit (positive) goes to that slot, or to `now`'s once it has expired (the
    /// tokens were used; the service counts them late rather than never).
    pub fn adjust(&mut self, now: i64, charged: i64, delta: i64) {
        let now = self.advance(now);
        let live = now - charged < KEEP_SECONDS && self.second[slot(charged)] == charged;
        let magnitude = delta.unsigned_abs();
        if delta < 0 {
            if live {
                let i = slot(charged);
                let back = magnitude.min(self.tokens[i]);
                self.tokens[i] -= back;
                self.total -= back;
            }
        } else if delta > 0 {
            if live {
                let i = slot(charged);
                self.tokens[i] = self.tokens[i].saturating_add(magnitude);
                self.total = self.total.saturating_add(magnitude);
            } else {
                self.charge(now, magnitude);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_count_for_keep_seconds() {
        let mut w = Window::new(100);
        w.charge(10, 60);
        assert!(!w.fits(10, 41));
        assert!(w.fits(10, 40));
        assert_eq!(w.fits_at(10, 41), 10 + KEEP_SECONDS);
        assert_eq!(w.used(10 + KEEP_SECONDS - 1), 60);
        assert_eq!(w.used(10 + KEEP_SECONDS), 0);
    }

    #[test]
    fn oversized_request_alone() {
        let mut w = Window::new(100);
        assert!(w.fits(0, 500));
        w.charge(0, 500);
        assert!(!w.fits(1, 1));
        assert_eq!(w.fits_at(1, 500), KEEP_SECONDS);
    }

    #[test]
    fn refunds_and_debits() {
        let mut w = Window::new(100);
        let c = w.charge(5, 80);
        w.adjust(6, c, -50);
        assert_eq!(w.used(6), 30);
        w.adjust(7, c, 20);
        assert_eq!(w.used(7), 50);
        // Expired: a refund is dropped, a debit lands now.
        w.adjust(5 + KEEP_SECONDS, c, -10);
        assert_eq!(w.used(5 + KEEP_SECONDS), 0);
        w.adjust(5 + KEEP_SECONDS, c, 15);
        assert_eq!(w.used(5 + KEEP_SECONDS), 15);
    }

    #[test]
    fn time_going_backwards_is_clamped() {
        let mut w = Window::new(100);
        w.charge(100, 90);
        assert_eq!(w.used(50), 90);
        assert!(!w.fits(50, 20));
    }

    #[test]
    fn waits_for_the_oldest_slots_that_free_enough() {
        let mut w = Window::new(100);
        w.charge(0, 30);
        w.charge(10, 30);
        w.charge(20, 30);
        assert_eq!(w.fits_at(20, 50), 10 + KEEP_SECONDS);
        assert_eq!(w.fits_at(20, 10), 20);
    }
}
