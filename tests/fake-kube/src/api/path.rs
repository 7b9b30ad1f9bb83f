//! Request paths of the Kubernetes REST API, for the kinds the fake serves.

use crate::kind::{Kind, NAMED_GROUPS};

/// The group of access reviews (a question to the authorizer, stored nowhere).
pub const AUTHORIZATION_GROUP: &str = "authorization.k8s.io";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subresource {
    Status,
    Log,
    Exec,
}

impl Subresource {
    /// As RBAC rules name it after the resource: `pods/log`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Log => "log",
            Subresource::Exec => "exec",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`
    Version,
    /// `/healthz`, `/livez`, `/readyz`
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    GroupList,
    /// `/apis/apps`, `/apis/storage.k8s.io`, `/apis/rbac.authorization.k8s.io`
    Group { group: &'static str },
    /// `/api/v1` (group `""`) or `/apis/<group>/v1`
    ResourceList { group: &'static str },
    /// A collection; `namespace` is `None` for cluster-scoped kinds and all-namespaces lists.
    Collection { kind: Kind, namespace: Option<String> },
    /// `POST /apis/authorization.k8s.io/v1/subjectaccessreviews`: may a user make a request?
    SubjectAccessReview,
    /// One object (`namespace` empty for cluster-scoped kinds), or one of its subresources.
    Object {
        kind: Kind,
        namespace: String,
        name: String,
        subresource: Option<Subresource>,
    },
}

impl Route {
    /// Whether the route is open without credentials (like `system:public-info-viewer`).
    pub fn is_public(&self) -> bool {
        matches!(self, Route::Version | Route::Health)
    }

    pub fn parse(path: &str) -> Option<Route> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        match segments.as_slice() {
            ["version"] => Some(Route::Version),
            ["healthz" | "livez" | "readyz"] => Some(Route::Health),
            ["api"] => Some(Route::CoreVersions),
            ["apis"] => Some(Route::GroupList),
            ["api", "v1", rest @ ..] => resource_route("", rest),
            ["apis", AUTHORIZATION_GROUP, "v1", "subjectaccessreviews"] => Some(Route::SubjectAccessReview),
            ["apis", group, rest @ ..] => {
                let group = NAMED_GROUPS.into_iter().find(|g| g == group)?;
                match rest {
                    [] => Some(Route::Group { group }),
                    ["v1", rest @ ..] => resource_route(group, rest),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

fn resource_route(group: &'static str, rest: &[&str]) -> Option<Route> {
    let kind = |plural: &str| Kind::from_path(group, plural);
    let subresource = |kind: Kind, name: &str| match (kind, name) {
        (_, "status") if kind.has_status_subresource() => Some(Subresource::Status),
        (Kind::Pod, "log") => Some(Subresource::Log),
        (Kind::Pod, "exec") => Some(Subresource::Exec),
        _ => None,
    };
    match rest {
        [] => Some(Route::ResourceList { group }),
        ["namespaces", namespace, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            let kind = kind(plural).filter(|k| k.namespaced())?;
            let namespace = namespace.to_string();
            match tail {
                [] => Some(Route::Collection {
                    kind,
                    namespace: Some(namespace),
                }),
                [name] => Some(object(kind, namespace, name, None)),
                [name, sub] => Some(object(kind, namespace, name, Some(subresource(kind, sub)?))),
                _ => None,
            }
        }
        [plural] => Some(Route::Collection {
            kind: kind(plural)?,
            namespace: None,
        }),
        [plural, name] => Some(object(
            kind(plural).filter(|k| !k.namespaced())?,
            String::new(),
            name,
            None,
        )),
        [plural, name, sub] => {
            let kind = kind(plural).filter(|k| !k.namespaced())?;
            Some(object(kind, String::new(), name, Some(subresource(kind, sub)?)))
        }
        _ => None,
    }
}

fn object(kind: Kind, namespace: String, name: &str, subresource: Option<Subresource>) -> Route {
    Route::Object {
        kind,
        namespace,
        name: name.to_string(),
        subresource,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::STORAGE_GROUP;

    fn object_route(kind: Kind, namespace: &str, name: &str, subresource: Option<Subresource>) -> Option<Route> {
        Some(object(kind, namespace.into(), name, subresource))
    }

    #[test]
    fn parses_the_rest_paths() {
        assert_eq!(Route::parse("/version"), Some(Route::Version));
        assert_eq!(Route::parse("/api/v1"), Some(Route::ResourceList { group: "" }));
        assert_eq!(
            Route::parse("/apis/storage.k8s.io/v1"),
            Some(Route::ResourceList { group: STORAGE_GROUP })
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns/pods"),
            Some(Route::Collection {
                kind: Kind::Pod,
                namespace: Some("ns".into())
            })
        );
        assert_eq!(
            Route::parse("/api/v1/pods"),
            Some(Route::Collection {
                kind: Kind::Pod,
                namespace: None
            })
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns"),
            object_route(Kind::Namespace, "", "ns", None)
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns/status"),
            object_route(Kind::Namespace, "", "ns", Some(Subresource::Status))
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns/pods/web/log"),
            object_route(Kind::Pod, "ns", "web", Some(Subresource::Log))
        );
        assert_eq!(
            Route::parse("/apis/storage.k8s.io/v1/csidrivers/efs.csi.aws.com"),
            object_route(Kind::CsiDriver, "", "efs.csi.aws.com", None)
        );
        assert_eq!(
            Route::parse("/api/v1/persistentvolumes/pv/status"),
            object_route(Kind::PersistentVolume, "", "pv", Some(Subresource::Status))
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns/pods/web/exec"),
            object_route(Kind::Pod, "ns", "web", Some(Subresource::Exec))
        );
        assert_eq!(
            Route::parse("/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/rb"),
            object_route(Kind::RoleBinding, "ns", "rb", None)
        );
        assert_eq!(
            Route::parse("/apis/apps/v1/namespaces/ns/deployments/web/status"),
            object_route(Kind::Deployment, "ns", "web", Some(Subresource::Status))
        );
        assert_eq!(
            Route::parse("/api/v1/namespaces/ns/serviceaccounts/default"),
            object_route(Kind::ServiceAccount, "ns", "default", None)
        );
        assert_eq!(
            Route::parse("/apis/rbac.authorization.k8s.io"),
            Some(Route::Group {
                group: crate::kind::RBAC_GROUP
            })
        );
    }

    #[test]
    fn refuses_unknown_paths() {
        for path in [
            "/api/v1/pods/web",
            "/api/v1/namespaces/ns/storageclasses",
            "/api/v1/storageclasses",
            "/apis/batch/v1/jobs",
            "/apis/apps/v1/namespaces/ns/deployments/web/scale",
            "/apis/apps/v1/namespaces/ns/replicasets",
            "/api/v1/namespaces/ns/deployments",
            "/api/v1/namespaces/ns/configmaps/cm/status",
            "/api/v1/namespaces/ns/pods/web/attach",
            "/apis/batch",
            "/api//v1",
            "/",
        ] {
            assert_eq!(Route::parse(path), None, "{path}");
        }
    }
}
