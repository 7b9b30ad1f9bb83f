//! How a fake API server is set up.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::AccessEntrySource;

/// Settings of [`crate::FakeKube::start`]. `Config::new("demo", "us-east-1")` gives the defaults;
/// change fields with struct update syntax.
#[derive(Clone)]
pub struct Config {
    /// The EKS cluster this server pretends to be: tokens must be signed for it (`x-k8s-aws-id`)
    /// and Fargate profiles are looked up for it.
    pub cluster_name: String,
    pub region: String,
    /// Known signers: access key id → secret access key.
    pub credentials: Vec<(String, String)>,
    /// Without `access_entries`: the access key ids that are cluster admins; other signers get
    /// only what RBAC grants the user named by their access key id (usually nothing: 403).
    /// `None` makes every valid signer a cluster admin. Ignored with `access_entries`.
    pub authorized_access_keys: Option<Vec<String>>,
    /// Access key id → the ARN STS `GetCallerIdentity` returns for it
    /// (`arn:aws:sts::<account>:assumed-role/<Role>/<session>` or `arn:aws:iam::<account>:user/<name>`).
    /// Used with `access_entries`; a signer without an ARN here gets 401.
    pub caller_arns: Vec<(String, String)>,
    /// EKS access entries: who may call and what they may do (access policies, RBAC on the
    /// entry's username and groups). `None`: the original rule of this fake, see
    /// `authorized_access_keys` (what `tests/tests` and `tests/local-stack` use today).
    pub access_entries: Option<Arc<dyn AccessEntrySource>>,
    /// Where the Fargate profiles come from; `None` schedules every pod (no Fargate check).
    pub eks: Option<aws_sdk_eks::Client>,
    /// Where access points and file system policies come from; `None`: a volume through an
    /// access point fails to mount, and root is never squashed.
    pub efs: Option<aws_sdk_efs::Client>,
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
    /// No credentials, no access entries (every signer is a cluster admin), no Fargate check, 10 s pod start delay, real time, a free port.
    pub fn new(cluster_name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            cluster_name: cluster_name.into(),
            region: region.into(),
            credentials: Vec::new(),
            authorized_access_keys: None,
            caller_arns: Vec::new(),
            access_entries: None,
            eks: None,
            efs: None,
            pod_start_delay: Duration::from_secs(10),
            time_scale: 1.0,
            port: 0,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The access-entry source is a trait object without Debug; its presence is what matters.
        f.debug_struct("Config")
            .field("cluster_name", &self.cluster_name)
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.iter().map(|(key, _)| key).collect::<Vec<_>>(),
            )
            .field("authorized_access_keys", &self.authorized_access_keys)
            .field("caller_arns", &self.caller_arns)
            .field("access_entries", &self.access_entries.is_some())
            .field("eks", &self.eks.is_some())
            .field("efs", &self.efs.is_some())
            .field("pod_start_delay", &self.pod_start_delay)
            .field("time_scale", &self.time_scale)
            .field("port", &self.port)
            .finish()
    }
}
