//! `twinkey demo` (hidden; run by `make demo`): drives traffic through `twinkey-client`
//! against a running emulator, revokes the secret in use half-way through the admin API, and
//! reports what happened, including per-secret counts read back from the emulator.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};
use twinkey::{ApiKey, Engine, EngineOptions, EventKind};
use twinkey_client::{InferenceClient, reqwest};

use crate::output::{Failure, Output};

/// Arguments of `twinkey demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The emulator's OpenAI-compatible base URL.
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// The emulator's admin URL (`.../_emulator`).
    #[arg(long, value_name = "URL")]
    admin_url: String,
    /// The key file to use (written by `twinkey emulate --init`).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Requests to send.
    #[arg(long, default_value_t = 300)]
    requests: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: u32,
    /// Every Nth request streams (0: none).
    #[arg(long, default_value_t = 3)]
    stream_every: u32,
    /// Keep sending (beyond --requests) until FILE exists: traffic that spans an outside event,
    /// e.g. `twinkey rotate` in the demo's rotation step.
    #[arg(long, value_name = "FILE")]
    until: Option<PathBuf>,
    /// Revoke the secret in use after this many requests completed (default: half; 0: never).
    #[arg(long)]
    revoke_after: Option<u32>,
    /// The model to ask.
    #[arg(long, default_value = "openai.gpt-oss-120b")]
    model: String,
    /// Follow the key file while sending (a key watch looking this often, e.g. `1s`): a
    /// rotation that rewrites it (`twinkey rotate --secret-out`) is followed before the old
    /// secret is retired.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    watch: Option<std::time::Duration>,
}

#[derive(Default)]
struct Tally {
    succeeded: AtomicU32,
    failed: AtomicU32,
    streamed: AtomicU32,
    extra_round_trips: AtomicU32,
    tokens: AtomicU64,
    errors: Mutex<Vec<String>>,
}

struct Revocation {
    secret: String,
    fingerprint: String,
    after: u32,
}

/// An admin API call (JSON in, JSON out); errors name the call.
async fn admin(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let mut req = http.request(method, &url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let fail = |what: String| Failure::new("TRANSPORT", format!("admin call {url}: {what}"));
    let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let value: Value = resp.json().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!("{status}: {value}")));
    }
    Ok(value)
}

/// Per-secret `(requests, accepted, rejected)` of one key, by `(name, fingerprint)`.
fn counts_of(counts: &Value, key_id: &str) -> BTreeMap<(String, String), [u64; 3]> {
    let mut out = BTreeMap::new();
    for row in counts["secrets"].as_array().into_iter().flatten() {
        if row["keyId"].as_str() != Some(key_id) {
            continue;
        }
        let name = row["secret"].as_str().unwrap_or_default().to_string();
        let fp = row["fingerprint"].as_str().unwrap_or_default().to_string();
        let n = |k: &str| row[k].as_u64().unwrap_or(0);
        out.insert((name, fp), [n("requests"), n("accepted"), n("rejected")]);
    }
    out
}

