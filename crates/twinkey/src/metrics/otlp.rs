//! OpenTelemetry metrics of engines as an OTLP export request (feature `otlp`): the official
//! `opentelemetry-proto` messages, encoded by `prost`, ready to be POSTed to a collector's
//! `/v1/metrics` (OTLP/HTTP, `application/x-protobuf`).
//!
//! The engine's meter already aggregates per request (its histograms have the GenAI bucket
//! layout), so the export carries those aggregates as cumulative data points instead of
//! aggregating a second time in an SDK; the OpenTelemetry API has no asynchronous histogram
//! to report them through.
//!
//! Names follow the OpenTelemetry GenAI conventions where they exist
//! (`gen_ai.client.operation.duration` in `s`, `gen_ai.client.token.usage` in `{token}`, with
//! `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`,
//! `gen_ai.token.type`, `error.type`), and `twinkey.*` for the rest. Attributes carry the
//! key's name, secret names and fingerprints, never a secret value.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram as OtlpHistogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::{EngineView, Exporter, PROVIDER_NAME, Reading, Snapshot, error_type, operation};
use crate::time::Timestamp;
use crate::usage::{DURATION_BUCKETS, Histogram, TOKEN_BUCKETS};

/// The protocol messages and their encoding, for callers that post or read exports.
pub mod proto {
    pub use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    };
    pub use prost::Message;
}

/// The content type of an OTLP/HTTP protobuf export.
pub const OTLP_CONTENT_TYPE: &str = "application/x-protobuf";

/// The instrumentation scope's name.
pub const SCOPE_NAME: &str = "twinkey";

/// What one export carries besides the metrics: the resource's `service.name` and the start
/// of the cumulative series.
#[derive(Clone, Debug)]
pub struct OtlpResource {
    /// `service.name` of the resource.
    pub service_name: String,
    /// When counting started (`start_time_unix_nano` of every cumulative point).
    pub start: Timestamp,
}

fn nanos(t: Timestamp) -> u64 {
    u64::try_from(t.as_millis())
        .unwrap_or(0)
        .saturating_mul(1_000_000)
}

fn attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| attr(k, v)).collect()
}

/// Timestamps of one export: the series' start and the snapshot's time.
#[derive(Clone, Copy)]
struct Times {
    start: u64,
    now: u64,
}

impl Times {
    fn point(self, attributes: Vec<KeyValue>, value: number_data_point::Value) -> NumberDataPoint {
        NumberDataPoint {
            attributes,
            start_time_unix_nano: self.start,
            time_unix_nano: self.now,
            value: Some(value),
            ..NumberDataPoint::default()
        }
    }

    fn histogram(
        self,
        attributes: Vec<KeyValue>,
        h: &Histogram,
        bounds: &[f64],
    ) -> HistogramDataPoint {
        let mut counts = h.counts.clone();
        counts.resize(bounds.len() + 1, 0);
        HistogramDataPoint {
            attributes,
            start_time_unix_nano: self.start,
            time_unix_nano: self.now,
            count: h.count(),
            sum: Some(h.sum),
            bucket_counts: counts,
            explicit_bounds: bounds.to_vec(),
            ..HistogramDataPoint::default()
        }
    }
}

fn metric(name: &str, description: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(data),
        ..Metric::default()
    }
}

const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

fn gauge(name: &str, description: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        description,
        unit,
        Data::Gauge(Gauge {
            data_points: points,
        }),
    )
}

fn counter(name: &str, description: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        description,
        unit,
        Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: CUMULATIVE,
            is_monotonic: true,
        }),
    )
}

fn histogram(name: &str, description: &str, unit: &str, points: Vec<HistogramDataPoint>) -> Metric {
    metric(
        name,
        description,
        unit,
        Data::Histogram(OtlpHistogram {
            data_points: points,
            aggregation_temporality: CUMULATIVE,
        }),
    )
}

fn int(v: u64) -> number_data_point::Value {
    number_data_point::Value::AsInt(i64::try_from(v).unwrap_or(i64::MAX))
}

fn double(v: f64) -> number_data_point::Value {
    number_data_point::Value::AsDouble(v)
}

impl Exporter {
    /// The engines' metrics as an OTLP export request.
    pub fn otlp_request(&self, resource: &OtlpResource) -> ExportMetricsServiceRequest {
        let snapshot = Snapshot::take(&self.engines);
        let now = snapshot
            .engines
            .iter()
            .map(|(_, s, _, _)| s.at)
            .max()
            .unwrap_or(resource.start);
        let times = Times {
            start: nanos(resource.start),
            now: nanos(now),
        };
        let mut metrics = Vec::new();
        genai(&snapshot.engines, times, &mut metrics);
        secrets(&snapshot.engines, times, &mut metrics);
        requests(&snapshot.engines, times, &mut metrics);
        budget(&snapshot.engines, times, &mut metrics);
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: attrs(&[
                        ("service.name", &resource.service_name),
                        ("telemetry.sdk.name", SCOPE_NAME),
                        ("telemetry.sdk.language", "rust"),
                        ("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
                    ]),
                    ..Resource::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE_NAME.to_owned(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        ..InstrumentationScope::default()
                    }),
                    metrics,
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        }
    }

    /// [`Exporter::otlp_request`] encoded as protobuf (the body of an OTLP/HTTP export).
    pub fn otlp(&self, resource: &OtlpResource) -> Vec<u8> {
        self.otlp_request(resource).encode_to_vec()
    }
}

