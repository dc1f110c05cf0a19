//! The sidecar's connections: how many may be open at once, how long a
//! client may take, and how the server stops. hyper's HTTP/1 server does the
//! protocol; this module only sets its limits and runs the accept loop.
//!
//! - **Connections at once:** at most [`Limits::max_connections`]. At the
//!   limit, no connection is accepted until one closes; new ones wait in the
//!   kernel's listen queue, and the process never runs out of file
//!   descriptors.
//! - **Header read and keep-alive idle:** a connection that does not send a
//!   whole request head (request line and headers) within
//!   [`Limits::header_read`] of being ready for one is closed. hyper starts
//!   that timer both on a new connection and on a kept-alive connection
//!   after each answer, so the same bound closes idle connections.
//! - **Body read:** the webhook reads a body for at most
//!   [`Limits::body_read`] (in [`super::server`]).
//! - **Shutdown:** once the shutdown signal completes, no connection is
//!   accepted; idle connections close at once, requests in flight get
//!   [`Limits::shutdown_grace`] to finish, and then the server returns
//!   whatever the clients do.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many connections, and how long each phase of a request, the server
/// allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a request's head, from the moment a connection is
    /// ready for one: a new connection, or a kept-alive one after an answer
    /// (so this is the keep-alive idle timeout too).
    pub header_read: Duration,
    /// Longest wait for a notification's whole body once its head is in.
    pub body_read: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take
    /// before the server returns anyway.
    pub shutdown_grace: Duration,
}

/// The limits `gpa alerts` runs with (documented in docs/alerts.md).
pub const DEFAULT_LIMITS: Limits = Limits {
    header_read: Duration::from_secs(10),
    body_read: Duration::from_secs(10),
    max_connections: 128,
    shutdown_grace: Duration::from_secs(5),
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// Pause after a failed `accept` (the process's file descriptors exhausted
/// by something else, say) before the next one.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` within `limits` until `shutdown` completes,
/// then gives the requests in flight [`Limits::shutdown_grace`] and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = TowerToHyperService::new(router);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    tracing::warn!("cannot accept a connection: {err}; retrying in {} ms", ACCEPT_RETRY.as_millis());
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
        };
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
        connections.spawn(async move {
            // A client that times out or breaks the protocol ends its own
            // connection and nothing else.
            if let Err(err) = connection.await {
                tracing::debug!("connection closed: {err}");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    tracing::info!(
        "shutting down: accepting no more connections; {open} open, finishing their requests for at most {} s",
        limits.shutdown_grace.as_secs_f64()
    );
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        let open = limits.max_connections - slots.available_permits();
        tracing::warn!(
            "{open} connection(s) still open after {} s; closing them",
            limits.shutdown_grace.as_secs_f64()
        );
    }
    connections.shutdown().await;
}
