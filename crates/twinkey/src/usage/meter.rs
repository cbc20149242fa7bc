//! Usage metering: what every completed request cost, per secret, model, endpoint and status,
//! with histograms in the OpenTelemetry GenAI bucket layout and a per-minute token history.
//!
//! Recording is on the hot path of every request, so the meter is sharded: each thread
//! records into one of [`SHARDS`] shards (picked once per thread), and a snapshot merges them.
//! Two threads recording at once then take different locks.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::extract::{Endpoint, Usage};
use crate::key::Slot;
use crate::time::Timestamp;

/// Shards of a meter (one per thread, see `crate::shard`).
pub const SHARDS: usize = crate::shard::SHARDS;

/// Upper bounds (seconds) of the `gen_ai.client.operation.duration` histogram buckets, as the
/// OpenTelemetry GenAI semantic conventions advise.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Upper bounds (tokens) of the `gen_ai.client.token.usage` histogram buckets (GenAI
/// conventions).
pub const TOKEN_BUCKETS: [u64; 14] = [
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/// Minutes of per-minute token history kept (the status page's hour).
pub const HISTORY_MINUTES: usize = 60;

/// Distinct model names a meter keeps; past it, requests naming a model not seen yet are
/// counted under [`OTHER_MODEL`]. The model comes from the request, so a caller naming a fresh
/// model on every request must not grow the meter (or the metrics' label sets) without bound.
/// The set is shared by the shards, so a model is counted under its name everywhere or
/// nowhere.
pub const MAX_MODELS: usize = 256;

/// Longest model name kept as is (bytes); longer names, and names with control characters,
/// are counted under [`OTHER_MODEL`].
pub const MAX_MODEL_LEN: usize = 128;

/// The model of rows past [`MAX_MODELS`] or with an unacceptable name.
pub const OTHER_MODEL: &str = "(other)";

/// One completed request, as the engine hands it to the meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The secret's slot.
    pub slot: Slot,
    /// The model (the response's, else the request's), or empty when neither names one.
    pub model: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// HTTP status of the final answer; 0 when none came (not sent, transport failure).
    pub status: u16,
    /// From admission to the end of the response.
    pub duration: Duration,
    /// What the response reported; `None` is counted as a request without usage.
    pub usage: Option<Usage>,
    /// When it ended.
    pub at: Timestamp,
}

/// A histogram: counts per bucket (one more than the bounds, the last for values above them)
/// and the sum.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Counts per bucket, not cumulative.
    pub counts: Vec<u64>,
    /// Sum of the values.
    pub sum: f64,
}

impl Histogram {
    fn observe(&mut self, index: usize, buckets: usize, value: f64) {
        if self.counts.len() != buckets + 1 {
            self.counts = vec![0; buckets + 1];
        }
        self.counts[index] += 1;
        self.sum += value;
    }

    fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum += other.sum;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The figures of one (secret, model, endpoint, status).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageRow {
    /// The secret's slot.
    pub slot: Option<Slot>,
    /// The model, or empty.
    pub model: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// HTTP status (0: no answer).
    pub status: u16,
    /// Requests.
    pub requests: u64,
    /// Requests whose response reported no usage.
    pub without_usage: u64,
    /// Input tokens reported.
    pub input_tokens: u64,
    /// Output tokens reported.
    pub output_tokens: u64,
    /// Total tokens reported.
    pub total_tokens: u64,
    /// Durations (seconds) over [`DURATION_BUCKETS`].
    pub duration: Histogram,
    /// Input tokens per request over [`TOKEN_BUCKETS`].
    pub input_histogram: Histogram,
    /// Output tokens per request over [`TOKEN_BUCKETS`].
    pub output_histogram: Histogram,
}

/// Tokens reported in one minute, per slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MinuteTokens {
    /// Start of the minute.
    pub minute: Timestamp,
    /// Total tokens per slot (`key-one`, `key-two` order).
    pub tokens: [u64; 2],
}

#[derive(Default)]
struct Shard {
    rows: BTreeMap<(Slot, String, Endpoint, u16), UsageRow>,
    /// (minute number, tokens per slot), newest last.
    minutes: Vec<(i64, [u64; 2])>,
}

/// The usage meter of one engine.
pub struct Meter {
    shards: [Mutex<Shard>; SHARDS],
    /// The model names counted as such (at most [`MAX_MODELS`]); read when a shard meets a
    /// row for the first time.
    models: Mutex<std::collections::HashSet<String>>,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            models: Mutex::default(),
        }
    }
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter").finish_non_exhaustive()
    }
}

