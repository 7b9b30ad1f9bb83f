//! EKS access entries as the server sees them: who an IAM principal is inside the cluster
//! (username, Kubernetes groups) and which EKS access policies are associated with it, at which
//! scope. The entries come from an injected [`AccessEntrySource`] (in the local stack, the
//! gateway's emulation of the EKS access-entry API); [`StaticAccessEntries`] is a fixed set for
//! tests.

use std::collections::BTreeMap;

use crate::auth::identity::principal_of;

/// Where the access entries of a cluster live.
pub trait AccessEntrySource: Send + Sync {
    /// The access entry of the caller in `cluster_name`, with its associated access policies;
    /// `None` when there is none (the server then answers 401, as EKS does).
    ///
    /// `caller_arn` is what STS `GetCallerIdentity` returns for the caller: an IAM user
    /// (`arn:aws:iam::<account>:user/<name>`) or an assumed-role session
    /// (`arn:aws:sts::<account>:assumed-role/<Role>/<session>`), which EKS looks up by the entry of
    /// its role ([`principal_of`] gives that ARN). Passing the session lets the source fill the
    /// entry's `{{SessionName}}` the way EKS does.
    fn resolve(&self, cluster_name: &str, caller_arn: &str) -> Option<ResolvedAccess>;
}

/// An access entry and its access policy associations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedAccess {
    /// The Kubernetes username. Templates left in it are filled by the server: the EKS templates `{{AccountID}}`, `{{SessionName}}`
    /// (`@` replaced by `-`), `{{SessionNameRaw}}` and `{{AccessKeyID}}`; empty means the EKS
    /// default (the assumed-role ARN with `{{SessionName}}` for a role, the ARN for a user).
    pub username: String,
    /// Subjects of kind `Group` in RoleBindings and ClusterRoleBindings.
    pub kubernetes_groups: Vec<String>,
    pub policies: Vec<AccessPolicy>,
}

/// An associated EKS access policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPolicy {
    /// `AmazonEKSClusterAdminPolicy`, `AmazonEKSAdminPolicy`, `AmazonEKSEditPolicy`,
    /// `AmazonEKSViewPolicy`, `AmazonEKSAdminViewPolicy`, `AmazonEKSSecretReaderPolicy`, or the
    /// policy's ARN (`arn:aws:eks::aws:cluster-access-policy/<name>`). Others grant nothing.
    pub name: String,
    pub scope: Scope,
}

/// The `accessScope` of an association.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `type: cluster`.
    Cluster,
    /// `type: namespace`: only requests in these namespaces; a trailing `*` matches a prefix
    /// (`dev-*`), as EKS allows.
    Namespaces(Vec<String>),
}

impl AccessPolicy {
    pub fn new(name: impl Into<String>, scope: Scope) -> Self {
        Self {
            name: name.into(),
            scope,
        }
    }

    /// `AmazonEKSClusterAdminPolicy` at cluster scope: everything, like `system:masters`.
    pub fn cluster_admin() -> Self {
        Self::new("AmazonEKSClusterAdminPolicy", Scope::Cluster)
    }
}

/// A fixed set of access entries, keyed by cluster and principal ARN (an IAM user or role; a
/// caller with an assumed-role session finds its role's entry).
#[derive(Clone, Debug, Default)]
pub struct StaticAccessEntries {
    entries: BTreeMap<(String, String), ResolvedAccess>,
}

impl StaticAccessEntries {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the entry of `principal_arn` in `cluster_name`.
    pub fn with(mut self, cluster_name: &str, principal_arn: &str, access: ResolvedAccess) -> Self {
        self.entries
            .insert((cluster_name.to_string(), principal_arn.to_string()), access);
        self
    }
}

impl AccessEntrySource for StaticAccessEntries {
    fn resolve(&self, cluster_name: &str, caller_arn: &str) -> Option<ResolvedAccess> {
        self.entries
            .get(&(cluster_name.to_string(), principal_of(caller_arn)))
            .cloned()
    }
}
