//! Showing a new secret value exactly once: to a file created with mode 0600, or on standard
//! output with a warning on standard error. Never to a log.

use std::path::Path;

use serde_json::{Map, Value, json};
use twinkey::ApiKey;
use twinkey_client::ApiResponse;
use zeroize::Zeroize;

use super::show;
use crate::output::{Failure, Output};

/// What `--secret-out` receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The key document with its values (a twinkey key file).
    KeyDocument,
    /// The one renewed value, alone on a line.
    Value,
}

/// Fails early when FILE exists: a secret is never written over another file.
pub fn check_free(path: &Path) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure::new(
            "IO",
            format!(
                "{} exists; --secret-out never overwrites a file",
                path.display()
            ),
        ));
    }
    Ok(())
}

fn create_private(path: &Path, text: &str) -> Result<(), Failure> {
    twinkey::files::write_private(path, text.as_bytes(), twinkey::files::Replace::Never)
        .map_err(|e| Failure::io(path.display(), &e))
}

/// Prints the key (masks) and shows the values of `names` once.
pub fn reveal(
    out: &Output,
    r: &ApiResponse<ApiKey>,
    names: &[&String],
    secret_out: Option<&Path>,
    form: Form,
) -> Result<(), Failure> {
    let key = &r.data;
    let values: Vec<(&str, &twinkey::SecretValue)> = names
        .iter()
        .filter_map(|n| {
            let s = key.secret(key.slot_of(n).ok()?);
            Some((s.name.as_str(), s.value.as_ref()?))
        })
        .collect();
    if values.len() != names.len() {
        return Err(Failure::new(
            "SERVICE_ERROR",
            "the answer carries no value for the new secret",
        ));
    }
    let fingerprints: Map<String, Value> = values
        .iter()
        .map(|(n, v)| ((*n).to_string(), Value::String(v.fingerprint().to_string())))
        .collect();
    match secret_out {
        Some(path) => {
            let mut text = match form {
                Form::KeyDocument => key.to_json_exposing_secrets() + "\n",
                Form::Value => format!("{}\n", values[0].1.expose()),
            };
            let written = create_private(path, &text);
            text.zeroize();
            written?;
            out.json_line(&json!({
                "data": show::doc(key),
                "etag": r.etag,
                "opcRequestId": r.opc_request_id,
                "secretOut": path.display().to_string(),
                "fingerprints": fingerprints,
            }));
            if !out.json {
                show::key(out, r, None);
                for (n, v) in &values {
                    println!(
                        "{n}: value written to {} (mode 0600, fp {})",
                        path.display(),
                        v.fingerprint()
                    );
                }
            }
        }
        None => {
            eprintln!(
                "warning: the secret value{} below {} shown only this once; store {} now (or use --secret-out FILE)",
                if values.len() > 1 { "s" } else { "" },
                if values.len() > 1 { "are" } else { "is" },
                if values.len() > 1 { "them" } else { "it" },
            );
            if out.json {
                let mut secrets = Map::new();
                for (n, v) in &values {
                    secrets.insert((*n).to_string(), Value::String(v.expose().to_string()));
                }
                let mut line = json!({
                    "data": show::doc(key),
                    "etag": r.etag,
                    "opcRequestId": r.opc_request_id,
                    "secrets": secrets,
                    "fingerprints": fingerprints,
                })
                .to_string();
                println!("{line}");
                line.zeroize();
            } else {
                show::key(out, r, None);
                for (n, v) in &values {
                    println!("{n} (fp {}): {}", v.fingerprint(), v.expose());
                }
            }
        }
    }
    Ok(())
}
