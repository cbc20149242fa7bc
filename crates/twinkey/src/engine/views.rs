//! The key view, kept once per thread shard: every attempt clones an `Arc` of the view (its
//! reference count is written twice per attempt), so each shard has its own copy and two
//! threads never write the same count. The writer (already serialized by the engine's writer
//! lock) replaces every copy; a reader sees the old or the new view, as with one copy.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use crate::shard::{SHARDS, mine};

/// One view per shard.
pub(super) struct Views<T> {
    shards: [ArcSwap<T>; SHARDS],
}

impl<T: Clone> Views<T> {
    pub(super) fn new(view: T) -> Self {
        Views {
            shards: std::array::from_fn(|_| ArcSwap::from_pointee(view.clone())),
        }
    }

    /// This thread's copy, without touching its reference count.
    #[inline]
    pub(super) fn load(&self) -> Guard<Arc<T>> {
        self.shards[mine()].load()
    }

    /// This thread's copy, owned.
    #[inline]
    pub(super) fn load_full(&self) -> Arc<T> {
        self.shards[mine()].load_full()
    }

    /// Replaces every copy.
    pub(super) fn store(&self, view: T) {
        for s in &self.shards[1..] {
            s.store(Arc::new(view.clone()));
        }
        self.shards[0].store(Arc::new(view));
    }
}
