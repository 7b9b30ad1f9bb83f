//! What the API server checks in roles and bindings before storing them (`pkg/apis/rbac/validation`):
//! rules name verbs and resources, bindings point at a role of an allowed kind, and a binding's
//! `roleRef` never changes.

use serde_json::Value;

use crate::api::status::{ApiError, Cause};
use crate::kind::{Kind, RBAC_GROUP};
use crate::store::meta;
use crate::store::validation::{invalid_value, required, required_with};

const SUBJECT_KINDS: [&str; 3] = ["ServiceAccount", "User", "Group"];

/// The `rules` of a Role or ClusterRole.
pub fn validate_rules(kind: Kind, role: &Value, causes: &mut Vec<Cause>) {
    for (i, rule) in role["rules"].as_array().into_iter().flatten().enumerate() {
        let field = |name: &str| format!("rules[{i}].{name}");
        let is_empty = |name: &str| rule[name].as_array().is_none_or(Vec::is_empty);
        if is_empty("verbs") {
            causes.push(required_with(&field("verbs"), "verbs must contain at least one value"));
        }
        if !is_empty("nonResourceURLs") {
            if kind == Kind::Role {
                causes.push(invalid_value(
                    &field("nonResourceURLs"),
                    &rule["nonResourceURLs"].to_string(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            continue;
        }
        if is_empty("apiGroups") {
            causes.push(required_with(
                &field("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if is_empty("resources") {
            causes.push(required_with(
                &field("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

/// The `roleRef` and `subjects` of a RoleBinding or ClusterRoleBinding.
pub fn validate_binding(kind: Kind, binding: &Value, causes: &mut Vec<Cause>) {
    let role_ref = &binding["roleRef"];
    if role_ref["apiGroup"].as_str() != Some(RBAC_GROUP) {
        causes.push(unsupported(
            "roleRef.apiGroup",
            role_ref["apiGroup"].as_str().unwrap_or_default(),
            &[RBAC_GROUP],
        ));
    }
    let allowed_kinds: &[&str] = if kind == Kind::RoleBinding {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    let role_kind = role_ref["kind"].as_str().unwrap_or_default();
    if !allowed_kinds.contains(&role_kind) {
        causes.push(unsupported("roleRef.kind", role_kind, allowed_kinds));
    }
    if role_ref["name"].as_str().unwrap_or_default().is_empty() {
        causes.push(required("roleRef.name"));
    }
    for (i, subject) in binding["subjects"].as_array().into_iter().flatten().enumerate() {
        if subject["name"].as_str().unwrap_or_default().is_empty() {
            causes.push(required(&format!("subjects[{i}].name")));
        }
        let subject_kind = subject["kind"].as_str().unwrap_or_default();
        if !SUBJECT_KINDS.contains(&subject_kind) {
            causes.push(unsupported(
                &format!("subjects[{i}].kind"),
                subject_kind,
                &SUBJECT_KINDS,
            ));
        }
    }
}

/// A binding keeps its `roleRef`: changing whom a binding grants is done by replacing it.
pub fn validate_update(kind: Kind, old: &Value, new: &Value) -> Result<(), ApiError> {
    let is_binding = matches!(kind, Kind::RoleBinding | Kind::ClusterRoleBinding);
    if !is_binding || old["roleRef"] == new["roleRef"] {
        return Ok(());
    }
    let cause = invalid_value("roleRef", &new["roleRef"].to_string(), "cannot change roleRef");
    Err(ApiError::invalid(kind, meta::name(new), vec![cause]))
}

fn unsupported(field: &str, value: &str, supported: &[&str]) -> Cause {
    Cause {
        reason: "FieldValueNotSupported",
        field: field.into(),
        message: format!(
            "Unsupported value: \"{value}\": supported values: \"{}\"",
            supported.join("\", \"")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(causes: Vec<Cause>) -> Vec<String> {
        causes.into_iter().map(|c| c.field).collect()
    }

    #[test]
    fn rules_need_verbs_groups_and_resources() {
        let mut causes = Vec::new();
        let role = json!({"rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"resources": ["pods"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
        ]});
        validate_rules(Kind::Role, &role, &mut causes);
        assert_eq!(
            fields(causes),
            ["rules[1].verbs", "rules[1].apiGroups", "rules[2].nonResourceURLs"]
        );
    }

    #[test]
    fn bindings_point_at_roles_of_an_allowed_kind() {
        let mut causes = Vec::new();
        let binding = json!({
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "r"},
            "subjects": [{"kind": "Robot", "name": "x"}, {"kind": "Group", "name": ""}],
        });
        validate_binding(Kind::ClusterRoleBinding, &binding, &mut causes);
        assert_eq!(fields(causes), ["roleRef.kind", "subjects[0].kind", "subjects[1].name"]);
        let mut causes = Vec::new();
        validate_binding(Kind::RoleBinding, &binding, &mut causes);
        assert_eq!(fields(causes), ["subjects[0].kind", "subjects[1].name"]);
    }

    #[test]
    fn the_role_ref_of_a_binding_is_immutable() {
        let old = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"}});
        let mut new = old.clone();
        assert!(validate_update(Kind::ClusterRoleBinding, &old, &new).is_ok());
        new["roleRef"]["name"] = json!("cluster-admin");
        let err = validate_update(Kind::ClusterRoleBinding, &old, &new).unwrap_err();
        assert_eq!(err.status_code(), 422);
        assert!(err.message.ends_with("cannot change roleRef"), "{}", err.message);
    }
}
