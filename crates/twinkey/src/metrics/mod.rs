//! Prometheus / OpenMetrics exposition of engines (feature `metrics`), encoded by the official
//! `prometheus-client` crate from a snapshot taken at scrape time.
//!
//! Two groups of metrics:
//! - the OpenTelemetry GenAI client metrics under their Prometheus names:
//!   `gen_ai_client_operation_duration_seconds` and `gen_ai_client_token_usage` (histograms,
//!   with `gen_ai_operation_name`, `gen_ai_provider_name`, `gen_ai_request_model`,
//!   `gen_ai_token_type`, `error_type`). The conventions have no OCI provider value; twinkey
//!   uses [`PROVIDER_NAME`], its own choice;
//! - `twinkey_*` metrics of the secrets (state, health, usability, seconds to expiry, attempts,
//!   rejections, events per kind), the requests and tokens per secret/model/endpoint/status,
//!   and the budget (used and limit per window, refunds, debits); for an engine in a fleet, the
//!   fleet's totals (`twinkey_fleet_requests`, `twinkey_fleet_tokens`) and the shared budget's
//!   leases.
//!
//! Labels carry the key's name, secret names and fingerprints, never a secret value.
//!
//! With feature `otlp`, [`otlp`] turns the same snapshot into an OpenTelemetry (OTLP)
//! export request.

#[cfg(feature = "otlp")]
pub mod otlp;

use std::borrow::Cow;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::engine::{Engine, EngineStatus, UsageReport};
use crate::usage::{DURATION_BUCKETS, Histogram, TOKEN_BUCKETS};

/// The `gen_ai.provider.name` twinkey reports (the conventions define none for OCI).
pub const PROVIDER_NAME: &str = "oci.generative_ai";

