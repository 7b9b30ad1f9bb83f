//! How a fake API server is set up.

use std::time::Duration;

/// Settings of [`crate::FakeKube::start`]. `Config::new("demo", "us-east-1")` gives the defaults;
/// change fields with struct update syntax.
#[derive(Clone, Debug)]
pub struct Config {
    /// The EKS cluster this server pretends to be: tokens must be signed for it (`x-k8s-aws-id`)
    /// and Fargate profiles are looked up for it.
    pub cluster_name: String,
    pub region: String,
    /// Known signers: access key id → secret access key.
    pub credentials: Vec<(String, String)>,
    /// The access key ids allowed to use the API (others get 403); `None` allows every valid signer.
    pub authorized_access_keys: Option<Vec<String>>,
    /// Where the Fargate profiles come from; `None` schedules every pod (no Fargate check).
    pub eks: Option<aws_sdk_eks::Client>,
    /// Simulated time from a pod being scheduled to its containers running (like Fargate's
    /// micro-VM start and image pull).
    pub pod_start_delay: Duration,
    /// Real seconds per simulated second: `0.05` makes a container's `sleep 5` and the pod start
    /// delay 20 times shorter; `1.0` runs in real time.
    pub time_scale: f64,
    /// The loopback port to listen on; 0 picks a free one.
    pub port: u16,
}

impl Config {
    /// No credentials, no Fargate check, 10 s pod start delay, real time, a free port.
    pub fn new(cluster_name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            cluster_name: cluster_name.into(),
            region: region.into(),
            credentials: Vec::new(),
            authorized_access_keys: None,
            eks: None,
            pod_start_delay: Duration::from_secs(10),
            time_scale: 1.0,
            port: 0,
        }
    }
}
