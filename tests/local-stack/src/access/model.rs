//! The public vocabulary of the access-entry emulation: a cluster's authentication mode, the scope
//! of an associated access policy, and what a principal resolves to on a cluster.

use std::fmt;

/// How a cluster lets IAM principals in (`accessConfig.authenticationMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthenticationMode {
    /// Only the `aws-auth` ConfigMap: the access-entry API is refused.
    ConfigMap,
    /// Access entries and the `aws-auth` ConfigMap.
    ApiAndConfigMap,
    /// Access entries only.
    Api,
}

impl AuthenticationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationMode::ConfigMap => "CONFIG_MAP",
            AuthenticationMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthenticationMode::Api => "API",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::ConfigMap, Self::ApiAndConfigMap, Self::Api]
            .into_iter()
            .find(|mode| mode.as_str() == text)
    }

    /// Whether the access-entry API works on a cluster in this mode.
    pub fn has_access_entries(self) -> bool {
        self != AuthenticationMode::ConfigMap
    }

    /// EKS only ever adds the API: CONFIG_MAP → API_AND_CONFIG_MAP → API, one step at a time.
    pub(crate) fn may_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::ConfigMap, Self::ApiAndConfigMap) | (Self::ApiAndConfigMap, Self::Api)
        )
    }
}

impl fmt::Display for AuthenticationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cluster's `accessConfig`, as `DescribeCluster` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccessConfig {
    pub(crate) authentication_mode: AuthenticationMode,
    /// `None` for a cluster the gateway did not see created: EKS reports no value for it either.
    pub(crate) bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

impl AccessConfig {
    /// What EKS gives a cluster created through its API without an `accessConfig`: `CONFIG_MAP`.
    /// Also what the gateway assumes for a cluster created in moto behind its back.
    pub(crate) const API_DEFAULT: AccessConfig = AccessConfig {
        authentication_mode: AuthenticationMode::ConfigMap,
        bootstrap_cluster_creator_admin_permissions: None,
    };
}

/// Where an associated access policy applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessScope {
    Cluster,
    /// Only in these namespaces (EKS allows a trailing `*` wildcard in a name).
    Namespaces(Vec<String>),
}

/// What a principal is on a cluster: its Kubernetes identity and the access policies it holds,
/// for an API server to authorize with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedAccess {
    /// With `{{SessionName}}` and `{{AccountID}}` filled in from the caller, as EKS does.
    pub username: String,
    pub kubernetes_groups: Vec<String>,
    /// `(policy name, scope)`, e.g. `("AmazonEKSClusterAdminPolicy", AccessScope::Cluster)`.
    pub policies: Vec<(String, AccessScope)>,
}
