//! The HTTPS listener: TLS handshakes with rustls, HTTP/1.1 with hyper, one task per connection.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::api::Api;

/// Serves until `shutdown` turns true; open connections are dropped then.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, api: Arc<Api>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, acceptor.clone(), Arc::clone(&api)));
                }
                Err(error) => tracing::warn!(%error, "accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::debug!("listener stopped");
}

async fn connection(stream: TcpStream, acceptor: TlsAcceptor, api: Arc<Api>) {
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(%error, "TLS handshake failed");
            return;
        }
    };
    let service = service_fn(move |request| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Infallible>(api.handle(request).await) }
    });
    if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(tls), service).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
