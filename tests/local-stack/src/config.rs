//! What a gateway is started with.

use efs_fargate_core::functions::Function;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use efs_fargate_core::handler::Context;

use crate::access::AccessEntries;
use crate::events::EventBus;
use crate::iam::RoleKeys;
use crate::kube_apis::KubeApis;

/// The failure an injected fault imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// The protocol's throttling error (`ThrottlingException`, `RequestLimitExceeded`, `Throttling`).
    Throttle,
    /// HTTP 500 `InternalError` or 503 `ServiceUnavailable`.
    ServerError,
    /// The connection is closed without a response.
    Drop,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [FaultKind::Throttle, FaultKind::ServerError, FaultKind::Drop];

    /// The name used on the command line: `throttle`, `5xx`, `drop`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::ServerError => "5xx",
            FaultKind::Drop => "drop",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown fault kind `{0}`: expected throttle, 5xx or drop")]
pub struct UnknownFaultKind(String);

impl FromStr for FaultKind {
    type Err = UnknownFaultKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == s.trim())
            .ok_or_else(|| UnknownFaultKind(s.to_string()))
    }
}

/// Fault injection on the handlers' AWS calls. Off (`rate` 0) by default.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Probability, from 0 to 1, that one eligible request fails.
    pub rate: f64,
    /// Seed of the RNG that picks the failing requests and their kind: the same seed and the same
    /// sequence of requests give the same faults.
    pub seed: u64,
    /// What a failing request does, picked uniformly.
    pub kinds: Vec<FaultKind>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            rate: 0.0,
            seed: 1,
            kinds: FaultKind::ALL.to_vec(),
        }
    }
}

/// How long resources stay in their transitional state. Zero (moto's instant changes) by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyConfig {
    /// Fargate profiles `CREATING`, file systems and mount targets `creating`, after their create
    /// call, unless their kind has its own window below.
    pub create: Duration,
    /// Fargate profiles `DELETING` and mount targets `deleting`, after their delete call.
    pub delete: Duration,
    /// Per kind, instead of `create`: AWS's latency model replayed (`workflow-bench`).
    pub create_profile: Option<Duration>,
    pub create_file_system: Option<Duration>,
    pub create_mount_target: Option<Duration>,
}

impl LatencyConfig {
    /// No window is open at all: moto's answers pass unchanged.
    pub fn is_off(&self) -> bool {
        let windows = [self.create_profile, self.create_file_system, self.create_mount_target];
        self.create.is_zero() && self.delete.is_zero() && windows.iter().flatten().all(Duration::is_zero)
    }
}

/// Everything [`crate::Gateway::serve`] needs.
pub struct GatewayConfig {
    /// moto's base URL, `http://127.0.0.1:PORT`.
    pub moto_endpoint: String,
    /// The handlers' clients and settings. Point the clients at the gateway's endpoint, or their
    /// calls bypass fault and latency injection.
    pub context: Arc<Context>,
    /// Each function's own context, where it has one (else [`Self::context`]).
    pub function_contexts: Vec<(Function, Arc<Context>)>,
    /// The functions' roles: a call signed with one of their keys is authorized against the
    /// role's policies (see [`crate::iam`]). None by default.
    pub roles: RoleKeys,
    pub faults: FaultConfig,
    pub latency: LatencyConfig,
    /// The emulated EKS access entries; pass a clone of one store to share it with whoever
    /// authorizes Kubernetes requests.
    pub access_entries: AccessEntries,
    /// The bus that clusters created through the gateway are announced on, as CloudTrail and
    /// EventBridge announce EKS's `CreateCluster`. None by default.
    pub events: Option<EventBus>,
    /// The clusters' API servers, written into EKS's cluster answers. None registered by default.
    pub kube_apis: KubeApis,
    /// The function whose answers to the Step Functions engine say "not ready, poll again in half
    /// a second": the Wait state that follows cannot wait a fraction of a second, and the execution
    /// fails on `States.Runtime`, which no `Catch` catches (a handler bug, as AWS would see it).
    /// None by default.
    pub fractional_wait_of: Option<Function>,
}

impl GatewayConfig {
    /// No faults, no latency, no event bus, and a store of access entries of its own.
    pub fn new(moto_endpoint: impl Into<String>, context: Arc<Context>) -> Self {
        Self {
            moto_endpoint: moto_endpoint.into(),
            context,
            function_contexts: Vec::new(),
            roles: RoleKeys::default(),
            faults: FaultConfig::default(),
            latency: LatencyConfig::default(),
            access_entries: AccessEntries::new(),
            events: None,
            kube_apis: KubeApis::default(),
            fractional_wait_of: None,
        }
    }

    pub fn with_kube_apis(self, kube_apis: KubeApis) -> Self {
        Self { kube_apis, ..self }
    }

    pub fn with_fractional_wait_of(self, function: Option<Function>) -> Self {
        Self {
            fractional_wait_of: function,
            ..self
        }
    }

    /// IAM on: each function runs with its own context, signed with its role's key.
    pub fn with_roles(self, roles: RoleKeys, function_contexts: Vec<(Function, Arc<Context>)>) -> Self {
        Self {
            roles,
            function_contexts,
            ..self
        }
    }

    pub fn with_faults(self, faults: FaultConfig) -> Self {
        Self { faults, ..self }
    }

    pub fn with_latency(self, latency: LatencyConfig) -> Self {
        Self { latency, ..self }
    }

    pub fn with_access_entries(self, access_entries: AccessEntries) -> Self {
        Self { access_entries, ..self }
    }

    pub fn with_events(self, events: EventBus) -> Self {
        Self {
            events: Some(events),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_kinds_parse_by_their_cli_names() {
        for kind in FaultKind::ALL {
            assert_eq!(kind.name().parse::<FaultKind>().unwrap(), kind);
        }
        assert!("timeout".parse::<FaultKind>().is_err());
    }
}
