//! `twinkey rotate KEY_OCID`: the documented zero-downtime rotation (SPEC section 5) against
//! the control plane — make the standby usable, verify it with a real inference request,
//! switch, retire the old secret — checkpointed in a state file after every step, so a rerun
//! of the same command resumes an interrupted rotation.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use twinkey::ApiKey;
use twinkey::rotation::{Retire, RotationOptions, Step};
use twinkey_client::rotation::{
    Progress, RotationConfig, RotationPlan, RotationReport, RotationRunner,
};

use super::oci::ControlArgs;
use crate::output::{Failure, Output};

/// Arguments of `twinkey rotate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The API key's OCID.
    key_id: String,
    /// The secret to rotate to (default: the one not in use).
    #[arg(long, value_name = "NAME")]
    standby: Option<String>,
    /// Revoke the old secret (permanent) instead of deactivating it.
    #[arg(long)]
    revoke: bool,
    /// Afterwards, renew the old secret (a fresh value) and park it INACTIVE as the next
    /// standby.
    #[arg(long)]
    renew_old: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only rotate when the secret in use expires within this window (`14d`, `2w`, `36h`), or
    /// a rotation is in progress; otherwise do nothing and exit 0 (for cron).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    if_expiring_within: Option<Duration>,
    /// The checkpoint file (default: .twinkey-rotate-<key suffix>.json here). Removed when the
    /// rotation is done; rerun the same command to resume.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// The key file with the secret values (e.g. the application's key.json), used to probe
    /// the standby.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Where renewed values go: a key document with the values (mode 0600). Needed when a step
    /// renews (a revoked or expiring standby, --renew-old).
    #[arg(long, value_name = "FILE")]
    secret_out: Option<PathBuf>,
    /// The OpenAI-compatible inference base URL for the probe (default: the region's, or
    /// `<endpoint>/openai/v1` for an emulator).
    #[arg(long, value_name = "URL")]
    inference_url: Option<String>,
    /// The model the probe asks (one token).
    #[arg(long, value_name = "MODEL", default_value = "openai.gpt-oss-120b")]
    probe_model: String,
    /// Give up the probe after this many seconds (the change may take time to propagate).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    probe_timeout: u64,
    /// Do not verify the standby with a real request (not recommended).
    #[arg(long)]
    no_probe: bool,
    /// How long the old secret stays in service after the switch, so applications with a key
    /// watch move first (the switch is recorded in the key's freeform tags and in the
    /// secret-out file). Default: one control-plane watch interval (34s); `0s` when nothing
    /// watches.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    watch_grace: Option<Duration>,
    /// The key's fleet (`redis://` or `rediss://`): at the switch, tell every process of it
    /// that the old secret is retiring, so none prefers it (needs --key-file for its value).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    #[command(flatten)]
    control: ControlArgs,
}

