//! The HTTP server: routes, the layers that keep every answer OCI-shaped, and a handle with
//! the bound address and a graceful shutdown.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use twinkey_serve::Served;

use crate::oci_error::OciError;
use crate::{Emulator, admin, admin_guard, control, inference};

/// The OpenAI-compatible base documented for API keys (preferred).
pub const OPENAI_BASE: &str = "/openai/v1";
/// The older OpenAI-compatible base (`/20231130/actions/v1`).
pub const ACTIONS_BASE: &str = "/20231130/actions/v1";
/// Where the admin surface lives.
pub const ADMIN_BASE: &str = "/_emulator";

static OPC_REQUEST_ID: HeaderName = HeaderName::from_static("opc-request-id");

/// The whole application: both inference bases, the admin surface, and the layers.
pub(crate) fn router(emu: Emulator) -> Router {
    let limit = emu.max_body_bytes();
    Router::new()
        .nest(OPENAI_BASE, inference::router())
        .nest(ACTIONS_BASE, inference::router())
        .merge(control::router())
        .nest(
            ADMIN_BASE,
            admin::router()
                .merge(control::admin_router())
                .layer(middleware::from_fn(admin_guard::guard)),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                // The payload is not logged: it could quote request data.
                tracing::error!("a handler panicked; answered 500");
                OciError::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
            },
        ))
        .layer(middleware::from_fn(oci_shape))
        .with_state(emu)
}

async fn not_found() -> Response {
    OciError::not_found().into_response()
}

/// A caller's `opc-request-id` is echoed when it is made of `[A-Za-z0-9_-]` (at most 98
/// characters); otherwise a new one is made.
fn request_id(req: &Request) -> HeaderValue {
    req.headers()
        .get(&OPC_REQUEST_ID)
        .filter(|v| {
            let b = v.as_bytes();
            !b.is_empty()
                && b.len() <= 98
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&crate::ids::request_id())
                .unwrap_or(HeaderValue::from_static("-"))
        })
}

/// Every response gets an `opc-request-id`; every error response an OCI body (errors made
/// by the framework itself, like 405, are rewritten with OCI's code for their status).
async fn oci_shape(req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let mut resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let mut shaped = OciError::for_status(status).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = resp.headers().get(&name) {
                shaped.headers_mut().insert(name, v.clone());
            }
        }
        resp = shaped;
    }
    resp.headers_mut().insert(OPC_REQUEST_ID.clone(), id);
    resp
}

/// A running emulator server (within its [`Limits`](crate::Limits)). Dropping it stops the
/// server (without waiting).
#[derive(Debug)]
pub struct Server {
    emulator: Emulator,
    served: Option<Served>,
    addr: SocketAddr,
}

impl Server {
    /// Starts serving `emulator` on a bound listener (call within a Tokio runtime).
    pub fn start(emulator: Emulator, listener: TcpListener) -> io::Result<Server> {
        let app = router(emulator.clone());
        let served = twinkey_serve::serve(listener, app, *emulator.limits())?;
        Ok(Server {
            addr: served.addr(),
            emulator,
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

    /// The OpenAI-compatible base URL, `http://<addr>/openai/v1`.
    pub fn base_url(&self) -> String {
        format!("{}{OPENAI_BASE}", self.url())
    }

    /// The older base URL, `http://<addr>/20231130/actions/v1`.
    pub fn actions_base_url(&self) -> String {
        format!("{}{ACTIONS_BASE}", self.url())
    }

    /// The admin surface, `http://<addr>/_emulator`.
    pub fn admin_url(&self) -> String {
        format!("{}{ADMIN_BASE}", self.url())
    }

    /// The emulator being served.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.served.as_ref().map_or(0, Served::open_connections)
    }

    /// Stops accepting connections, releases held requests, lets open requests finish (for
    /// at most the drain timeout) and returns.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.emulator.faults().close();
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

impl Drop for Server {
    fn drop(&mut self) {
        if self.served.is_some() {
            self.emulator.faults().close();
        }
    }
}
