//! Bad input gets OCI-shaped errors with the right status, and never brings the server down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{BASES, Env, expect_oci_error};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_post(
    env: &Env,
    path: &str,
    secret: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    env.http
        .post(env.url(path))
        .bearer_auth(secret)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_cannot_parse_request() {
    let env = Env::start().await;
    for base in BASES {
        for route in ["chat/completions", "responses"] {
            let path = format!("{base}/{route}");
            for body in ["", "{", "not json", "{\"model\": }", "\u{0}\u{1}"] {
                expect_oci_error(
                    raw_post(&env, &path, &env.one(), body).await,
                    400,
                    "CannotParseRequest",
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn wrong_shapes_are_invalid_parameter() {
    let env = Env::start().await;
    let m = common::MODEL;
    let chat = [
        json!([1, 2]),
        json!("text"),
        json!({}),
        json!({"model": m}),
        json!({"model": 7, "messages": [{"role": "user", "content": "x"}]}),
        json!({"model": m, "messages": []}),
        json!({"model": m, "messages": "hello"}),
        json!({"model": m, "messages": [42]}),
        json!({"model": m, "messages": [{"content": "no role"}]}),
        json!({"model": m, "messages": [{"role": "user", "content": "x"}], "stream": "yes"}),
        json!({"model": m, "messages": [{"role": "user", "content": "x"}], "stream_options": 1}),
        json!({"model": m, "messages": [{"role": "user", "content": "x"}], "max_tokens": -1}),
        json!({"model": m, "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}),
    ];
    for body in chat {
        let resp = env
            .post("/openai/v1/chat/completions", Some(&env.one()), &body)
            .await;
        expect_oci_error(resp, 400, "InvalidParameter").await;
    }
    let responses = [
        json!({"model": m}),
        json!({"model": m, "input": ""}),
        json!({"model": m, "input": []}),
        json!({"model": m, "input": 5}),
        json!({"model": m, "input": [true]}),
        json!({"model": m, "input": "x", "instructions": 3}),
        json!({"model": m, "input": "x", "max_output_tokens": "many"}),
    ];
    for body in responses {
        let resp = env
            .post("/20231130/actions/v1/responses", Some(&env.one()), &body)
            .await;
        expect_oci_error(resp, 400, "InvalidParameter").await;
    }
}

#[tokio::test]
async fn huge_bodies_are_413_with_or_without_content_length() {
    let env = Env::start().await;
    let huge = format!("{{\"model\": \"{}\"}}", "x".repeat(2 << 20));
    for path in ["/openai/v1/chat/completions", "/openai/v1/responses"] {
        let resp = raw_post(&env, path, &env.one(), huge.clone()).await;
        expect_oci_error(resp, 413, "RequestEntityTooLarge").await;
    }
    // Chunked (no Content-Length): the limit applies while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let resp = raw_post(&env, "/openai/v1/chat/completions", &env.one(), body).await;
    expect_oci_error(resp, 413, "RequestEntityTooLarge").await;
    let (status, _) = env
        .admin(
            Method::POST,
            "/keys",
            Some(json!({"pad": "x".repeat(2 << 20)})),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(
        env.get("/openai/v1/models", Some(&env.one()))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_routes_are_not_found_with_or_without_auth() {
    let env = Env::start().await;
    let paths = [
        "/",
        "/openai",
        "/openai/v1",
        "/openai/v1/embeddings",
        "/openai/v1/chat/completions/extra",
        "/openai/v2/chat/completions",
        "/20231130/actions/v1/files",
        "/_emulator/nope",
        "/%ff%fe",
    ];
    for path in paths {
        for secret in [None, Some(env.one())] {
            expect_oci_error(env.get(path, secret.as_deref()).await, 404, "NotFound").await;
            expect_oci_error(
                env.post(path, secret.as_deref(), &json!({})).await,
                404,
                "NotFound",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let env = Env::start().await;
    for base in BASES {
        for (method, route, allowed) in [
            (Method::GET, "chat/completions", "POST"),
            (Method::PUT, "responses", "POST"),
            (Method::DELETE, "models", "GET,HEAD"),
            (Method::POST, "models", "GET,HEAD"),
        ] {
            let resp = env
                .http
                .request(method, env.url(&format!("{base}/{route}")))
                .bearer_auth(env.one())
                .send()
                .await
                .unwrap();
            assert_eq!(
                resp.headers()["allow"].to_str().unwrap().replace(' ', ""),
                allowed
            );
            expect_oci_error(resp, 405, "MethodNotAllowed").await;
        }
    }
    let resp = env
        .http
        .patch(format!("{}/keys", env.server.admin_url()))
        .send()
        .await
        .unwrap();
    expect_oci_error(resp, 405, "MethodNotAllowed").await;
}

#[tokio::test]
async fn admin_errors_are_oci_shaped() {
    let env = Env::start().await;
    let id = env.key_id();
    let cases = [
        (
            format!("/keys/{id}/setstate"),
            json!({"keyName": "key-nine", "state": "ACTIVE"}),
            404,
            "NotAuthorizedOrNotFound",
        ),
        (
            "/keys/ocid1.nope/setstate".to_string(),
            json!({"keyName": "key-one", "state": "ACTIVE"}),
            404,
            "NotAuthorizedOrNotFound",
        ),
        (
            format!("/keys/{id}/setstate"),
            json!({"keyName": "key-one"}),
            400,
            "InvalidParameter",
        ),
        (
            format!("/keys/{id}/setstate"),
            json!({"keyName": "key-one", "state": "EXPIRED"}),
            409,
            "IncorrectState",
        ),
        (
            format!("/keys/{id}/renew"),
            json!({"keyName": "key-one", "timeExpiry": "soon"}),
            400,
            "InvalidParameter",
        ),
        (
            "/keys".to_string(),
            json!({"keys": [{"keyName": "a", "key": "env:HOME", "state": "ACTIVE"}, {"keyName": "b", "key": "sk-b", "state": "ACTIVE"}]}),
            400,
            "InvalidParameter",
        ),
        (
            "/keys".to_string(),
            json!({"keyNames": ["only-one"]}),
            400,
            "InvalidParameter",
        ),
    ];
    for (path, body, status, code) in cases {
        let resp = env
            .http
            .post(format!("{}{path}", env.server.admin_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_oci_error(resp, status, code).await;
    }
    env.set_state("key-one", "REVOKED").await;
    let (status, body) = env.set_state("key-one", "ACTIVE").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("IncorrectState"))
    );
    let resp = env
        .http
        .post(format!("{}/keys/{id}/setstate", env.server.admin_url()))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    expect_oci_error(resp, 400, "CannotParseRequest").await;
}

#[tokio::test]
async fn garbage_on_the_socket_never_brings_the_server_down() {
    let env = Env::start().await;
    let garbage: [&[u8]; 6] = [
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /openai/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-\x7f\r\n\r\n",
    ];
    for bytes in garbage {
        let mut s = tokio::net::TcpStream::connect(env.server.addr())
            .await
            .unwrap();
        s.write_all(bytes).await.unwrap();
        let _ = s.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains(" 500 "), "{text}");
    }
    // Deterministic pseudo-random bodies: never a 5xx.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..100 {
        let body: Vec<u8> = (0..64)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let resp = raw_post(&env, "/openai/v1/chat/completions", &env.one(), body).await;
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let (status, health) = env.admin(Method::GET, "/health", None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
}
