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
        out.push(format!(
            "  {:<10} {:<9} expires {}  mask {}",
            s.name,
            s.state.as_str(),
            s.time_expiry
                .map_or_else(|| "-".to_string(), |t| t.to_rfc3339()),
            s.key_mask.as_deref().unwrap_or("-"),
        ));
    }
    out
}

/// One key answer.
pub fn key(out: &Output, r: &ApiResponse<ApiKey>, what: Option<&str>) {
    out.json_line(&json!({
        "data": doc(&r.data),
        "etag": r.etag,
        "opcRequestId": r.opc_request_id,
    }));
    if out.json {
        return;
    }
    if let Some(w) = what {
        println!("{w}");
    }
    for l in lines(&r.data) {
        println!("{l}");
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
