//! The RBAC rules a user holds, read from the stored roles and bindings the way the API server's
//! rule resolver does (`VisitRulesFor`): every ClusterRoleBinding naming the user, then the
//! RoleBindings of the request's namespace, which may point at a Role there or at a ClusterRole.

use serde_json::Value;

use crate::auth::rules::Rule;
use crate::kind::Kind;
use crate::store::{ObjectKey, Store, meta};

/// An authenticated user, as bindings see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    /// Including `system:authenticated`.
    pub groups: Vec<String>,
}

/// Rules from one binding.
#[derive(Clone, Debug)]
pub struct Grant {
    /// `ClusterRoleBinding/x → ClusterRole/y`, for logs.
    pub via: String,
    pub rules: Vec<Rule>,
}

/// What the user holds in a namespace, and the bindings whose role is missing (the API server
/// adds those to a denial's reason).
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub grants: Vec<Grant>,
    pub errors: Vec<String>,
}

impl Resolution {
    pub fn rules(&self) -> Vec<Rule> {
        self.grants.iter().flat_map(|g| g.rules.iter().cloned()).collect()
    }
}

/// The rules `subject` holds for a request in `namespace` (empty: cluster scope, where only
/// ClusterRoleBindings count).
pub fn rules_for(store: &Store, subject: &Subject, namespace: &str) -> Resolution {
    let mut resolution = Resolution::default();
    let cluster_bindings = store.list(Kind::ClusterRoleBinding, None);
    // Always empty at cluster scope: RoleBindings live in namespaces.
    let role_bindings = store.list(Kind::RoleBinding, Some(namespace));
    for binding in cluster_bindings.chain(role_bindings) {
        if !names(binding, subject, namespace) {
            continue;
        }
        let binding_kind = if meta::namespace(binding).is_empty() {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        };
        let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
        let role_name = binding["roleRef"]["name"].as_str().unwrap_or_default();
        match role_rules(store, role_kind, role_name, meta::namespace(binding)) {
            Ok(rules) => resolution.grants.push(Grant {
                via: format!("{binding_kind}/{} → {role_kind}/{role_name}", meta::name(binding)),
                rules,
            }),
            Err(error) => resolution.errors.push(error),
        }
    }
    resolution
}

/// The rules of the role a binding (or a `bind` request) refers to, or the API server's
/// not-found text: `clusterrole.rbac.authorization.k8s.io "x" not found`.
pub fn role_rules(store: &Store, role_kind: &str, role_name: &str, namespace: &str) -> Result<Vec<Rule>, String> {
    let kind = if role_kind == "Role" {
        Kind::Role
    } else {
        Kind::ClusterRole
    };
    let role = store
        .get(&ObjectKey::new(kind, namespace, role_name))
        .ok_or_else(|| format!("{}.{} \"{role_name}\" not found", kind.singular(), kind.group()))?;
    Ok(role["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(Rule::from_json)
        .collect())
}

/// `appliesToUser`: a User subject by name, a Group by membership, a ServiceAccount by its
/// username (its namespace defaulting to the binding's).
fn names(binding: &Value, subject: &Subject, namespace: &str) -> bool {
    binding["subjects"].as_array().into_iter().flatten().any(|s| {
        let name = s["name"].as_str().unwrap_or_default();
        match s["kind"].as_str().unwrap_or_default() {
            "User" => subject.name == name,
            "Group" => subject.groups.iter().any(|g| g == name),
            "ServiceAccount" => {
                let sa_namespace = s["namespace"].as_str().filter(|ns| !ns.is_empty()).unwrap_or(namespace);
                !sa_namespace.is_empty() && subject.name == format!("system:serviceaccount:{sa_namespace}:{name}")
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::kind::RBAC_GROUP;

    fn put(store: &mut Store, kind: Kind, namespace: &str, body: Value) {
        store.create(kind, namespace, body, Timestamp::now()).unwrap();
    }

    fn binding(name: &str, role_kind: &str, role: &str, subject: Value) -> Value {
        json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role},
            "subjects": [subject],
        })
    }

    #[test]
    fn cluster_and_namespace_bindings_grant_their_roles_rules() {
        let mut store = Store::default();
        put(&mut store, Kind::Namespace, "", json!({"metadata": {"name": "poc"}}));
        let reader = json!({"metadata": {"name": "reader"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
        ]});
        put(&mut store, Kind::ClusterRole, "", reader);
        let group = json!({"kind": "Group", "name": "readers"});
        put(
            &mut store,
            Kind::RoleBinding,
            "poc",
            binding("rb", "ClusterRole", "reader", group),
        );
        let user = json!({"kind": "User", "name": "alice"});
        put(
            &mut store,
            Kind::ClusterRoleBinding,
            "",
            binding("crb", "ClusterRole", "gone", user),
        );

        let alice = Subject {
            name: "alice".into(),
            groups: vec!["readers".into()],
        };
        let in_poc = rules_for(&store, &alice, "poc");
        assert_eq!(in_poc.grants.len(), 1);
        assert_eq!(in_poc.grants[0].via, "RoleBinding/rb → ClusterRole/reader");
        assert_eq!(
            in_poc.errors,
            ["clusterrole.rbac.authorization.k8s.io \"gone\" not found"]
        );
        assert!(rules_for(&store, &alice, "").grants.is_empty());
        assert!(rules_for(&store, &alice, "default").grants.is_empty());
    }

    #[test]
    fn service_account_subjects_default_to_the_bindings_namespace() {
        let binding = json!({"subjects": [{"kind": "ServiceAccount", "name": "app"}]});
        let sa = Subject {
            name: "system:serviceaccount:poc:app".into(),
            groups: vec![],
        };
        assert!(names(&binding, &sa, "poc"));
        assert!(!names(&binding, &sa, "other"));
    }
}
