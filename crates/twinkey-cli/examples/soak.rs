//! Soak of `twinkey relay` under faults, against the real binaries on loopback.
//!
//! ```sh
//! cargo run --release -p twinkey-cli --example soak -- --twinkey target/release/twinkey \
//!     --seconds 300 --clients 200
//! ```
//!
//! Starts `twinkey emulate --init` and `twinkey relay` in front of it, then:
//! 1. **added latency**: `--clients` concurrent streams straight to the emulator, then the same
//!    through the relay (no faults); p50/p99 of each and the difference;
//! 2. **soak**: `--clients` streaming clients for `--seconds` while the emulator's faults change
//!    every 250 ms (latency, 429 with `Retry-After`, 503, streams cut after 3 chunks) and one
//!    request in ten is dropped by its client after the first chunk; 50 slow-loris connections
//!    (a head sent a byte a second) run alongside;
//! 3. **after**: faults cleared, 3 s idle, the relay's open files and RSS against the baseline
//!    (taken 3 s after phase 1, when the relay holds its pool of upstream connections).
//!
//! Every request is classified: `ok` (stream ended with `[DONE]`), `injected` (an error status
//! the emulator injected), `cut` (a stream ended with the typed `STREAM_INTERRUPTED`),
//! `aborted` (the client left). Anything else is `lost`. Exit status 1 when a request was
//! lost, a slow-loris connection outlived the header timeout, more streams were cut than faults
//! cut, or open files did not come back to the baseline. Prints one JSON report line last.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinkey::token::{KeyRing, Scope, SystemRandom, TokenRequest};
use twinkey::{Clock, SseMonitor, StreamKind, SystemClock};
use twinkey_client::reqwest;

const MODEL: &str = "openai.gpt-oss-120b";
const HEADER_TIMEOUT_S: u64 = 2;

struct Args {
    twinkey: String,
    seconds: u64,
    clients: usize,
}

