//! The relay for browser tooling (SPEC section 7; feature `relay`): pages call it with a
//! short-lived **server token**, it checks the token and its scope ([`twinkey::token::Gate`]),
//! swaps in a real secret chosen by the engine, forwards the request to the OCI
//! OpenAI-compatible endpoint through [`InferenceClient`] (so a 401 before the first byte fails
//! over to the other secret), and streams the answer back, SSE included, with CORS for the
//! configured origins. Its own errors are OpenAI-shaped (`{"error": {"message", "type",
//! "code"}}`) with the code also in `x-twinkey-error`. No secret or signing key ever appears in
//! an answer or a log.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use twinkey::token::KeyRing;
//! use twinkey::{ApiKey, Engine, EngineOptions};
//! use twinkey_client::relay::{Relay, RelayOptions};
//!
//! let engine = Engine::new(ApiKey::load("key.json")?, EngineOptions::default())?;
//! let keys = KeyRing::from_json(&std::fs::read_to_string("token-keys.json")?)?;
//! let options = RelayOptions::new("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1")
//!     .cors_origins(["https://app.example"]);
//! let server = Relay::new(engine, keys, options)?.bind("127.0.0.1:8787".parse()?).await?;
//! println!("OpenAI base URL for pages: {}", server.base_url());
//! # Ok(()) }
//! ```

mod filtered;
mod handler;
mod reply;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use twinkey::token::{CorsPolicy, DEFAULT_AUDIENCE, DEFAULT_LEEWAY, Gate, KeyRing, VerifyOptions};
use twinkey::{Clock, Engine, Result, SystemClock};

pub use twinkey_serve::Limits;
use twinkey_serve::Served;

use crate::InferenceClient;

/// Where the relay answers its health check (no token needed).
pub const HEALTH_PATH: &str = "/_twinkey/health";

/// How a relay is set up.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// The upstream OpenAI-compatible base URL (`.../openai/v1`).
    pub upstream: String,
    /// The audience tokens must name (default `twinkey-relay`).
    pub audience: String,
    /// The issuer tokens must name, if any.
    pub issuer: Option<String>,
    /// Allowed clock skew for token times (default 30 s, at most 5 min).
    pub leeway: Duration,
    /// Browser origins allowed to call the relay (`scheme://host[:port]`, or `*`).
    pub cors_origins: Vec<String>,
    /// The clock tokens are checked against.
    pub clock: Arc<dyn Clock>,
    /// The listener's timeouts, connection cap and drain ([`Limits::default`]).
    pub limits: Limits,
    /// Relayed requests (streams) one token subject may have in flight at once (default 16).
    pub max_streams_per_subject: usize,
}

/// Default of [`RelayOptions::max_streams_per_subject`] (the core's).
pub use twinkey::token::DEFAULT_MAX_STREAMS_PER_SUBJECT;

impl RelayOptions {
    /// Options for an upstream base URL, with the defaults.
    pub fn new(upstream: impl Into<String>) -> Self {
        RelayOptions {
            upstream: upstream.into(),
            audience: DEFAULT_AUDIENCE.into(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            cors_origins: Vec::new(),
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            max_streams_per_subject: DEFAULT_MAX_STREAMS_PER_SUBJECT,
        }
    }

    /// Sets the listener's limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how many relayed requests one token subject may have in flight.
    pub fn max_streams_per_subject(mut self, n: usize) -> Self {
        self.max_streams_per_subject = n;
        self
    }

    /// Sets the allowed browser origins.
    pub fn cors_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, origins: I) -> Self {
        self.cors_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the expected audience.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Requires an issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the clock (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// A relay: the gate, the CORS policy and the inference client.
#[derive(Debug)]
pub struct Relay {
    client: InferenceClient,
    gate: Gate,
    cors: CorsPolicy,
    clock: Arc<dyn Clock>,
    limits: Limits,
}

impl Relay {
    /// A relay forwarding with `engine`'s secrets and checking tokens with `keys`.
    pub fn new(engine: Engine, keys: KeyRing, options: RelayOptions) -> Result<Relay> {
        Self::with_client(
            InferenceClient::new(engine, &options.upstream)?,
            keys,
            options,
        )
    }

    /// A relay on an inference client of your own (its base URL is the upstream).
    pub fn with_client(
        client: InferenceClient,
        keys: KeyRing,
        options: RelayOptions,
    ) -> Result<Relay> {
        let mut verify = VerifyOptions::new(options.audience).leeway(options.leeway)?;
        if let Some(iss) = options.issuer {
            verify = verify.issuer(iss);
        }
        Ok(Relay {
            client,
            gate: Gate::new(keys, verify).with_stream_limit(options.max_streams_per_subject),
            cors: CorsPolicy::new(options.cors_origins)?,
            clock: options.clock,
            limits: options.limits,
        })
    }

    /// The token gate (budgets; [`Gate::replace_keys`] rotates signing keys live).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The engine choosing the secrets.
    pub fn engine(&self) -> &Engine {
        self.client.engine()
    }

    /// The relay as an axum router (every path; a panic answers 500 in OpenAI's shape).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .fallback(handler::handle)
            .layer(CatchPanicLayer::custom(
                |_panic: Box<dyn std::any::Any + Send>| {
                    tracing::error!("a relay handler panicked; answered 500");
                    reply::internal_error()
                },
            ))
            .with_state(self)
    }

    /// Binds `addr` and serves (call within a Tokio runtime).
    pub async fn bind(self, addr: SocketAddr) -> io::Result<RelayServer> {
        let listener = TcpListener::bind(addr).await?;
        RelayServer::start(Arc::new(self), listener)
    }
}

/// A running relay (within its [`Limits`]). Dropping it stops accepting (without draining).
#[derive(Debug)]
pub struct RelayServer {
    addr: SocketAddr,
    relay: Arc<Relay>,
    served: Option<Served>,
}

impl RelayServer {
    /// Serves `relay` on a bound listener within `relay`'s limits.
    pub fn start(relay: Arc<Relay>, listener: TcpListener) -> io::Result<RelayServer> {
        let app = relay.clone().router();
        let served = twinkey_serve::serve(listener, app, relay.limits)?;
        Ok(RelayServer {
            addr: served.addr(),
            relay,
            served: Some(served),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL for OpenAI SDKs: `http://<addr>/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// The relay.
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.served.as_ref().map_or(0, Served::open_connections)
    }

    /// Drains: stops accepting connections, lets requests in flight (streams included) finish
    /// for at most the drain timeout, refuses new requests on open connections, then drops
    /// what is left.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(served) = self.served.take() {
            served.shutdown().await;
        }
        Ok(())
    }

    /// Waits until the server stops (it only does when shut down).
    pub async fn wait(mut self) -> io::Result<()> {
        if let Some(served) = self.served.take() {
            served.wait().await;
        }
        Ok(())
    }
}
