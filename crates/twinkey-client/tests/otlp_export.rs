//! The OTLP/HTTP pusher against a real loopback collector: an HTTP server on its own runtime
//! that decodes every POST to /v1/metrics with the official `opentelemetry-proto` messages.
//! Exports carry the traffic the client sent; a collector killed, slow or failing costs the
//! requests nothing and the exports resume when it is back; no secret value is ever posted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{Env, chat};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
use prost::Message;
use twinkey::metrics::Exporter;
use twinkey_client::otlp::{OtlpOptions, OtlpPusher};

const OK: u8 = 0;
const FAIL: u8 = 1;
const SLOW: u8 = 2;
/// Never answers.
const HANG: u8 = 3;
/// 200 with an OTLP partial success that dropped points.
const PARTIAL: u8 = 4;

/// One export as the collector received it.
struct Received {
    raw: Vec<u8>,
    headers: HeaderMap,
    request: ExportMetricsServiceRequest,
}

#[derive(Clone, Default)]
struct Inbox {
    exports: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
    /// Exports that reached the handler, answered or not.
    arrived: Arc<std::sync::atomic::AtomicUsize>,
}

async fn export(
    State(inbox): State<Inbox>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    inbox.arrived.fetch_add(1, Ordering::Relaxed);
    match inbox.mode.load(Ordering::Relaxed) {
        FAIL => return (StatusCode::INTERNAL_SERVER_ERROR, Vec::new()),
        SLOW => tokio::time::sleep(Duration::from_secs(5)).await,
        HANG => std::future::pending::<()>().await,
        PARTIAL => {
            let partial = ExportMetricsServiceResponse {
                partial_success: Some(ExportMetricsPartialSuccess {
                    rejected_data_points: 3,
                    error_message: "too many series".into(),
                }),
            };
            return (StatusCode::OK, partial.encode_to_vec());
        }
        _ => {}
    }
    let Ok(request) = ExportMetricsServiceRequest::decode(body.as_ref()) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    inbox.exports.lock().unwrap().push(Received {
        raw: body.to_vec(),
        headers,
        request,
    });
    (
        StatusCode::OK,
        ExportMetricsServiceResponse::default().encode_to_vec(),
    )
}

/// A collector on its own thread and runtime: [`Collector::kill`] drops the runtime, and with
/// it the listener and every connection.
struct Collector {
    addr: SocketAddr,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    fn start(addr: SocketAddr, inbox: Inbox) -> Collector {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.spawn(async move {
                let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new()
                    .route("/v1/metrics", post(export))
                    .with_state(inbox);
                axum::serve(listener, app).await.unwrap();
            });
            let _ = stop_rx.recv();
            rt.shutdown_background();
        });
        let addr = ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Collector {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/metrics", self.addr)
    }

    fn kill(mut self) {
        drop(self.stop.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

fn options(url: String, interval_ms: u64) -> OtlpOptions {
    OtlpOptions {
        endpoint: url,
        interval: Duration::from_millis(interval_ms),
        timeout: Duration::from_millis(500),
        service_name: "otlp-test".into(),
        headers: vec![("authorization".into(), "Bearer collector-token-1234".into())],
    }
}

fn pusher(env: &Env, options: OtlpOptions) -> OtlpPusher {
    let mut exporter = Exporter::new();
    exporter.add(env.client.engine(), Some("test"));
    OtlpPusher::start(exporter, options).unwrap()
}

/// `twinkey.requests` summed over every point of an export.
fn requests_in(r: &ExportMetricsServiceRequest) -> i64 {
    r.resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .filter(|m| m.name == "twinkey.requests")
        .filter_map(|m| match &m.data {
            Some(Data::Sum(s)) => Some(&s.data_points),
            _ => None,
        })
        .flatten()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsInt(i)) => i,
            _ => 0,
        })
        .sum()
}

/// Waits until `cond` holds (10 s at most).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn send(env: &Env, n: usize) {
    for _ in 0..n {
        let r = env
            .client
            .post_json("chat/completions", &chat("hello", false))
            .await
            .expect("the request goes through whatever the collector does");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
    }
}

fn latest_requests(inbox: &Inbox) -> i64 {
    inbox
        .exports
        .lock()
        .unwrap()
        .last()
        .map_or(-1, |r| requests_in(&r.request))
}