fn total_steps(renew_old: bool) -> usize {
    if renew_old { 6 } else { 4 }
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    let client = args.control.client()?;
    let values = args.key_file.as_ref().map(ApiKey::load).transpose()?;
    let inference_url = match (&args.inference_url, args.no_probe) {
        (Some(u), _) => Some(u.clone()),
        (None, true) => None,
        (None, false) => Some(args.control.inference_url(client.signer().region())?),
    };
    let mut config = RotationConfig::new(
        &args.key_id,
        args.state_file
            .clone()
            .unwrap_or_else(|| twinkey::rotation::default_state_file(&args.key_id)),
    );
    config.options = RotationOptions {
        standby: args.standby.clone(),
        retire: if args.revoke {
            Retire::Revoke
        } else {
            Retire::Deactivate
        },
        renew_old: args.renew_old,
        probe: !args.no_probe,
        ..RotationOptions::default()
    };
    config.inference_url = inference_url;
    config.values = values;
    config.secret_out = args.secret_out.clone();
    config.probe_model = args.probe_model.clone();
    config.probe_policy.timeout = Duration::from_secs(args.probe_timeout);
    if let Some(grace) = args.watch_grace {
        config.watch_grace = grace;
    }
    let state_file = config.state_file.clone();
    let mut runner = RotationRunner::new(client, config)?;
    if let Some(url) = &args.redis {
        runner = runner.with_fleet(twinkey_client::fleet::FleetOptions {
            url: url.clone(),
            ..Default::default()
        });
    }

    if let Some(window) = args.if_expiring_within {
        match runner.due_within(window).await? {
            Some(reason) => out.human(format!("rotation due: {reason}")),
            None => {
                out.json_line(&json!({"event": "not_due", "keyId": args.key_id, "within": humantime::format_duration(window).to_string()}));
                out.human(format!(
                    "nothing to do: no secret in use of {} expires within {}",
                    args.key_id,
                    humantime::format_duration(window)
                ));
                return Ok(ExitCode::SUCCESS);
            }
        }
    }

    if args.dry_run {
        let plan = runner.plan().await?;
        print_plan(&out, &plan, args.renew_old);
        return Ok(if plan.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }

    let total = total_steps(args.renew_old);
    let json = out.json;
    let runner = runner.on_progress(move |p| report_progress(json, total, p));
    match runner.run().await {
        Ok(report) => {
            print_report(&out, &report);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if state_file.exists() && !out.json {
                eprintln!(
                    "the rotation stopped; its progress is in {} — rerun the same command to resume",
                    state_file.display()
                );
            }
            Err(e.into())
        }
    }
}

fn report_progress(json: bool, total: usize, p: &Progress) {
    if json {
        let line = match p {
            Progress::Started {
                key_id,
                old,
                standby,
                resumed,
            } => {
                json!({"event": "started", "keyId": key_id, "old": old, "standby": standby, "resumed": resumed})
            }
            Progress::Skipped { step, note } => {
                json!({"event": "skipped", "step": step.as_str(), "note": note})
            }
            Progress::Acting { step, action } => {
                json!({"event": "acting", "step": step.as_str(), "action": action})
            }
            Progress::Waiting {
                step,
                attempt,
                status,
            } => {
                json!({"event": "waiting", "step": step.as_str(), "attempt": attempt, "status": status})
            }
            Progress::SecretWritten {
                secret,
                fingerprint,
                path,
            } => {
                json!({"event": "secret_written", "secret": secret, "fingerprint": fingerprint, "path": path.display().to_string()})
            }
            Progress::Finished {
                step,
                action,
                fingerprint,
                note,
            } => {
                json!({"event": "finished", "step": step.as_str(), "action": action, "fingerprint": fingerprint, "note": note})
            }
            Progress::Done => return,
        };
        println!("{line}");
        return;
    }
    let n = |s: &Step| format!("[{}/{total}]", s.number());
    match p {
        Progress::Started {
            key_id,
            old,
            standby,
            resumed,
        } => {
            let how = if *resumed {
                "resuming the rotation of"
            } else {
                "rotating"
            };
            println!("{how} {key_id}: {old} -> {standby}");
        }
        Progress::Skipped { step, note } => {
            println!("{} {}: skipped ({note})", n(step), step.title())
        }
        Progress::Acting { step, action } => println!("{} {}: {action}", n(step), step.title()),
        Progress::Waiting {
            attempt, status, ..
        } => {
            if attempt.is_power_of_two() {
                let last = status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
                println!(
                    "      not accepted yet ({last}); waiting for the change to propagate (attempt {attempt})"
                );
            }
        }
        Progress::SecretWritten {
            secret,
            fingerprint,
            path,
        } => {
            println!(
                "      new value of {secret} (fp {fingerprint}) written to {} (mode 0600)",
                path.display()
            );
        }
        Progress::Finished {
            fingerprint, note, ..
        } => {
            let mut parts = Vec::new();
            if let Some(n) = note {
                parts.push(n.clone());
            }
            if let Some(f) = fingerprint {
                parts.push(format!("fp {f}"));
            }
            println!(
                "      done{}",
                if parts.is_empty() {
                    String::new()
                } else {
                    format!(": {}", parts.join(", "))
                }
            );
        }
        Progress::Done => {}
    }
}

fn print_report(out: &Output, r: &RotationReport) {
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| json!({"step": s.step.as_str(), "action": s.action, "secret": s.secret, "fingerprint": s.fingerprint, "note": s.note, "at": s.at}))
        .collect();
    out.json_line(&json!({
        "event": "done",
        "keyId": r.key_id,
        "old": r.old,
        "standby": r.standby,
        "resumed": r.resumed,
        "steps": steps,
        "renewed": r.renewed.iter().map(|(n, f)| json!({"secret": n, "fingerprint": f})).collect::<Vec<_>>(),
        "secretOut": r.secret_out.as_ref().map(|p| p.display().to_string()),
    }));
    if out.json {
        return;
    }
    let retired = r
        .steps
        .iter()
        .find(|s| s.step == Step::RetireOld)
        .map_or("retired", |s| {
            if s.action == "skip" {
                "already retired"
            } else {
                s.action.as_str()
            }
        });
    println!(
        "rotation done: {} is in use; {} {}",
        r.standby,
        r.old,
        match retired {
            "deactivate" => "is deactivated",
            "revoke" => "is revoked",
            other => other,
        }
    );
    if let Some(p) = &r.secret_out {
        println!(
            "updated key file with the renewed value(s): {} (mode 0600)",
            p.display()
        );
    }
}

fn print_plan(out: &Output, plan: &RotationPlan, renew_old: bool) {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| {
            json!({
                "step": s.step.as_str(),
                "action": s.action.as_ref().map(|a| a.name()),
                "secret": s.action.as_ref().map(|a| a.secret().to_string()),
                "description": s.action.as_ref().map(ToString::to_string),
                "note": s.note,
            })
        })
        .collect();
    out.json_line(&json!({
        "dryRun": true,
        "keyId": plan.key_id,
        "old": plan.old,
        "standby": plan.standby,
        "resumed": plan.resumed,
        "steps": steps,
        "problems": plan.problems,
    }));
    if out.json {
        return;
    }
    let total = total_steps(renew_old);
    println!(
        "plan ({}) for {}: {} -> {}",
        if plan.resumed { "resuming" } else { "dry run" },
        plan.key_id,
        plan.old,
        plan.standby
    );
    for s in &plan.steps {
        let what = match (&s.action, &s.note) {
            (Some(a), _) => a.to_string(),
            (None, Some(n)) => format!("skip ({n})"),
            (None, None) => "skip".into(),
        };
        println!("  [{}/{total}] {}: {what}", s.step.number(), s.step.title());
    }
    for p in &plan.problems {
        println!("  problem: {p}");
    }
    if plan.problems.is_empty() {
        println!("nothing changed (dry run)");
    } else {
        println!("nothing changed (dry run); the rotation would be refused");
    }
}
