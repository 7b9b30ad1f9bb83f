//! The local stack's gateway (DESIGN.md §3): one HTTP endpoint that
//!
//! * serves the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) by running the
//!   workflow's real handlers in-process ([`efs_fargate_core::functions::Function`]), reporting a
//!   function error the way Lambda does (`X-Amz-Function-Error: Unhandled` with
//!   `{"errorType","errorMessage"}`), so `Retry`/`Catch` in the state machines see our error names;
//! * answers the EKS access-entry API, which moto lacks, from its own [`AccessEntries`] store
//!   (and adds `accessConfig` to moto's cluster answers);
//! * proxies every other request to moto;
//! * announces the clusters created through it on an [`EventBus`], as CloudTrail and EventBridge
//!   announce EKS's `CreateCluster`, when it is given one.
//!
//! moto's Step Functions engine sends its Lambda calls to `http://localhost:$MOTO_PORT`, so moto is
//! started with `MOTO_PORT` = the gateway's port. The handlers' own AWS SDK traffic is pointed at the
//! gateway too (`AWS_ENDPOINT_URL`), which is where faults and latency can be injected:
//!
//! * [`FaultConfig`]: throttling, 5xx and dropped connections, at a seeded rate, only on the
//!   handlers' EC2/EFS/EKS/KMS/STS calls, never on Lambda invokes or Step Functions calls;
//! * [`LatencyConfig`]: Fargate profiles, file systems and mount targets reported as
//!   creating/deleting for a while, because moto makes every change instantly.
//!
//! Both are off by default.
//!
//! ```no_run
//! # async fn demo(moto_endpoint: &str, base: &aws_config::SdkConfig) -> Result<(), local_stack::GatewayError> {
//! use std::sync::Arc;
//! use efs_fargate_core::{clients::AwsClients, handler::Context, settings::Settings};
//! use local_stack::{Gateway, GatewayConfig, LatencyConfig};
//!
//! // Bind first: the handlers' clients must know the gateway's endpoint before they are built.
//! let gateway = Gateway::bind(([127, 0, 0, 1], 0))?;
//! let clients = AwsClients::new(&base.to_builder().endpoint_url(gateway.endpoint()).build());
//! let context = Arc::new(Context { clients, settings: Settings::default() });
//! let latency = LatencyConfig { create: std::time::Duration::from_secs(5), ..LatencyConfig::default() };
//! let running = gateway.serve(GatewayConfig::new(moto_endpoint, context).with_latency(latency))?;
//! // ... start moto with MOTO_PORT=<gateway port>, run executions, read running.stats() ...
//! running.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod access;
mod config;
mod error;
pub mod events;
mod faults;
mod gateway;
pub mod iam;
mod ids;
mod invoke;
pub mod kube_access;
mod kube_apis;
mod latency;
mod protocol_errors;
mod proxy;
mod reply;
mod rest;
mod server;
mod sigv4;
pub mod stack;
mod stats;
pub mod template;

pub use access::{AccessEntries, AccessScope, AuthenticationMode, ResolvedAccess};
pub use config::{FaultConfig, FaultKind, GatewayConfig, LatencyConfig, UnknownFaultKind};
pub use error::GatewayError;
pub use events::EventBus;
pub use gateway::{Gateway, RunningGateway};
pub use iam::RoleKeys;
pub use invoke::Functions;
pub use kube_apis::{KubeApi, KubeApis};
pub use stats::Stats;
