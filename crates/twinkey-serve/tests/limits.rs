//! The listener's limits against hostile clients on loopback: slow loris (nothing sent, a
//! partial head, a stalled body), idle keep-alive, the connection cap, oversized heads, and a
//! graceful drain that lets a stream finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twinkey_serve::{Limits, Served, is_body_timeout, serve};

fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(600),
        body_timeout: Duration::from_millis(400),
        max_connections: 4,
        drain_timeout: Duration::from_secs(5),
        max_header_bytes: 8192,
    }
}

async fn echo(req: Request) -> Response {
    match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => (StatusCode::OK, b).into_response(),
        Err(e) if is_body_timeout(&e) => StatusCode::REQUEST_TIMEOUT.into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// A body of 5 chunks, 200 ms apart.
async fn slow_stream() -> Response {
    let chunks = futures_stream();
    Response::new(Body::from_stream(chunks))
}

fn futures_stream()
-> impl futures_core_stream::Stream<Item = Result<&'static str, std::convert::Infallible>> {
    futures_core_stream::unfold(0u8, |i| async move {
        if i == 5 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        Some((Ok("piece\n"), i + 1))
    })
}

mod futures_core_stream {
    pub use futures_util::stream::{Stream, unfold};
}

async fn start(limits: Limits) -> Served {
    let app = Router::new()
        .route("/echo", post(echo))
        .route("/ok", get(|| async { "ok" }))
        .route("/stream", get(slow_stream));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve(listener, app, limits).unwrap()
}

/// Reads until the peer closes (or 5 s pass: then the connection was not closed).
async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await {
        Ok(_) => Some(out),
        Err(_) => None,
    }
}

async fn request(stream: &mut TcpStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let served = start(limits()).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    let out = read_to_close(&mut s)
        .await
        .expect("closed by the header timeout");
    assert!(out.is_empty() || String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408"));
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_closed() {
    let served = start(limits()).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    let head = b"GET /ok HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ";
    let writer = async {
        for b in head
            .iter()
            .chain(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter())
        {
            if s.write_all(&[*b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    let refused = tokio::time::timeout(Duration::from_secs(10), writer)
        .await
        .unwrap();
    // Either a write failed (closed) or the head was never answered: check it is closed now.
    let out = read_to_close(&mut s).await.expect("closed");
    assert!(refused || !String::from_utf8_lossy(&out).contains("200 OK"));
}

#[tokio::test]
async fn a_stalled_body_gets_408() {
    let served = start(limits()).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\nabc")
        .await
        .unwrap();
    let out = read_to_close(&mut s).await.expect("answered and closed");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test]
async fn keep_alive_works_then_an_idle_connection_is_closed() {
    let served = start(limits()).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    assert!(request(&mut s, "/ok").await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(request(&mut s, "/ok").await.starts_with("HTTP/1.1 200"));
    let rest = read_to_close(&mut s).await.expect("closed once idle");
    assert!(rest.is_empty());
}

#[tokio::test]
async fn the_connection_cap_answers_503_and_frees_up() {
    let served = start(limits()).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(served.addr()).await.unwrap());
    }
    // Let the accept loop take all four.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(served.open_connections(), 4);
    let mut over = TcpStream::connect(served.addr()).await.unwrap();
    let out = read_to_close(&mut over).await.expect("refused and closed");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("x-twinkey-error: TOO_MANY_CONNECTIONS"),
        "{text}"
    );
    // The silent ones are closed by the header timeout; the listener answers again.
    for mut s in held {
        read_to_close(&mut s).await.expect("closed");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    assert!(request(&mut s, "/ok").await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let served = start(limits()).await;
    let mut s = TcpStream::connect(served.addr()).await.unwrap();
    let big = "a".repeat(20_000);
    let req = format!("GET /ok HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: {big}\r\n\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let out = read_to_close(&mut s).await.expect("closed");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_lets_a_stream_finish_and_refuses_new_connections() {
    let served = start(limits()).await;
    let addr = served.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    // The stream has started (its head is written first).
    let mut first = vec![0u8; 256];
    let n = s.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let drain = tokio::spawn(served.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections while draining"
    );
    let rest = read_to_close(&mut s).await.expect("stream ended");
    let all = [&first[..n], &rest[..]].concat();
    assert_eq!(
        String::from_utf8_lossy(&all).matches("piece").count(),
        5,
        "every chunk arrived"
    );
    drain.await.unwrap();
}