type Labels = Vec<(Cow<'static, str>, String)>;

/// `(kind, secret, count)` of [`Engine::event_counts`].
type EventCounts = Vec<(&'static str, String, u64)>;

/// One engine as a scrape sees it: its `key` label, status, usage and event counts.
type EngineView = (String, EngineStatus, UsageReport, EventCounts);

/// A gauge of one secret: extra labels and the value, or nothing (the secret's status and the
/// snapshot's time in ms).
type SecretGauge<'a> = &'a dyn Fn(&crate::engine::SecretStatus, i64) -> Option<(Labels, f64)>;

/// A named counter read from a value.
type Reading<T> = (&'static str, &'static str, fn(&T) -> u64);

/// The `key` label of an engine: its display name, else its OCID, else empty.
fn key_label(engine: &Engine) -> String {
    let key = engine.key();
    key.display_name.or(key.id).unwrap_or_default()
}

/// An exposition of one or more engines.
#[derive(Debug, Default)]
pub struct Exporter {
    engines: Vec<(String, Engine)>,
}

impl Exporter {
    /// An exporter of nothing yet.
    pub fn new() -> Self {
        Exporter::default()
    }

    /// Adds an engine; its metrics carry `key="<name>"` (default: the key's display name or
    /// OCID).
    pub fn add(&mut self, engine: &Engine, name: Option<&str>) -> &mut Self {
        let name = name.map_or_else(|| key_label(engine), str::to_owned);
        self.engines.push((name, engine.clone()));
        self
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Snapshot::take(&self.engines)));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Engine {
    /// This engine's metrics as OpenMetrics text (see [`crate::metrics`]).
    pub fn metrics_text(&self) -> String {
        Exporter::new().add(self, None).encode()
    }
}

/// What one scrape shows: taken once, then encoded.
#[derive(Debug)]
struct Snapshot {
    engines: Vec<EngineView>,
}

impl Snapshot {
    fn take(engines: &[(String, Engine)]) -> Self {
        Snapshot {
            engines: engines
                .iter()
                .map(|(name, e)| (name.clone(), e.status(), e.usage(), e.event_counts()))
                .collect(),
        }
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (Cow::Borrowed(*k), (*v).to_owned()))
        .collect()
}

/// One metric family: its descriptor, then each labelled value.
fn family(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    kind: MetricType,
    mut each: impl FnMut(&mut MetricEncoder<'_>) -> std::fmt::Result,
) -> std::fmt::Result {
    let mut m = encoder.encode_descriptor(name, help, unit, kind)?;
    each(&mut m)
}

fn gauge(m: &mut MetricEncoder<'_>, l: &Labels, v: f64) -> std::fmt::Result {
    m.encode_family(l)?.encode_gauge(&v)
}

/// A counter with a `type` label (`input`, `output`, `total`) added unless `kind` is empty.
fn typed_counter(m: &mut MetricEncoder<'_>, mut l: Labels, kind: &str, v: u64) -> std::fmt::Result {
    if !kind.is_empty() {
        l.push((Cow::Borrowed("type"), kind.to_owned()));
    }
    counter(m, &l, v)
}

fn counter(m: &mut MetricEncoder<'_>, l: &Labels, v: u64) -> std::fmt::Result {
    m.encode_family(l)?
        .encode_counter::<Labels, u64, f64>(&v, None)
}

/// A histogram over `bounds` (per-bucket counts; the encoder makes them cumulative).
fn histogram(
    m: &mut MetricEncoder<'_>,
    l: &Labels,
    h: &Histogram,
    bounds: &[f64],
) -> std::fmt::Result {
    let buckets: Vec<(f64, u64)> = bounds
        .iter()
        .chain([&f64::INFINITY])
        .enumerate()
        .map(|(i, b)| (*b, h.counts.get(i).copied().unwrap_or(0)))
        .collect();
    let total = h.count();
    m.encode_family(l)?
        .encode_histogram::<Labels>(h.sum, total, &buckets, None)
}

/// The GenAI conventions' `error.type` of a request that ended with `status`: none for a
/// 2xx, `no_response` when none came (0), else the status code.
fn error_type(status: u16) -> Option<String> {
    match status {
        200..=299 => None,
        0 => Some("no_response".to_owned()),
        s => Some(s.to_string()),
    }
}

/// `chat` for both OpenAI-compatible generation APIs, the GenAI conventions' name.
fn operation(endpoint: crate::usage::Endpoint) -> &'static str {
    match endpoint {
        crate::usage::Endpoint::Other => "other",
        _ => "chat",
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> std::fmt::Result {
        self.genai(&mut enc)?;
        self.secrets(&mut enc)?;
        self.requests(&mut enc)?;
        self.budget(&mut enc)?;
        self.fleet(&mut enc)
    }
}

impl Snapshot {
    fn genai(&self, enc: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        let durations: Vec<f64> = DURATION_BUCKETS.to_vec();
        #[allow(clippy::cast_precision_loss)]
        let tokens: Vec<f64> = TOKEN_BUCKETS.iter().map(|&t| t as f64).collect();
        family(
            enc,
            "gen_ai_client_operation_duration",
            "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration).",
            Some(&Unit::Seconds),
            MetricType::Histogram,
            |m| {
                for (key, _, usage, _) in &self.engines {
                    for r in &usage.rows {
                        let status = r.row.status.to_string();
                        let mut l = labels(&[
                            ("gen_ai_operation_name", operation(r.row.endpoint)),
                            ("gen_ai_provider_name", PROVIDER_NAME),
                            ("gen_ai_request_model", &r.row.model),
                            ("key", key),
                            ("secret", &r.secret),
                            ("twinkey_endpoint", r.row.endpoint.as_str()),
                            ("http_response_status_code", &status),
                        ]);
                        if let Some(error) = error_type(r.row.status) {
                            l.push((Cow::Borrowed("error_type"), error));
                        }
                        histogram(m, &l, &r.row.duration, &durations)?;
                    }
                }
                Ok(())
            },
        )?;
        family(
            enc,
            "gen_ai_client_token_usage",
            "Tokens per request as reported by the service (OpenTelemetry gen_ai.client.token.usage).",
            None,
            MetricType::Histogram,
            |m| {
                for (key, _, usage, _) in &self.engines {
                    for r in &usage.rows {
                        for (kind, h) in [
                            ("input", &r.row.input_histogram),
                            ("output", &r.row.output_histogram),
                        ] {
                            if h.count() == 0 {
                                continue;
                            }
                            let status = r.row.status.to_string();
                            let l = labels(&[
                                ("gen_ai_operation_name", operation(r.row.endpoint)),
                                ("gen_ai_provider_name", PROVIDER_NAME),
                                ("gen_ai_request_model", &r.row.model),
                                ("gen_ai_token_type", kind),
                                ("key", key),
                                ("secret", &r.secret),
                                ("twinkey_endpoint", r.row.endpoint.as_str()),
                                ("http_response_status_code", &status),
                            ]);
                            histogram(m, &l, h, &tokens)?;
                        }
                    }
                }
                Ok(())
            },
        )
    }

    fn secrets(&self, enc: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        let each_secret = |m: &mut MetricEncoder<'_>, f: SecretGauge<'_>| -> std::fmt::Result {
            for (key, status, _, _) in &self.engines {
                for s in &status.secrets {
                    if let Some((mut extra, v)) = f(s, status.at.as_millis()) {
                        let mut l = labels(&[
                            ("key", key),
                            ("secret", &s.name),
                            ("fingerprint", &s.fingerprint),
                        ]);
                        l.append(&mut extra);
                        gauge(m, &l, v)?;
                    }
                }
            }
            Ok(())
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        family(
            enc,
            "twinkey_secret_state",
            "The secret's declared state (1 for the state it is in).",
            None,
            MetricType::Gauge,
            |m| {
                each_secret(m, &|s, _| {
                    Some((labels(&[("state", s.state.as_str())]), 1.0))
                })
            },
        )?;
        family(
            enc,
            "twinkey_secret_health",
            "The secret's observed health (1 for healthy, cooling_down or probe_due).",
            None,
            MetricType::Gauge,
            |m| {
                each_secret(m, &|s, _| {
                    Some((labels(&[("health", s.health.as_str())]), 1.0))
                })
            },
        )?;
        family(
            enc,
            "twinkey_secret_usable",
            "Whether a request could use the secret now (1) or not (0).",
            None,
            MetricType::Gauge,
            |m| each_secret(m, &|s, _| Some((Vec::new(), flag(s.usable)))),
        )?;
        family(
            enc,
            "twinkey_secret_current",
            "Whether traffic goes to the secret (1) or not (0).",
            None,
            MetricType::Gauge,
            |m| each_secret(m, &|s, _| Some((Vec::new(), flag(s.current)))),
        )?;
        family(
            enc,
            "twinkey_secret_expires_in",
            "Seconds until the secret's timeExpiry (negative once past; absent without one).",
            Some(&Unit::Seconds),
            MetricType::Gauge,
            |m| {
                each_secret(m, &|s, now| {
                    #[allow(clippy::cast_precision_loss)]
                    s.time_expiry
                        .map(|t| (Vec::new(), (t.as_millis() - now) as f64 / 1000.0))
                })
            },
        )?;
        let counters: [Reading<crate::Counters>; 4] = [
            (
                "twinkey_secret_attempts",
                "Attempts handed this secret.",
                |c| c.attempts,
            ),
            (
                "twinkey_secret_accepted",
                "Responses that accepted the secret.",
                |c| c.accepted,
            ),
            (
                "twinkey_secret_rejections",
                "Rejections of the secret (401, or 403 with an authentication code).",
                |c| c.rejected,
            ),
            (
                "twinkey_secret_inconclusive",
                "Attempts that ended without a verdict on the secret (429, 5xx, no response).",
                |c| c.inconclusive,
            ),
        ];
        for (name, help, get) in counters {
            family(enc, name, help, None, MetricType::Counter, |m| {
                for (key, status, _, _) in &self.engines {
                    for s in &status.secrets {
                        let l = labels(&[
                            ("key", key),
                            ("secret", &s.name),
                            ("fingerprint", &s.fingerprint),
                        ]);
                        counter(m, &l, get(&s.counters))?;
                    }
                }
                Ok(())
            })?;
        }
        family(
            enc,
            "twinkey_events",
            "Engine events and alerts per kind and secret (failed_over counts the fail-overs).",
            None,
            MetricType::Counter,
            |m| {
                for (key, _, _, events) in &self.engines {
                    for (kind, secret, n) in events {
                        counter(
                            m,
                            &labels(&[("key", key), ("kind", kind), ("secret", secret)]),
                            *n,
                        )?;
                    }
                }
                Ok(())
            },
        )
    }

    fn requests(&self, enc: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        let rows = |m: &mut MetricEncoder<'_>,
                    f: &dyn Fn(&crate::usage::UsageRow) -> Vec<(&'static str, u64)>|
         -> std::fmt::Result {
            for (key, _, usage, _) in &self.engines {
                for r in &usage.rows {
                    let status = r.row.status.to_string();
                    for (extra, v) in f(&r.row) {
                        let l = labels(&[
                            ("key", key),
                            ("secret", &r.secret),
                            ("fingerprint", &r.fingerprint),
                            ("model", &r.row.model),
                            ("endpoint", r.row.endpoint.as_str()),
                            ("status", &status),
                        ]);
                        typed_counter(m, l, extra, v)?;
                    }
                }
            }
            Ok(())
        };
        family(
            enc,
            "twinkey_requests",
            "Completed requests per secret, model, endpoint and status (0: no response).",
            None,
            MetricType::Counter,
            |m| rows(m, &|r| vec![("", r.requests)]),
        )?;
        family(
            enc,
            "twinkey_requests_without_usage",
            "Completed requests whose response reported no usage.",
            None,
            MetricType::Counter,
            |m| rows(m, &|r| vec![("", r.without_usage)]),
        )?;
        family(
            enc,
            "twinkey_tokens",
            "Tokens the service reported, by type (input, output, total).",
            None,
            MetricType::Counter,
            |m| {
                rows(m, &|r| {
                    vec![
                        ("input", r.input_tokens),
                        ("output", r.output_tokens),
                        ("total", r.total_tokens),
                    ]
                })
            },
        )
    }

    fn budget(&self, enc: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        let windows = |m: &mut MetricEncoder<'_>, used: bool| -> std::fmt::Result {
            for (key, _, usage, _) in &self.engines {
                for w in usage.budget.iter().flat_map(|b| &b.windows) {
                    #[allow(clippy::cast_precision_loss)]
                    let v = if used { w.used } else { w.limit } as f64;
                    gauge(m, &labels(&[("key", key), ("scope", &w.scope)]), v)?;
                }
            }
            Ok(())
        };
        family(
            enc,
            "twinkey_budget_used_tokens",
            "Tokens counting in the budget's sliding minute (key, or model:<name>).",
            None,
            MetricType::Gauge,
            |m| windows(m, true),
        )?;
        family(
            enc,
            "twinkey_budget_limit_tokens",
            "The budget's tokens-per-minute limit (key, or model:<name>).",
            None,
            MetricType::Gauge,
            |m| windows(m, false),
        )?;
        let totals: [Reading<crate::budget::BudgetSnapshot>; 2] = [
            (
                "twinkey_budget_refunded_tokens",
                "Tokens refunded: estimates above the real usage, refusals.",
                |b| b.refunded,
            ),
            (
                "twinkey_budget_debited_tokens",
                "Tokens debited: real usage above the estimate, use of the key elsewhere.",
                |b| b.debited,
            ),
        ];
        for (name, help, get) in totals {
            family(enc, name, help, None, MetricType::Counter, |m| {
                for (key, _, usage, _) in &self.engines {
                    if let Some(b) = &usage.budget {
                        counter(m, &labels(&[("key", key)]), get(b))?;
                    }
                }
                Ok(())
            })?;
        }
        family(
            enc,
            "twinkey_budget_blocked_for",
            "Seconds admission stays blocked by the service's 429 (0 when not blocked).",
            Some(&Unit::Seconds),
            MetricType::Gauge,
            |m| {
                for (key, _, usage, _) in &self.engines {
                    if let Some(b) = &usage.budget {
                        #[allow(clippy::cast_precision_loss)]
                        let left = b
                            .blocked_until
                            .map_or(0, |t| (t.as_millis() - usage.at.as_millis()).max(0))
                            as f64
                            / 1000.0;
                        gauge(m, &labels(&[("key", key)]), left)?;
                    }
                }
                Ok(())
            },
        )
    }

    /// The fleet's totals (as the engine's fleet link last read them) and the leases of the
    /// shared budget; nothing for an engine in no fleet.
    fn fleet(&self, enc: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        type Pick = fn(&crate::fleet::usage::FleetUsageRow) -> Vec<(&'static str, u64)>;
        let rows = |m: &mut MetricEncoder<'_>, pick: Pick| -> std::fmt::Result {
            for (key, _, usage, _) in &self.engines {
                for r in usage.fleet.iter().flat_map(|f| &f.rows) {
                    for (extra, v) in pick(r) {
                        let l = labels(&[
                            ("key", key),
                            ("secret", &r.secret),
                            ("fingerprint", &r.fingerprint),
                            ("model", &r.model),
                        ]);
                        typed_counter(m, l, extra, v)?;
                    }
                }
            }
            Ok(())
        };
        family(
            enc,
            "twinkey_fleet_requests",
            "Requests answered across the fleet on this key, per secret and model.",
            None,
            MetricType::Counter,
            |m| rows(m, |r| vec![("", r.requests)]),
        )?;
        family(
            enc,
            "twinkey_fleet_tokens",
            "Tokens the service reported across the fleet, by type (input, output, total).",
            None,
            MetricType::Counter,
            |m| {
                rows(m, |r| {
                    vec![
                        ("input", r.input_tokens),
                        ("output", r.output_tokens),
                        ("total", r.total_tokens),
                    ]
                })
            },
        )?;
        family(
            enc,
            "twinkey_fleet_budget_available_tokens",
            "Tokens leased from the fleet's shared budget and not spent yet.",
            None,
            MetricType::Gauge,
            |m| {
                for (key, _, usage, _) in &self.engines {
                    if let Some(f) = usage.budget.as_ref().and_then(|b| b.fleet.as_ref()) {
                        #[allow(clippy::cast_precision_loss)]
                        gauge(m, &labels(&[("key", key)]), f.available as f64)?;
                    }
                }
                Ok(())
            },
        )?;
        family(
            enc,
            "twinkey_fleet_budget_shared",
            "1 while admission spends leases of the fleet's budget, 0 while Redis is away.",
            None,
            MetricType::Gauge,
            |m| {
                for (key, _, usage, _) in &self.engines {
                    if let Some(f) = usage.budget.as_ref().and_then(|b| b.fleet.as_ref()) {
                        let v = if f.attached { 1.0 } else { 0.0 };
                        gauge(m, &labels(&[("key", key)]), v)?;
                    }
                }
                Ok(())
            },
        )
    }
}
