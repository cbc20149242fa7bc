//! The Rust client meters what it sends (non-streamed and streamed, a stream dropped half
//! read), and the admin listener serves the engine's metrics, status page and usage on
//! loopback, GET only, within its limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Env, MODEL, chat};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use twinkey_client::admin::{AdminServer, OPENMETRICS_CONTENT_TYPE};
use twinkey_client::relay::Limits;
use twinkey_client::reqwest;

async fn get(url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

#[tokio::test]
async fn requests_are_metered_and_the_admin_listener_shows_them() {
    let env = Env::start().await;
    for _ in 0..3 {
        let r = env
            .client
            .post_json("chat/completions", &chat("hello there", false))
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0);
    }
    let mut body = chat("stream please", true);
    body["stream_options"] = json!({"include_usage": true});
    let stream = env
        .client
        .post_json("chat/completions", &body)
        .await
        .unwrap();
    let mut s = stream.into_stream();
    while let Some(c) = s.next().await {
        c.unwrap();
    }
    // A stream dropped after its first chunk is settled at the drop, without usage.
    let half = env
        .client
        .post_json("chat/completions", &body)
        .await
        .unwrap();
    let mut s = half.into_stream();
    s.next().await.unwrap().unwrap();
    drop(s);

    let report = env.client.engine().usage();
    let row = report
        .rows
        .iter()
        .find(|r| r.row.status == 200 && r.row.model == MODEL)
        .expect("a row for the model");
    assert_eq!(row.row.requests, 5);
    assert_eq!(row.row.without_usage, 1);
    assert!(row.row.input_tokens > 0 && row.row.output_tokens > 0);

    let limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let admin = AdminServer::bind(
        env.client.engine().clone(),
        "test <key>",
        "127.0.0.1:0".parse().unwrap(),
        limits,
    )
    .await
    .unwrap();
    assert!(admin.addr().ip().is_loopback());
    let base = admin.url();

    let (status, metrics, headers) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], OPENMETRICS_CONTENT_TYPE);
    assert!(metrics.contains("# TYPE gen_ai_client_token_usage histogram"));
    assert!(metrics.contains("twinkey_requests_total{"));
    assert!(metrics.ends_with("# EOF\n"));

    let (status, page, headers) = get(&format!("{base}/status")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(
        page.contains("<title>twinkey · test &lt;key&gt;</title>"),
        "{page}"
    );
    assert!(page.contains("data-secret=\"key-one\""));
    assert!(!page.contains("<script"));

    let (status, usage, _) = get(&format!("{base}/usage.json")).await;
    assert_eq!(status, 200);
    let usage: Value = serde_json::from_str(&usage).unwrap();
    assert_eq!(usage["rows"].as_array().unwrap().len(), report.rows.len());

    for text in [&metrics, &page, &usage.to_string()] {
        for secret in env.secret_values() {
            assert!(!text.contains(&secret));
        }
    }

    // Hostile: other methods, unknown paths, a head that never ends, too many connections.
    let r = reqwest::Client::new()
        .post(format!("{base}/metrics"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(get(&format!("{base}/../etc/passwd")).await.0, 404);
    let mut slow = tokio::net::TcpStream::connect(admin.addr()).await.unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf))
        .await
        .expect("the header timeout closes the connection")
        .unwrap_or(0);
    assert!(
        n == 0 || String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 408"),
        "{n}"
    );
    admin.shutdown().await;
}