fn args() -> Args {
    let mut a = Args {
        twinkey: "target/release/twinkey".into(),
        seconds: 30,
        clients: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_default();
        match flag.as_str() {
            "--twinkey" => a.twinkey = v,
            "--seconds" => a.seconds = v.parse().expect("--seconds N"),
            "--clients" => a.clients = v.parse().expect("--clients N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// A long-running `twinkey` command that prints one JSON line at start; killed on drop.
struct Service {
    child: Child,
    info: Value,
}

impl Service {
    fn start(bin: &str, args: &[&str]) -> Service {
        let mut child = Command::new(bin)
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("twinkey runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Service { child, info }
    }

    fn get(&self, k: &str) -> String {
        self.info[k].as_str().unwrap().to_string()
    }

    /// Open file descriptors and resident memory (KiB) of the process.
    fn usage(&self) -> (usize, u64) {
        let pid = self.child.id();
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        (fds, rss)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    injected: AtomicU64,
    cut: AtomicU64,
    aborted: AtomicU64,
    lost: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Ok,
    Injected,
    Cut,
    Aborted,
    Lost,
}

/// One streamed chat completion; `abort_after_first` drops it after the first chunk.
async fn stream_once(
    http: &reqwest::Client,
    url: &str,
    bearer: &str,
    abort_after_first: bool,
) -> (Outcome, String) {
    let body =
        json!({"model": MODEL, "stream": true, "messages": [{"role": "user", "content": "soak"}]});
    let resp = match http.post(url).bearer_auth(bearer).json(&body).send().await {
        Ok(r) => r,
        Err(e) => return (Outcome::Lost, format!("send: {e}")),
    };
    let status = resp.status().as_u16();
    if status != 200 {
        let text = resp.text().await.unwrap_or_default();
        if text.contains("Injected fault") {
            return (Outcome::Injected, String::new());
        }
        return (Outcome::Lost, format!("{status}: {text}"));
    }
    let mut resp = resp;
    let mut monitor = SseMonitor::new(StreamKind::ChatCompletions);
    let mut first = true;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                monitor.observe(&c);
                if first && abort_after_first {
                    return (Outcome::Aborted, String::new());
                }
                first = false;
            }
            Ok(None) => {
                return match monitor.finish() {
                    Ok(_) => (Outcome::Ok, String::new()),
                    Err(e) if e.code() == "STREAM_INTERRUPTED" => (Outcome::Cut, String::new()),
                    Err(e) => (Outcome::Lost, format!("finish: {}", e.code())),
                };
            }
            Err(e) => {
                return match monitor.transport_error(&e.to_string()) {
                    Err(t) if t.code() == "STREAM_INTERRUPTED" => (Outcome::Cut, String::new()),
                    Ok(_) => (Outcome::Ok, String::new()),
                    Err(t) => (Outcome::Lost, format!("body: {}", t.code())),
                };
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `n` concurrent streams; the sorted durations in milliseconds.
async fn burst(http: &reqwest::Client, url: &str, bearers: &[String], n: usize) -> Vec<f64> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (http, url, bearer) = (
            http.clone(),
            url.to_string(),
            bearers[i % bearers.len()].clone(),
        );
        set.spawn(async move {
            let t = Instant::now();
            let (o, why) = stream_once(&http, &url, &bearer, false).await;
            assert_eq!(o, Outcome::Ok, "{why}");
            t.elapsed().as_secs_f64() * 1000.0
        });
    }
    let mut out: Vec<f64> = set.join_all().await;
    out.sort_by(f64::total_cmp);
    out
}

fn admin_put_faults(admin: &str, faults: &Value) {
    let addr = admin
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let body = faults.to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "PUT /_emulator/faults HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

/// A connection that sends its head one byte a second; whether the relay closed it within the
/// header timeout (plus slack).
fn slow_loris(addr: String) -> bool {
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let head = b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for b in head {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => break,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_millis(800));
    }
    started.elapsed() <= Duration::from_secs(HEADER_TIMEOUT_S + 3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let dir = std::env::temp_dir().join(format!("twinkey-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("token-keys.json");
    let out = Command::new(&a.twinkey)
        .args(["token", "keygen", "--out", keys.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let emu = Service::start(
        &a.twinkey,
        &[
            "emulate",
            "--listen",
            "127.0.0.1:0",
            "--init",
            dir.join("emu").to_str().unwrap(),
        ],
    );
    let header_timeout = HEADER_TIMEOUT_S.to_string();
    let relay = Service::start(
        &a.twinkey,
        &[
            "relay",
            "--key",
            &emu.get("key_file"),
            "--token-key",
            keys.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &emu.get("base_url"),
            "--header-timeout",
            &header_timeout,
            "--max-connections",
            "1024",
        ],
    );
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(emu.get("key_file")).unwrap()).unwrap();
    let secret = key["keys"][0]["key"].as_str().unwrap().to_string();
    let ring = KeyRing::from_json(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    // One subject per 8 clients: well inside the 16 streams a subject may hold.
    let tokens: Vec<String> = (0..a.clients.div_ceil(8))
        .map(|i| {
            let scope = Scope::new(["*"], ["chat.completions"]);
            let req =
                TokenRequest::new(format!("soak-{i}"), scope).ttl(Duration::from_secs(86_400));
            ring.mint(&req, SystemClock.now(), &SystemRandom)
                .unwrap()
                .token
        })
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients)
        .build()
        .unwrap();
    let relay_url = format!("{}/chat/completions", relay.get("base_url"));
    let direct_url = format!("{}/chat/completions", emu.get("base_url"));

    // Before any traffic, then the baseline: after one burst at full concurrency, when the
    // relay holds its pool of upstream connections.
    let (fds_start, rss_start) = relay.usage();

    // 1. Added latency at `clients` concurrent streams.
    let direct = burst(&http, &direct_url, std::slice::from_ref(&secret), a.clients).await;
    let relayed = burst(&http, &relay_url, &tokens, a.clients).await;
    let (d50, d99) = (percentile(&direct, 0.5), percentile(&direct, 0.99));
    let (r50, r99) = (percentile(&relayed, 0.5), percentile(&relayed, 0.99));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (fds0, rss0) = relay.usage();

    // 2. Soak under faults.
    let stop = Arc::new(AtomicBool::new(false));
    let armed_cuts = Arc::new(AtomicU64::new(0));
    let admin = emu.get("admin_url");
    let faults = {
        let (stop, admin, armed_cuts) = (stop.clone(), admin.clone(), armed_cuts.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                admin_put_faults(
                    &admin,
                    &json!([
                        {"route": "chat/completions", "status": 429, "retryAfter": 1, "times": 2},
                        {"route": "chat/completions", "status": 503, "times": 2},
                        {"route": "chat/completions", "cutAfterChunks": 3, "times": 3},
                        {"route": "chat/completions", "latencyMs": 150, "times": 10},
                    ]),
                );
                armed_cuts.fetch_add(3, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(250));
            }
            admin_put_faults(&admin, &json!([]));
        })
    };
    let relay_addr = relay
        .get("base_url")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let loris: Vec<_> = (0..50)
        .map(|_| {
            let addr = relay_addr.clone();
            std::thread::spawn(move || slow_loris(addr))
        })
        .collect();
    let tally = Arc::new(Tally::default());
    let samples = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut set = tokio::task::JoinSet::new();
    for c in 0..a.clients {
        let (http, url, bearer) = (http.clone(), relay_url.clone(), tokens[c / 8].clone());
        let (tally, samples) = (tally.clone(), samples.clone());
        set.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let abort = (n + c as u64).is_multiple_of(10);
                let (o, why) = stream_once(&http, &url, &bearer, abort).await;
                let counter = match o {
                    Outcome::Ok => &tally.ok,
                    Outcome::Injected => &tally.injected,
                    Outcome::Cut => &tally.cut,
                    Outcome::Aborted => &tally.aborted,
                    Outcome::Lost => &tally.lost,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if o == Outcome::Lost {
                    let mut s = samples.lock().unwrap();
                    if s.len() < 5 {
                        s.push(why);
                    }
                }
            }
        });
    }
    set.join_all().await;
    stop.store(true, Ordering::Relaxed);
    faults.join().unwrap();
    let loris_closed = loris
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|c| *c)
        .count();

    // 3. After.
    drop(http);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (fds1, rss1) = relay.usage();
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let (ok, injected, cut, aborted, lost) = (
        get(&tally.ok),
        get(&tally.injected),
        get(&tally.cut),
        get(&tally.aborted),
        get(&tally.lost),
    );
    let total = ok + injected + cut + aborted + lost;
    let report = json!({
        "clients": a.clients,
        "seconds": a.seconds,
        "requests": total,
        "requests_per_s": total / a.seconds.max(1),
        "ok": ok, "injected": injected, "cut": cut, "aborted": aborted, "lost": lost,
        "lost_samples": *samples.lock().unwrap(),
        "cut_faults_armed": get(&armed_cuts),
        "slow_loris_closed": format!("{loris_closed}/50"),
        "latency_ms": {
            "direct_p50": d50, "direct_p99": d99,
            "relay_p50": r50, "relay_p99": r99,
            "added_p50": r50 - d50, "added_p99": r99 - d99,
        },
        "relay_open_files": {"start": fds_start, "baseline": fds0, "after": fds1},
        "relay_rss_kib": {"start": rss_start, "baseline": rss0, "after": rss1},
    });
    println!("{report}");
    let _ = std::fs::remove_dir_all(&dir);
    let failed = lost > 0 || loris_closed < 50 || cut > get(&armed_cuts) || fds1 > fds0 + 8;
    std::process::exit(i32::from(failed));
}
