//! RBAC's escalation prevention (`pkg/registry/rbac/{role,rolebinding}/policybased`): writing a
//! role or a binding is not enough to gain permissions. A role may only hold rules its writer
//! holds, unless the writer may `escalate` roles; a binding may only grant a role whose rules its
//! writer holds, unless the writer may `bind` that role.
//!
//! As upstream, "holds" means held through RBAC in the role's namespace: permissions granted by
//! the EKS authorizer (access policies) count only through `escalate`/`bind`, which
//! AmazonEKSClusterAdminPolicy includes and the namespaced policies do not.

use serde_json::Value;

use crate::api::status::ApiError;
use crate::auth::attributes::attributes;
use crate::auth::rules::{Attributes, Rule, uncovered};
use crate::auth::{Auth, User, rbac};
use crate::kind::{Kind, RBAC_GROUP};
use crate::store::{Store, meta};

/// Checks that `user` may store `object` (the role or binding as it will be after the write).
pub fn check(auth: &Auth, store: &Store, user: &User, kind: Kind, object: &Value) -> Result<(), ApiError> {
    let namespace = meta::namespace(object);
    let name = meta::name(object);
    let requested = match kind {
        Kind::Role | Kind::ClusterRole => {
            if auth.allows(user, &attributes("escalate", kind, "", namespace, name), store) {
                return Ok(());
            }
            object["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Rule::from_json)
                .collect()
        }
        Kind::RoleBinding | Kind::ClusterRoleBinding => {
            let role_kind = object["roleRef"]["kind"].as_str().unwrap_or_default();
            let role_name = object["roleRef"]["name"].as_str().unwrap_or_default();
            let bind = Attributes {
                verb: "bind",
                group: RBAC_GROUP,
                resource: if role_kind == "Role" { "roles" } else { "clusterroles" },
                subresource: "",
                namespace: namespace.to_string(),
                name: role_name.to_string(),
            };
            if auth.allows(user, &bind, store) {
                return Ok(());
            }
            let role = if role_kind == "Role" {
                Kind::Role
            } else {
                Kind::ClusterRole
            };
            rbac::role_rules(store, role_kind, role_name, namespace)
                .map_err(|_| ApiError::not_found(role, role_name))?
        }
        _ => return Ok(()),
    };
    let held = rbac::rules_for(store, &user.subject, namespace);
    let mut missing: Vec<String> = uncovered(&held.rules(), &requested)
        .iter()
        .map(Rule::compact_string)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    missing.dedup();
    let groups: Vec<String> = user.subject.groups.iter().map(|g| format!("{g:?}")).collect();
    let mut detail = format!(
        "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        user.subject.name,
        groups.join(" "),
        missing.join("\n")
    );
    if !held.errors.is_empty() {
        detail = format!("{detail}; resolution errors: [{}]", held.errors.join(", "));
    }
    tracing::info!(
        user = user.subject.name,
        kind = kind.name(),
        namespace,
        name,
        missing = missing.len(),
        "forbidden: RBAC escalation"
    );
    Err(ApiError::forbidden(kind.group(), kind.plural(), name, detail))
}
