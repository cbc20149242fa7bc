//! `twinkey keys`: the eight API-key operations of the control plane, and `keys policy`.
//!
//! A new or renewed secret value is shown once: printed with a warning on standard error, or
//! written straight to `--secret-out FILE` (created with mode 0600; `create` writes a key
//! document in OCI's shape with both values, usable as a twinkey key file; `renew` writes the
//! value alone, for a `"key": "file:FILE"` reference). Values are never logged.

mod check;
mod policy;
mod show;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use twinkey::control::{
    CreateApiKeyDetails, KeyDetails, ListApiKeys, SortBy, SortOrder, UpdateApiKeyDetails,
};
use twinkey::{SecretState, Timestamp};
use twinkey_client::CallOptions;

use super::oci::ControlArgs;
use crate::output::{Failure, Output};

/// Arguments of `twinkey keys`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// List the API keys of a compartment (default: the profile's tenancy).
    List(ListArgs),
    /// Show one API key (secrets by mask only); with --usage-url, also what a running relay
    /// has used with it and its budget.
    #[command(visible_alias = "show")]
    Get(GetArgs),
    /// Create an API key with two secrets (their values are shown once).
    Create(CreateArgs),
    /// Change an API key's name, description or tags.
    Update(UpdateArgs),
    /// Delete an API key (both secrets stop working).
    Delete(IdArgs),
    /// Activate, deactivate or revoke (irreversible) one secret.
    SetState(SetStateArgs),
    /// Give one secret a new value (shown once), ACTIVE, with a new expiry.
    Renew(RenewArgs),
    /// Move an API key to another compartment.
    ChangeCompartment(MoveArgs),
    /// Print the least-privilege IAM policy statements that let a key call the models.
    Policy(policy::Args),
    /// Check a key for cron and CI: exit 3 a secret expires within --within, 4 no usable
    /// standby, 5 a revoked secret still in use, 6 no usable secret; 0 when all is well.
    Check(check::Args),
}

#[derive(clap::Args, Debug)]
struct IdArgs {
    /// The API key's OCID.
    key_id: String,
    /// Only if the key's etag is still this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

#[derive(clap::Args, Debug)]
struct GetArgs {
    #[command(flatten)]
    id: IdArgs,
    /// The admin URL of a `twinkey relay` serving this key (its `admin_url`): adds the usage
    /// per secret and the budget's windows.
    #[arg(long, value_name = "URL")]
    usage_url: Option<String>,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    /// The compartment (default: the profile's tenancy, the root compartment).
    #[arg(long, short = 'c', value_name = "OCID")]
    compartment_id: Option<String>,
    /// Only keys in this lifecycle state (ACTIVE, DELETED, ...).
    #[arg(long, value_name = "STATE")]
    lifecycle_state: Option<String>,
    /// Only keys with exactly this display name.
    #[arg(long, value_name = "NAME")]
    display_name: Option<String>,
    /// Keys per page.
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// The page to read (`opc-next-page` of the previous one); default: every page.
    #[arg(long, value_name = "TOKEN")]
    page: Option<String>,
    /// Sort by `timeCreated` (default, newest first) or `displayName`.
    #[arg(long, value_name = "FIELD")]
    sort_by: Option<String>,
    /// `ASC` or `DESC`.
    #[arg(long, value_name = "ORDER")]
    sort_order: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

/// `--expiry` or `--days`: one value for every secret, or `NAME=VALUE,...` per secret (so the
/// two secrets of a new key can expire apart).
#[derive(clap::Args, Debug)]
struct ExpiryArgs {
    /// Expiry, RFC 3339: `TIME`, or per secret `key-one=TIME,key-two=TIME`.
    #[arg(long, value_name = "TIME", conflicts_with = "days")]
    expiry: Option<String>,
    /// Expiry in this many days (the service's default: 90): `N`, or per secret
    /// `key-one=N,key-two=M`.
    #[arg(long, value_name = "N")]
    days: Option<String>,
}

impl ExpiryArgs {
    /// One expiry for every secret, and the per-secret ones (`NAME=VALUE,...`).
    fn resolve(&self) -> Result<twinkey::control::Expiries, Failure> {
        let (flag, text) = match (&self.expiry, &self.days) {
            (Some(t), _) => ("--expiry", t),
            (None, Some(d)) => ("--days", d),
            (None, None) => return Ok((None, Vec::new())),
        };
        let one = |value: &str| -> Result<Timestamp, Failure> {
            let bad = |what: &str| {
                Failure::new(
                    "INVALID_ARGUMENT",
                    format!("{flag} {value:?} is not {what}"),
                )
            };
            if flag == "--expiry" {
                return Timestamp::parse_rfc3339(value).map_err(|_| bad("RFC 3339"));
            }
            let days: u32 = value.parse().map_err(|_| bad("a number of days"))?;
            Ok(twinkey::Clock::now(&twinkey::SystemClock)
                .plus(std::time::Duration::from_secs(u64::from(days) * 24 * 3600)))
        };
        if !text.contains('=') {
            return Ok((Some(one(text.trim())?), Vec::new()));
        }
        let mut per_secret = Vec::new();
        for part in text.split(',') {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                Failure::new(
                    "INVALID_ARGUMENT",
                    format!("{flag}: {part:?} is not NAME=VALUE"),
                )
            })?;
            per_secret.push((name.trim().to_string(), one(value.trim())?));
        }
        Ok((None, per_secret))
    }

