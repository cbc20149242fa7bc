//! Malformed and hostile input: the relay answers every request with a coded error (or closes
//! a broken connection), never crashes, never forwards what it refused, and never puts a secret
//! or a signing key in an answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod relay_env;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use relay_env::{MODEL, RelayEnv};
use serde_json::json;
use twinkey::token::{Scope, SystemRandom, TokenRequest};

fn chat() -> serde_json::Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
}

/// Writes raw bytes to the relay and reads what comes back (blocking; run off the runtime).
async fn raw(addr: std::net::SocketAddr, bytes: Vec<u8>) -> String {
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn hostile_tokens_and_headers_get_coded_401s() {
    let env = RelayEnv::start().await;
    let url = env.url("/v1/chat/completions");
    let good = env.mint(RelayEnv::chat_scope());
    let (h, rest) = good.split_once('.').unwrap();
    let none_header = "eyJhbGciOiJub25lIiwia2lkIjoiazEiLCJ0eXAiOiJKV1QifQ"; // {"alg":"none","kid":"k1","typ":"JWT"}
    let payload = rest.split_once('.').unwrap().0;
    let cases: Vec<(String, &str)> = vec![
        ("x".repeat(10_000), "TOKEN_TOO_LARGE"),
        (format!("Bearer {}", "a".repeat(5000)), "TOKEN_TOO_LARGE"),
        ("Bearer".into(), "TOKEN_MISSING"),
        ("Token abc".into(), "TOKEN_MISSING"),
        (
            format!("Bearer {none_header}.{payload}."),
            "TOKEN_ALGORITHM",
        ),
        (
            format!("Bearer {h}.{payload}.{}", "A".repeat(86)),
            "TOKEN_SIGNATURE",
        ),
        (
            format!("Bearer {h}.e30.{}", rest.rsplit_once('.').unwrap().1),
            "TOKEN_SIGNATURE",
        ),
        (format!("Bearer {good}x"), "INVALID_TOKEN"),
        (format!("Bearer {good}.{good}"), "INVALID_TOKEN"),
        ("Bearer ../../etc/passwd".into(), "INVALID_TOKEN"),
        ("Bearer \u{7f}".into(), "TOKEN_MISSING"),
    ];
    for (auth, code) in cases {
        let value = reqwest::header::HeaderValue::from_bytes(auth.as_bytes());
        let Ok(value) = value else { continue };
        let a = env
            .send(
                env.http
                    .post(&url)
                    .header("authorization", value)
                    .json(&chat()),
            )
            .await;
        assert_eq!(a.status, 401, "{code}");
        assert_eq!(a.code(), code);
    }
    // Non-UTF-8 bytes in the header.
    let bin = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let a = env
        .send(
            env.http
                .post(&url)
                .header("authorization", bin)
                .json(&chat()),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "TOKEN_MISSING"));
    assert_eq!(env.total_upstream_requests(), 0);
}

#[tokio::test]
async fn hostile_bodies_paths_and_methods() {
    let env = RelayEnv::start().await;
    let token =
        env.mint(Scope::new(["*"], ["chat.completions", "models"]).with_max_output_tokens(100));
    let url = env.url("/v1/chat/completions");
    // 5 MiB body: refused without being forwarded.
    let big = vec![b' '; 5 * 1024 * 1024];
    let a = env
        .send(env.http.post(&url).bearer_auth(&token).body(big))
        .await;
    assert_eq!((a.status, a.code().as_str()), (413, "INVALID_REQUEST"));
    // A JSON bomb (deep nesting) is a clean 400, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let a = env
        .send(env.http.post(&url).bearer_auth(&token).body(deep))
        .await;
    assert_eq!((a.status, a.code().as_str()), (400, "INVALID_REQUEST"));
    for body in [
        "",
        "null",
        "[]",
        "\"x\"",
        "{\"model\": 1}",
        "\u{feff}{}",
        "{\"model\":\"m\",\"max_tokens\":1e99}",
    ] {
        let a = env
            .send(env.http.post(&url).bearer_auth(&token).body(body))
            .await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "INVALID_REQUEST"),
            "{body:?}"
        );
    }
    for (method, path) in [
        ("PUT", "/v1/chat/completions"),
        ("PATCH", "/v1/models"),
        ("DELETE", "/v1/models/x"),
        ("GET", "/v1/models/a%2F..%2F..%2F_emulator%2Fkeys"),
        ("GET", "/v1/models/%00"),
        ("GET", "/v1/"),
        ("GET", "/"),
        ("POST", "/v1//chat/completions"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let a = env
            .send(env.http.request(m, env.url(path)).bearer_auth(&token))
            .await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (404, "UNKNOWN_ENDPOINT"),
            "{method} {path}"
        );
    }
    let long = format!("/v1/models/{}", "a".repeat(8000));
    let a = env
        .send(env.http.get(env.url(&long)).bearer_auth(&token))
        .await;
    assert!(
        a.status == 404 || a.status == 431 || a.status == 414,
        "{}",
        a.status
    );
    assert_eq!(env.total_upstream_requests(), 0);
}

#[tokio::test]
async fn broken_http_never_takes_the_relay_down() {
    let env = RelayEnv::start().await;
    let addr = env.relay.addr();
    let token = env.mint(RelayEnv::chat_scope());
    let garbage: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\x03 garbage\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"".to_vec(),
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 50\r\n\r\n{{\"mo"
        )
        .into_bytes(),
        format!("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(200_000)).into_bytes(),
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
    ];
    for g in garbage {
        let out = raw(addr, g).await;
        for secret in env.forbidden() {
            assert!(!out.contains(&secret));
        }
    }
    // Many concurrent junk requests, then the relay still serves.
    let mut tasks = Vec::new();
    for i in 0..64 {
        let req = env
            .http
            .post(env.url("/v1/chat/completions"))
            .bearer_auth(format!("junk{i}"))
            .json(&chat());
        tasks.push(tokio::spawn(async move {
            req.send().await.map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 401);
    }
    let health = env.send(env.http.get(env.url("/_twinkey/health"))).await;
    assert_eq!(health.status, 200);
    let ok = env
        .send(
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&token)
                .json(&chat()),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn tokens_for_another_audience_or_with_a_forged_scope_are_refused() {
    let env = RelayEnv::start().await;
    let other = env.mint_with(TokenRequest::new("u", RelayEnv::chat_scope()).audience("elsewhere"));
    let a = env
        .send(
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&other)
                .json(&chat()),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "TOKEN_AUDIENCE"));
    // A token of a ring the relay does not trust (same kid, other key).
    let mut foreign = twinkey::token::KeyRing::new();
    foreign
        .insert(
            twinkey::token::TokenKey::generate(
                "k1",
                twinkey::token::Algorithm::EdDsa,
                &SystemRandom,
            )
            .unwrap(),
        )
        .unwrap();
    let forged = foreign
        .mint(
            &TokenRequest::new("u", Scope::new(["*"], ["chat.completions"])),
            twinkey::Clock::now(&env.clock),
            &SystemRandom,
        )
        .unwrap()
        .token;
    let a = env
        .send(
            env.http
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&forged)
                .json(&chat()),
        )
        .await;
    assert_eq!((a.status, a.code().as_str()), (401, "TOKEN_SIGNATURE"));
    assert_eq!(env.total_upstream_requests(), 0);
}
