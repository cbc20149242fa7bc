//! `twinkey relay`: serve the relay for browser tooling until SIGINT/SIGTERM. Pages call
//! `<relay>/v1/...` with a server token; the relay forwards with a real secret of `--key`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use twinkey::{ApiKey, BudgetOptions, Engine, EngineOptions};
use twinkey_client::admin::AdminServer;
use twinkey_client::fleet::{FleetOptions, RedisFleet};
use twinkey_client::otlp::{OtlpOptions, OtlpPusher, headers_from_env, shown_url};
use twinkey_client::relay::{Relay, RelayOptions};

use crate::cmd::token::load_ring;
use crate::output::{Failure, Output};

/// Arguments of `twinkey relay`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The API key whose secrets the relay uses (OCI's JSON shape; values inline, `env:NAME`
    /// or `file:PATH`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The token key set (JWK Set) tokens are verified with; EdDSA public halves are enough.
    #[arg(long = "token-key", value_name = "FILE")]
    token_key: PathBuf,
    /// Address to listen on (port 0 picks a free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// The upstream OpenAI-compatible base URL, e.g.
    /// `https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1`.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// A host besides OCI inference hosts and loopback the upstream may be on (repeatable:
    /// `host`, `*.domain`, `http://host` for plain HTTP); secrets go nowhere else.
    #[arg(long = "allow-host", value_name = "HOST")]
    allowed_hosts: Vec<String>,
    /// A browser origin allowed to call the relay (repeatable; `*` for any).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// The audience tokens must name.
    #[arg(long, default_value = twinkey::token::DEFAULT_AUDIENCE)]
    audience: String,
    /// The issuer tokens must name, if any.
    #[arg(long)]
    issuer: Option<String>,
    /// Allowed clock skew for token times, in seconds (at most 300).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    leeway: u64,
    /// Relayed requests (streams) one token subject may have in flight at once (0: no limit).
    #[arg(long, value_name = "N", default_value_t = twinkey_client::relay::DEFAULT_MAX_STREAMS_PER_SUBJECT)]
    max_streams_per_subject: usize,
    /// The key's tokens-per-minute budget as the core's JSON options, e.g.
    /// `{"tokensPerMinute": 100000, "policy": "wait", "maxWaitMs": 30000}`.
    #[arg(long, value_name = "JSON")]
    budget: Option<String>,
    /// Address of the admin listener (`/metrics`, `/status`, `/usage.json`); loopback by
    /// default, on a free port (printed at start as `admin_url`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    admin_listen: SocketAddr,
    /// Do not serve the admin listener.
    #[arg(long)]
    no_admin: bool,
    /// Also push the metrics to an OpenTelemetry collector over OTLP/HTTP (protobuf): its
    /// metrics URL, e.g. http://127.0.0.1:4318/v1/metrics. Headers (credentials) come from
    /// OTEL_EXPORTER_OTLP_METRICS_HEADERS or OTEL_EXPORTER_OTLP_HEADERS (name=value,...).
    #[arg(long, value_name = "URL")]
    otlp_endpoint: Option<String>,
    /// Share the secrets' health with the other processes on this key through Redis
    /// (redis://[user:password@]host:port): a rejection one of them sees cools the secret
    /// down in all. Off the request path; with Redis away the relay serves from local state.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Milliseconds between OTLP exports.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    otlp_interval_ms: u64,
    #[command(flatten)]
    limits: super::limits::LimitsArgs,
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    let key = ApiKey::load(&args.key)
        .map_err(|e| Failure::new(e.code(), format!("{}: {e}", args.key.display())))?;
    // The engine logs its events (fail-over, rejections, expiring secrets) itself.
    let budget = match &args.budget {
        Some(text) => {
            let v: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| Failure::new("INVALID_OPTIONS", format!("--budget: {e}")))?;
            Some(BudgetOptions::from_json_value(&v)?)
        }
        None => None,
    };
    let title = key
        .display_name
        .clone()
        .or_else(|| key.id.clone())
        .unwrap_or_else(|| "relay".into());
    let options = EngineOptions {
        allowed_hosts: args.allowed_hosts.clone(),
        budget,
        ..EngineOptions::default()
    };
    let engine = Engine::new(key, options)?;
    let limits = args.limits.limits()?;
    let admin = if args.no_admin {
        None
    } else {
        Some(
            AdminServer::bind(engine.clone(), &title, args.admin_listen, limits)
                .await
                .map_err(|e| Failure::io(format!("cannot listen on {}", args.admin_listen), &e))?,
        )
    };
    let otlp = match &args.otlp_endpoint {
        Some(endpoint) => {
            let mut exporter = twinkey::metrics::Exporter::new();
            exporter.add(&engine, None);
            // Credentials for the collector come from the environment, as for any OTLP
            // exporter, so they are not on the command line.
            let headers = std::env::var("OTEL_EXPORTER_OTLP_METRICS_HEADERS")
                .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_HEADERS"))
                .map(|h| headers_from_env(&h))
                .unwrap_or_else(|_| Ok(Vec::new()))?;
            let options = OtlpOptions {
                endpoint: endpoint.clone(),
                interval: Duration::from_millis(args.otlp_interval_ms),
                service_name: "twinkey-relay".into(),
                headers,
                ..OtlpOptions::default()
            };
            Some(OtlpPusher::start(exporter, options)?)
        }
        None => None,
    };
    let fleet = match &args.redis {
        Some(url) => Some(RedisFleet::start(
            engine.clone(),
            FleetOptions {
                url: url.clone(),
                ..FleetOptions::default()
            },
        )?),
        None => None,
    };
    let ring = load_ring(&args.token_key)?;
    let kids: Vec<String> = ring.kids().map(str::to_owned).collect();
    let mut options = RelayOptions::new(args.upstream.clone())
        .cors_origins(args.cors_origins.clone())
        .audience(args.audience.clone())
        .limits(limits)
        .max_streams_per_subject(args.max_streams_per_subject);
    options.leeway = Duration::from_secs(args.leeway);
    if let Some(iss) = args.issuer {
        options = options.issuer(iss);
    }
    let server = Relay::new(engine, ring, options)?
        .bind(args.listen)
        .await
        .map_err(|e| Failure::io(format!("cannot listen on {}", args.listen), &e))?;
    out.json_line(&json!({
        "listen": server.addr().to_string(),
        "url": server.url(),
        "base_url": server.base_url(),
        "upstream": args.upstream,
        "kids": kids,
        "cors_origins": args.cors_origins,
        "audience": args.audience,
        "admin_url": admin.as_ref().map(AdminServer::url),
        "otlp_endpoint": args.otlp_endpoint.as_deref().map(shown_url),
        "fleet_origin": fleet.as_ref().map(RedisFleet::origin),
    }));
    out.human(format_args!("twinkey relay listening on {}", server.url()));
    out.human(format_args!(
        "  OpenAI base URL  {}  (Authorization: Bearer <server token>)",
        server.base_url()
    ));
    out.human(format_args!("  upstream         {}", args.upstream));
    out.human(format_args!("  token keys       {}", kids.join(", ")));
    if let Some(a) = &admin {
        out.human(format_args!(
            "  admin            {0}/status  {0}/metrics  {0}/usage.json",
            a.url()
        ));
    }
    if let Some(e) = &args.otlp_endpoint {
        out.human(format_args!(
            "  OTLP metrics     {} every {} ms",
            shown_url(e),
            args.otlp_interval_ms
        ));
    }
    out.human(format_args!(
        "  CORS origins     {}",
        if args.cors_origins.is_empty() {
            "none (non-browser callers only)".to_string()
        } else {
            args.cors_origins.join(", ")
        }
    ));
    out.human("Press Ctrl-C to stop.");
    super::wait_for_signal().await?;
    out.human("stopping the relay: draining requests in flight");
    server
        .shutdown()
        .await
        .map_err(|e| Failure::io("the relay failed", &e))?;
    if let Some(a) = admin {
        a.shutdown().await;
    }
    if let Some(p) = otlp {
        p.shutdown().await;
    }
    drop(fleet);
    Ok(ExitCode::SUCCESS)
}
