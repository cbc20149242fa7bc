//! `twinkey usage`: what a running relay's engine has used, read from its admin listener
//! (`/usage.json`), or what a whole fleet on one key has used, read from its Redis
//! (`--redis URL --key-id OCID`); as a table (`--json`: the document itself).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use twinkey_client::reqwest;

use crate::output::{Failure, Output};

/// Arguments of `twinkey usage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The admin URL of a running `twinkey relay` (printed at its start as `admin_url`).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "redis",
        conflicts_with = "redis"
    )]
    url: Option<String>,
    /// Read the fleet's totals from this Redis (`redis://` or `rediss://`) instead.
    #[arg(long, value_name = "URL", requires = "key_id")]
    redis: Option<String>,
    /// The key whose fleet totals to read (with `--redis`).
    #[arg(long, value_name = "OCID")]
    key_id: Option<String>,
    /// The fleet's key prefix in Redis (with `--redis`).
    #[arg(long, value_name = "PREFIX", default_value = "twinkey")]
    prefix: String,
    /// A PEM file of the CA a `rediss://` server's certificate chains to.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<std::path::PathBuf>,
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    if let (Some(redis), Some(key_id)) = (&args.redis, &args.key_id) {
        let options = twinkey_client::fleet::FleetOptions {
            url: redis.clone(),
            prefix: args.prefix.clone(),
            ca_file: args.ca_file.clone(),
            ..Default::default()
        };
        let usage = twinkey_client::fleet::read_fleet_usage(&options, key_id)
            .await
            .map_err(Failure::from)?;
        let doc = twinkey::usage::wire::fleet_usage_json(&usage);
        out.json_line(&doc);
        if !out.json {
            print!("{}", fleet_table(&doc));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let doc = fetch(args.url.as_deref().unwrap_or_default()).await?;
    out.json_line(&doc);
    if !out.json {
        print!("{}", table(&doc));
    }
    Ok(ExitCode::SUCCESS)
}

/// The fleet's totals as text: one row per secret, fingerprint and model.
pub fn fleet_table(doc: &Value) -> String {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0).to_string();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let rows: Vec<Vec<String>> = doc
        .get("rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                s(r, "secret"),
                s(r, "fingerprint"),
                s(r, "model"),
                n(r, "requests"),
                n(r, "inputTokens"),
                n(r, "outputTokens"),
                n(r, "totalTokens"),
            ]
        })
        .collect();
    let head = [
        "SECRET",
        "FINGERPRINT",
        "MODEL",
        "REQUESTS",
        "INPUT",
        "OUTPUT",
        "TOTAL",
    ];
    let mut text = aligned(&head, &rows, 3);
    if rows.is_empty() {
        text.push_str("(nothing counted in the fleet yet)\n");
    }
    let skipped = doc.get("skipped").and_then(Value::as_u64).unwrap_or(0);
    if skipped > 0 {
        text.push_str(&format!("{skipped} malformed fields skipped\n"));
    }
    text
}

/// A table: `head`, then `rows`; the first `left` columns left-aligned, the rest right.
fn aligned(head: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let w = *w;
            if i < left {
                l.push_str(&format!("{c:<w$}  "));
            } else {
                l.push_str(&format!("{c:>w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut text = line(&head.iter().map(|h| (*h).to_string()).collect::<Vec<_>>());
    for r in rows {
        text.push_str(&line(r));
    }
    text
}

/// The usage document of the relay whose admin listener is at `admin_url`.
pub async fn fetch(admin_url: &str) -> Result<Value, Failure> {
    let url = format!("{}/usage.json", admin_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Failure::new("TRANSPORT", e.to_string()))?;
    let fetch = async {
        let resp = client.get(&url).send().await?.error_for_status()?;
        resp.json::<Value>().await
    };
    fetch
        .await
        .map_err(|e| Failure::new("TRANSPORT", format!("{url}: {}", e.without_url())))
}

/// The usage document as text: one row per secret, model, endpoint and status; then the
/// last minute's tokens and the budget's windows.
pub fn table(doc: &Value) -> String {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let rows: Vec<[String; 9]> = doc
        .get("rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            [
                s(r, "secret"),
                s(r, "model"),
                s(r, "endpoint"),
                n(r, "status").to_string(),
                n(r, "requests").to_string(),
                n(r, "withoutUsage").to_string(),
                n(r, "inputTokens").to_string(),
                n(r, "outputTokens").to_string(),
                n(r, "totalTokens").to_string(),
            ]
        })
        .collect();
    let head = [
        "SECRET", "MODEL", "ENDPOINT", "STATUS", "REQUESTS", "NO USAGE", "INPUT", "OUTPUT", "TOTAL",
    ];
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    let mut text = aligned(&head, &rows, 3);
    if rows.is_empty() {
        text.push_str("(no requests yet)\n");
    }
    if let Some(last) = doc
        .get("minutes")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
    {
        let tokens: u64 = last
            .get("tokens")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .sum();
        text.push_str(&format!("tokens in the latest minute: {tokens}\n"));
    }
    for w in doc
        .pointer("/budget/windows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        text.push_str(&format!(
            "budget {}: {} of {} tokens per minute\n",
            s(w, "scope"),
            n(w, "used"),
            n(w, "limit")
        ));
    }
    text
}
