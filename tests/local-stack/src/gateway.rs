//! `Gateway`: bind first (so the handlers' clients can be pointed at the endpoint), then serve.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use efs_fargate_core::functions::Function;
use efs_fargate_core::handler::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::access::AccessEntries;
use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::events::EventBus;
use crate::faults::Faults;
use crate::iam::RoleKeys;
use crate::invoke::Functions;
use crate::kube_apis::KubeApis;
use crate::latency::Latency;
use crate::proxy::Upstream;
use crate::stats::{Counters, Stats};
use crate::{invoke, proxy, server};

/// What every request handler shares.
pub(crate) struct Shared {
    pub access: AccessEntries,
    /// Where the API calls EventBridge hears of (through CloudTrail) are put, if anywhere.
    pub events: Option<EventBus>,
    pub kube_apis: KubeApis,
    pub context: Arc<Context>,
    /// Each function's own context, whose clients sign with its role's key (see [`crate::iam`]).
    pub function_contexts: Vec<(Function, Arc<Context>)>,
    pub roles: RoleKeys,
    pub upstream: Upstream,
    pub faults: Option<Faults>,
    pub latency: Option<Latency>,
    pub stats: Counters,
    pub fractional_wait_of: Option<Function>,
}

impl Shared {
    /// The context `function` runs with: its own when it has one.
    pub(crate) fn context_of(&self, function: Function) -> Arc<Context> {
        self.function_contexts
            .iter()
            .find(|(f, _)| *f == function)
            .map_or(&self.context, |(_, context)| context)
            .clone()
    }
}

/// A bound, not yet serving, gateway.
#[derive(Debug)]
pub struct Gateway {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Gateway {
    /// Binds `addr` (e.g. `127.0.0.1:0` for a free port). A plain blocking bind, so a binary can
    /// learn its endpoint before it starts any thread (see the `local-gateway` binary).
    pub fn bind(addr: impl Into<SocketAddr>) -> Result<Self, GatewayError> {
        let addr = addr.into();
        let bound = TcpListener::bind(addr).and_then(|listener| {
            listener.set_nonblocking(true)?;
            let local = listener.local_addr()?;
            Ok((listener, local))
        });
        let (listener, addr) = bound.map_err(|source| GatewayError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        Ok(Self { listener, addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the `AWS_ENDPOINT_URL` for the handlers, and (its port) moto's `MOTO_PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts serving on the current Tokio runtime.
    pub fn serve(self, config: GatewayConfig) -> Result<RunningGateway, GatewayError> {
        let endpoint = self.endpoint();
        let shared = Arc::new(Shared {
            access: config.access_entries,
            events: config.events,
            kube_apis: config.kube_apis,
            context: config.context,
            function_contexts: config.function_contexts,
            roles: config.roles,
            upstream: Upstream::new(&config.moto_endpoint)?,
            faults: Faults::new(&config.faults)?,
            latency: Latency::new(config.latency),
            stats: Counters::default(),
            fractional_wait_of: config.fractional_wait_of,
        });
        if let Some(bus) = &shared.events {
            bus.connect(&Functions(shared.clone()));
        }
        let listener = tokio::net::TcpListener::from_std(self.listener).map_err(GatewayError::Listener)?;
        let router = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke::invoke))
            .fallback(proxy::forward)
            .with_state(shared.clone());
        let (stop, stopped) = watch::channel(());
        tracing::info!(
            %endpoint,
            moto = %config.moto_endpoint,
            fault_rate = config.faults.rate,
            fault_kinds = ?config.faults.kinds,
            create_latency = ?config.latency.create,
            delete_latency = ?config.latency.delete,
            "local gateway serving"
        );
        let task = tokio::spawn(server::serve(listener, router, stopped));
        Ok(RunningGateway {
            endpoint,
            shared,
            stop,
            task,
        })
    }
}

/// A serving gateway. Dropping it stops the server without waiting; [`Self::shutdown`] waits.
pub struct RunningGateway {
    endpoint: String,
    shared: Arc<Shared>,
    stop: watch::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningGateway {
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// The handlers, for invocations that do not come over HTTP (scheduled rules).
    pub fn functions(&self) -> Functions {
        Functions(self.shared.clone())
    }

    /// Stops accepting, lets in-flight requests finish (bounded), and returns when the server is done.
    pub async fn shutdown(self) {
        drop(self.stop);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the gateway's server task failed");
        }
    }
}