fn token_bucket(tokens: u64) -> usize {
    TOKEN_BUCKETS
        .iter()
        .position(|&b| tokens <= b)
        .unwrap_or(TOKEN_BUCKETS.len())
}

fn duration_bucket(seconds: f64) -> usize {
    DURATION_BUCKETS
        .iter()
        .position(|&b| seconds <= b)
        .unwrap_or(DURATION_BUCKETS.len())
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // Every update leaves a shard consistent; a poisoned one is taken over.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Adds one request to its row, and its tokens to the minute's history.
fn add(row: &mut UsageRow, minutes: &mut Vec<(i64, [u64; 2])>, r: &Record) {
    row.requests += 1;
    let secs = r.duration.as_secs_f64();
    row.duration
        .observe(duration_bucket(secs), DURATION_BUCKETS.len(), secs);
    match r.usage {
        None => row.without_usage += 1,
        Some(u) => {
            row.input_tokens = row.input_tokens.saturating_add(u.input_tokens);
            row.output_tokens = row.output_tokens.saturating_add(u.output_tokens);
            row.total_tokens = row.total_tokens.saturating_add(u.total_tokens);
            let n = TOKEN_BUCKETS.len();
            row.input_histogram
                .observe(token_bucket(u.input_tokens), n, u.input_tokens as f64);
            row.output_histogram
                .observe(token_bucket(u.output_tokens), n, u.output_tokens as f64);
            let minute = r.at.as_millis().div_euclid(60_000);
            let slot = r.slot.index();
            match minutes.last_mut() {
                Some((m, t)) if *m == minute => t[slot] = t[slot].saturating_add(u.total_tokens),
                _ => {
                    let mut t = [0; 2];
                    t[slot] = u.total_tokens;
                    minutes.push((minute, t));
                    if minutes.len() > HISTORY_MINUTES {
                        minutes.remove(0);
                    }
                }
            }
        }
    }
}

impl Meter {
    /// An empty meter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one completed request.
    pub fn record(&self, r: &Record) {
        let mut guard = lock(&self.shards[crate::shard::mine()]);
        let sh = &mut *guard;
        let acceptable = r.model.len() <= MAX_MODEL_LEN && !r.model.chars().any(char::is_control);
        let mut key = (
            r.slot,
            if acceptable {
                r.model.clone()
            } else {
                OTHER_MODEL.to_owned()
            },
            r.endpoint,
            r.status,
        );
        // The common case: a row this shard has already (one lookup).
        if let Some(row) = sh.rows.get_mut(&key) {
            add(row, &mut sh.minutes, r);
            return;
        }
        // A shard's first request of this kind: the model-name cap, then a new row.
        if acceptable {
            let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
            if !models.contains(&r.model) {
                if models.len() < MAX_MODELS {
                    models.insert(r.model.clone());
                } else {
                    key.1 = OTHER_MODEL.to_owned();
                }
            }
        }
        let model = key.1.clone();
        let row = sh.rows.entry(key).or_insert_with(|| UsageRow {
            slot: Some(r.slot),
            model,
            endpoint: r.endpoint,
            status: r.status,
            ..UsageRow::default()
        });
        add(row, &mut sh.minutes, r);
    }

    /// Every row, merged over the shards, ordered by secret, model, endpoint and status.
    pub fn rows(&self) -> Vec<UsageRow> {
        let mut merged: BTreeMap<(Slot, String, Endpoint, u16), UsageRow> = BTreeMap::new();
        for shard in &self.shards {
            let sh = lock(shard);
            for (k, row) in &sh.rows {
                match merged.get_mut(k) {
                    None => {
                        merged.insert(k.clone(), row.clone());
                    }
                    Some(m) => {
                        m.requests += row.requests;
                        m.without_usage += row.without_usage;
                        m.input_tokens = m.input_tokens.saturating_add(row.input_tokens);
                        m.output_tokens = m.output_tokens.saturating_add(row.output_tokens);
                        m.total_tokens = m.total_tokens.saturating_add(row.total_tokens);
                        m.duration.merge(&row.duration);
                        m.input_histogram.merge(&row.input_histogram);
                        m.output_histogram.merge(&row.output_histogram);
                    }
                }
            }
        }
        merged.into_values().collect()
    }

    /// Tokens per minute over the last hour before `now` (oldest first, one entry per minute,
    /// minutes without usage included as zeros).
    pub fn minutes(&self, now: Timestamp) -> Vec<MinuteTokens> {
        let current = now.as_millis().div_euclid(60_000);
        let first = current - (HISTORY_MINUTES as i64) + 1;
        let mut out: Vec<MinuteTokens> = (first..=current)
            .map(|m| MinuteTokens {
                minute: Timestamp::from_millis(m.saturating_mul(60_000)),
                tokens: [0; 2],
            })
            .collect();
        for shard in &self.shards {
            let sh = lock(shard);
            for (m, t) in &sh.minutes {
                if (first..=current).contains(m) {
                    let i = usize::try_from(m - first).unwrap_or(0);
                    out[i].tokens[0] += t[0];
                    out[i].tokens[1] += t[1];
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rec(slot: Slot, model: &str, usage: Option<Usage>, at_ms: i64) -> Record {
        Record {
            slot,
            model: model.into(),
            endpoint: Endpoint::ChatCompletions,
            status: 200,
            duration: Duration::from_millis(150),
            usage,
            at: Timestamp::from_millis(at_ms),
        }
    }

    #[test]
    fn rows_merge_across_threads() {
        let meter = std::sync::Arc::new(Meter::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let m = meter.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        m.record(&rec(Slot::One, "m", Some(Usage::new(3, 4)), 0));
                    }
                    m.record(&rec(Slot::Two, "m", None, 0));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let rows = meter.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].requests, 400);
        assert_eq!(rows[0].total_tokens, 2800);
        assert_eq!(rows[0].duration.count(), 400);
        assert_eq!(rows[0].input_histogram.counts[1], 400); // 3 tokens: bucket "<= 4"
        assert_eq!(rows[1].without_usage, 4);
        assert_eq!(rows[1].input_histogram.count(), 0);
    }

    #[test]
    fn fresh_models_past_the_cap_are_counted_as_other() {
        let m = Meter::new();
        for i in 0..(MAX_MODELS + 50) {
            m.record(&rec(
                Slot::One,
                &format!("model-{i}"),
                Some(Usage::new(1, 1)),
                0,
            ));
        }
        // A model already counted keeps its row.
        m.record(&rec(Slot::One, "model-0", Some(Usage::new(1, 1)), 0));
        m.record(&rec(Slot::One, &"x".repeat(MAX_MODEL_LEN + 1), None, 0));
        m.record(&rec(Slot::One, "bad\nname", None, 0));
        let rows = m.rows();
        assert_eq!(rows.len(), MAX_MODELS + 1);
        let other = rows.iter().find(|r| r.model == OTHER_MODEL).unwrap();
        assert_eq!(other.requests, 52);
        assert_eq!(other.total_tokens, 100);
        assert_eq!(
            rows.iter().find(|r| r.model == "model-0").unwrap().requests,
            2
        );
        assert_eq!(rows.iter().map(|r| r.requests).sum::<u64>(), 309);
        // Another thread (another shard) counts the same names the same way.
        let m = std::sync::Arc::new(m);
        let m2 = m.clone();
        std::thread::spawn(move || {
            m2.record(&rec(Slot::One, "model-1", None, 0));
            m2.record(&rec(Slot::One, "model-999", None, 0));
        })
        .join()
        .unwrap();
        let rows = m.rows();
        assert_eq!(
            rows.iter().find(|r| r.model == "model-1").unwrap().requests,
            2
        );
        assert_eq!(
            rows.iter()
                .find(|r| r.model == OTHER_MODEL)
                .unwrap()
                .requests,
            53
        );
        assert!(rows.iter().all(|r| r.model != "model-999"));
    }

    #[test]
    fn minutes_of_the_last_hour() {
        let m = Meter::new();
        m.record(&rec(Slot::One, "m", Some(Usage::new(10, 0)), 0));
        m.record(&rec(Slot::Two, "m", Some(Usage::new(5, 0)), 61_000));
        m.record(&rec(Slot::One, "m", Some(Usage::new(1, 0)), 61_500));
        let now = Timestamp::from_millis(59 * 60_000 + 1);
        let minutes = m.minutes(now);
        assert_eq!(minutes.len(), HISTORY_MINUTES);
        assert_eq!(minutes[0].tokens, [10, 0]);
        assert_eq!(minutes[1].tokens, [1, 5]);
        // An hour later the first minute is gone.
        let later = m.minutes(Timestamp::from_millis(60 * 60_000));
        assert_eq!(later[0].tokens, [1, 5]);
    }
}
