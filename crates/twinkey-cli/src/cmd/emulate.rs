//! `twinkey emulate`: serve the local OCI Generative AI emulator until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::ApiKey;
use twinkey::json::ProcessSource;
use twinkey_emulator::{DEFAULT_MAX_BODY_BYTES, Emulator, EmulatorOptions, KeySpec, StoredKey};
use zeroize::Zeroize;

use crate::output::{Failure, Output};

/// Name of the key file `--init` writes.
pub const KEY_FILE: &str = "key.json";

/// Arguments of `twinkey emulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on; loopback only (port 0 picks a free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve the keys in FILE: one ApiKey document in OCI's shape with its secret values
    /// (inline, `env:NAME` or `file:PATH`), an array of them, or `{"items": [...]}`.
    /// Repeatable.
    #[arg(long = "keys", value_name = "FILE")]
    keys: Vec<PathBuf>,
    /// Write DIR/key.json (a new key with both secret values, mode 0600) for clients to load,
    /// and serve it; also DIR/oci/config (profile DEFAULT) and DIR/oci/key.pem (RSA-2048, mode
    /// 0600), a principal the control plane accepts, so `twinkey keys --config DIR/oci/config`
    /// and the OCI SDKs work against the emulator. Existing files are reused, never
    /// overwritten.
    #[arg(long, value_name = "DIR")]
    init: Option<PathBuf>,
    /// Delay before key state changes reach inference, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    propagation_ms: u64,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// The control plane's tenancy limit `api-key-count` (CreateApiKey beyond it: 400
    /// LimitExceeded).
    #[arg(long, value_name = "N", default_value_t = twinkey_emulator::control::DEFAULT_API_KEY_LIMIT)]
    api_key_limit: usize,
    /// Tokens per minute each key may use; beyond it requests get 429 `TooManyRequests` with
    /// `Retry-After`, like OCI (default: no limit; also `PUT /admin/config`).
    #[arg(long, value_name = "N")]
    tokens_per_minute: Option<u64>,
    #[command(flatten)]
    limits: super::limits::LimitsArgs,
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    if !args.listen.ip().is_loopback() {
        return Err(Failure::new(
            "INVALID_ARGUMENT",
            format!(
                "--listen {}: the emulator serves loopback only (its admin surface has no authentication)",
                args.listen
            ),
        ));
    }
    let emulator = Emulator::new(EmulatorOptions {
        propagation: Duration::from_millis(args.propagation_ms),
        max_body_bytes: args.max_body_bytes,
        api_key_limit: args.api_key_limit,
        limits: args.limits.limits()?,
        tokens_per_minute: args.tokens_per_minute.filter(|n| *n > 0),
        ..EmulatorOptions::default()
    });
    let mut served: Vec<StoredKey> = Vec::new();
    for file in &args.keys {
        for key in load_keys(file)? {
            served.push(seed(&emulator, key, file)?);
        }
    }
    let mut key_file = None;
    let mut initialized = false;
    let mut oci = None;
    if let Some(dir) = &args.init {
        let files = twinkey_emulator::control::init_oci_dir(&emulator, dir)?;
        let path = dir.join(KEY_FILE);
        if path.exists() {
            // A reused key file must still be private (it holds both secret values).
            twinkey::files::check_private(&path)?;
            served.push(seed(&emulator, ApiKey::load(&path)?, &path)?);
        } else {
            // The key lives in the tenancy's root compartment, the CLI's default.
            let spec = KeySpec {
                compartment_id: Some(files.tenancy.clone()),
                ..KeySpec::default()
            };
            let stored = emulator.generate_key(&spec)?;
            write_key_file(dir, &path, &stored.key)?;
            served.push(stored);
            initialized = true;
        }
        key_file = Some(path);
        oci = Some(files);
    }

    let server = emulator
        .bind(args.listen)
        .await
        .map_err(|e| Failure::io(format!("cannot listen on {}", args.listen), &e))?;
    report(
        &out,
        &server,
        &served,
        key_file.as_deref(),
        initialized,
        args.propagation_ms,
        oci.as_ref(),
    );

    super::wait_for_signal().await?;
    out.human("stopping the emulator");
    server
        .shutdown()
        .await
        .map_err(|e| Failure::io("the server failed", &e))?;
    Ok(ExitCode::SUCCESS)
}

fn seed(emulator: &Emulator, key: ApiKey, from: &Path) -> Result<StoredKey, Failure> {
    emulator
        .seed(key)
        .map_err(|e| Failure::new("INVALID_KEY", format!("{}: {e}", from.display())))
}