    /// The expiries of `names`, in that order.
    fn for_secrets(&self, names: [&str; 2]) -> Result<Vec<KeyDetails>, Failure> {
        let (default, per_secret) = self.resolve()?;
        Ok(twinkey::control::key_details_for(
            names,
            default,
            &per_secret,
        )?)
    }
}

#[derive(clap::Args, Debug)]
struct CreateArgs {
    /// The key's display name.
    #[arg(long, value_name = "NAME")]
    display_name: String,
    /// The compartment (default: the profile's tenancy).
    #[arg(long, short = 'c', value_name = "OCID")]
    compartment_id: Option<String>,
    /// The two secret names.
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        default_value = "key-one,key-two"
    )]
    key_names: Vec<String>,
    /// A description.
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// Write the new key with both values to FILE (mode 0600) instead of printing them.
    #[arg(long, value_name = "FILE")]
    secret_out: Option<PathBuf>,
    #[command(flatten)]
    control: ControlArgs,
}

#[derive(clap::Args, Debug)]
struct UpdateArgs {
    /// The API key's OCID.
    key_id: String,
    /// A new display name.
    #[arg(long, value_name = "NAME")]
    display_name: Option<String>,
    /// A new description.
    #[arg(long)]
    description: Option<String>,
    /// Only if the key's etag is still this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

#[derive(clap::Args, Debug)]
struct SetStateArgs {
    /// The API key's OCID.
    key_id: String,
    /// The secret (key-one, key-two, ...).
    #[arg(long, value_name = "NAME")]
    secret: String,
    /// ACTIVE, INACTIVE or REVOKED (irreversible).
    #[arg(long, value_name = "STATE")]
    state: String,
    /// Only if the key's etag is still this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

#[derive(clap::Args, Debug)]
struct RenewArgs {
    /// The API key's OCID.
    key_id: String,
    /// The secret to renew.
    #[arg(long, value_name = "NAME")]
    secret: String,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// Write the new value to FILE (mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    secret_out: Option<PathBuf>,
    /// Only if the key's etag is still this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

#[derive(clap::Args, Debug)]
struct MoveArgs {
    /// The API key's OCID.
    key_id: String,
    /// The target compartment.
    #[arg(long, short = 'c', value_name = "OCID")]
    compartment_id: String,
    /// Only if the key's etag is still this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

fn opts(if_match: &Option<String>) -> CallOptions {
    CallOptions {
        if_match: if_match.clone(),
        ..CallOptions::default()
    }
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    match args.command {
        Command::Policy(a) => policy::run(&a, out),
        Command::Check(a) => check::run(a, out).await,
        Command::List(a) => list(a, out).await,
        Command::Get(GetArgs { id: a, usage_url }) => {
            let r = a
                .control
                .client()?
                .get_api_key(&a.key_id, &opts(&a.if_match))
                .await?;
            let usage = match usage_url {
                Some(url) => Some(key_usage(&url, &a.key_id).await?),
                None => None,
            };
            show::key_with_usage(&out, &r, usage.as_ref());
            Ok(ExitCode::SUCCESS)
        }
        Command::Create(a) => create(a, out).await,
        Command::Update(a) => {
            let details = UpdateApiKeyDetails {
                display_name: a.display_name.clone(),
                description: a.description.clone(),
                ..UpdateApiKeyDetails::default()
            };
            let r = a
                .control
                .client()?
                .update_api_key(&a.key_id, &details, &opts(&a.if_match))
                .await?;
            show::key(&out, &r, Some("updated"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete(a) => {
            let r = a
                .control
                .client()?
                .delete_api_key(&a.key_id, &opts(&a.if_match))
                .await?;
            show::done(&out, "deleted", &a.key_id, &r.opc_request_id);
            Ok(ExitCode::SUCCESS)
        }
        Command::SetState(a) => {
            let state = SecretState::parse(&a.state.to_ascii_uppercase());
            let r = a
                .control
                .client()?
                .set_api_key_state(&a.key_id, &a.secret, &state, &opts(&a.if_match))
                .await?;
            show::key(&out, &r, Some(&format!("{} is now {}", a.secret, state)));
            Ok(ExitCode::SUCCESS)
        }
        Command::Renew(a) => renew(a, out).await,
        Command::ChangeCompartment(a) => {
            let r = a
                .control
                .client()?
                .change_api_key_compartment(&a.key_id, &a.compartment_id, &opts(&a.if_match))
                .await?;
            show::done(&out, "moved", &a.key_id, &r.opc_request_id);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn list(a: ListArgs, out: Output) -> Result<ExitCode, Failure> {
    let compartment = match a.compartment_id.clone() {
        Some(c) => c,
        None => a.control.tenancy()?,
    };
    let mut params = ListApiKeys::in_compartment(compartment);
    params.lifecycle_state = a.lifecycle_state.clone();
    params.display_name = a.display_name.clone();
    params.limit = a.limit;
    params.page = a.page.clone();
    params.sort_by = a
        .sort_by
        .as_deref()
        .map(|s| {
            SortBy::parse(s).ok_or_else(|| {
                Failure::new(
                    "INVALID_ARGUMENT",
                    "--sort-by is timeCreated or displayName",
                )
            })
        })
        .transpose()?;
    params.sort_order = a
        .sort_order
        .as_deref()
        .map(|s| {
            SortOrder::parse(&s.to_ascii_uppercase())
                .ok_or_else(|| Failure::new("INVALID_ARGUMENT", "--sort-order is ASC or DESC"))
        })
        .transpose()?;
    let client = a.control.client()?;
    let (keys, next) = if a.page.is_some() {
        let page = client
            .list_api_keys(&params, &CallOptions::default())
            .await?;
        (page.items, page.next_page)
    } else {
        (client.list_all(&params).await?, None)
    };
    show::list(&out, &keys, next.as_deref());
    Ok(ExitCode::SUCCESS)
}

async fn create(a: CreateArgs, out: Output) -> Result<ExitCode, Failure> {
    let [one, two] = a.key_names.as_slice() else {
        return Err(Failure::new(
            "INVALID_ARGUMENT",
            "--key-names takes exactly two names",
        ));
    };
    if let Some(p) = &a.secret_out {
        write::check_free(p)?;
    }
    let compartment = match a.compartment_id.clone() {
        Some(c) => c,
        None => a.control.tenancy()?,
    };
    let details = CreateApiKeyDetails {
        display_name: a.display_name.clone(),
        compartment_id: compartment,
        key_details: a.expiry.for_secrets([one, two])?,
        description: a.description.clone(),
        ..CreateApiKeyDetails::default()
    };
    let r = a
        .control
        .client()?
        .create_api_key(&details, &CallOptions::default())
        .await?;
    write::reveal(
        &out,
        &r,
        &[one, two],
        a.secret_out.as_deref(),
        write::Form::KeyDocument,
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn renew(a: RenewArgs, out: Output) -> Result<ExitCode, Failure> {
    if let Some(p) = &a.secret_out {
        write::check_free(p)?;
    }
    let (default, per_secret) = a.expiry.resolve()?;
    let expiry = match per_secret.as_slice() {
        [] => default,
        [(name, t)] if *name == a.secret => Some(*t),
        _ => {
            return Err(Failure::new(
                "INVALID_ARGUMENT",
                format!("renew takes one expiry, for {}", a.secret),
            ));
        }
    };
    let r = a
        .control
        .client()?
        .renew_api_key(&a.key_id, &a.secret, expiry, &opts(&a.if_match))
        .await?;
    write::reveal(
        &out,
        &r,
        &[&a.secret],
        a.secret_out.as_deref(),
        write::Form::Value,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The usage document at `url`, which must be about `key_id`.
async fn key_usage(url: &str, key_id: &str) -> Result<serde_json::Value, Failure> {
    let doc = super::usage::fetch(url).await?;
    match doc.get("keyId").and_then(serde_json::Value::as_str) {
        Some(id) if id == key_id => Ok(doc),
        other => Err(Failure::new(
            "INVALID_OPTIONS",
            format!(
                "--usage-url {url} serves key {}, not {key_id}",
                other.unwrap_or("(without an id)")
            ),
        )),
    }
}
