//! `twinkey usage`: what a running relay's engine has used, read from its admin listener
//! (`/usage.json`), as a table (`--json`: the document itself).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use twinkey_client::reqwest;

use crate::output::{Failure, Output};

/// Arguments of `twinkey usage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The admin URL of a running `twinkey relay` (printed at its start as `admin_url`).
    #[arg(long, value_name = "URL")]
    url: String,
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    let doc = fetch(&args.url).await?;
    out.json_line(&doc);
    if !out.json {
        print!("{}", table(&doc));
    }
    Ok(ExitCode::SUCCESS)
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
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i < 3 {
                l.push_str(&format!("{c:<w$}  "));
            } else {
                l.push_str(&format!("{c:>w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut text = line(&head.map(String::from));
    for r in &rows {
        text.push_str(&line(r));
    }
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
