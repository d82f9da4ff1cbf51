//! The serving loop: the router on a TCP listener, HTTP/1.1 with keep-alive, with the limits a
//! public port needs against slow clients, and graceful shutdown.
//!
//! - A connection that has not sent a request's complete headers within
//!   [`ConnectionLimits::header_timeout`] is closed (hyper's header read timeout): a client
//!   trickling header bytes ("slow loris") cannot hold a connection for ever. An idle keep-alive
//!   connection waiting for its next request is closed after the same time.
//! - A request body must arrive whole within [`ConnectionLimits::body_timeout`] of its request's
//!   headers, however it trickles (tower-http's body deadline); a late body is answered 408.
//! - On shutdown the listener closes, and open connections finish the request they are on and
//!   close (streams such as server-sent events end when the application ends them).
//!
//! `chopay serve` and the tests that need a real port both serve through [`serve`].

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::timeout::RequestBodyDeadlineLayer;

/// Time limits on a connection, against clients that send slowly or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The longest a client may take to send a request's headers (and the longest an idle
    /// keep-alive connection is kept).
    pub header_timeout: Duration,
    /// The longest a request body may take to arrive whole.
    pub body_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 10 s for headers, 20 s for a body.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
        }
    }
}

/// How long shutdown waits for open connections to finish before it lets them go.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets open
/// connections finish (at most [`SHUTDOWN_GRACE`]) and returns. Errors on one connection (a
/// client that goes away, a timeout) close that connection only.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let service = tower::ServiceBuilder::new()
        .layer(RequestBodyDeadlineLayer::new(limits.body_timeout))
        .service(app);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection closed with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after {} s; stopping anyway", SHUTDOWN_GRACE.as_secs());
        }
    }
}
