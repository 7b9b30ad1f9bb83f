//! The kinds the fake serves, with what the REST paths and discovery documents say about them.

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
}

/// The API group of `storageclasses` and `csidrivers`.
pub const STORAGE_GROUP: &str = "storage.k8s.io";

/// What every served resource allows.
pub const VERBS: [&str; 5] = ["create", "delete", "get", "list", "patch"];

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Namespace,
        Kind::Pod,
        Kind::PersistentVolume,
        Kind::PersistentVolumeClaim,
        Kind::ConfigMap,
        Kind::Event,
        Kind::StorageClass,
        Kind::CsiDriver,
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
            Kind::CsiDriver => &[],
        }
    }

    /// `""` for the core group.
    pub fn group(self) -> &'static str {
        match self {
            Kind::StorageClass | Kind::CsiDriver => STORAGE_GROUP,
            _ => "",
        }
    }

    /// `v1` or `storage.k8s.io/v1`.
    pub fn api_version(self) -> &'static str {
        match self.group() {
            "" => "v1",
            _ => "storage.k8s.io/v1",
        }
    }

    pub fn namespaced(self) -> bool {
        matches!(
            self,
            Kind::Pod | Kind::PersistentVolumeClaim | Kind::ConfigMap | Kind::Event
        )
    }

    /// Kinds whose `status` belongs to the system: writes to the main resource keep the stored status.
    pub fn has_status_subresource(self) -> bool {
        matches!(
            self,
            Kind::Namespace | Kind::Pod | Kind::PersistentVolume | Kind::PersistentVolumeClaim
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
    }
}
