//! Which of [`SHARDS`] shards the current thread writes to: state written on every request
//! (counters, the meter, the key view's reference count) is kept once per shard, so that two
//! threads working at once do not write the same cache line.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Shards of per-thread state.
pub const SHARDS: usize = 8;

static NEXT: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// This thread's shard (assigned round-robin on first use).
#[inline]
pub(crate) fn mine() -> usize {
    MINE.with(|s| *s)
}
