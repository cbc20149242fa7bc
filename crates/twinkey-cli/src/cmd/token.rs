//! `twinkey token`: server tokens for browser tooling (SPEC section 7). `keygen` writes a
//! signing key (a JWK Set, mode 0600; `--rotate` puts a new key first in an existing file),
//! `mint` prints a token for testing, `verify` checks one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::token::{
    Algorithm, DEFAULT_AUDIENCE, DEFAULT_ISSUER, KeyRing, Scope, SystemRandom, TokenKey,
    TokenRequest, VerifyOptions,
};
use twinkey::{Clock, SystemClock};
use zeroize::Zeroize;

use crate::output::{Failure, Output};

/// `twinkey token ...`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Write a new token signing key (JWK Set, mode 0600).
    Keygen(KeygenArgs),
    /// Mint a server token (for testing; servers mint through the library).
    Mint(MintArgs),
    /// Verify a server token and print its claims.
    Verify(VerifyArgs),
}

#[derive(clap::Args, Debug)]
struct KeygenArgs {
    /// Where to write the key set.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The key id (default: `<alg>-<unix seconds>`).
    #[arg(long)]
    kid: Option<String>,
    /// `EdDSA` (Ed25519, default) or `HS256`.
    #[arg(long, default_value = "EdDSA")]
    alg: String,
    /// Put the new key first in an existing FILE (it signs from now on; the old keys still
    /// verify until you remove them).
    #[arg(long)]
    rotate: bool,
}

#[derive(clap::Args, Debug)]
struct MintArgs {
    /// The signing key set (JWK Set or one JWK).
    #[arg(long = "token-key", value_name = "FILE")]
    token_key: PathBuf,
    /// `sub`: whom the token is for.
    #[arg(long, default_value = "cli")]
    sub: String,
    /// An allowed model (repeatable; `*` for any).
    #[arg(long = "model", value_name = "MODEL", required = true)]
    models: Vec<String>,
    /// An allowed endpoint (repeatable): chat.completions, responses, completions,
    /// embeddings, models.
    #[arg(long = "endpoint", value_name = "NAME", default_values_t = ["chat.completions".to_string()])]
    endpoints: Vec<String>,
    /// Lifetime in seconds (at most 86400).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    ttl: u64,
    /// Output-token cap per request.
    #[arg(long, value_name = "N")]
    max_output_tokens: Option<u32>,
    /// Request budget.
    #[arg(long, value_name = "N")]
    max_requests: Option<u32>,
    /// `aud`.
    #[arg(long, default_value = DEFAULT_AUDIENCE)]
    audience: String,
    /// `iss`.
    #[arg(long, default_value = DEFAULT_ISSUER)]
    issuer: String,
    /// Sign with this kid instead of the set's first signing key.
    #[arg(long)]
    kid: Option<String>,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// The key set (public halves are enough for EdDSA).
    #[arg(long = "token-key", value_name = "FILE")]
    token_key: PathBuf,
    /// The expected audience.
    #[arg(long, default_value = DEFAULT_AUDIENCE)]
    audience: String,
    /// The expected issuer, if any.
    #[arg(long)]
    issuer: Option<String>,
    /// The token, or `-` to read it from standard input (keeps it out of `ps` and shell
    /// history).
    token: String,
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    match args.command {
        Command::Keygen(a) => keygen(a, out),
        Command::Mint(a) => mint(a, out),
        Command::Verify(a) => verify(a, out),
    }
}

/// Reads a key set file (the text is zeroized after parsing).
pub fn load_ring(path: &Path) -> Result<KeyRing, Failure> {
    let mut text = std::fs::read_to_string(path).map_err(|e| Failure::io(path.display(), &e))?;
    let ring = KeyRing::from_json(&text);
    text.zeroize();
    ring.map_err(|e| Failure::new(e.code(), format!("{}: {e}", path.display())))
}

fn keygen(a: KeygenArgs, out: Output) -> Result<ExitCode, Failure> {
    let alg = Algorithm::from_name(&a.alg).ok_or_else(|| {
        Failure::new(
            "INVALID_ARGUMENT",
            format!("--alg {:?}: EdDSA or HS256", a.alg),
        )
    })?;
    let now = SystemClock.now().as_millis() / 1000;
    let kid = a
        .kid
        .unwrap_or_else(|| format!("{}-{now}", alg.name().to_ascii_lowercase()));
    let key = TokenKey::generate(kid.clone(), alg, &SystemRandom)?;
    let mut keys: Vec<Value> = Vec::new();
    keys.extend(key.to_jwk(true));
    if a.out.exists() {
        if !a.rotate {
            return Err(Failure::new(
                "INVALID_ARGUMENT",
                format!(
                    "{} exists (use --rotate to add a key to it)",
                    a.out.display()
                ),
            ));
        }
        let old = load_ring(&a.out)?;
        if old.get(&kid).is_some() {
            return Err(Failure::new(
                "INVALID_ARGUMENT",
                format!("kid {kid} is already in the set"),
            ));
        }
        let jwks = old.to_jwks(true);
        keys.extend(jwks["keys"].as_array().cloned().unwrap_or_default());
    }
    let mut text = json!({ "keys": keys }).to_string();
    text.push('\n');
    let written = write_private(&a.out, &text);
    text.zeroize();
    written?;
    out.json_line(&json!({"file": a.out.display().to_string(), "kid": kid, "alg": alg.name(), "rotated": a.rotate}));
    out.human(format_args!(
        "wrote {} (kid {kid}, {}, signs new tokens; mode 0600)",
        a.out.display(),
        alg.name()
    ));
    Ok(ExitCode::SUCCESS)
}

fn mint(a: MintArgs, out: Output) -> Result<ExitCode, Failure> {
    let mut ring = load_ring(&a.token_key)?;
    if let Some(kid) = &a.kid {
        ring.set_signing_kid(kid)?;
    }
    let mut scope = Scope::new(a.models, a.endpoints);
    scope.max_output_tokens = a.max_output_tokens;
    scope.max_requests = a.max_requests;
    let request = TokenRequest::new(a.sub, scope)
        .audience(a.audience)
        .issuer(a.issuer)
        .ttl(Duration::from_secs(a.ttl));
    let minted = ring.mint(&request, SystemClock.now(), &SystemRandom)?;
    if out.json {
        let claims: Value = serde_json::from_str(&minted.claims.to_json()).unwrap_or_default();
        out.json_line(&json!({"token": minted.token, "claims": claims}));
    } else {
        println!("{}", minted.token);
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(a: VerifyArgs, out: Output) -> Result<ExitCode, Failure> {
    let ring = load_ring(&a.token_key)?;
    let mut options = VerifyOptions::new(a.audience);
    if let Some(iss) = a.issuer {
        options = options.issuer(iss);
    }
    let token = if a.token == "-" {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut t)
            .map_err(|e| Failure::io("standard input", &e))?;
        t
    } else {
        a.token
    };
    let v = ring.verify(token.trim(), &options, SystemClock.now())?;
    let claims: Value = serde_json::from_str(&v.claims.to_json()).unwrap_or_default();
    out.json_line(&json!({"kid": v.kid, "alg": v.algorithm.name(), "claims": claims}));
    out.human(format_args!("valid ({} {}): {claims}", v.kid, v.algorithm));
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` readable by the owner only, atomically.
fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    twinkey::files::write_private(path, text.as_bytes(), twinkey::files::Replace::Allow)
        .map_err(|e| Failure::io(path.display(), &e))
}
