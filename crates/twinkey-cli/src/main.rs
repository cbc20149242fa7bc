//! `twinkey`: the command line of twinkey.

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

use crate::output::{Failure, Output};

/// OCI Generative AI API keys: two-secret fail-over, rotation, tokens and a local emulator.
#[derive(Parser, Debug)]
#[command(name = "twinkey", version, about, propagate_version = true)]
struct Cli {
    /// Machine-readable output: one JSON document per line.
    #[arg(long, global = true)]
    json: bool,
    /// Log to stderr (-v: info, -vv: debug). Logs show secret fingerprints, never values.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the local OCI Generative AI emulator (OpenAI-compatible inference, admin API).
    Emulate(cmd::emulate::Args),
    /// Drive demo traffic through twinkey-client against a running emulator (`make demo`).
    #[command(hide = true)]
    Demo(cmd::demo::Args),
    /// Serve the relay for browser tooling: server tokens in, a real secret out.
    Relay(cmd::relay::Args),
    /// Server tokens for browser tooling: keygen, mint (for testing), verify.
    Token(cmd::token::Args),
    /// Manage API keys on the control plane: list, get, create, update, delete, set-state,
    /// renew, change-compartment; `policy` prints IAM statements.
    Keys(cmd::keys::Args),
    /// Rotate an API key with zero downtime (activate, verify, switch, retire); resumable.
    Rotate(cmd::rotate::Args),
    /// Print the headers OCI request signing adds to a request (debug a refused signature).
    Sign(cmd::sign::Args),
    /// Print what a running relay's key has used (tokens per secret, model, endpoint; budget).
    Usage(cmd::usage::Args),
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let out = Output { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.failure(&Failure::io("cannot start the async runtime", &e));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Emulate(args) => cmd::emulate::run(args, out).await,
            Command::Demo(args) => cmd::demo::run(args, out).await,
            Command::Relay(args) => cmd::relay::run(args, out).await,
            Command::Token(args) => cmd::token::run(args, out).await,
            Command::Keys(args) => cmd::keys::run(args, out).await,
            Command::Rotate(args) => cmd::rotate::run(args, out).await,
            Command::Sign(args) => cmd::sign::run(args, out).await,
            Command::Usage(args) => cmd::usage::run(args, out).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(f) => {
            out.failure(&f);
            ExitCode::FAILURE
        }
    }
}
