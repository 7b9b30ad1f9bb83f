//! The EKS access policies, as "Review access policy permissions" in the EKS user guide lists
//! their rules (the same as the Kubernetes `view`/`edit`/`admin` roles), restricted to the API
//! groups this server serves (core, `apps`, `storage.k8s.io`, `rbac.authorization.k8s.io`; the
//! `batch`, `autoscaling`, ... rows are left out because nothing here could use them). The `apps`
//! rows keep their StatefulSets, DaemonSets and ReplicaSets so a role holds what it holds on EKS
//! (which matters to the escalation check). None of the namespaced policies grants cluster-scoped
//! storage objects (PVs, StorageClasses, CSIDrivers): on EKS those need
//! AmazonEKSClusterAdminPolicy or RBAC.

use crate::auth::access::Scope;
use crate::auth::rules::{Attributes, Rule};
use crate::kind::{APPS_GROUP, RBAC_GROUP};

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

/// The core and `apps` rows of AmazonEKSViewPolicy.
fn view() -> Vec<Rule> {
    vec![
        Rule::new(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
            READ,
        ),
        Rule::new(
            &[""],
            &[
                "bindings",
                "events",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
            READ,
        ),
        Rule::new(&[""], &["namespaces"], READ),
        Rule::new(
            &[APPS_GROUP],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
            READ,
        ),
    ]
}

/// AmazonEKSEditPolicy: view, plus secrets, exec and writes of the namespaced core and `apps`
/// objects.
fn edit() -> Vec<Rule> {
    let mut rules = view();
    rules.extend([
        Rule::new(
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
            READ,
        ),
        Rule::new(&[""], &["serviceaccounts"], &["impersonate"]),
        Rule::new(
            &[""],
            &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
            WRITE,
        ),
        Rule::new(
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
            WRITE,
        ),
        Rule::new(
            &[APPS_GROUP],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
            WRITE,
        ),
    ]);
    rules
}

/// AmazonEKSAdminPolicy: edit, plus Roles and RoleBindings (never `bind` or `escalate`).
fn admin() -> Vec<Rule> {
    let mut rules = edit();
    rules.extend([
        Rule::new(&["authorization.k8s.io"], &["localsubjectaccessreviews"], &["create"]),
        Rule::new(
            &[RBAC_GROUP],
            &["rolebindings", "roles"],
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
        ),
    ]);
    rules
}

/// The rules of the policy called `name` (or with that ARN); `None` for policies this server
/// does not know.
pub fn rules(name: &str) -> Option<Vec<Rule>> {
    let name = name.rsplit('/').next().unwrap_or(name);
    match name {
        "AmazonEKSClusterAdminPolicy" => Some(vec![
            Rule::new(&["*"], &["*"], &["*"]),
            Rule::non_resource(&["*"], &["*"]),
        ]),
        "AmazonEKSAdminPolicy" => Some(admin()),
        "AmazonEKSEditPolicy" => Some(edit()),
        "AmazonEKSViewPolicy" => Some(view()),
        "AmazonEKSAdminViewPolicy" => Some(vec![Rule::new(&["*"], &["*"], READ)]),
        "AmazonEKSSecretReaderPolicy" => Some(vec![Rule::new(&[""], &["secrets"], READ)]),
        _ => None,
    }
}

/// The bootstrap ClusterRoles a cluster starts with, approximated by the policies they resemble
/// (the Kubernetes user-facing roles `admin`, `edit` and `view` are what the EKS policies copy).
pub fn bootstrap_cluster_roles() -> [(&'static str, Vec<Rule>); 4] {
    [
        (
            "cluster-admin",
            rules("AmazonEKSClusterAdminPolicy").unwrap_or_default(),
        ),
        ("admin", admin()),
        ("edit", edit()),
        ("view", view()),
    ]
}

impl Scope {
    /// Whether an association with this scope applies to `request`: namespace scopes never apply
    /// to cluster-scoped requests.
    pub fn applies_to(&self, request: &Attributes) -> bool {
        match self {
            Scope::Cluster => true,
            Scope::Namespaces(namespaces) => {
                !request.namespace.is_empty()
                    && namespaces.iter().any(|ns| match ns.strip_suffix('*') {
                        Some(prefix) => request.namespace.starts_with(prefix),
                        None => *ns == request.namespace,
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(verb: &'static str, resource: &'static str, subresource: &'static str, ns: &str) -> Attributes {
        Attributes {
            verb,
            group: "",
            resource,
            subresource,
            namespace: ns.into(),
            name: String::new(),
        }
    }

    fn allows(policy: &str, request: &Attributes) -> bool {
        rules(policy).unwrap().iter().any(|rule| rule.allows(request))
    }

    #[test]
    fn policies_grant_what_the_eks_tables_say() {
        let read_secret = request("get", "secrets", "", "poc");
        assert!(!allows("AmazonEKSViewPolicy", &read_secret));
        assert!(allows("AmazonEKSEditPolicy", &read_secret));
        assert!(allows("AmazonEKSSecretReaderPolicy", &read_secret));
        assert!(allows("AmazonEKSViewPolicy", &request("get", "pods", "log", "poc")));
        assert!(!allows(
            "AmazonEKSViewPolicy",
            &request("create", "pods", "exec", "poc")
        ));
        assert!(allows("AmazonEKSEditPolicy", &request("create", "pods", "exec", "poc")));
        let create_role = Attributes {
            group: RBAC_GROUP,
            ..request("create", "roles", "", "poc")
        };
        assert!(!allows("AmazonEKSEditPolicy", &create_role));
        assert!(allows("AmazonEKSAdminPolicy", &create_role));
        let bind = Attributes {
            verb: "bind",
            ..create_role
        };
        assert!(!allows("AmazonEKSAdminPolicy", &bind));
        assert!(allows(
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            &bind
        ));
        assert!(rules("AmazonEKSMadeUpPolicy").is_none());
    }

    #[test]
    fn edit_and_admin_write_deployments_and_service_accounts_view_only_reads_them() {
        let deployment = |verb: &'static str| Attributes {
            group: APPS_GROUP,
            ..request(verb, "deployments", "", "poc")
        };
        let service_account = |verb: &'static str| request(verb, "serviceaccounts", "", "poc");
        for policy in [
            "AmazonEKSEditPolicy",
            "AmazonEKSAdminPolicy",
            "AmazonEKSClusterAdminPolicy",
        ] {
            for verb in ["create", "patch", "delete", "get", "list"] {
                assert!(allows(policy, &deployment(verb)), "{policy} {verb} deployments");
                assert!(
                    allows(policy, &service_account(verb)),
                    "{policy} {verb} serviceaccounts"
                );
            }
        }
        assert!(allows("AmazonEKSViewPolicy", &deployment("get")));
        assert!(allows("AmazonEKSViewPolicy", &service_account("list")));
        assert!(!allows("AmazonEKSViewPolicy", &deployment("create")));
        assert!(!allows("AmazonEKSViewPolicy", &service_account("create")));
        let status = Attributes {
            subresource: "status",
            ..deployment("patch")
        };
        assert!(!allows("AmazonEKSEditPolicy", &status));
        let core_deployment = request("create", "deployments", "", "poc");
        assert!(!allows("AmazonEKSEditPolicy", &core_deployment));
    }

    #[test]
    fn namespace_scopes_match_names_and_prefixes() {
        let scope = Scope::Namespaces(vec!["poc".into(), "dev-*".into()]);
        assert!(scope.applies_to(&request("get", "pods", "", "poc")));
        assert!(scope.applies_to(&request("get", "pods", "", "dev-1")));
        assert!(!scope.applies_to(&request("get", "pods", "", "prod")));
        assert!(!scope.applies_to(&request("list", "namespaces", "", "")));
        assert!(Scope::Cluster.applies_to(&request("list", "namespaces", "", "")));
    }
}
