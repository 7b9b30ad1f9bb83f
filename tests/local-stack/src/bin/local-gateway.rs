//! `local-gateway`: the local stack's gateway as a process (see the `local_stack` crate docs).
//!
//! The handlers run in this process and build their AWS clients from the environment
//! (`Context::from_env()`: region, credentials, `POLL_SECONDS`, ...), except
//! that `AWS_ENDPOINT_URL` is set here to the gateway's own endpoint before they are built: their
//! SDK traffic comes back through the gateway (where faults and latency are injected) and goes on
//! to moto. A service-specific `AWS_ENDPOINT_URL_<SERVICE>` in the environment still wins over it
//! and bypasses the gateway for that service, so leave those unset.
//!
//! Start-up order, since each side needs the other's port: pick moto's port, start
//! `local-gateway --moto-endpoint http://127.0.0.1:<moto port>`, read its endpoint from the one JSON
//! line it prints on stdout (`{"endpoint":"http://127.0.0.1:PORT"}`), then start
//! `MOTO_PORT=<gateway port> moto_server -H 127.0.0.1 -p <moto port>`. The gateway does not contact
//! moto before the first request. Logs are JSON lines on stderr (`RUST_LOG`, default `info`).
//! SIGTERM or SIGINT stops it after in-flight requests finish.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use efs_fargate_core::WorkflowError;
use efs_fargate_core::handler::Context;
use local_stack::{FaultConfig, FaultKind, Gateway, GatewayConfig, GatewayError, LatencyConfig};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Serves Lambda Invoke with the workflow's handlers in-process and proxies the rest to moto"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// moto's base URL, e.g. http://127.0.0.1:5000.
    #[arg(long, env = "MOTO_ENDPOINT")]
    moto_endpoint: String,
    /// Probability (0 to 1) that one of the handlers' EC2/EFS/EKS/KMS/STS requests fails.
    #[arg(long, default_value_t = 0.0, value_parser = fault_rate)]
    fault_rate: f64,
    /// Seed of the fault RNG: same seed and request order, same faults.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// What a failing request does, picked uniformly.
    #[arg(long, value_delimiter = ',', default_value = "throttle,5xx,drop")]
    fault_kinds: Vec<FaultKind>,
    /// Seconds new Fargate profiles, file systems and mount targets stay creating.
    #[arg(long, default_value = "0", value_parser = seconds)]
    create_latency_seconds: Duration,
    /// Seconds deleted Fargate profiles and mount targets stay deleting.
    #[arg(long, default_value = "0", value_parser = seconds)]
    delete_latency_seconds: Duration,
}

fn fault_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a number from 0 to 1")),
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a non-negative number of seconds"))
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("the handlers' settings are invalid: {0}")]
    Settings(#[from] WorkflowError),
    #[error("cannot start the Tokio runtime or listen for signals: {0}")]
    Runtime(#[from] std::io::Error),
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "local gateway failed");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), StartError> {
    let gateway = Gateway::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))?;
    let endpoint = gateway.endpoint();
    // SAFETY: no other thread exists yet (the Tokio runtime is built below), so nothing can read
    // the environment concurrently. This is why the gateway binds before the runtime starts.
    unsafe { std::env::set_var("AWS_ENDPOINT_URL", &endpoint) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let context = Arc::new(Context::from_env().await?);
        let config = GatewayConfig::new(args.moto_endpoint, context)
            .with_faults(FaultConfig {
                rate: args.fault_rate,
                seed: args.fault_seed,
                kinds: args.fault_kinds,
            })
            .with_latency(LatencyConfig {
                create: args.create_latency_seconds,
                delete: args.delete_latency_seconds,
                ..LatencyConfig::default()
            });
        let running = gateway.serve(config)?;
        let mut terminate = signal(SignalKind::terminate())?;
        announce(&endpoint)?;
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
            interrupted = tokio::signal::ctrl_c() => {
                interrupted?;
                tracing::info!("SIGINT: stopping");
            }
        }
        running.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    })
}

/// The one stdout line a supervisor waits for: the gateway is serving at `endpoint`.
fn announce(endpoint: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::json!({ "endpoint": endpoint }))?;
    stdout.flush()
}