#[allow(clippy::cast_precision_loss)]
fn genai(engines: &[EngineView], t: Times, out: &mut Vec<Metric>) {
    let token_bounds: Vec<f64> = TOKEN_BUCKETS.iter().map(|&b| b as f64).collect();
    let (mut durations, mut tokens) = (Vec::new(), Vec::new());
    for (key, _, usage, _) in engines {
        for r in &usage.rows {
            let op = operation(r.row.endpoint);
            let status = r.row.status.to_string();
            let base = [
                ("http.response.status_code", status.as_str()),
                ("gen_ai.operation.name", op),
                ("gen_ai.provider.name", PROVIDER_NAME),
                ("gen_ai.request.model", r.row.model.as_str()),
                ("twinkey.key", key.as_str()),
                ("twinkey.secret", r.secret.as_str()),
                ("twinkey.endpoint", r.row.endpoint.as_str()),
            ];
            let mut a = attrs(&base);
            if let Some(e) = error_type(r.row.status) {
                a.push(attr("error.type", &e));
            }
            durations.push(t.histogram(a, &r.row.duration, &DURATION_BUCKETS));
            for (kind, h) in [
                ("input", &r.row.input_histogram),
                ("output", &r.row.output_histogram),
            ] {
                if h.count() == 0 {
                    continue;
                }
                let mut a = attrs(&base);
                a.push(attr("gen_ai.token.type", kind));
                tokens.push(t.histogram(a, h, &token_bounds));
            }
        }
    }
    out.push(histogram(
        "gen_ai.client.operation.duration",
        "GenAI operation duration.",
        "s",
        durations,
    ));
    out.push(histogram(
        "gen_ai.client.token.usage",
        "Tokens per request as reported by the service.",
        "{token}",
        tokens,
    ));
}

