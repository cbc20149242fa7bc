//! Fuzzes the fleet's usage hash as read back from Redis (anyone with access may write to it):
//! each input line is one `field=value` pair. Every pair is either counted into a row or
//! skipped (never both, never lost); rows come out ordered and distinct; what parses round-trips
//! through this process's own fields (`usage_fields`' format) unchanged; nothing panics.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use twinkey::Timestamp;
use twinkey::fleet::usage::{COUNTERS, UsageTally, parse_usage};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    let usage = parse_usage(pairs.iter().copied(), Timestamp::from_millis(0));
    let counted: u64 = usage
        .rows
        .iter()
        .map(|r| {
            [r.requests, r.input_tokens, r.output_tokens, r.total_tokens]
                .iter()
                .filter(|&&n| n > 0)
                .count() as u64
        })
        .sum();
    // A row's counter may come from several pairs, or from pairs of value 0.
    assert!(usage.skipped + counted <= pairs.len() as u64);
    assert!(usage.skipped <= pairs.len() as u64);
    let keys: Vec<_> = usage
        .rows
        .iter()
        .map(|r| (&r.secret, &r.fingerprint, &r.model))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    // Written back in the fields' format, the rows read the same.
    let mut fields: BTreeMap<String, u64> = BTreeMap::new();
    for r in &usage.rows {
        let counts = [r.requests, r.input_tokens, r.output_tokens, r.total_tokens];
        for (c, n) in COUNTERS.iter().zip(counts) {
            fields.insert(format!("{c}|{}|{}|{}", r.secret, r.fingerprint, r.model), n);
        }
    }
    let again: Vec<(String, String)> = fields.iter().map(|(f, n)| (f.clone(), n.to_string())).collect();
    let reread = parse_usage(again.iter().map(|(f, v)| (f.as_str(), v.as_str())), Timestamp::from_millis(0));
    assert_eq!(reread.rows, usage.rows);
    // A tally sends each field's whole count the first time, nothing the second.
    let mut tally = UsageTally::new();
    let first = tally.increments(&fields);
    assert!(first.iter().all(|(f, n)| fields.get(f) == Some(n)));
    tally.sent(&first);
    assert!(tally.increments(&fields).is_empty());
});
