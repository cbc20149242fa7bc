//! The OpenMetrics exposition of an engine: GenAI histograms, secret gauges and counters,
//! requests and tokens, the budget and the alert counts; never a secret value. (A real parser,
//! Python's `prometheus_client`, reads the same text in python/tests/test_metrics.py.)
#![cfg(feature = "metrics")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use serde_json::json;
use support::{ANSWER, send};
use twinkey::metrics::Exporter;
use twinkey::{ApiKey, BudgetOptions, Engine, EngineOptions, ManualClock, Secret, Timestamp};

fn engine() -> (Engine, ManualClock) {
    let expiry = Timestamp::from_millis(1_767_225_600_000 + 86_400_000);
    let mut key = ApiKey::new(
        Secret::new("key-one", "sk-metrics-one-aaaa", Some(expiry)).unwrap(),
        Secret::new("key-two", "sk-metrics-two-bbbb", None).unwrap(),
    )
    .unwrap();
    key.display_name = Some("prod \"chat\"".into());
    let clock = ManualClock::new(Timestamp::from_millis(1_767_225_600_000));
    let options = EngineOptions {
        budget: Some(
            BudgetOptions::from_json_value(
                &json!({"tokensPerMinute": 1000, "perModel": {"meta.llama": 500}}),
            )
            .unwrap(),
        ),
        ..EngineOptions::default()
    };
    let e = Engine::with_clock(key, options, Arc::new(clock.clone())).unwrap();
    (e, clock)
}

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{text}"))
}

#[test]
fn an_engine_exposes_usage_secrets_budget_and_events() {
    let (e, clock) = engine();
    send(&e, &clock, 200, ANSWER);
    send(&e, &clock, 200, ANSWER);
    send(&e, &clock, 401, r#"{"code":"NotAuthenticated"}"#);
    let text = e.metrics_text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    for family in [
        "# TYPE gen_ai_client_operation_duration_seconds histogram",
        "# UNIT gen_ai_client_operation_duration_seconds seconds",
        "# TYPE gen_ai_client_token_usage histogram",
        "# TYPE twinkey_secret_state gauge",
        "# TYPE twinkey_secret_expires_in_seconds gauge",
        "# TYPE twinkey_secret_rejections counter",
        "# TYPE twinkey_events counter",
        "# TYPE twinkey_requests counter",
        "# TYPE twinkey_tokens counter",
        "# TYPE twinkey_budget_used_tokens gauge",
    ] {
        assert!(text.contains(family), "{family} missing in\n{text}");
    }
    // Two input observations of 7 tokens: cumulative buckets, sum and count.
    let input = r#"gen_ai_client_token_usage_bucket{le="16.0",gen_ai_operation_name="chat",gen_ai_provider_name="oci.generative_ai",gen_ai_request_model="meta.llama",gen_ai_token_type="input",key="prod \"chat\"",secret="key-one",twinkey_endpoint="chat_completions",http_response_status_code="200"} 2"#;
    assert!(text.contains(input), "{text}");
    assert!(line(&text, "gen_ai_client_token_usage_sum{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"oci.generative_ai\",gen_ai_request_model=\"meta.llama\",gen_ai_token_type=\"output\"").ends_with(" 40.0"));
    assert!(
        line(
            &text,
            "twinkey_tokens_total{key=\"prod \\\"chat\\\"\",secret=\"key-one\""
        )
        .contains("type=\"input\"} 14")
    );
    // The replayed 401 went to key-two; the rejection is counted on key-one.
    assert!(
        line(
            &text,
            "twinkey_secret_rejections_total{key=\"prod \\\"chat\\\"\",secret=\"key-one\""
        )
        .ends_with(" 1")
    );
    assert!(
        text.contains("kind=\"secret_rejected\",secret=\"key-one\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("kind=\"changed_out_of_band\",secret=\"key-one\"} 1"),
        "{text}"
    );
    assert!(
        line(
            &text,
            "twinkey_secret_expires_in_seconds{key=\"prod \\\"chat\\\"\",secret=\"key-one\""
        )
        .ends_with(" 86399.1")
    );
    assert!(text.contains("twinkey_budget_limit_tokens{key=\"prod \\\"chat\\\"\",scope=\"model:meta.llama\"} 500.0"), "{text}");
    assert!(text.contains("error_type=\"401\""), "{text}");
    for secret in ["sk-metrics-one-aaaa", "sk-metrics-two-bbbb"] {
        assert!(!text.contains(secret));
    }
}

#[test]
fn an_exporter_of_several_engines_labels_each_key() {
    let (a, _) = engine();
    let (b, _) = engine();
    let text = Exporter::new()
        .add(&a, Some("a"))
        .add(&b, Some("b"))
        .encode();
    assert!(text.contains("twinkey_secret_usable{key=\"a\",secret=\"key-one\""));
    assert!(text.contains("twinkey_secret_usable{key=\"b\",secret=\"key-one\""));
    assert_eq!(
        text.matches("# TYPE twinkey_secret_usable gauge").count(),
        1
    );
}
