//! The OTLP export of an engine, decoded back from its protobuf bytes with the official
//! `opentelemetry-proto` messages: GenAI histograms with the conventions' buckets, secret
//! gauges, counters, the budget; cumulative series; never a secret value. (The relay posts
//! the same bytes to a loopback collector in crates/twinkey-client/tests/otlp_export.rs.)
#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, metric::Data, number_data_point,
};
use prost::Message;
use serde_json::json;
use support::{ANSWER, send};
use twinkey::metrics::Exporter;
use twinkey::metrics::otlp::OtlpResource;
use twinkey::usage::{DURATION_BUCKETS, TOKEN_BUCKETS};
use twinkey::{ApiKey, BudgetOptions, Engine, EngineOptions, ManualClock, Secret, Timestamp};

const T0: i64 = 1_767_225_600_000;
const SECRETS: [&str; 2] = ["sk-otlp-one-aaaaaaaa", "sk-otlp-two-bbbbbbbb"];

fn engine() -> (Engine, ManualClock) {
    let mut key = ApiKey::new(
        Secret::new(
            "key-one",
            SECRETS[0],
            Some(Timestamp::from_millis(T0 + 86_400_000)),
        )
        .unwrap(),
        Secret::new("key-two", SECRETS[1], None).unwrap(),
    )
    .unwrap();
    key.display_name = Some("prod".into());
    let clock = ManualClock::new(Timestamp::from_millis(T0));
    let budget = BudgetOptions::from_json_value(&json!({"tokensPerMinute": 1000})).unwrap();
    let options = EngineOptions {
        budget: Some(budget),
        ..EngineOptions::default()
    };
    let e = Engine::with_clock(key, options, Arc::new(clock.clone())).unwrap();
    (e, clock)
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn find<'a>(metrics: &'a [Metric], name: &str) -> &'a Metric {
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn int(v: &Option<number_data_point::Value>) -> i64 {
    match v {
        Some(number_data_point::Value::AsInt(i)) => *i,
        other => panic!("not an int: {other:?}"),
    }
}