/// One request of the demo; `Ok(tokens)` when it succeeded completely.
async fn one(client: &InferenceClient, i: u32, args: &Args, tally: &Tally) -> Result<u64, String> {
    let streaming = args.stream_every > 0 && i % args.stream_every == args.stream_every - 1;
    let responses_api = (i / 2) % 2 == 1;
    let prompt = format!("Request {i}: one sentence on zero-downtime API key rotation.");
    let (path, body) = if responses_api {
        (
            "responses",
            json!({"model": args.model, "input": prompt, "stream": streaming}),
        )
    } else {
        let mut b = json!({"model": args.model, "messages": [{"role": "user", "content": prompt}], "stream": streaming});
        if streaming {
            b["stream_options"] = json!({"include_usage": true});
        }
        ("chat/completions", b)
    };
    let describe = |e: twinkey::Error| format!("{} {}", e.code(), e);
    let resp = client.post_json(path, &body).await.map_err(describe)?;
    tally
        .extra_round_trips
        .fetch_add(resp.round_trips().saturating_sub(1), Ordering::Relaxed);
    let resp = resp.error_for_status().await.map_err(describe)?;
    if !streaming {
        let v: Value = resp.json().await.map_err(describe)?;
        let text = v["choices"][0]["message"]["content"]
            .as_str()
            .or_else(|| v["output"][0]["content"][0]["text"].as_str())
            .unwrap_or_default();
        if text.is_empty() {
            return Err(format!("request {i}: empty reply"));
        }
        return Ok(v["usage"]["total_tokens"].as_u64().unwrap_or(0));
    }
    tally.streamed.fetch_add(1, Ordering::Relaxed);
    let mut stream = resp.into_stream();
    let (mut text, mut tokens) = (0usize, 0u64);
    while let Some(event) = stream.next_event().await {
        let event = event.map_err(describe)?;
        let Ok(v) = serde_json::from_str::<Value>(&event.data) else {
            continue; // [DONE]
        };
        text += v["choices"][0]["delta"]["content"]
            .as_str()
            .map_or(0, str::len);
        text += v["delta"].as_str().map_or(0, str::len);
        tokens += v["usage"]["total_tokens"]
            .as_u64()
            .or_else(|| v["response"]["usage"]["total_tokens"].as_u64())
            .unwrap_or(0);
    }
    if text == 0 || stream.termination().is_none() {
        return Err(format!("request {i}: the stream carried no text"));
    }
    Ok(tokens)
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    let key = ApiKey::load(&args.key_file)?;
    let key_id = key
        .id
        .clone()
        .ok_or_else(|| Failure::new("INVALID_KEY", "the key file has no id"))?;
    let engine = Engine::new(key, EngineOptions::default())?;
    let failovers: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let failovers = failovers.clone();
        engine.subscribe(move |e| {
            if e.kind == EventKind::FailedOver
                && let Ok(mut f) = failovers.lock()
            {
                f.push(format!(
                    "{} -> {}",
                    e.secret,
                    e.to.as_deref().unwrap_or("?")
                ));
            }
        });
    }
    let _watch = match args.watch {
        Some(interval) => Some(twinkey_client::watch::KeyWatch::start(
            engine.clone(),
            twinkey_client::watch::WatchSource::File(args.key_file.clone()),
            twinkey::watch::WatchOptions {
                interval,
                max_backoff: interval.max(std::time::Duration::from_secs(300)),
                ..twinkey::watch::WatchOptions::for_source(twinkey::watch::WatchSource::File)
            },
        )?),
        None => None,
    };
    let client = Arc::new(InferenceClient::new(engine, &args.base_url)?);
    let http = twinkey_client::default_http_client()?;
    let admin_url = args.admin_url.trim_end_matches('/').to_string();
    let before = admin(
        &http,
        reqwest::Method::GET,
        format!("{admin_url}/counts"),
        None,
    )
    .await?;

    let requests = args.requests;
    let revoke_after = args.revoke_after.unwrap_or(requests / 2).min(requests);
    let args = Arc::new(args);
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicU32::new(0));
    let revocation: Arc<tokio::sync::Mutex<Option<Result<Revocation, Failure>>>> = Arc::default();
    let started = Instant::now();

    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, args, tally, next, done) = (
            client.clone(),
            args.clone(),
            tally.clone(),
            next.clone(),
            done.clone(),
        );
        let (http, admin_url, key_id, revocation) = (
            http.clone(),
            admin_url.clone(),
            key_id.clone(),
            revocation.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests && args.until.as_ref().is_none_or(|f| f.exists()) {
                    return;
                }
                match one(&client, i, &args, &tally).await {
                    Ok(tokens) => {
                        tally.succeeded.fetch_add(1, Ordering::Relaxed);
                        tally.tokens.fetch_add(tokens, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut errors) = tally.errors.lock() {
                            errors.push(e);
                        }
                    }
                }
                if done.fetch_add(1, Ordering::AcqRel) + 1 == revoke_after {
                    // Half-way: revoke the secret traffic is using now, as an operator would.
                    let secret = client.engine().current();
                    let status = client.engine().status();
                    let fingerprint = status
                        .secrets
                        .iter()
                        .find(|s| s.name == secret)
                        .map(|s| s.fingerprint.clone())
                        .unwrap_or_default();
                    let url = format!("{admin_url}/keys/{key_id}/setstate");
                    let body = json!({"keyName": secret, "state": "REVOKED"});
                    let outcome = admin(&http, reqwest::Method::POST, url, Some(body))
                        .await
                        .map(|_| Revocation {
                            secret,
                            fingerprint,
                            after: revoke_after,
                        });
                    *revocation.lock().await = Some(outcome);
                }
            }
        }));
    }
    for w in workers {
        w.await
            .map_err(|e| Failure::new("INTERNAL", format!("a worker failed: {e}")))?;
    }
    let elapsed = started.elapsed();

    let after = admin(
        &http,
        reqwest::Method::GET,
        format!("{admin_url}/counts"),
        None,
    )
    .await?;
    let key_doc = admin(
        &http,
        reqwest::Method::GET,
        format!("{admin_url}/keys/{key_id}"),
        None,
    )
    .await?;
    let states: BTreeMap<String, String> = key_doc["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let s = |f: &str| k[f].as_str().unwrap_or_default().to_string();
            (s("keyName"), s("state"))
        })
        .collect();
    let (before, after) = (counts_of(&before, &key_id), counts_of(&after, &key_id));
    let per_secret: Vec<Value> = after
        .iter()
        .map(|((name, fp), now)| {
            let was = before
                .get(&(name.clone(), fp.clone()))
                .copied()
                .unwrap_or_default();
            json!({
                "secret": name,
                "fingerprint": fp,
                "state": states.get(name).cloned().unwrap_or_default(),
                "requests": now[0] - was[0].min(now[0]),
                "accepted": now[1] - was[1].min(now[1]),
                "rejected": now[2] - was[2].min(now[2]),
            })
        })
        .collect();

    let revoked = match revocation.lock().await.take() {
        Some(Ok(r)) => {
            json!({"secret": r.secret, "fingerprint": r.fingerprint, "afterRequests": r.after})
        }
        Some(Err(f)) => return Err(f),
        None => Value::Null,
    };
    let failovers = failovers.lock().map(|f| f.clone()).unwrap_or_default();
    let errors = tally.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let failed = tally.failed.load(Ordering::Relaxed);
    let report = json!({
        "path": "rust",
        "requests": done.load(Ordering::Acquire),
        "concurrency": args.concurrency,
        "streaming": tally.streamed.load(Ordering::Relaxed),
        "succeeded": tally.succeeded.load(Ordering::Relaxed),
        "failed": failed,
        "failovers": failovers.len(),
        "failoverPath": failovers,
        "extraRoundTrips": tally.extra_round_trips.load(Ordering::Relaxed),
        "revoked": revoked,
        "tokens": tally.tokens.load(Ordering::Relaxed),
        "emulatorCounts": per_secret,
        "usage": twinkey::usage::wire::usage_report_json(&client.engine().usage()),
        "elapsedMs": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "errors": errors.iter().take(5).collect::<Vec<_>>(),
    });
    out.json_line(&report);
    if !out.json {
        print_report(&report);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(r: &Value) {
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    println!(
        "Rust (twinkey-client): {} requests, {} in flight at a time, {} streaming",
        n("requests"),
        n("concurrency"),
        n("streaming")
    );
    println!("  requests sent      {}", n("requests"));
    println!("  succeeded          {}", n("succeeded"));
    println!("  failed             {}", n("failed"));
    let path: Vec<&str> = r["failoverPath"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "  fail-overs         {}  ({})",
        n("failovers"),
        path.join(", ")
    );
    println!(
        "  extra round trips  {}  (one replay per request sent with the revoked secret before the switch)",
        n("extraRoundTrips")
    );
    match r["revoked"].as_object() {
        Some(v) => println!(
            "  revoked            {} (fp {}) after {} requests",
            v["secret"].as_str().unwrap_or("?"),
            v["fingerprint"].as_str().unwrap_or("?"),
            v["afterRequests"]
        ),
        None => println!("  revoked            nothing"),
    }
    println!("  tokens (usage)     {}", n("tokens"));
    for (i, c) in r["emulatorCounts"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let label = if i == 0 { "emulator counts" } else { "" };
        println!(
            "  {label:<17}  {} (fp {}) {:<8} {:>4} requests: {:>4} accepted, {:>3} rejected",
            c["secret"].as_str().unwrap_or("?"),
            c["fingerprint"].as_str().unwrap_or("?"),
            c["state"].as_str().unwrap_or("?"),
            c["requests"],
            c["accepted"],
            c["rejected"]
        );
    }
    println!("  usage (the engine's meter):");
    for line in super::usage::table(&r["usage"]).lines() {
        println!("    {line}");
    }
    println!(
        "  elapsed            {:.2} s",
        r["elapsedMs"].as_f64().unwrap_or(0.0) / 1000.0
    );
    for e in r["errors"].as_array().into_iter().flatten() {
        println!("  error              {}", e.as_str().unwrap_or("?"));
    }
}
