//! `fake-kube-apiserver`: the fake EKS API server as a process, for the local demo.
//!
//! Prints one JSON line `{"endpoint":"https://127.0.0.1:PORT","caFile":"PATH"}` on stdout when it
//! is ready, logs to stderr (`RUST_LOG`), and serves until SIGTERM/SIGINT, or until its stdin
//! reaches EOF when stdin is a pipe (the parent's lifeline; `/dev/null` or a terminal is ignored).

use std::io::IsTerminal;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use clap::Parser;
use fake_kube_apiserver::{Config, FakeKube};
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Debug, Parser)]
#[command(version, about = "A fake EKS-on-Fargate Kubernetes API server for the local demo")]
struct Args {
    /// The EKS cluster to pretend to be (tokens must be signed for it).
    #[arg(long)]
    cluster: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The EKS endpoint to ask for Fargate profiles (moto); without it every pod is schedulable.
    #[arg(long)]
    eks_endpoint: Option<String>,
    /// Known signers as ACCESS_KEY:SECRET (repeatable); the first one also signs the EKS calls.
    #[arg(long = "credentials", value_parser = parse_credentials, required = true)]
    credentials: Vec<(String, String)>,
    /// Access key ids allowed to use the API (repeatable); default: every valid signer.
    #[arg(long = "authorize")]
    authorized: Vec<String>,
    /// Real seconds per simulated second (0.05 = 20 times faster).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Simulated seconds from scheduling to running containers.
    #[arg(long, default_value_t = 10.0)]
    pod_start_delay: f64,
    /// Where to write the CA certificate (PEM).
    #[arg(long)]
    ca_out: PathBuf,
    /// Loopback port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

fn parse_credentials(pair: &str) -> Result<(String, String), String> {
    match pair.split_once(':') {
        Some((key, secret)) if !key.is_empty() && !secret.is_empty() => Ok((key.into(), secret.into())),
        _ => Err("expected ACCESS_KEY:SECRET".into()),
    }
}

/// EKS and EFS clients of the AWS endpoint (moto behind the gateway).
fn aws_clients(
    endpoint: &str,
    region: &str,
    (key, secret): &(String, String),
) -> (aws_sdk_eks::Client, aws_sdk_efs::Client) {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key,
            secret,
            None,
            None,
            "fake-kube-apiserver",
        )))
        .endpoint_url(endpoint)
        .http_client(efs_fargate_core::clients::https_client())
        .build();
    (aws_sdk_eks::Client::new(&config), aws_sdk_efs::Client::new(&config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    if !(args.pod_start_delay.is_finite() && args.pod_start_delay >= 0.0) {
        return Err("--pod-start-delay must be a non-negative number of seconds".into());
    }
    let (eks, efs) = args
        .eks_endpoint
        .as_deref()
        .map(|endpoint| aws_clients(endpoint, &args.region, &args.credentials[0]))
        .unzip();
    let kube = FakeKube::start(Config {
        credentials: args.credentials,
        authorized_access_keys: (!args.authorized.is_empty()).then_some(args.authorized),
        eks,
        efs,
        pod_start_delay: Duration::from_secs_f64(args.pod_start_delay),
        time_scale: args.time_scale,
        port: args.port,
        ..Config::new(args.cluster, args.region)
    })
    .await?;
    std::fs::write(&args.ca_out, kube.ca_pem())
        .map_err(|e| format!("can't write the CA to {}: {e}", args.ca_out.display()))?;
    let ca_file = std::fs::canonicalize(&args.ca_out)?;
    let ready = serde_json::json!({"endpoint": kube.endpoint(), "caFile": ca_file});
    println!("{ready}");

    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        _ = stdin_closed() => tracing::info!("stdin closed: stopping"),
    }
    kube.shutdown().await;
    Ok(())
}

/// Resolves when stdin, if it is a pipe or socket, reaches EOF; never otherwise.
async fn stdin_closed() {
    let watched = std::fs::metadata("/dev/stdin")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false);
    if !watched {
        return std::future::pending().await;
    }
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 1024];
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
}
