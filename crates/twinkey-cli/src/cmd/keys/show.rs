//! Printing keys: a short human table, or `{"data": ..., "etag", "opcRequestId"}` like the OCI
//! CLI. Never a secret value (documents from the control plane carry masks only).

use serde_json::{Value, json};
use twinkey::ApiKey;
use twinkey_client::ApiResponse;

use crate::output::Output;

/// The key as OCI-shaped JSON without values.
pub fn doc(key: &ApiKey) -> Value {
    serde_json::from_str(&key.to_json()).unwrap_or(Value::Null)
}

fn lines(key: &ApiKey) -> Vec<String> {
    let mut out = vec![format!(
        "{}  {}  {}",
        key.id.as_deref().unwrap_or("-"),
        key.display_name.as_deref().unwrap_or("-"),
        key.lifecycle_state.as_deref().unwrap_or("-"),
    )];
    for s in key.secrets() {
        let time =
            |t: Option<twinkey::Timestamp>| t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339());
        out.push(format!(
            "  {:<10} {:<9} expires {}  last used {}  mask {}",
            s.name,
            s.state.as_str(),
            time(s.time_expiry),
            time(s.time_last_used),
            s.key_mask.as_deref().unwrap_or("-"),
        ));
    }
    out
}

/// Requests and tokens per secret in a usage document (`twinkey::usage::wire`), then the
/// budget's windows.
fn usage_lines(usage: &Value) -> Vec<String> {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let rows = usage.get("rows").and_then(Value::as_array);
    let mut out = Vec::new();
    for secret in usage
        .get("secrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let (mut requests, mut without, mut input, mut output) = (0, 0, 0, 0);
        for r in rows.into_iter().flatten() {
            if r.get("secret").and_then(Value::as_str) == Some(secret) {
                requests += n(r, "requests");
                without += n(r, "withoutUsage");
                input += n(r, "inputTokens");
                output += n(r, "outputTokens");
            }
        }
        out.push(format!(
            "  {secret:<10} {requests} requests ({without} without usage), {input} input + {output} output tokens"
        ));
    }
    for w in usage
        .pointer("/budget/windows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(format!(
            "  budget {}: {} of {} tokens per minute",
            w.get("scope").and_then(Value::as_str).unwrap_or("?"),
            n(w, "used"),
            n(w, "limit")
        ));
    }
    if usage.get("budget").is_none_or(Value::is_null) {
        out.push("  budget: none configured".into());
    }
    out
}

/// One key answer.
pub fn key(out: &Output, r: &ApiResponse<ApiKey>, what: Option<&str>) {
    print_key(out, r, what, None);
}

/// One key answer with what a relay has used with it (`usage`: its usage document).
pub fn key_with_usage(out: &Output, r: &ApiResponse<ApiKey>, usage: Option<&Value>) {
    print_key(out, r, None, usage);
}

fn print_key(out: &Output, r: &ApiResponse<ApiKey>, what: Option<&str>, usage: Option<&Value>) {
    let mut doc = json!({
        "data": doc(&r.data),
        "etag": r.etag,
        "opcRequestId": r.opc_request_id,
    });
    if let Some(u) = usage {
        doc["usage"] = u.clone();
    }
    out.json_line(&doc);
    if out.json {
        return;
    }
    if let Some(w) = what {
        println!("{w}");
    }
    for l in lines(&r.data) {
        println!("{l}");
    }
    if let Some(u) = usage {
        println!("usage (from the relay):");
        for l in usage_lines(u) {
            println!("{l}");
        }
    }
    if let Some(compartment) = &r.data.compartment_id {
        println!("  compartment {compartment}");
    }
    println!(
        "  etag {}  opc-request-id {}",
        r.etag.as_deref().unwrap_or("-"),
        r.opc_request_id
    );
}

/// A list of keys.
pub fn list(out: &Output, keys: &[ApiKey], next_page: Option<&str>) {
    out.json_line(&json!({
        "data": keys.iter().map(doc).collect::<Vec<_>>(),
        "opcNextPage": next_page,
    }));
    if out.json {
        return;
    }
    if keys.is_empty() {
        println!("no API keys");
    }
    for k in keys {
        for l in lines(k) {
            println!("{l}");
        }
    }
    if let Some(p) = next_page {
        println!("more: --page {p}");
    }
}

/// An operation without a key in its answer.
pub fn done(out: &Output, what: &str, id: &str, request_id: &str) {
    out.json_line(&json!({"result": what, "id": id, "opcRequestId": request_id}));
    out.human(format_args!("{what} {id} (opc-request-id {request_id})"));
}
