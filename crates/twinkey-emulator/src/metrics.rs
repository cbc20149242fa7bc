//! `GET /admin/metrics`: the emulator's counters as OpenMetrics text (the official
//! `prometheus-client` encoder): requests, acceptances and 401s per key and secret, the 429s of
//! the tokens-per-minute limit, tokens charged, and each key's minute against its limit.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::Emulator;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SecretLabels {
    key_id: String,
    secret: String,
    fingerprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    key_id: String,
}

/// The exposition, built from a snapshot of the counters.
pub(crate) fn text(emu: &Emulator) -> String {
    let counts = emu.counters().snapshot();
    let mut registry = Registry::with_prefix("twinkey_emulator");
    let requests = Family::<SecretLabels, Counter>::default();
    let accepted = Family::<SecretLabels, Counter>::default();
    let rejected = Family::<SecretLabels, Counter>::default();
    for c in &counts.secrets {
        let l = SecretLabels {
            key_id: c.key_id.clone(),
            secret: c.secret.clone(),
            fingerprint: c.fingerprint.clone(),
        };
        requests.get_or_create(&l).inc_by(c.requests);
        accepted.get_or_create(&l).inc_by(c.accepted);
        rejected.get_or_create(&l).inc_by(c.rejected);
    }
    registry.register(
        "requests",
        "Inference requests per secret value presented",
        requests,
    );
    registry.register("accepted", "Requests whose secret was accepted", accepted);
    registry.register("rejected", "Requests refused with 401", rejected);
    let unauthenticated = Counter::<u64>::default();
    unauthenticated.inc_by(counts.unauthenticated);
    registry.register(
        "unauthenticated",
        "Requests with no secret or an unknown one",
        unauthenticated,
    );
    let limited = Counter::<u64>::default();
    limited.inc_by(counts.rate_limited);
    registry.register(
        "rate_limited",
        "Requests answered 429 by the tokens-per-minute limit",
        limited,
    );
    let tokens = Counter::<u64>::default();
    tokens.inc_by(counts.tokens);
    registry.register("tokens", "Tokens of the answered requests", tokens);
    if let Some(limit) = emu.tpm().limit() {
        let used = Family::<KeyLabels, Gauge>::default();
        let now = emu.now();
        for key in emu.store().list() {
            let id = key.id().to_string();
            let n = i64::try_from(emu.tpm().used(&id, now)).unwrap_or(i64::MAX);
            used.get_or_create(&KeyLabels { key_id: id }).set(n);
        }
        registry.register(
            "tpm_used_tokens",
            "Tokens counting in each key's minute",
            used,
        );
        let g = Gauge::<i64>::default();
        g.set(i64::try_from(limit).unwrap_or(i64::MAX));
        registry.register(
            "tpm_limit_tokens",
            "The tokens-per-minute limit of every key",
            g,
        );
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}
