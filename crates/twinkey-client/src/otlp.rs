//! Pushes engines' metrics to an OpenTelemetry collector over OTLP/HTTP (protobuf), on a
//! timer of its own: the export is built from a snapshot ([`twinkey::metrics::otlp`]) and
//! POSTed off the request path, so a collector that is down or slow costs requests nothing.
//! The series are cumulative: an export that fails loses nothing, the next one carries it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, Url, header};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use twinkey::metrics::Exporter;
use twinkey::metrics::otlp::proto::ExportMetricsServiceResponse;
use twinkey::metrics::otlp::proto::Message;
use twinkey::metrics::otlp::{OTLP_CONTENT_TYPE, OtlpResource};
use twinkey::{Error, Result};

use crate::transport::describe;
pub use crate::transport::shown_url;

/// Where and how often to export.
#[derive(Clone)]
pub struct OtlpOptions {
    /// The collector's metrics URL, used as given (as `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`),
    /// e.g. `http://127.0.0.1:4318/v1/metrics`.
    pub endpoint: String,
    /// Time between exports.
    pub interval: Duration,
    /// Limit on one export (connect, send, answer).
    pub timeout: Duration,
    /// `service.name` of the resource.
    pub service_name: String,
    /// Extra request headers (a collector's credentials, say); their values are never logged.
    pub headers: Vec<(String, String)>,
}

impl Default for OtlpOptions {
    fn default() -> Self {
        OtlpOptions {
            endpoint: "http://127.0.0.1:4318/v1/metrics".into(),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            service_name: "twinkey".into(),
            headers: Vec::new(),
        }
    }
}

impl std::fmt::Debug for OtlpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OtlpOptions")
            .field("endpoint", &shown_url(&self.endpoint))
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("service_name", &self.service_name)
            .field("headers", &names)
            .finish()
    }
}

/// The headers of `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_METRICS_HEADERS`:
/// `name=value` pairs separated by commas, values percent-encoded. `INVALID_OPTIONS` for a
/// pair without `=` or an empty name (the message names the pair's position, not its value).
pub fn headers_from_env(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, pair) in text.split(',').enumerate() {
        if pair.trim().is_empty() {
            continue;
        }
        let bad = || Error::InvalidOptions {
            reason: format!("OTLP headers: entry {} is not name=value", i + 1),
        };
        let (name, value) = pair.split_once('=').ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad());
        }
        // Percent-decoding through the URL parser's query decoder; '+' stays a '+'.
        let query = format!("http://x/?v={}", value.trim().replace('+', "%2B"));
        let decoded = Url::parse(&query)
            .ok()
            .and_then(|u| u.query_pairs().next().map(|(_, v)| v.into_owned()))
            .ok_or_else(bad)?;
        out.push((name.to_owned(), decoded));
    }
    Ok(out)
}

/// What the pusher has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtlpStats {
    /// Exports the collector accepted (2xx).
    pub exported: u64,
    /// Exports that failed (no answer in time, transport error, non-2xx).
    pub failed: u64,
    /// Why the latest failure failed, if the latest export failed.
    pub last_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    exported: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

struct Sender {
    http: Client,
    url: Url,
    /// The URL as logs show it ([`shown_url`]).
    shown: String,
    headers: header::HeaderMap,
    exporter: Exporter,
    resource: OtlpResource,
    shared: Arc<Shared>,
}

impl Sender {
    async fn export(&self) {
        let body = self.exporter.otlp(&self.resource);
        let sent = self
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(header::CONTENT_TYPE, OTLP_CONTENT_TYPE)
            .body(body)
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if r.status().is_success() => match r.bytes().await {
                // A 2xx may still report points it dropped (OTLP partial success).
                Ok(body) => match ExportMetricsServiceResponse::decode(body.as_ref()) {
                    Ok(ExportMetricsServiceResponse {
                        partial_success: Some(p),
                    }) if p.rejected_data_points > 0 => Err(format!(
                        "the collector rejected {} data points ({})",
                        p.rejected_data_points,
                        p.error_message.escape_debug()
                    )),
                    _ => Ok(()),
                },
                Err(e) => Err(describe(&e)),
            },
            Ok(r) => Err(format!("the collector answered {}", r.status().as_u16())),
            Err(e) => Err(describe(&e)),
        };
        let mut last = self
            .shared
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(()) => {
                self.shared.exported.fetch_add(1, Ordering::Relaxed);
                if last.take().is_some() {
                    tracing::info!(endpoint = %self.shown, "OTLP export works again");
                }
            }
            Err(why) => {
                self.shared.failed.fetch_add(1, Ordering::Relaxed);
                if last.is_none() {
                    tracing::warn!(endpoint = %self.shown, "OTLP export failed: {why}; retrying every interval");
                }
                *last = Some(why);
            }
        }
    }
}

