//! [`InferenceClient`]: sends a request through the engine's begin/verdict loop.
//!
//! The loop has no opinion of its own: the engine picks the secret ([`Engine::begin`]), judges
//! every response ([`Engine::complete`]) and says whether to accept it, replay the buffered
//! request once with the other secret, fail, or look at the body first (403). Transport
//! failures end the attempt with [`Engine::abandon`] (nothing is learned about the secret) and
//! surface as `TRANSPORT`. Every request is admitted first ([`Engine::admit`]: the budget may
//! make it wait, sleeping on Tokio's timer, or refuse it with `TPM_BUDGET_EXCEEDED` before
//! anything is sent) and settled once when it ends: a refusal or transport failure refunds
//! its estimate, an accepted response is settled when its body ends (usage read from the
//! body or the stream monitor) or when it is dropped.

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Client, Url};
use serde::Serialize;
use twinkey::engine::{MAX_ERROR_BODY, RELEVANT_HEADERS};
use twinkey::stream::StreamKind;
use twinkey::{Attempt, Engine, Error, ResponseFacts, Result, Start, Ticket, Verdict};

use crate::metered::Metered;

use crate::request::InferenceRequest;
use crate::response::InferenceResponse;
use crate::transport::{describe, drain, read_prefix, transport};

/// A reqwest client suited to inference: rustls with the platform's trust store, no
/// redirects (a bearer secret is never sent anywhere but the configured base URL), a 10 s
/// connect timeout and a 5 min idle-read timeout (a stalled upstream cannot hold a request
/// for ever; long streams that keep sending are not cut).
pub fn default_http_client() -> Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| Error::Transport {
            reason: format!("cannot build the HTTP client: {}", describe(&e)),
        })
}

/// Sends OpenAI-compatible requests to one base URL with the secrets of one engine.
#[derive(Clone, Debug)]
pub struct InferenceClient {
    engine: Engine,
    base: Url,
    http: Client,
}

impl InferenceClient {
    /// A client for `base_url` (e.g. `https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1`)
    /// on [`default_http_client`].
    pub fn new(engine: Engine, base_url: &str) -> Result<Self> {
        Self::with_http_client(engine, base_url, default_http_client()?)
    }

