//! Step 2's I/O: a real inference request with the standby's value, repeated by the core's
//! [`ProbePolicy`] while the change propagates.

use std::time::Instant;

use reqwest::Client;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use twinkey::rotation::{ProbeDecision, ProbeOutcome, ProbePolicy, ProbeVerdict};
use twinkey::{Error, Result, SecretValue};

/// The result of a passed probe.
#[derive(Clone, Debug)]
pub struct Probed {
    /// Attempts made.
    pub attempts: u32,
    /// The status that passed.
    pub status: u16,
}

/// Probes `base_url` (`.../openai/v1`) with one chat completion (`max_tokens` 1) until it
/// passes, or fails by the policy. `on_wait(attempt, status)` reports each failed attempt.
pub async fn probe(
    http: &Client,
    base_url: &str,
    model: &str,
    secret_name: &str,
    value: &SecretValue,
    policy: &ProbePolicy,
    mut on_wait: impl FnMut(u32, Option<u16>),
) -> Result<Probed> {
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "twinkey rotation probe"}],
        "max_tokens": 1,
    });
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", value.expose())).map_err(|_| {
        Error::InvalidSecret {
            secret: secret_name.to_string(),
            reason: "the value cannot be sent in an HTTP header".into(),
        }
    })?;
    auth.set_sensitive(true);
    let started = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let sent = http
            .post(&url)
            .header(AUTHORIZATION, auth.clone())
            .json(&body)
            .send()
            .await;
        let (outcome, status) = match sent {
            Ok(resp) => {
                let s = resp.status().as_u16();
                // Drain a little so the connection can be reused; the body is not needed.
                let _ = resp.bytes().await;
                (ProbeOutcome::Status(s), Some(s))
            }
            Err(_) => (ProbeOutcome::Transport, None),
        };
        match policy.decide(attempts, started.elapsed(), outcome) {
            ProbeDecision::Passed => {
                return Ok(Probed {
                    attempts,
                    status: status.unwrap_or(200),
                });
            }
            ProbeDecision::Retry { after } => {
                on_wait(attempts, status);
                tokio::time::sleep(after).await;
            }
            ProbeDecision::Failed { verdict } => {
                let last = status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
                let why = match verdict {
                    ProbeVerdict::Invalid => format!(
                        "the probe request itself was refused ({last}); check the probe model {model:?} and the inference URL"
                    ),
                    _ => format!(
                        "{secret_name} (fp {}) was not accepted after {attempts} attempts in {} s (last: {last})",
                        value.fingerprint(),
                        started.elapsed().as_secs()
                    ),
                };
                return Err(Error::RotationRefused {
                    reason: format!("the standby failed its probe: {why}; nothing was retired"),
                });
            }
        }
    }
}
