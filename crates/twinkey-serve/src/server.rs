//! The accept loop: a connection cap, one task per connection with its header/idle deadline,
//! the body deadline on every request, and a graceful drain.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tower_http::timeout::DeadlineBody;
use tower_service::Service;

use crate::Limits;
use crate::idle::{Activity, GuardedBody, WatchedIo};

/// The answer to a connection over the cap (then closed).
const OVER_CAP: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\
connection: close\r\nretry-after: 1\r\nx-twinkey-error: TOO_MANY_CONNECTIONS\r\n\r\n";

/// How long a connection over the cap may take to receive [`OVER_CAP`].
const OVER_CAP_WRITE: Duration = Duration::from_secs(1);

/// After an accept error (e.g. out of files), the loop waits this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running listener. Dropping it stops accepting (without draining).
#[derive(Debug)]
pub struct Served {
    addr: SocketAddr,
    connections: Arc<Semaphore>,
    limits: Limits,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Serves `app` on `listener` within `limits` (call within a Tokio runtime).
pub fn serve(listener: TcpListener, app: Router, limits: Limits) -> io::Result<Served> {
    let addr = listener.local_addr()?;
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept_loop(
        listener,
        app,
        limits,
        connections.clone(),
        stopped,
    ));
    Ok(Served {
        addr,
        connections,
        limits,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Served {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The limits it keeps.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.limits
            .max_connections
            .saturating_sub(self.connections.available_permits())
    }

    /// Stops accepting, lets requests in flight finish (new requests on open connections are
    /// refused by closing them once idle) for at most [`Limits::drain_timeout`], then drops the
    /// rest.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the listener stops (after [`Served::shutdown`] from elsewhere, or never).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    connections: Arc<Semaphore>,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; retrying shortly");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tasks.spawn(refuse(stream));
            continue;
        };
        let (conn, activity) = connection(stream, app.clone(), limits);
        let watched = graceful.watch(conn);
        tasks.spawn(async move {
            run_connection(watched, activity, limits).await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!("drain timeout passed; dropping the connections still open");
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

async fn refuse(mut stream: TcpStream) {
    tracing::warn!("connection cap reached; answered 503");
    let _ = tokio::time::timeout(OVER_CAP_WRITE, async {
        stream.write_all(OVER_CAP).await?;
        stream.shutdown().await
    })
    .await;
}

/// One connection: hyper's HTTP/1 with the head-size bound and every request's body under
/// the body deadline; its [`Activity`] tells the header/idle deadline.
fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
) -> (
    http1::Connection<TokioIo<WatchedIo<TcpStream>>, impl HyperService>,
    Arc<Activity>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Activity::new();
    let io = TokioIo::new(WatchedIo::new(stream, activity.clone()));
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut app = app.clone();
        let busy = requests.begin();
        let req: Request = req.map(|body| Body::new(DeadlineBody::new(limits.body_timeout, body)));
        async move {
            let resp = match app.call(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(resp.map(|body| GuardedBody::wrap(body, busy)))
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        // The head and idle deadlines are kept by `Activity` (hyper has one timer for both).
        .header_read_timeout(None)
        .max_buf_size(limits.header_buffer())
        .keep_alive(true)
        .serve_connection(io, service);
    (conn, activity)
}

/// The service type hyper runs for a connection.
trait HyperService:
    hyper::service::Service<
        hyper::Request<Incoming>,
        Response = hyper::Response<Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Send
    + 'static
{
}

impl<T> HyperService for T where
    T: hyper::service::Service<
            hyper::Request<Incoming>,
            Response = hyper::Response<Body>,
            Error = Infallible,
            Future: Send + 'static,
        > + Send
        + 'static
{
}

/// Runs a watched connection until it ends or its header/idle deadline passes (then it is
/// dropped, which closes it).
async fn run_connection(conn: impl Future, activity: Arc<Activity>, limits: Limits) {
    let mut conn = std::pin::pin!(conn);
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            _ = &mut conn => return,
            _ = activity.changed() => {}
            _ = sleep_until(deadline) => {
                if activity.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("closing a connection past its header or idle deadline");
                    return;
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