/// Extra attributes and the value of one secret's point, or none (the secret's status and
/// the snapshot's time in ms).
type SecretPoint<'a> =
    &'a dyn Fn(
        &crate::engine::SecretStatus,
        i64,
    ) -> Option<(Vec<(&'static str, String)>, number_data_point::Value)>;

#[allow(clippy::cast_precision_loss)]
fn secrets(engines: &[EngineView], t: Times, out: &mut Vec<Metric>) {
    let each = |f: SecretPoint<'_>| {
        let mut points = Vec::new();
        for (key, status, _, _) in engines {
            for s in &status.secrets {
                if let Some((extra, v)) = f(s, status.at.as_millis()) {
                    let mut a = attrs(&[
                        ("twinkey.key", key),
                        ("twinkey.secret", &s.name),
                        ("twinkey.fingerprint", &s.fingerprint),
                    ]);
                    a.extend(extra.iter().map(|(k, v)| attr(k, v)));
                    points.push(t.point(a, v));
                }
            }
        }
        points
    };
    let flag = |b: bool| int(u64::from(b));
    // Every state as its own point, 1 for the one the secret is in and 0 for the others: a
    // push export has no staleness marker, so a state left is shown as 0, not as last seen.
    let mut states = Vec::new();
    for state in crate::SecretState::KNOWN {
        states.extend(each(&|s, _| {
            let name = state.as_str().to_owned();
            Some((vec![("twinkey.state", name)], flag(s.state == state)))
        }));
    }
    let mut healths = Vec::new();
    for health in crate::engine::HealthState::ALL {
        healths.extend(each(&|s, _| {
            let name = health.as_str().to_owned();
            Some((vec![("twinkey.health", name)], flag(s.health == health)))
        }));
    }
    out.push(gauge(
        "twinkey.secret.state",
        "The secret's declared state: 1 for the state it is in, 0 for the others.",
        "1",
        states,
    ));
    out.push(gauge(
        "twinkey.secret.health",
        "The secret's observed health (healthy, cooling_down, probe_due): 1 for the one it is in, 0 for the others.",
        "1",
        healths,
    ));
    out.push(gauge(
        "twinkey.secret.usable",
        "Whether a request could use the secret now (1) or not (0).",
        "1",
        each(&|s, _| Some((Vec::new(), flag(s.usable)))),
    ));
    out.push(gauge(
        "twinkey.secret.current",
        "Whether traffic goes to the secret (1) or not (0).",
        "1",
        each(&|s, _| Some((Vec::new(), flag(s.current)))),
    ));
    out.push(gauge(
        "twinkey.secret.expires_in",
        "Seconds until the secret's timeExpiry (negative once past; absent without one).",
        "s",
        each(&|s, now| {
            s.time_expiry
                .map(|e| (Vec::new(), double((e.as_millis() - now) as f64 / 1000.0)))
        }),
    ));
    let counters: [Reading<crate::Counters>; 4] = [
        (
            "twinkey.secret.attempts",
            "Attempts handed this secret.",
            |c| c.attempts,
        ),
        (
            "twinkey.secret.accepted",
            "Responses that accepted the secret.",
            |c| c.accepted,
        ),
        (
            "twinkey.secret.rejections",
            "Rejections of the secret (401, or 403 with an authentication code).",
            |c| c.rejected,
        ),
        (
            "twinkey.secret.inconclusive",
            "Attempts that ended without a verdict on the secret (429, 5xx, no response).",
            |c| c.inconclusive,
        ),
    ];
    for (name, help, get) in counters {
        out.push(counter(
            name,
            help,
            "{attempt}",
            each(&|s, _| Some((Vec::new(), int(get(&s.counters))))),
        ));
    }
    let mut events = Vec::new();
    for (key, _, _, counts) in engines {
        for (kind, secret, n) in counts {
            let a = attrs(&[
                ("twinkey.key", key),
                ("twinkey.event", kind),
                ("twinkey.secret", secret),
            ]);
            events.push(t.point(a, int(*n)));
        }
    }
    out.push(counter(
        "twinkey.events",
        "Engine events and alerts per kind and secret (failed_over counts the fail-overs).",
        "{event}",
        events,
    ));
}

fn requests(engines: &[EngineView], t: Times, out: &mut Vec<Metric>) {
    let rows = |f: &dyn Fn(&crate::usage::UsageRow) -> Vec<(&'static str, u64)>| {
        let mut points = Vec::new();
        for (key, _, usage, _) in engines {
            for r in &usage.rows {
                let status = r.row.status.to_string();
                for (kind, v) in f(&r.row) {
                    let mut a = attrs(&[
                        ("twinkey.key", key),
                        ("twinkey.secret", &r.secret),
                        ("twinkey.fingerprint", &r.fingerprint),
                        ("gen_ai.request.model", &r.row.model),
                        ("twinkey.endpoint", r.row.endpoint.as_str()),
                        ("http.response.status_code", &status),
                    ]);
                    if !kind.is_empty() {
                        a.push(attr("gen_ai.token.type", kind));
                    }
                    points.push(t.point(a, int(v)));
                }
            }
        }
        points
    };
    out.push(counter(
        "twinkey.requests",
        "Completed requests per secret, model, endpoint and status (0: no response).",
        "{request}",
        rows(&|r| vec![("", r.requests)]),
    ));
    out.push(counter(
        "twinkey.requests.without_usage",
        "Completed requests whose response reported no usage.",
        "{request}",
        rows(&|r| vec![("", r.without_usage)]),
    ));
    out.push(counter(
        "twinkey.tokens",
        "Tokens the service reported, by type (input, output, total).",
        "{token}",
        rows(&|r| {
            vec![
                ("input", r.input_tokens),
                ("output", r.output_tokens),
                ("total", r.total_tokens),
            ]
        }),
    ));
}

#[allow(clippy::cast_precision_loss)]
fn budget(engines: &[EngineView], t: Times, out: &mut Vec<Metric>) {
    let windows = |used: bool| {
        let mut points = Vec::new();
        for (key, _, usage, _) in engines {
            for w in usage.budget.iter().flat_map(|b| &b.windows) {
                let v = if used { w.used } else { w.limit };
                let a = attrs(&[("twinkey.key", key), ("twinkey.scope", &w.scope)]);
                points.push(t.point(a, int(v)));
            }
        }
        points
    };
    out.push(gauge(
        "twinkey.budget.used",
        "Tokens counting in the budget's sliding minute (key, or model:<name>).",
        "{token}",
        windows(true),
    ));
    out.push(gauge(
        "twinkey.budget.limit",
        "The budget's tokens-per-minute limit (key, or model:<name>).",
        "{token}",
        windows(false),
    ));
    let totals: [Reading<crate::budget::BudgetSnapshot>; 2] = [
        (
            "twinkey.budget.refunded",
            "Tokens refunded: estimates above the real usage, refusals.",
            |b| b.refunded,
        ),
        (
            "twinkey.budget.debited",
            "Tokens debited: real usage above the estimate, use of the key elsewhere.",
            |b| b.debited,
        ),
    ];
    for (name, help, get) in totals {
        let points = engines
            .iter()
            .filter_map(|(key, _, usage, _)| {
                let b = usage.budget.as_ref()?;
                Some(t.point(attrs(&[("twinkey.key", key)]), int(get(b))))
            })
            .collect();
        out.push(counter(name, help, "{token}", points));
    }
    let blocked = engines
        .iter()
        .filter_map(|(key, _, usage, _)| {
            let b = usage.budget.as_ref()?;
            let left = b
                .blocked_until
                .map_or(0, |u| (u.as_millis() - usage.at.as_millis()).max(0));
            Some(t.point(attrs(&[("twinkey.key", key)]), double(left as f64 / 1000.0)))
        })
        .collect();
    out.push(gauge(
        "twinkey.budget.blocked_for",
        "Seconds admission stays blocked by the service's 429 (0 when not blocked).",
        "s",
        blocked,
    ));
}
