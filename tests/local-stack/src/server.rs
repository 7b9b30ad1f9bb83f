//! The accept loop: HTTP/1.1 connections served by hyper, requests routed by axum. hyper is used
//! directly (not `axum::serve`) because an injected fault must be able to close a connection
//! without any response, which only a failing hyper service can do.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long in-flight requests (a handler mid-invocation) get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Clone, Copy, Debug)]
struct DropConnection;

/// What the hyper service fails with to close a connection.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

/// A response that closes the connection without answering.
pub(crate) fn drop_connection() -> Response {
    let mut response = Response::default();
    response.extensions_mut().insert(DropConnection);
    response
}

/// Serves `router` on `listener` until `stop` fires (or its sender is dropped), then lets
/// in-flight requests finish for up to [`SHUTDOWN_GRACE`].
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let router = router.clone();
                    let service = service_fn(move |request| route(router.clone(), request));
                    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "connection closed with an error");
                        }
                    });
                }
                Err(error) => {
                    // E.g. out of file descriptors: keep serving the open connections and retry.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight at shutdown were abandoned");
    }
}

/// Routes one request; a [`drop_connection`] response becomes a service error, on which hyper
/// closes the connection without writing anything.
async fn route(router: Router, request: http::Request<Incoming>) -> Result<Response, Dropped> {
    let response = router
        .oneshot(request)
        .await
        .unwrap_or_else(|never: Infallible| match never {});
    if response.extensions().get::<DropConnection>().is_some() {
        Err(Dropped)
    } else {
        Ok(response)
    }
}
