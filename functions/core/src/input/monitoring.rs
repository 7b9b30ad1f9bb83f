//! `monitoring` in the execution input: the day-2 monitoring a run adds on top of what every run
//! gets (Fargate's application logs and the file system's alarms).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringOptions {
    /// Container Insights for the namespace's pods (CPU, memory and network per pod, in the
    /// `ContainerInsights` metric namespace): an ADOT collector in the namespace, with its own
    /// IAM role through the cluster's OIDC provider. Off by default: it costs a Fargate pod and
    /// custom metrics (README, Monitoring).
    #[serde(default)]
    pub container_insights: bool,
}