/// Reads a key file holding one key, an array of keys, or `{"items": [...]}`.
fn load_keys(file: &Path) -> Result<Vec<ApiKey>, Failure> {
    let mut text = std::fs::read_to_string(file).map_err(|e| Failure::io(file.display(), &e))?;
    let parsed: Result<Value, _> = serde_json::from_str(&text);
    text.zeroize();
    let value = parsed.map_err(|e| {
        Failure::new(
            "INVALID_KEY",
            format!(
                "{}: not JSON (line {}, column {})",
                file.display(),
                e.line(),
                e.column()
            ),
        )
    })?;
    let docs = match value {
        Value::Array(items) => items,
        Value::Object(mut m)
            if !m.contains_key("keys") && m.get("items").is_some_and(Value::is_array) =>
        {
            match m.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        other => vec![other],
    };
    let source = ProcessSource {
        base_dir: file.parent().map(Path::to_path_buf),
    };
    docs.into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let mut text = doc.to_string();
            let key = ApiKey::from_json_with(&text, &source);
            text.zeroize();
            key.map_err(|e| Failure::new(e.code(), format!("{} (key {i}): {e}", file.display())))
        })
        .collect()
}

/// Writes the key with its secret values, readable by the owner only, atomically.
fn write_key_file(dir: &Path, path: &Path, key: &ApiKey) -> Result<(), Failure> {
    twinkey::files::create_private_dir(dir).map_err(|e| Failure::io(dir.display(), &e))?;
    let mut text = key.to_json_exposing_secrets();
    text.push('\n');
    let written =
        twinkey::files::write_private(path, text.as_bytes(), twinkey::files::Replace::Allow);
    text.zeroize();
    written.map_err(|e| Failure::io(path.display(), &e))
}

fn report(
    out: &Output,
    server: &twinkey_emulator::Server,
    served: &[StoredKey],
    key_file: Option<&Path>,
    initialized: bool,
    propagation_ms: u64,
    oci: Option<&twinkey_emulator::control::OciFiles>,
) {
    let keys: Vec<Value> = served
        .iter()
        .map(|s| {
            let secrets: Vec<Value> = s
                .key
                .secrets()
                .iter()
                .map(|x| json!({"name": x.name, "fingerprint": x.fingerprint(), "state": x.state.as_str()}))
                .collect();
            json!({"id": s.id(), "displayName": s.key.display_name, "secrets": secrets})
        })
        .collect();
    out.json_line(&json!({
        "listen": server.addr().to_string(),
        "url": server.url(),
        "base_url": server.base_url(),
        "actions_base_url": server.actions_base_url(),
        "admin_url": server.admin_url(),
        "key_file": key_file.map(|p| p.display().to_string()),
        "initialized": initialized,
        "keys": keys,
        "propagation_ms": propagation_ms,
        "control_plane": server.url(),
        "oci_config": oci.map(|o| o.config.display().to_string()),
        "oci_profile": oci.map(|o| o.profile.clone()),
        "tenancy": oci.map(|o| o.tenancy.clone()),
    }));
    if out.json {
        return;
    }
    out.human(format_args!(
        "twinkey emulator listening on {}",
        server.url()
    ));
    out.human(format_args!(
        "  OpenAI base URL  {}  (also {})",
        server.base_url(),
        twinkey_emulator::ACTIONS_BASE
    ));
    out.human(format_args!("  admin            {}/", server.admin_url()));
    for s in served {
        let secrets: Vec<String> = s
            .key
            .secrets()
            .iter()
            .map(|x| format!("{} fp {} {}", x.name, x.fingerprint(), x.state))
            .collect();
        out.human(format_args!("  key              {}", s.id()));
        out.human(format_args!("                   {}", secrets.join(", ")));
    }
    if served.is_empty() {
        out.human("  key              none (use --init DIR, --keys FILE or POST /_emulator/keys)");
    }
    if let Some(p) = key_file {
        let how = if initialized {
            "written, mode 0600"
        } else {
            "existing file, served as is"
        };
        out.human(format_args!("  key file         {} ({how})", p.display()));
    }
    out.human(format_args!(
        "  control plane    {}/20231130/apikeys  (OCI-signed requests)",
        server.url()
    ));
    if let Some(o) = oci {
        let how = if o.created {
            "written"
        } else {
            "existing, reused"
        };
        out.human(format_args!(
            "  OCI config       {} [{}] ({how}; key fp {})",
            o.config.display(),
            o.profile,
            o.fingerprint
        ));
    }
    out.human(format_args!("  propagation      {propagation_ms} ms"));
    out.human("Press Ctrl-C to stop.");
}
