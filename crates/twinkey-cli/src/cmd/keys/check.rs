//! `twinkey keys check KEY_OCID`: a key's health for cron and CI, decided by
//! `twinkey::check` — exit 0 when all is well, 3 expiring within the window, 4 no usable
//! standby, 5 a revoked secret still in use, 6 no usable secret (the most severe wins).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use twinkey::ApiKey;
use twinkey::check::{CheckOptions, check_key};
use twinkey_client::CallOptions;

use super::super::oci::ControlArgs;
use crate::output::{Failure, Output};

/// Arguments of `twinkey keys check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The API key's OCID.
    key_id: String,
    /// Report expiries within this window (`14d`, `36h`, `2w`).
    #[arg(long, value_name = "DURATION", default_value = "14d", value_parser = humantime::parse_duration)]
    within: Duration,
    /// The key file the applications load: a secret it has ACTIVE counts as in use (a revoked
    /// one is then exit 5).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    #[command(flatten)]
    control: ControlArgs,
}

/// Runs the command.
pub async fn run(a: Args, out: Output) -> Result<ExitCode, Failure> {
    let local = a.key_file.as_ref().map(ApiKey::load).transpose()?;
    let r = a
        .control
        .client()?
        .get_api_key(&a.key_id, &CallOptions::default())
        .await?;
    let options = CheckOptions {
        expiring_within: a.within,
    };
    let now = twinkey::Clock::now(&twinkey::SystemClock);
    let check = check_key(&r.data, local.as_ref(), &options, now)?;
    out.json_line(&check.to_json_value());
    if !out.json {
        let label = r.data.display_name.as_deref().unwrap_or(&a.key_id);
        for s in &check.secrets {
            println!(
                "  {:<10} {:<9} expires {}  last used {}{}",
                s.name,
                s.state.as_str(),
                s.time_expiry
                    .map_or_else(|| "never".to_string(), |t| t.to_rfc3339()),
                s.time_last_used
                    .map_or_else(|| "-".to_string(), |t| t.to_rfc3339()),
                if s.in_use { "  (in use)" } else { "" },
            );
        }
        if check.findings.is_empty() {
            println!(
                "{label}: ok (nothing expires within {})",
                humantime::format_duration(a.within)
            );
        }
        for f in &check.findings {
            println!("{label}: {} [{}]", f.message, f.kind.code());
        }
    }
    Ok(ExitCode::from(check.exit_code()))
}