#[tokio::test]
async fn exports_reach_the_collector_and_survive_it_being_killed() {
    let env = Env::start().await;
    let inbox = Inbox::default();
    let collector = Collector::start("127.0.0.1:0".parse().unwrap(), inbox.clone());
    let addr = collector.addr;
    let p = pusher(&env, options(collector.url(), 100));
    send(&env, 3).await;
    until("an export with 3 requests", || latest_requests(&inbox) == 3).await;
    {
        let exports = inbox.exports.lock().unwrap();
        let last = exports.last().unwrap();
        assert_eq!(last.headers["content-type"], "application/x-protobuf");
        assert_eq!(last.headers["authorization"], "Bearer collector-token-1234");
        for secret in env.secret_values() {
            assert!(
                !last
                    .raw
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes()),
                "a secret value was posted"
            );
        }
        let rm = &last.request.resource_metrics[0];
        let service = rm
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .find(|kv| kv.key == "service.name");
        assert!(matches!(
            service.and_then(|kv| kv.value.as_ref()?.value.as_ref()),
            Some(any_value::Value::StringValue(s)) if s == "otlp-test"
        ));
        let names: Vec<&str> = rm.scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        for name in [
            "gen_ai.client.operation.duration",
            "gen_ai.client.token.usage",
            "twinkey.secret.state",
            "twinkey.tokens",
        ] {
            assert!(names.contains(&name), "{name} missing in {names:?}");
        }
    }

    // Killed: requests go on; the pusher counts failures; its errors and Debug do not show the
    // header's value.
    collector.kill();
    let failed_before = p.stats().failed;
    send(&env, 5).await;
    until("two failed exports", || {
        p.stats().failed >= failed_before + 2
    })
    .await;
    let stats = p.stats();
    let why = stats.last_error.clone().expect("the latest export failed");
    assert!(!why.contains("collector-token"), "{why}");
    assert!(!format!("{p:?}").contains("collector-token"));
    assert!(!format!("{:?}", options(String::new(), 1)).contains("collector-token"));

    // Back on the same port: the next exports carry everything, the 5 included.
    let _back = Collector::start(addr, inbox.clone());
    until("an export with 8 requests", || latest_requests(&inbox) == 8).await;
    until("the pusher to see it", || p.stats().last_error.is_none()).await;
    let stats = p.shutdown().await;
    assert!(stats.exported >= 2, "{stats:?}");
}

#[tokio::test]
async fn a_collector_that_never_answers_does_not_hold_requests() {
    let env = Env::start().await;
    let inbox = Inbox::default();
    inbox.mode.store(HANG, Ordering::Relaxed);
    let collector = Collector::start("127.0.0.1:0".parse().unwrap(), inbox.clone());
    let mut o = options(collector.url(), 50);
    o.timeout = Duration::from_secs(3600);
    let p = pusher(&env, o);
    until("an export hanging at the collector", || {
        inbox.arrived.load(Ordering::Relaxed) >= 1
    })
    .await;
    // Were exports on the request path, these would wait for an hour.
    tokio::time::timeout(Duration::from_secs(60), send(&env, 5))
        .await
        .expect("requests complete while an export hangs");
    assert_eq!(p.stats().exported, 0);
    drop(p);
    collector.kill();
}

#[tokio::test]
async fn a_slow_or_failing_collector_costs_requests_nothing() {
    let env = Env::start().await;
    let inbox = Inbox::default();
    inbox.mode.store(SLOW, Ordering::Relaxed);
    let collector = Collector::start("127.0.0.1:0".parse().unwrap(), inbox.clone());
    let p = pusher(&env, options(collector.url(), 100));
    send(&env, 2).await;
    until("a timed-out export", || p.stats().failed >= 1).await;
    send(&env, 2).await;
    inbox.mode.store(FAIL, Ordering::Relaxed);
    let failed = p.stats().failed;
    until("a refused export", || {
        p.stats().last_error.is_some_and(|e| e.contains("500")) && p.stats().failed > failed
    })
    .await;
    inbox.mode.store(PARTIAL, Ordering::Relaxed);
    until("a partly rejected export", || {
        p.stats()
            .last_error
            .is_some_and(|e| e.contains("rejected 3 data points (too many series)"))
    })
    .await;
    inbox.mode.store(OK, Ordering::Relaxed);
    until("an export with 4 requests", || latest_requests(&inbox) == 4).await;
    until("the pusher to see it", || p.stats().last_error.is_none()).await;
    drop(p);
    collector.kill();
}

#[tokio::test]
async fn shutdown_sends_a_last_export_and_bad_options_are_refused() {
    let env = Env::start().await;
    let inbox = Inbox::default();
    let collector = Collector::start("127.0.0.1:0".parse().unwrap(), inbox.clone());
    let p = pusher(&env, options(collector.url(), 3_600_000));
    send(&env, 1).await;
    assert!(
        inbox.exports.lock().unwrap().is_empty(),
        "nothing before the first interval"
    );
    let stats = p.shutdown().await;
    assert_eq!(stats.exported, 1);
    assert_eq!(latest_requests(&inbox), 1);
    collector.kill();

    for (endpoint, interval) in [
        ("not a url", 100),
        ("file:///etc/passwd", 100),
        ("http://127.0.0.1:4318/v1/metrics", 0),
    ] {
        let mut exporter = Exporter::new();
        exporter.add(env.client.engine(), None);
        let e = OtlpPusher::start(exporter, options(endpoint.into(), interval)).unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{endpoint}");
    }
    let mut bad = options("http://127.0.0.1:4318/v1/metrics".into(), 100);
    bad.headers = vec![("x-token".into(), "line\nbreak-secret".into())];
    let e = OtlpPusher::start(Exporter::new(), bad).unwrap_err();
    assert!(!e.to_string().contains("break-secret"), "{e}");
}