    /// A client with a reqwest client of your own (timeouts, proxies, ...).
    pub fn with_http_client(engine: Engine, base_url: &str, http: Client) -> Result<Self> {
        let invalid = |why: String| Error::InvalidRequest {
            reason: format!("base URL {base_url:?}: {why}"),
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(invalid("must be an http(s) URL with a host".into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // Secrets go only where the engine allows (OCI inference hosts, loopback, allowed_hosts).
        engine.check_destination(base.as_str())?;
        Ok(InferenceClient { engine, base, http })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The base URL (with a trailing `/`).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// `POST <base>/<path>` with a JSON body.
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<InferenceResponse> {
        self.send(InferenceRequest::post_json(path, body)?).await
    }

    /// `GET <base>/<path>`.
    pub async fn get(&self, path: &str) -> Result<InferenceResponse> {
        self.send(InferenceRequest::get(path)).await
    }

    /// Sends a request: one round trip, or two when the engine replays it on the other
    /// secret. Fails fast with `NO_USABLE_SECRET` (nothing sent) when no secret is usable.
    pub async fn send(&self, request: InferenceRequest) -> Result<InferenceResponse> {
        let mut round_trips = 0;
        self.send_counting(request, &mut round_trips).await
    }

    /// [`InferenceClient::send`], also telling how many round trips were made (0 when the
    /// request failed before anything was sent, e.g. `NO_USABLE_SECRET` at hand-out).
    pub async fn send_reporting(
        &self,
        request: InferenceRequest,
    ) -> (Result<InferenceResponse>, u32) {
        let mut round_trips = 0;
        let result = self.send_counting(request, &mut round_trips).await;
        (result, round_trips)
    }

    async fn send_counting(
        &self,
        request: InferenceRequest,
        round_trips: &mut u32,
    ) -> Result<InferenceResponse> {
        let url = self
            .base
            .join(request.path().trim_start_matches('/'))
            .map_err(|e| Error::InvalidRequest {
                reason: format!("path {:?}: {e}", request.path()),
            })?;
        // The bearer secret goes to the configured base URL only: a path that is an absolute
        // URL (or climbs out with `..`) is refused.
        if !url.as_str().starts_with(self.base.as_str()) {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "path {:?} leaves the base URL {}",
                    request.path().chars().take(80).collect::<String>(),
                    self.base
                ),
            });
        }
        let kind = StreamKind::for_path(url.path());
        let ticket = self.admitted(url.as_str(), request.body()).await?;
        let mut attempt = match self.engine.begin_for(url.as_str()) {
            Ok(a) => a,
            Err(e) => {
                let _ = self.engine.settle(&ticket, None, None, None);
                return Err(e);
            }
        };
        loop {
            *round_trips += 1;
            let mut resp = match self.exchange(&request, &url, &attempt).await {
                Ok(resp) => resp,
                Err(e) => {
                    let _ = self.engine.abandon(&attempt);
                    let _ = self.engine.settle(&ticket, Some(&attempt), None, None);
                    return Err(e);
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let facts = ResponseFacts {
                status: status.as_u16(),
                headers: RELEVANT_HEADERS
                    .iter()
                    .filter_map(|name| Some((*name, headers.get(*name)?.to_str().ok()?)))
                    .collect(),
                body: None,
            };
            let mut prefix = Vec::new();
            let mut verdict = self.engine.complete(&attempt, &facts);
            if let Verdict::NeedBody = verdict {
                prefix = match read_prefix(&mut resp, MAX_ERROR_BODY).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = self.engine.abandon(&attempt);
                        let _ = self
                            .engine
                            .settle(&ticket, Some(&attempt), Some(&facts), None);
                        return Err(transport(e));
                    }
                };
                let body = prefix.concat();
                verdict = self
                    .engine
                    .complete(&attempt, &facts.clone().with_body(&body));
            }
            match verdict {
                Verdict::Accept { retry_after } => {
                    let secret = attempt.secret_name().to_string();
                    let fingerprint = attempt.fingerprint().to_string();
                    let relevant = facts
                        .headers
                        .iter()
                        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                        .collect();
                    let metered = Metered::new(
                        self.engine.clone(),
                        ticket,
                        attempt,
                        status.as_u16(),
                        relevant,
                    );
                    return Ok(InferenceResponse {
                        status,
                        headers,
                        round_trips: *round_trips,
                        secret,
                        fingerprint,
                        retry_after,
                        kind,
                        prefix,
                        rest: Some(resp),
                        metered: Some(metered),
                    });
                }
                Verdict::Replay(next) => {
                    tracing::debug!(
                        from = attempt.secret_name(),
                        from_fp = attempt.fingerprint(),
                        to = next.secret_name(),
                        to_fp = next.fingerprint(),
                        "secret rejected; replaying once"
                    );
                    drain(resp, MAX_ERROR_BODY).await;
                    attempt = next;
                }
                Verdict::Fail(e) => {
                    let _ = self
                        .engine
                        .settle(&ticket, Some(&attempt), Some(&facts), None);
                    return Err(e);
                }
                Verdict::NeedBody => {
                    let _ = self.engine.abandon(&attempt);
                    let _ = self
                        .engine
                        .settle(&ticket, Some(&attempt), Some(&facts), None);
                    return Err(Error::InvalidAttempt {
                        reason: "the engine asked for the body twice".into(),
                    });
                }
            }
        }
    }

    /// Admits the request: waits (Tokio's timer) as long as the budget says, within its
    /// maximum wait; `TPM_BUDGET_EXCEEDED` when the budget refuses.
    async fn admitted(&self, url: &str, body: &[u8]) -> Result<Ticket> {
        let mut since = None;
        loop {
            match self.engine.admit(url, body, since)? {
                Start::Go(ticket) => return Ok(ticket),
                Start::Wait { delay, asked, .. } => {
                    since = Some(asked);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One HTTP exchange with the attempt's secret (the response head only).
    async fn exchange(
        &self,
        request: &InferenceRequest,
        url: &Url,
        attempt: &Attempt,
    ) -> Result<reqwest::Response> {
        let mut auth =
            HeaderValue::from_str(&attempt.authorization()).map_err(|_| Error::InvalidSecret {
                secret: attempt.secret_name().to_string(),
                reason: "the value cannot be sent in an HTTP header".into(),
            })?;
        auth.set_sensitive(true);
        self.http
            .request(request.method().clone(), url.clone())
            .headers(request.headers().clone())
            .header(AUTHORIZATION, auth)
            .body(request.body().clone())
            .send()
            .await
            .map_err(transport)
    }
}
