//! `twinkey token keygen|mint|verify` and `twinkey relay` as a user runs them: the real binary
//! in front of `twinkey emulate`, port 0, `--json`, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey_client::reqwest;

#[path = "../../twinkey-client/tests/common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

const SAFETY_NET: Duration = Duration::from_secs(120);
const BIN: &str = env!("CARGO_BIN_EXE_twinkey");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twinkey-relay-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn twinkey(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A long-running command that prints one JSON line at start; SIGTERM on drop.
struct Service {
    child: Child,
    info: Value,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child = Command::new(BIN)
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(SAFETY_NET)
            .expect("the service printed its address");
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Service { child, info }
    }

    fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap().to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

/// A token key ring at `dir/keys.json` and an emulator initialised in `dir/emu`.
fn token_keys_and_emulator(dir: &Path) -> (PathBuf, Service) {
    let keys = dir.join("keys.json");
    assert!(
        twinkey(&["token", "keygen", "--out", path(&keys)])
            .status
            .success()
    );
    let emu = Service::start(&[
        "emulate",
        "--listen",
        "127.0.0.1:0",
        "--init",
        path(&dir.join("emu")),
    ]);
    (keys, emu)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn keygen_rotate_mint_and_verify() {
    let dir = temp_dir("tokens");
    let keys = dir.join("keys.json");
    let out = twinkey(&[
        "--json",
        "token",
        "keygen",
        "--out",
        path(&keys),
        "--kid",
        "k1",
    ]);
    assert!(out.status.success(), "{out:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Refuses to overwrite; --rotate puts a new key first.
    assert!(
        !twinkey(&["token", "keygen", "--out", path(&keys)])
            .status
            .success()
    );
    let out = twinkey(&[
        "token",
        "keygen",
        "--out",
        path(&keys),
        "--kid",
        "k2",
        "--rotate",
        "--alg",
        "HS256",
    ]);
    assert!(out.status.success(), "{out:?}");

    let out = twinkey(&[
        "--json",
        "token",
        "mint",
        "--token-key",
        path(&keys),
        "--sub",
        "alice",
        "--model",
        "m1",
        "--endpoint",
        "chat.completions",
        "--endpoint",
        "models",
        "--max-requests",
        "5",
        "--max-output-tokens",
        "64",
        "--ttl",
        "120",
    ]);
    assert!(out.status.success(), "{out:?}");
    let minted = json_of(&out);
    assert_eq!(minted["claims"]["sub"], "alice");
    assert_eq!(minted["claims"]["twk"]["max_requests"], 5);
    let token = minted["token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    assert!(
        header.starts_with("eyJhbGciOiJIUzI1NiIs"),
        "k2 (HS256) signs after --rotate"
    );

    let out = twinkey(&[
        "--json",
        "token",
        "verify",
        "--token-key",
        path(&keys),
        token,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["kid"], "k2");
    let out = twinkey(&[
        "--json",
        "token",
        "verify",
        "--token-key",
        path(&keys),
        "--audience",
        "x",
        token,
    ]);
    assert!(!out.status.success());
    assert_eq!(json_of(&out)["error"]["code"], "TOKEN_AUDIENCE");
    // No key material in any output.
    let text = std::fs::read_to_string(&keys).unwrap();
    let set: Value = serde_json::from_str(&text).unwrap();
    for k in set["keys"].as_array().unwrap() {
        let secret = k["d"].as_str().or(k["k"].as_str()).unwrap();
        let out = twinkey(&[
            "token",
            "mint",
            "--token-key",
            path(&keys),
            "--model",
            "m",
            "--ttl",
            "999999",
        ]);
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn relay_in_front_of_the_emulator() {
    let dir = temp_dir("relay");
    let (keys, emu) = token_keys_and_emulator(&dir);
    let key_file = emu.get("key_file");
    let collector = OtlpCollector::start();
    let relay = Service::start(&[
        "relay",
        "--key",
        &key_file,
        "--token-key",
        path(&keys),
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &emu.get("base_url"),
        "--cors-origin",
        "http://127.0.0.1:9",
        "--budget",
        r#"{"tokensPerMinute": 100000, "policy": "fail_fast"}"#,
        "--otlp-endpoint",
        &collector.url,
        "--otlp-interval-ms",
        "200",
    ]);
    let base = relay.get("base_url");
    let out = twinkey(&["token", "mint", "--token-key", path(&keys), "--model", "*"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth(&token)
        .json(&json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth("nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["x-twinkey-error"], "INVALID_TOKEN");

    // The admin listener: loopback, metrics of what was relayed, `twinkey usage` reads it.
    let admin = relay.get("admin_url");
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    let metrics = reqwest::get(format!("{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("twinkey_budget_limit_tokens{key=\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("model=\"openai.gpt-oss-120b\""),
        "{metrics}"
    );
    let out = twinkey(&["--json", "usage", "--url", &admin]);
    assert!(out.status.success(), "{out:?}");
    let usage = json_of(&out);
    assert_eq!(usage["rows"][0]["requests"], 1);
    assert_eq!(usage["budget"]["windows"][0]["limit"], 100000);
    let out = twinkey(&["usage", "--url", &admin]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("SECRET"), "{table}");
    assert!(table.contains("openai.gpt-oss-120b"), "{table}");
    assert!(table.contains("budget key: "), "{table}");
    let out = twinkey(&["--json", "usage", "--url", "http://127.0.0.1:9"]);
    assert!(!out.status.success());
    assert_eq!(json_of(&out)["error"]["code"], "TRANSPORT");
    // `twinkey keys show --usage-url`: the key from the control plane, the usage from the relay.
    let key_id = emu.info["keys"][0]["id"].as_str().unwrap().to_string();
    let cp = [
        "--config",
        &emu.get("oci_config"),
        "--endpoint",
        &emu.get("control_plane"),
    ]
    .map(str::to_owned);
    let show = |json: bool, url: &str| {
        let mut argv = vec!["keys", "show", &key_id, "--usage-url", url];
        argv.extend(cp.iter().map(String::as_str));
        if json {
            argv.insert(0, "--json");
        }
        twinkey(&argv)
    };
    let out = show(true, &admin);
    assert!(out.status.success(), "{out:?}");
    let doc = json_of(&out);
    assert_eq!(doc["data"]["id"], key_id.as_str());
    assert_eq!(doc["usage"]["keyId"], key_id.as_str());
    assert_eq!(doc["usage"]["rows"][0]["requests"], 1);
    let out = show(false, &admin);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("usage (from the relay):"), "{text}");
    assert!(text.contains("1 requests (0 without usage)"), "{text}");
    assert!(text.contains("budget key: "), "{text}");
    let out = show(true, "http://127.0.0.1:9");
    assert!(!out.status.success());
    assert_eq!(json_of(&out)["error"]["code"], "TRANSPORT");
    let emu_key: Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    for k in emu_key["keys"].as_array().unwrap() {
        let secret = k["key"].as_str().unwrap_or("never-matches");
        assert!(!metrics.contains(secret) && !table.contains(secret) && !text.contains(secret));
    }
    // The OTLP pusher: the relayed request reaches the collector as an export.
    let export = collector.export_with_requests(1);
    for k in emu_key["keys"].as_array().unwrap() {
        let secret = k["key"].as_str().unwrap_or("never-matches").as_bytes();
        assert!(!export.windows(secret.len()).any(|w| w == secret));
    }
    drop(relay);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback OTLP/HTTP collector: one request per connection, each body decoded with the
/// official `opentelemetry-proto` messages.
struct OtlpCollector {
    url: String,
    bodies: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl OtlpCollector {
    fn start() -> OtlpCollector {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
        let (tx, bodies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
                let mut length = 0usize;
                let mut line = String::new();
                let mut post = false;
                while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
                    let l = line.trim_end().to_ascii_lowercase();
                    post |= l.starts_with("post /v1/metrics ");
                    if let Some(v) = l.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if l.is_empty() {
                        break;
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if std::io::Read::read_exact(&mut reader, &mut body).is_ok() && post {
                    let _ = tx.send(body);
                }
                let _ = std::io::Write::write_all(
                    &mut conn,
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        OtlpCollector { url, bodies }
    }

    /// The first export whose `twinkey.requests` add up to `n` (20 s at most).
    fn export_with_requests(&self, n: i64) -> Vec<u8> {
        use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
        use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
        use prost::Message;
        let end = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            let body = self.bodies.recv_timeout(left).expect("an OTLP export");
            let req = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
            let requests: i64 = req
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
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
                .sum();
            if requests == n {
                return body;
            }
        }
    }
}

/// `host:port` of a service URL like `http://127.0.0.1:PORT/...`.
fn addr_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    rest.split('/').next().unwrap().to_string()
}

/// Writes `request` on a new connection and reads until the server closes it (or 20 s).
fn exchange(addr: &str, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    std::io::Write::write_all(&mut s, request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn post(addr: &str, path: &str, token: &str, body: &Value) -> String {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The limits flags as a user sets them, against the real binary: half-open connections are
/// closed after `--header-timeout`, `--max-connections` answers 503 past the cap, and SIGTERM
/// lets a stream in flight finish while new connections are refused, then exits 0.
#[test]
fn relay_limit_flags_and_a_draining_sigterm() {
    use std::io::{Read, Write};
    let dir = temp_dir("limits");
    let (keys, emu) = token_keys_and_emulator(&dir);
    let mut relay = Service::start(&[
        "relay",
        "--key",
        &emu.get("key_file"),
        "--token-key",
        path(&keys),
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &emu.get("base_url"),
        "--header-timeout",
        "1",
        "--max-connections",
        "3",
        "--drain-timeout",
        "20",
    ]);
    let addr = addr_of(&relay.get("base_url"));
    let out = twinkey(&["token", "mint", "--token-key", path(&keys), "--model", "*"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // Three connections that send nothing fill the cap: the fourth is told so.
    let idle: Vec<std::net::TcpStream> = (0..3)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let refused = exchange(&addr, "GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("TOO_MANY_CONNECTIONS"), "{refused}");
    // The header timeout closes them (no request ever came).
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
    // A head sent a byte at a time never becomes a request past the timeout.
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut cut = false;
    for b in b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-slow: "
        .iter()
        .cycle()
        .take(40)
    {
        if slow.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(cut || !String::from_utf8_lossy(&buf).contains("200 OK"));
    let chat =
        json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]});
    let ok = exchange(&addr, &post(&addr, "/v1/chat/completions", &token, &chat));
    assert!(ok.starts_with("HTTP/1.1 200"), "the cap frees up: {ok}");

    // A slow stream is in flight when SIGTERM arrives.
    let admin = addr_of(&emu.get("admin_url"));
    let fault = json!({"route": "chat/completions", "chunkDelayMs": 150}).to_string();
    let set = exchange(
        &admin,
        &format!(
            "POST /_emulator/faults HTTP/1.1\r\nhost: {admin}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{fault}",
            fault.len()
        ),
    );
    assert!(set.starts_with("HTTP/1.1 20"), "{set}");
    let mut body = chat.clone();
    body["stream"] = json!(true);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(post(&addr, "/v1/chat/completions", &token, &body).as_bytes())
        .unwrap();
    let mut first = vec![0u8; 512];
    let n = s.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let pid = relay.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "no new connections while draining"
    );
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let all = [&first[..n], &rest[..]].concat();
    assert!(
        String::from_utf8_lossy(&all).contains("data: [DONE]"),
        "the stream in flight finished"
    );
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The relay's secrets go only to an OCI inference host, loopback or an `--allow-host`: a
/// foreign upstream is refused at start, before any secret could be sent.
#[test]
fn relay_refuses_a_foreign_upstream_unless_allowed() {
    let dir = temp_dir("destination");
    let keys = dir.join("keys.json");
    assert!(
        twinkey(&["token", "keygen", "--out", path(&keys)])
            .status
            .success()
    );
    let key = dir.join("key.json");
    std::fs::write(
        &key,
        r#"{"keys": [{"keyName": "key-one", "key": "sk-dest-one-00000001", "state": "ACTIVE"},
                     {"keyName": "key-two", "key": "sk-dest-two-00000002", "state": "ACTIVE"}]}"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let base = [
        "--json",
        "relay",
        "--key",
        path(&key),
        "--token-key",
        path(&keys),
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "https://api.openai.com/v1",
    ];
    let out = twinkey(&base);
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("DESTINATION_NOT_ALLOWED"), "{text}");
    assert!(!text.contains("sk-dest-"), "{text}");
    let mut allowed = base.to_vec();
    allowed.extend(["--allow-host", "*.example"]);
    let out = twinkey(&allowed);
    assert!(!out.status.success(), "a wrong entry does not help");
    let mut allowed = base.to_vec();
    allowed.extend(["--allow-host", "api.openai.com"]);
    let relay = Service::start(&allowed[1..]);
    assert!(relay.get("base_url").starts_with("http://127.0.0.1:"));
    drop(relay);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two `twinkey relay` processes on one key with `--redis`: when the emulator revokes key-one
/// and relay A meets the 401, relay B stops using key-one before it sends with it.
#[tokio::test]
async fn two_relays_share_a_revocation_through_redis() {
    let redis = RedisServer::start(None);
    let redis_url = redis.url();

    let dir = temp_dir("fleet");
    let (keys, emu) = token_keys_and_emulator(&dir);
    let key_file = emu.get("key_file");
    let relay = || {
        Service::start(&[
            "relay",
            "--key",
            &key_file,
            "--token-key",
            path(&keys),
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &emu.get("base_url"),
            "--no-admin",
            "--redis",
            &redis_url,
        ])
    };
    let (a, b) = (relay(), relay());
    assert!(a.info["fleet_origin"].is_string());
    let out = twinkey(&["token", "mint", "--token-key", path(&keys), "--model", "*"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let http = reqwest::Client::new();
    let chat = |base: String| {
        http.post(format!("{base}/chat/completions"))
            .bearer_auth(&token)
            .json(&json!({"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    assert_eq!(
        chat(a.get("base_url")).await.unwrap().status().as_u16(),
        200
    );
    assert_eq!(
        chat(b.get("base_url")).await.unwrap().status().as_u16(),
        200
    );
    // Let both relays' subscriptions settle (a missed message is also re-read from Redis).
    tokio::time::sleep(Duration::from_millis(500)).await;

    let admin = emu.get("admin_url");
    let key_id = emu.info["keys"][0]["id"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{admin}/keys/{key_id}/setstate"))
        .json(&json!({"keyName": "key-one", "state": "REVOKED"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let counts = || async {
        let v: Value = http
            .get(format!("{admin}/counts"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v
    };
    // Rejected round trips with key-one, as the emulator counted them.
    let rejected_one = |v: &Value| -> u64 {
        v["secrets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| row["keyId"] == key_id.as_str() && row["secret"] == "key-one")
            .map(|row| row["rejected"].as_u64().unwrap_or(0))
            .sum()
    };
    // A meets the revocation (one rejected round trip, replayed on key-two).
    assert_eq!(
        chat(a.get("base_url")).await.unwrap().status().as_u16(),
        200
    );
    let after_a = rejected_one(&counts().await);
    // B hears of it and sends with key-two only.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..5 {
        assert_eq!(
            chat(b.get("base_url")).await.unwrap().status().as_u16(),
            200
        );
    }
    let after_b = rejected_one(&counts().await);
    assert_eq!(
        after_b,
        after_a,
        "B sent with the revoked secret: {}",
        counts().await
    );
    assert!(after_a >= 1, "{}", counts().await);
    // The fleet's totals (2 + 1 + 5 requests through the two relays) in Redis, as
    // `twinkey usage --redis` reads them.
    let end = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let out = twinkey(&[
            "usage", "--redis", &redis_url, "--key-id", &key_id, "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let requests: u64 = doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["requests"].as_u64().unwrap())
            .sum();
        if requests == 8 {
            break;
        }
        assert!(std::time::Instant::now() < end, "fleet totals: {doc}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let table = twinkey(&["usage", "--redis", &redis_url, "--key-id", &key_id]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("FINGERPRINT") && text.contains("key-two"),
        "{text}"
    );
    drop((a, b, emu));
    let _ = std::fs::remove_dir_all(&dir);
}
