//! Why a gateway could not start.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: io::Error },

    #[error("cannot serve the listening socket: {0}")]
    Listener(#[source] io::Error),

    #[error("moto endpoint `{endpoint}` must be an http://host:port URL")]
    MotoEndpoint { endpoint: String },

    #[error("fault rate {0} must be a number from 0 to 1")]
    FaultRate(f64),

    #[error("a fault rate above 0 needs at least one fault kind")]
    NoFaultKinds,
}
