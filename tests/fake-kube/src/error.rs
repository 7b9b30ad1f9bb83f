//! Why the server could not start.

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("time_scale must be a positive finite number, got {0}")]
    TimeScale(f64),
    #[error("the cluster name {0:?} is empty")]
    ClusterName(String),
    #[error("can't generate the server's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("can't configure TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("can't listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
}
