//! Fuzzes the SSE parser and stream monitor: the same bytes give the same events however they
//! are cut into chunks, and the monitor always reaches a verdict without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinkey::stream::SseParser;
use twinkey::{SseMonitor, StreamKind};

fuzz_target!(|data: &[u8]| {
    let (chunks, payload) = twinkey_fuzz::chunks(data);
    let mut whole = Vec::new();
    SseParser::new().feed(payload, &mut whole);
    let mut pieces = Vec::new();
    let mut parser = SseParser::new();
    for c in &chunks {
        parser.feed(c, &mut pieces);
    }
    assert_eq!(whole, pieces, "events do not depend on chunk boundaries");
    for kind in [StreamKind::Auto, StreamKind::ChatCompletions, StreamKind::Responses] {
        let mut m = SseMonitor::new(kind);
        for c in &chunks {
            m.observe(c);
        }
        let _ = m.terminal();
        match m.finish() {
            Ok(_) => {}
            Err(e) => assert!(!e.code().is_empty()),
        }
        assert_eq!(m.received(), payload.len() as u64);
    }
});
