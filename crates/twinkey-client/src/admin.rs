//! The admin listener of a process that runs an engine (feature `relay`; `twinkey relay`
//! serves it): `/metrics` (OpenMetrics text), `/status` (the HTML status page), `/usage.json`
//! (what `twinkey usage` reads) and `/health`. Read-only, GET only; it binds loopback unless
//! told otherwise, and runs within [`Limits`] like every twinkey listener (header, body and
//! idle timeouts, a connection cap). The page allows no script and no external resource.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use twinkey::Engine;
use twinkey::usage::wire::usage_report_json;
use twinkey_serve::{Limits, Served};

/// The content type of `/metrics`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The status page's policy: inline styles only; no script, image, font or connection.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Admin {
    engine: Engine,
    title: String,
}

/// The admin routes over an engine (`title` heads the status page).
pub fn router(engine: Engine, title: &str) -> Router {
    let state = Arc::new(Admin {
        engine,
        title: title.to_owned(),
    });
    Router::new()
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/usage.json", get(usage))
        .route("/health", get(|| async { "ok\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(state)
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn metrics(State(a): State<Arc<Admin>>) -> Response {
    with_type(a.engine.metrics_text(), OPENMETRICS_CONTENT_TYPE)
}

async fn status(State(a): State<Arc<Admin>>) -> Response {
    let mut r = with_type(a.engine.status_page(&a.title), "text/html; charset=utf-8");
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

async fn usage(State(a): State<Arc<Admin>>) -> Response {
    with_type(
        usage_report_json(&a.engine.usage()).to_string(),
        "application/json",
    )
}

/// A running admin listener. Dropping it stops accepting (without draining).
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    served: Option<Served>,
}

impl AdminServer {
    /// Binds `addr` and serves the admin routes of `engine` within `limits` (call within a
    /// Tokio runtime).
    pub async fn bind(
        engine: Engine,
        title: &str,
        addr: SocketAddr,
        limits: Limits,
    ) -> io::Result<AdminServer> {
        let listener = TcpListener::bind(addr).await?;
        let served = twinkey_serve::serve(listener, router(engine, title), limits)?;
        Ok(AdminServer {
            addr: served.addr(),
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

    /// Stops accepting and drains (within the drain timeout).
    pub async fn shutdown(mut self) {
        if let Some(served) = self.served.take() {
            served.shutdown().await;
        }
    }
}
