//! `twinkey keys policy KEY_OCID`: the least-privilege IAM policy statements that let this one
//! key call the models (reference `oci.md` 1.8). Works offline.

use std::process::ExitCode;

use serde_json::json;
use twinkey::control::policy::{PolicyScope, manage_statement, policy_statements};

use crate::output::{Failure, Output};

/// Arguments of `twinkey keys policy`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The API key's OCID.
    key_id: String,
    /// Scope the statement to a compartment (name, `parent:child` path, or OCID); default:
    /// the tenancy.
    #[arg(long, value_name = "COMPARTMENT")]
    compartment: Option<String>,
    /// Allow only these models (repeatable), e.g. `openai.gpt-oss-120b`.
    #[arg(long = "model", value_name = "MODEL_ID")]
    models: Vec<String>,
    /// Also the statement that lets this group manage (create, rotate, delete) API keys.
    #[arg(long, value_name = "GROUP")]
    manager_group: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args, out: Output) -> Result<ExitCode, Failure> {
    let scope = match &args.compartment {
        Some(c) => PolicyScope::Compartment(c.clone()),
        None => PolicyScope::Tenancy,
    };
    let mut statements = policy_statements(&args.key_id, &scope, &args.models)?;
    if let Some(g) = &args.manager_group {
        statements.push(manage_statement(g, &scope)?);
    }
    out.json_line(&json!({"statements": statements}));
    for s in &statements {
        out.human(s);
    }
    Ok(ExitCode::SUCCESS)
}