#[test]
fn an_engine_exports_genai_histograms_secrets_requests_and_budget() {
    let (e, clock) = engine();
    send(&e, &clock, 200, ANSWER);
    send(&e, &clock, 200, ANSWER);
    send(&e, &clock, 401, r#"{"code":"NotAuthenticated"}"#);
    let resource = OtlpResource {
        service_name: "twinkey-test".into(),
        start: Timestamp::from_millis(T0),
    };
    let bytes = Exporter::new().add(&e, None).otlp(&resource);
    for s in SECRETS {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret value is in the export"
        );
    }
    let req = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(req.resource_metrics.len(), 1);
    let rm = &req.resource_metrics[0];
    let res = rm.resource.as_ref().unwrap();
    assert_eq!(attr(&res.attributes, "service.name"), Some("twinkey-test"));
    let sm = &rm.scope_metrics[0];
    assert_eq!(sm.scope.as_ref().unwrap().name, "twinkey");
    let m = &sm.metrics;

    let duration = find(m, "gen_ai.client.operation.duration");
    assert_eq!(duration.unit, "s");
    let Some(Data::Histogram(h)) = &duration.data else {
        panic!("not a histogram")
    };
    assert_eq!(
        h.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let ok = h
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, "error.type").is_none())
        .unwrap();
    assert_eq!(ok.count, 2);
    assert_eq!(ok.explicit_bounds, DURATION_BUCKETS.to_vec());
    assert_eq!(ok.bucket_counts.len(), DURATION_BUCKETS.len() + 1);
    assert_eq!(ok.bucket_counts[5], 2, "300 ms falls in (0.16, 0.32]");
    assert!((ok.sum.unwrap() - 0.6).abs() < 1e-9);
    assert_eq!(ok.start_time_unix_nano, 1_767_225_600_000_000_000);
    assert_eq!(ok.time_unix_nano, 1_767_225_600_900_000_000);
    assert_eq!(attr(&ok.attributes, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(
        attr(&ok.attributes, "gen_ai.provider.name"),
        Some("oci.generative_ai")
    );
    assert_eq!(
        attr(&ok.attributes, "gen_ai.request.model"),
        Some("meta.llama")
    );
    assert_eq!(attr(&ok.attributes, "twinkey.key"), Some("prod"));
    let failed = h
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, "error.type") == Some("401"))
        .unwrap();
    assert_eq!(failed.count, 1);

    let tokens = find(m, "gen_ai.client.token.usage");
    assert_eq!(tokens.unit, "{token}");
    let Some(Data::Histogram(h)) = &tokens.data else {
        panic!("not a histogram")
    };
    let output = h
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, "gen_ai.token.type") == Some("output"))
        .unwrap();
    assert_eq!(output.count, 2);
    assert_eq!(output.sum, Some(40.0));
    assert_eq!(output.explicit_bounds.len(), TOKEN_BUCKETS.len());
    assert_eq!(output.bucket_counts[3], 2, "20 tokens fall in (16, 64]");

    let Some(Data::Sum(rejections)) = &find(m, "twinkey.secret.rejections").data else {
        panic!("not a sum")
    };
    assert!(rejections.is_monotonic);
    let one = rejections
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, "twinkey.secret") == Some("key-one"))
        .unwrap();
    assert_eq!(int(&one.value), 1);
    assert!(attr(&one.attributes, "twinkey.fingerprint").is_some());

    let Some(Data::Gauge(state)) = &find(m, "twinkey.secret.state").data else {
        panic!("not a gauge")
    };
    // Every known state per secret, 1 for the one it is in.
    assert_eq!(state.data_points.len(), 10);
    let of = |secret: &str, st: &str| {
        let p = state
            .data_points
            .iter()
            .find(|p| {
                attr(&p.attributes, "twinkey.secret") == Some(secret)
                    && attr(&p.attributes, "twinkey.state") == Some(st)
            })
            .unwrap();
        int(&p.value)
    };
    assert_eq!((of("key-one", "ACTIVE"), of("key-one", "REVOKED")), (1, 0));
    assert_eq!(of("key-two", "INACTIVE"), 0);
    let Some(Data::Gauge(health)) = &find(m, "twinkey.secret.health").data else {
        panic!("not a gauge")
    };
    let cooling = health
        .data_points
        .iter()
        .find(|p| {
            attr(&p.attributes, "twinkey.secret") == Some("key-one")
                && attr(&p.attributes, "twinkey.health") == Some("cooling_down")
        })
        .unwrap();
    assert_eq!(int(&cooling.value), 1, "key-one was rejected");
    assert_eq!(
        attr(&ok.attributes, "http.response.status_code"),
        Some("200")
    );
    let Some(Data::Gauge(expiry)) = &find(m, "twinkey.secret.expires_in").data else {
        panic!("not a gauge")
    };
    assert_eq!(expiry.data_points.len(), 1, "key-two has no expiry");
    assert_eq!(
        expiry.data_points[0].value,
        Some(number_data_point::Value::AsDouble(86_400.0 - 0.9))
    );

    let Some(Data::Sum(t)) = &find(m, "twinkey.tokens").data else {
        panic!("not a sum")
    };
    let total: i64 = t
        .data_points
        .iter()
        .filter(|p| attr(&p.attributes, "gen_ai.token.type") == Some("total"))
        .map(|p| int(&p.value))
        .sum();
    assert_eq!(total, 54);

    let Some(Data::Gauge(limit)) = &find(m, "twinkey.budget.limit").data else {
        panic!("not a gauge")
    };
    assert_eq!(int(&limit.data_points[0].value), 1000);
    assert_eq!(
        attr(&limit.data_points[0].attributes, "twinkey.scope"),
        Some("key")
    );
    let Some(Data::Sum(events)) = &find(m, "twinkey.events").data else {
        panic!("not a sum")
    };
    assert!(
        events
            .data_points
            .iter()
            .any(|p| attr(&p.attributes, "twinkey.event") == Some("secret_rejected"))
    );
}

#[test]
fn an_engine_without_traffic_or_budget_exports_empty_series() {
    let key = ApiKey::new(
        Secret::new("key-one", SECRETS[0], None).unwrap(),
        Secret::new("key-two", SECRETS[1], None).unwrap(),
    )
    .unwrap();
    let e = Engine::new(key, EngineOptions::default()).unwrap();
    let resource = OtlpResource {
        service_name: "twinkey".into(),
        start: e.now(),
    };
    let req = Exporter::new()
        .add(&e, Some("idle"))
        .otlp_request(&resource);
    let m = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Histogram(h)) = &find(m, "gen_ai.client.operation.duration").data else {
        panic!("not a histogram")
    };
    assert!(h.data_points.is_empty());
    let Some(Data::Gauge(limit)) = &find(m, "twinkey.budget.limit").data else {
        panic!("not a gauge")
    };
    assert!(limit.data_points.is_empty());
    let Some(Data::Gauge(state)) = &find(m, "twinkey.secret.state").data else {
        panic!("not a gauge")
    };
    assert_eq!(
        attr(&state.data_points[1].attributes, "twinkey.key"),
        Some("idle")
    );
}
