//! Where a record lives in the table: its partition and sort keys.

use super::Kind;

/// Whose resource a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// One namespace of one cluster.
    Namespace { cluster: &'a str, namespace: &'a str },
    /// Shared by the namespaces of one cluster.
    Cluster(&'a str),
    /// The account and region (a KMS alias names a key account-wide).
    Account,
}

pub(super) const ACCOUNT_PK: &str = "account";
/// The header's sort key ends with a character no kind or key starts with, after the namespace's
/// `#`: namespaces are DNS labels, so `ns#<namespace>#` never prefixes another namespace's keys.
const HEADER_SUFFIX: &str = "@";

pub(super) fn cluster_pk(cluster: &str) -> String {
    format!("cluster#{cluster}")
}

/// Every sort key of one namespace starts with this.
pub(super) fn namespace_prefix(namespace: &str) -> String {
    format!("ns#{namespace}#")
}

pub(super) fn header_sk(namespace: &str) -> String {
    format!("{}{HEADER_SUFFIX}", namespace_prefix(namespace))
}

pub(super) const SHARED_PREFIX: &str = "shared#";

impl Place<'_> {
    pub(super) fn pk(&self) -> String {
        match self {
            Self::Namespace { cluster, .. } | Self::Cluster(cluster) => cluster_pk(cluster),
            Self::Account => ACCOUNT_PK.to_string(),
        }
    }

    pub(super) fn sk(&self, kind: Kind, key: &str) -> String {
        let kind = kind.as_str();
        match self {
            Self::Namespace { namespace, .. } => format!("{}r#{kind}#{key}", namespace_prefix(namespace)),
            Self::Cluster(_) => format!("{SHARED_PREFIX}{kind}#{key}"),
            Self::Account => format!("r#{kind}#{key}"),
        }
    }

    pub fn cluster(&self) -> Option<&str> {
        match self {
            Self::Namespace { cluster, .. } | Self::Cluster(cluster) => Some(cluster),
            Self::Account => None,
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            Self::Namespace { namespace, .. } => Some(namespace),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_namespace_never_prefixes_another() {
        let a = Place::Namespace {
            cluster: "demo",
            namespace: "team",
        };
        let b = Place::Namespace {
            cluster: "demo",
            namespace: "team-b",
        };
        assert_eq!(a.pk(), b.pk());
        let prefix = namespace_prefix("team");
        assert!(a.sk(Kind::FileSystem, "tok").starts_with(&prefix));
        assert!(header_sk("team").starts_with(&prefix));
        assert!(!b.sk(Kind::FileSystem, "tok").starts_with(&prefix));
        assert!(!header_sk("team-b").starts_with(&prefix));
        assert_eq!(
            Place::Cluster("demo").sk(Kind::StorageClass, "efs-sc"),
            "shared#storageClass#efs-sc"
        );
        assert_eq!(Place::Account.pk(), "account");
    }
}
