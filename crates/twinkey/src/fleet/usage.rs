//! A fleet's shared usage counters (sans I/O): what one process adds to the fleet's totals,
//! and what the totals read back mean. The transport (`twinkey-client`) keeps them in one
//! Redis hash per key, `<prefix>:<key OCID>:usage`, adding this process's growth with
//! `HINCRBY` and reading the whole hash back.
//!
//! A field is `<counter>|<secret>|<fingerprint>|<model>` (the model last: it may hold any
//! character), its value a decimal count; `<counter>` is one of [`COUNTERS`]. A field of
//! another shape, an unknown counter or a value that is not a count is skipped and counted
//! (a newer version may add some; someone may write garbage).

use std::collections::BTreeMap;

use crate::engine::UsageReport;
use crate::time::Timestamp;

/// The counters kept per secret and model.
pub const COUNTERS: [&str; 4] = ["requests", "input", "output", "total"];

/// The longest field read back (longer ones are skipped).
pub const MAX_FIELD_BYTES: usize = 512;

/// One secret and model's totals across the fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetUsageRow {
    /// The secret's name.
    pub secret: String,
    /// The fingerprint of the value the requests went with.
    pub fingerprint: String,
    /// The model.
    pub model: String,
    /// Requests answered.
    pub requests: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Total tokens.
    pub total_tokens: u64,
}

/// The fleet's totals as last read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetUsage {
    /// When they were read (this process's clock).
    pub at: Timestamp,
    /// Per secret, fingerprint and model, in that order.
    pub rows: Vec<FleetUsageRow>,
    /// Fields skipped as malformed.
    pub skipped: u64,
}

fn field(counter: &str, secret: &str, fingerprint: &str, model: &str) -> String {
    format!("{counter}|{secret}|{fingerprint}|{model}")
}

/// This process's totals as hash fields (requests and tokens per secret, fingerprint and
/// model, over every endpoint and status; zero counts left out).
pub fn usage_fields(report: &UsageReport) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for s in &report.rows {
        let r = &s.row;
        let counts = [r.requests, r.input_tokens, r.output_tokens, r.total_tokens];
        for (name, n) in COUNTERS.iter().zip(counts) {
            if n > 0 {
                let e = out
                    .entry(field(name, &s.secret, &s.fingerprint, &r.model))
                    .or_insert(0);
                *e = e.saturating_add(n);
            }
        }
    }
    out
}

/// What this process has added to the fleet's totals so far, to send only the growth.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageTally {
    sent: BTreeMap<String, u64>,
}

impl UsageTally {
    /// A tally of nothing sent.
    pub fn new() -> Self {
        UsageTally::default()
    }

    /// The increments to send for `current` (from [`usage_fields`]): each field's growth
    /// since what was sent (counters only grow; a smaller count, after the engine's rows were
    /// reset, sends nothing until it passes what was sent).
    pub fn increments(&self, current: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
        current
            .iter()
            .filter_map(|(f, &n)| {
                let before = self.sent.get(f).copied().unwrap_or(0);
                (n > before).then(|| (f.clone(), n - before))
            })
            .collect()
    }

    /// The increments were added to the fleet's totals.
    pub fn sent(&mut self, increments: &[(String, u64)]) {
        for (f, n) in increments {
            let e = self.sent.entry(f.clone()).or_insert(0);
            *e = e.saturating_add(*n);
        }
    }
}

/// The fleet's totals from the hash's fields and values, at `at`.
pub fn parse_usage<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    at: Timestamp,
) -> FleetUsage {
    let mut rows: BTreeMap<(String, String, String), FleetUsageRow> = BTreeMap::new();
    let mut skipped = 0u64;
    for (f, v) in pairs {
        let parsed = (f.len() <= MAX_FIELD_BYTES)
            .then(|| {
                let mut parts = f.splitn(4, '|');
                let counter = parts.next().filter(|c| COUNTERS.contains(c))?;
                let secret = parts.next().filter(|s| !s.is_empty())?;
                let fingerprint = parts.next().filter(|s| !s.is_empty())?;
                let model = parts.next()?;
                let n: u64 = v.trim().parse().ok()?;
                Some((counter, secret, fingerprint, model, n))
            })
            .flatten();
        let Some((counter, secret, fingerprint, model, n)) = parsed else {
            skipped += 1;
            continue;
        };
        let row = rows
            .entry((secret.into(), fingerprint.into(), model.into()))
            .or_insert_with(|| FleetUsageRow {
                secret: secret.into(),
                fingerprint: fingerprint.into(),
                model: model.into(),
                ..FleetUsageRow::default()
            });
        let slot = match counter {
            "requests" => &mut row.requests,
            "input" => &mut row.input_tokens,
            "output" => &mut row.output_tokens,
            _ => &mut row.total_tokens,
        };
        *slot = slot.saturating_add(n);
    }
    FleetUsage {
        at,
        rows: rows.into_values().collect(),
        skipped,
    }
}
