//! The kinds the fake serves, with what the REST paths and discovery documents say about them.
//!
//! Deployments are stored, validated and defaulted like the API server does it, but never run:
//! no controller makes ReplicaSets or pods for them and their `status` stays empty.

/// One served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Pod,
    PersistentVolume,
    PersistentVolumeClaim,
    ConfigMap,
    Event,
    StorageClass,
    CsiDriver,
    Secret,
    ClusterRole,
    Role,
    ClusterRoleBinding,
    RoleBinding,
    ServiceAccount,
    Deployment,
    ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
}

/// The API group of `storageclasses` and `csidrivers`.
pub const STORAGE_GROUP: &str = "storage.k8s.io";
/// The API group of roles and bindings.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The API group of deployments.
pub const APPS_GROUP: &str = "apps";
/// The API group of admission policies and their bindings.
pub const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";
/// The named API groups served under `/apis`.
pub const NAMED_GROUPS: [&str; 4] = [APPS_GROUP, STORAGE_GROUP, RBAC_GROUP, ADMISSION_GROUP];

/// What every served resource allows.
pub const VERBS: [&str; 5] = ["create", "delete", "get", "list", "patch"];

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Namespace,
        Kind::Pod,
        Kind::PersistentVolume,
        Kind::PersistentVolumeClaim,
        Kind::ConfigMap,
        Kind::Event,
        Kind::StorageClass,
        Kind::CsiDriver,
        Kind::Secret,
        Kind::ClusterRole,
        Kind::Role,
        Kind::ClusterRoleBinding,
        Kind::RoleBinding,
        Kind::ServiceAccount,
        Kind::Deployment,
        Kind::ValidatingAdmissionPolicy,
        Kind::ValidatingAdmissionPolicyBinding,
    ];

    /// `Pod`, `CSIDriver`, ...
    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Pod => "Pod",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::ConfigMap => "ConfigMap",
            Kind::Event => "Event",
            Kind::StorageClass => "StorageClass",
            Kind::CsiDriver => "CSIDriver",
            Kind::Secret => "Secret",
            Kind::ClusterRole => "ClusterRole",
            Kind::Role => "Role",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
            Kind::RoleBinding => "RoleBinding",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Deployment => "Deployment",
            Kind::ValidatingAdmissionPolicy => "ValidatingAdmissionPolicy",
            Kind::ValidatingAdmissionPolicyBinding => "ValidatingAdmissionPolicyBinding",
        }
    }

    /// The REST collection name: `pods`, `csidrivers`, ...
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Pod => "pods",
            Kind::PersistentVolume => "persistentvolumes",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::ConfigMap => "configmaps",
            Kind::Event => "events",
            Kind::StorageClass => "storageclasses",
            Kind::CsiDriver => "csidrivers",
            Kind::Secret => "secrets",
            Kind::ClusterRole => "clusterroles",
            Kind::Role => "roles",
            Kind::ClusterRoleBinding => "clusterrolebindings",
            Kind::RoleBinding => "rolebindings",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::Deployment => "deployments",
            Kind::ValidatingAdmissionPolicy => "validatingadmissionpolicies",
            Kind::ValidatingAdmissionPolicyBinding => "validatingadmissionpolicybindings",
        }
    }

    pub fn singular(self) -> String {
        self.name().to_lowercase()
    }

    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace => &["ns"],
            Kind::Pod => &["po"],
            Kind::PersistentVolume => &["pv"],
            Kind::PersistentVolumeClaim => &["pvc"],
            Kind::ConfigMap => &["cm"],
            Kind::Event => &["ev"],
            Kind::StorageClass => &["sc"],
            Kind::ServiceAccount => &["sa"],
            Kind::Deployment => &["deploy"],
            _ => &[],
        }
    }

    /// `""` for the core group.
    pub fn group(self) -> &'static str {
        match self {
            Kind::StorageClass | Kind::CsiDriver => STORAGE_GROUP,
            Kind::ClusterRole | Kind::Role | Kind::ClusterRoleBinding | Kind::RoleBinding => RBAC_GROUP,
            Kind::Deployment => APPS_GROUP,
            Kind::ValidatingAdmissionPolicy | Kind::ValidatingAdmissionPolicyBinding => ADMISSION_GROUP,
            _ => "",
        }
    }

    /// `v1`, or `<group>/v1` for the named groups.
    pub fn api_version(self) -> &'static str {
        match self.group() {
            APPS_GROUP => "apps/v1",
            STORAGE_GROUP => "storage.k8s.io/v1",
            RBAC_GROUP => "rbac.authorization.k8s.io/v1",
            ADMISSION_GROUP => "admissionregistration.k8s.io/v1",
            _ => "v1",
        }
    }

    pub fn namespaced(self) -> bool {
        matches!(
            self,
            Kind::Pod
                | Kind::PersistentVolumeClaim
                | Kind::ConfigMap
                | Kind::Event
                | Kind::Secret
                | Kind::Role
                | Kind::RoleBinding
                | Kind::ServiceAccount
                | Kind::Deployment
        )
    }

    /// Roles and bindings, whose writes pass the RBAC escalation check.
    pub fn is_rbac(self) -> bool {
        self.group() == RBAC_GROUP
    }

    /// Kinds whose `status` belongs to the system: writes to the main resource keep the stored status.
    pub fn has_status_subresource(self) -> bool {
        matches!(
            self,
            Kind::Namespace | Kind::Pod | Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::Deployment
        )
    }

    /// The kind served at `/{api|apis/group}/v1/.../{plural}`.
    pub fn from_path(group: &str, plural: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.group() == group && kind.plural() == plural)
    }

    /// By kind name, plural or short name, case-insensitively (`Pod`, `pods`, `po`).
    pub fn lookup(name: &str) -> Option<Kind> {
        let name = name.to_lowercase();
        Kind::ALL.into_iter().find(|kind| {
            kind.name().eq_ignore_ascii_case(&name) || kind.plural() == name || kind.short_names().contains(&&*name)
        })
    }

    /// `pods` or `storageclasses.storage.k8s.io`, as the API server names resources in messages.
    pub fn qualified_resource(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            group => format!("{}.{group}", self.plural()),
        }
    }

    /// `Pod` or `Deployment.apps`, as the API server names kinds in validation errors.
    pub fn qualified_kind(self) -> String {
        match self.group() {
            "" => self.name().to_string(),
            group => format!("{}.{group}", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_path(kind.group(), kind.plural()), Some(kind));
            assert_eq!(Kind::lookup(kind.name()), Some(kind));
        }
        assert_eq!(Kind::from_path("", "storageclasses"), None);
        assert_eq!(Kind::lookup("pvc"), Some(Kind::PersistentVolumeClaim));
        assert_eq!(Kind::CsiDriver.qualified_resource(), "csidrivers.storage.k8s.io");
        assert_eq!(Kind::RoleBinding.api_version(), "rbac.authorization.k8s.io/v1");
        assert!(Kind::RoleBinding.namespaced() && !Kind::ClusterRoleBinding.namespaced());
        assert_eq!(Kind::lookup("sa"), Some(Kind::ServiceAccount));
        assert_eq!(Kind::lookup("deploy"), Some(Kind::Deployment));
        assert_eq!(Kind::from_path("", "deployments"), None);
        assert_eq!(Kind::from_path(APPS_GROUP, "deployments"), Some(Kind::Deployment));
        assert_eq!(Kind::from_path("", "serviceaccounts"), Some(Kind::ServiceAccount));
        assert_eq!(Kind::Deployment.api_version(), "apps/v1");
        assert_eq!(Kind::ServiceAccount.api_version(), "v1");
        assert!(Kind::Deployment.namespaced() && Kind::ServiceAccount.namespaced());
        assert!(Kind::Deployment.has_status_subresource() && !Kind::ServiceAccount.has_status_subresource());
        assert_eq!(Kind::Deployment.qualified_resource(), "deployments.apps");
        assert_eq!(Kind::Deployment.qualified_kind(), "Deployment.apps");
        assert_eq!(Kind::Pod.qualified_kind(), "Pod");
    }
}