/// A running exporter; [`OtlpPusher::shutdown`] sends a last export and stops it. Dropping
/// it stops it without one.
pub struct OtlpPusher {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for OtlpPusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpPusher")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl OtlpPusher {
    /// Starts exporting `exporter`'s engines every `options.interval` (the first export one
    /// interval from now). Call within a Tokio runtime. `INVALID_REQUEST` for an endpoint
    /// that is not an http(s) URL, a zero interval or timeout, or a header that cannot be
    /// sent.
    pub fn start(exporter: Exporter, options: OtlpOptions) -> Result<OtlpPusher> {
        let invalid = |reason: String| Error::InvalidRequest { reason };
        let shown = shown_url(&options.endpoint);
        let url = Url::parse(&options.endpoint)
            .map_err(|e| invalid(format!("OTLP endpoint {shown:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(format!(
                "OTLP endpoint {shown:?}: must be an http(s) URL with a host"
            )));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            invalid("the OTLP pusher must be started within a Tokio runtime".into())
        })?;
        if options.interval.is_zero() || options.timeout.is_zero() {
            return Err(invalid(
                "OTLP interval and timeout must be above zero".into(),
            ));
        }
        let mut headers = header::HeaderMap::new();
        for (name, value) in &options.headers {
            let n = header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("OTLP header name {name:?} is not valid")))?;
            let mut v = header::HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("OTLP header {name:?}: the value is not valid")))?;
            v.set_sensitive(true);
            headers.insert(n, v);
        }
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .build()
            .map_err(|e| Error::Transport {
                reason: format!("cannot build the HTTP client: {}", describe(&e)),
            })?;
        let shared = Arc::new(Shared::default());
        let resource = OtlpResource {
            service_name: options.service_name.clone(),
            start: twinkey::Clock::now(&twinkey::SystemClock),
        };
        let sender = Sender {
            http,
            url,
            shown,
            headers,
            exporter,
            resource,
            shared: shared.clone(),
        };
        let (stop, mut stopped) = watch::channel(false);
        let interval = options.interval;
        let task = runtime.spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => sender.export().await,
                    changed = stopped.changed() => {
                        // `true`: shut down with a last export; a dropped pusher: just stop.
                        if changed.is_ok() && *stopped.borrow() {
                            sender.export().await;
                        }
                        return;
                    }
                }
            }
        });
        Ok(OtlpPusher {
            stop,
            task: Some(task),
            shared,
        })
    }

    /// What it has done so far.
    pub fn stats(&self) -> OtlpStats {
        OtlpStats {
            exported: self.shared.exported.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
            last_error: self
                .shared
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Sends a last export (within the timeout) and stops; returns the final stats.
    pub async fn shutdown(mut self) -> OtlpStats {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.stats()
    }
}

impl Drop for OtlpPusher {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("https://user:pa55@collector.example:4318/v1/metrics?api-key=s3cret#x"),
            "https://collector.example:4318/v1/metrics"
        );
        assert_eq!(shown_url("nope"), "(not a URL)");
        let o = OtlpOptions {
            endpoint: "http://u:p@127.0.0.1:4318/v1/metrics?k=v".into(),
            headers: vec![("authorization".into(), "Bearer abc".into())],
            ..OtlpOptions::default()
        };
        let shown = format!("{o:?}");
        assert!(!shown.contains("u:p") && !shown.contains("k=v") && !shown.contains("abc"));
    }

    #[test]
    fn env_headers_are_decoded() {
        assert_eq!(
            headers_from_env("authorization=Bearer%20a+b/c=, x-tenant = t1 ,").unwrap(),
            vec![
                ("authorization".to_string(), "Bearer a+b/c=".to_string()),
                ("x-tenant".to_string(), "t1".to_string())
            ]
        );
        let e = headers_from_env("a=1,secret-without-equals").unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTIONS");
        assert!(!e.to_string().contains("secret-without"));
        assert!(headers_from_env("=v").is_err());
    }
}
