//! Runs the shared stream vectors in `tests/vectors/stream/` (format: tests/vectors/README.md):
//! each case as given, then its bytes re-split at every position and one byte at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use twinkey::stream::{SseMonitor, StreamKind};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/stream")
}

/// The outcome in the vectors' words: (`ended`|`interrupted`, termination or error code,
/// received bytes when interrupted, events dispatched).
fn run(kind: StreamKind, chunks: &[&[u8]], transport_error: Option<&str>) -> Value {
    let mut m = SseMonitor::new(kind);
    for c in chunks {
        m.observe(c);
    }
    let result = match transport_error {
        Some(reason) => m.transport_error(reason),
        None => m.finish(),
    };
    match result {
        Ok(t) => serde_json::json!({
            "outcome": "ended", "termination": t.as_str(), "events": m.events()
        }),
        Err(e) => {
            let received = match &e {
                twinkey::Error::StreamInterrupted { received, .. } => *received,
                other => panic!("unexpected error {other}"),
            };
            assert_eq!(received, m.received());
            serde_json::json!({
                "outcome": "interrupted", "error": e.code(), "received": received,
                "events": m.events()
            })
        }
    }
}

#[test]
fn stream_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no stream vectors found");
    let mut ran = 0;
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let name = format!("{}: {}", file.display(), case["name"].as_str().unwrap());
            let kind = StreamKind::parse(case["kind"].as_str().unwrap()).unwrap();
            let chunks: Vec<&[u8]> = case["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().as_bytes())
                .collect();
            let transport_error = case.get("transportError").and_then(Value::as_str);
            let expect = &case["expect"];
            assert_eq!(&run(kind, &chunks, transport_error), expect, "{name}");

            // Any split gives the same outcome.
            let all: Vec<u8> = chunks.concat();
            for at in 0..=all.len() {
                let (a, b) = all.split_at(at);
                assert_eq!(
                    &run(kind, &[a, b], transport_error),
                    expect,
                    "{name} split at {at}"
                );
            }
            let bytes: Vec<&[u8]> = all.chunks(1).collect();
            assert_eq!(
                &run(kind, &bytes, transport_error),
                expect,
                "{name} byte by byte"
            );
            ran += 1;
        }
    }
    assert!(ran >= 20, "only {ran} stream cases");
}
