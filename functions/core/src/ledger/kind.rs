//! The ledger's names for the kinds of resource the workflow records; each kind's whole life is
//! in its module under `resources`.

use serde::{Deserialize, Serialize};

/// Every kind of resource the workflow creates, as the ledger and the plan name it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Kind {
    AccessEntry,
    /// Cluster-admin associated with the workflow's own access entry while it installs its RBAC.
    BootstrapGrant,
    /// The workflow's ClusterRole (its binding, the namespace role, the collector's reader role
    /// and the admission policy go with it).
    Rbac,
    Namespace,
    /// The RoleBinding that gives the workflow its rights in the namespace.
    NamespaceAccess,
    FargateProfile,
    KmsKey,
    FileSystem,
    SecurityGroup,
    MountTarget,
    AccessPoint,
    /// The file system's replication configuration (the replica itself is EFS's, never ours).
    Replication,
    Alarm,
    CsiDriver,
    StorageClass,
    /// Fargate's logging namespace `aws-observability`.
    LoggingNamespace,
    /// Its ConfigMap `aws-logging`.
    LoggingConfig,
    /// The workflow's RoleBinding in the logging namespace it made.
    LoggingAccess,
    /// The Container Insights collector's IAM role. The collector and its objects are the cluster's
    /// (one per cluster, in its own namespace); ledgers of earlier versions record one per namespace,
    /// in the namespace's part, which a cleanup or the namespace's next run removes.
    CollectorRole,
    /// The collector's namespace.
    CollectorNamespace,
    /// The workflow's RoleBinding in the collector's namespace.
    CollectorAccess,
    /// The Fargate profile that runs the collector's namespace.
    CollectorProfile,
    /// The collector's Deployment.
    Collector,
    /// Its ConfigMap; the record's users are the namespaces it reports.
    CollectorConfig,
    CollectorServiceAccount,
    CollectorBinding,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    /// A ConfigMap of the namespace (the validation's record of the cross-read).
    ConfigMap,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Kubernetes objects of a namespace: while one is recorded, the namespace needs what the
    /// cluster's namespaces share, and the access entry that reaches them.
    pub fn is_namespaced_kubernetes(self) -> bool {
        matches!(
            self,
            Self::Namespace
                | Self::NamespaceAccess
                | Self::Collector
                | Self::CollectorConfig
                | Self::CollectorServiceAccount
                | Self::CollectorBinding
                | Self::PersistentVolume
                | Self::PersistentVolumeClaim
                | Self::Pod
                | Self::ConfigMap
        )
    }

    /// Kubernetes objects the cluster's namespaces share.
    pub fn is_shared_kubernetes(self) -> bool {
        matches!(
            self,
            Self::Rbac
                | Self::CsiDriver
                | Self::StorageClass
                | Self::LoggingNamespace
                | Self::LoggingConfig
                | Self::LoggingAccess
                | Self::CollectorNamespace
                | Self::CollectorAccess
                | Self::Collector
                | Self::CollectorConfig
                | Self::CollectorServiceAccount
                | Self::CollectorBinding
        )
    }

    pub fn from_name(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in Kind::iter() {
            assert_eq!(Kind::from_name(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert!(!kind.as_str().contains('#'), "{kind:?}");
        }
        assert_eq!(Kind::FileSystem.as_str(), "fileSystem");
        assert_eq!(Kind::from_name("nope"), None);
    }
}
