//! The randomness seam: token ids (`jti`) and generated keys draw from a [`Random`], so vectors
//! can inject fixed bytes and the wasm host can supply its own source.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Result;

/// A source of random bytes.
pub trait Random: Send + Sync + fmt::Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's CSPRNG (`getrandom`). Not available on `wasm32-unknown-unknown`,
/// where the host injects a [`Random`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRandom;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        getrandom::fill(buf).map_err(|e| {
            super::error::TokenErrorKind::InvalidRequest.err(format!("no randomness: {e}"))
        })
    }
}

/// Fixed bytes, handed out in order and repeated when exhausted: deterministic vectors only.
#[derive(Debug)]
pub struct FixedRandom {
    bytes: Vec<u8>,
    pos: AtomicUsize,
}

impl FixedRandom {
    /// A source that yields `bytes` (cycling). Empty input yields zeros.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        FixedRandom {
            bytes: bytes.into(),
            pos: AtomicUsize::new(0),
        }
    }
}

impl Random for FixedRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        if self.bytes.is_empty() {
            buf.fill(0);
            return Ok(());
        }
        let start = self.pos.fetch_add(buf.len(), Ordering::Relaxed);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.bytes[(start + i) % self.bytes.len()];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_random_cycles_in_order() {
        let r = FixedRandom::new(vec![1, 2, 3]);
        let mut a = [0u8; 2];
        r.fill(&mut a).unwrap();
        let mut b = [0u8; 3];
        r.fill(&mut b).unwrap();
        assert_eq!((a, b), ([1, 2], [3, 1, 2]));
    }

    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    #[test]
    fn system_random_differs_between_draws() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        SystemRandom.fill(&mut a).unwrap();
        SystemRandom.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
