//! Fuzzes the relay's body filter: however a body is cut into chunks, the output is the body
//! with every secret value replaced, and no secret value ever appears in what is sent.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use twinkey::token::{BodyFilter, REDACTED};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    secrets: Vec<&'a [u8]>,
    chunks: Vec<&'a [u8]>,
    sse: bool,
}

fuzz_target!(|input: Input<'_>| {
    // Real secret values never hold brackets; one that did could straddle a "[redacted]".
    let secrets: Vec<&[u8]> = input
        .secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= 4 && !s.contains(&b'[') && !s.contains(&b']'))
        .take(3)
        .collect();
    let mut filter = BodyFilter::new(secrets.iter().copied()).reading_response_id(input.sse);
    let mut out = Vec::new();
    for c in &input.chunks {
        out.extend(filter.feed(c));
    }
    out.extend(filter.finish());
    for s in &secrets {
        // The replacement itself could contain a secret only if the secret is inside
        // "[redacted]"; such values are not secret-shaped.
        if !REDACTED.windows(s.len()).any(|w| w == *s) {
            assert!(!out.windows(s.len()).any(|w| w == *s), "a secret value passed the filter");
        }
    }
    let whole: Vec<u8> = input.chunks.concat();
    if secrets.is_empty() {
        assert_eq!(out, whole, "nothing to redact: the body passes unchanged");
    }
    let _ = filter.take_response_id();
});
